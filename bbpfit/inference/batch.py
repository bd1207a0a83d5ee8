"""`spike_tests`: many layers at once, with the layer-level p-values adjusted across layers.

Owns the batch driver and its result. Each layer is tested with :func:`spike_test`; the
first-step p-values ("does this layer have any spike?") form one family adjusted with
:func:`adjust_pvalues`. Spike counts inside the selected layers are then re-read at the level
that keeps the whole report valid: ``alpha R / L`` for the FDR corrections (``R`` of ``L`` layers
selected; Benjamini & Bogomolov 2014) and ``alpha / L`` for the family-wise ones, from the same
sequential p-values (no new test is run; :func:`.multitest.selective_counts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._validation import check_alpha, check_method
from .api import spike_test
from .multitest import CORRECTIONS, AdjustedPValues, adjust_pvalues, selective_counts
from .result import SpikeTestResult


@dataclass(frozen=True, repr=False, eq=False)
class SpikeTestBatch:
    """Spike tests of several layers with the layer-level p-values adjusted.

    Attributes
    ----------
    names : tuple of str
        Layer names.
    results : tuple of SpikeTestResult
        One per layer (each at level ``alpha`` on its own).
    adjusted : AdjustedPValues
        The layers' first-step p-values, raw and adjusted across layers.
    n_spikes_adjusted : numpy.ndarray
        Spikes per layer at the level that accounts for the selection (module docstring); 0 in
        layers not selected.
    correction : str
        The correction used (a key of :data:`bbpfit.inference.CORRECTIONS`).
    alpha : float
        Level of the family of layers (and of each layer's own test).
    """

    names: tuple[str, ...]
    results: tuple[SpikeTestResult, ...]
    adjusted: AdjustedPValues
    n_spikes_adjusted: np.ndarray
    correction: str
    alpha: float

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, key) -> SpikeTestResult:
        return self.results[self.names.index(key) if isinstance(key, str) else key]

    @property
    def pvalues(self) -> np.ndarray:
        """Raw first-step p-values, one per layer."""
        return self.adjusted.pvalues

    @property
    def pvalues_adjusted(self) -> np.ndarray:
        """Adjusted first-step p-values, one per layer."""
        return self.adjusted.adjusted

    @property
    def n_spikes(self) -> np.ndarray:
        """Spikes per layer, each layer tested on its own at ``alpha``."""
        return np.array([r.n_spikes for r in self.results])

    def to_frame(self):
        """A pandas DataFrame, one row per layer."""
        import pandas as pd

        return pd.DataFrame({
            "layer": list(self.names),
            "n": [r.n for r in self.results], "m": [r.m for r in self.results],
            "path": ["+".join(r.path) for r in self.results],
            "pvalue": self.pvalues, "pvalue_adjusted": self.pvalues_adjusted,
            "significant": self.adjusted.rejected,
            "n_spikes": self.n_spikes, "n_spikes_adjusted": self.n_spikes_adjusted,
            "top_strength": [float(r.strengths[0]) if r.n_spikes else np.nan
                             for r in self.results],
        })

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {"names": list(self.names), "correction": self.correction, "alpha": self.alpha,
                "adjusted": self.adjusted.to_dict(),
                "n_spikes_adjusted": self.n_spikes_adjusted.tolist(),
                "results": [r.to_dict() for r in self.results]}

    def summary(self) -> str:
        """A table a person can read, one row per layer."""
        width = max([len(n) for n in self.names] + [5])
        lines = [f"Spike tests of {len(self)} layers: layer p-values adjusted by "
                 f"{self.correction} ({CORRECTIONS[self.correction]}), alpha = {self.alpha:g}",
                 "=" * (width + 62),
                 f"{'layer':<{width}}  {'n x m':>12}  {'p':>9}  {'p adj':>9}  {'spikes':>6}  "
                 f"{'adj.':>5}  {'path':<10}"]
        for i, r in enumerate(self.results):
            lines.append(f"{self.names[i]:<{width}}  {f'{r.n}x{r.m}':>12}  {r.pvalue:9.3g}  "
                         f"{self.pvalues_adjusted[i]:9.3g}  {r.n_spikes:>6}  "
                         f"{int(self.n_spikes_adjusted[i]):>5}  {'+'.join(r.path):<10}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"SpikeTestBatch({len(self)} layers, correction={self.correction!r}, "
                f"alpha={self.alpha:g}, significant={self.adjusted.n_rejected}, "
                f"n_spikes_adjusted={self.n_spikes_adjusted.tolist()})")


def spike_tests(xs, *, alpha=0.05, method="auto", correction="fdr_bh", max_spikes=None, rng=None,
                **kwargs) -> SpikeTestBatch:
    """Test many layers and adjust their p-values across layers.

    Parameters
    ----------
    xs : mapping or iterable
        ``{name: matrix or Spectrum}``, or an iterable of them (named by the Spectrum's name
        or by position).
    alpha : float, default 0.05
        Level of each layer's test and of the family of layers.
    method : str, default "auto"
        As in :func:`bbpfit.spike_test`.
    correction : str, default "fdr_bh"
        A key of :data:`bbpfit.inference.CORRECTIONS` (BH, BY, Holm, ...).
    max_spikes, rng, **kwargs
        Passed to :func:`bbpfit.spike_test` (``rng`` seeds one generator shared by the layers).

    Returns
    -------
    SpikeTestBatch

    References
    ----------
    Y. Benjamini and M. Bogomolov, "Selective inference on multiple families of hypotheses",
    J. R. Stat. Soc. B 76(1):297-318 (2014). doi:10.1111/rssb.12028

    Examples
    --------
    >>> import numpy as np, bbpfit as bf
    >>> rng = np.random.default_rng(1)
    >>> u, v = rng.standard_normal(600), rng.standard_normal(300)
    >>> layers = {f"layer{i}": rng.standard_normal((600, 300)) for i in range(3)}
    >>> u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    >>> layers["layer1"] += 2.0 * np.sqrt(600) * np.outer(u, v)
    >>> batch = bf.spike_tests(layers)
    >>> batch.adjusted.rejected.tolist(), batch.n_spikes_adjusted.tolist()
    ([False, True, False], [0, 1, 0])
    """
    alpha = check_alpha(alpha)
    check_method(correction, CORRECTIONS, "correction")
    items = list(xs.items()) if isinstance(xs, Mapping) else [(None, x) for x in xs]
    if not items:
        raise ValueError("`xs` is empty: give at least one layer")
    rng = np.random.default_rng(rng)
    names, results = [], []
    for i, (name, x) in enumerate(items):
        res = spike_test(x, alpha=alpha, method=method, max_spikes=max_spikes, rng=rng,
                         name=None if name is None else str(name), **kwargs)
        names.append(res.name if res.name is not None else str(i))
        results.append(res)
    adj = adjust_pvalues([r.pvalue for r in results], method=correction, alpha=alpha)
    counts = selective_counts([r.pvalues for r in results], [r.n_spikes for r in results], adj)
    return SpikeTestBatch(tuple(names), tuple(results), adj, counts, correction, alpha)
