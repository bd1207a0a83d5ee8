"""One layer's analysis: its spectrum, bulk fits and spike test, as a :class:`LayerReport`.

Owns the per-layer step of :func:`bbpfit.analyze` and :func:`bbpfit.analyze_zoo`, and the lazy
loop :func:`iter_reports` over a model's layers. Each weight is used for its spectrum and its spike
test and then dropped, so memory is bounded by the largest layer, not by the model. Layers too
small to test, or all zero, still get a report (with a note) instead of stopping the analysis;
NaN or infinite weights are an error naming the layer.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .._warnings import BBPFitWarning
from ..fit import MPFit, fit_mp
from ..inference import SpikeTestResult
from ..inference.api import MIN_BULK, MIN_M, spike_test_given_spectrum
from ..sources import iter_layers
from ..spectrum import Spectrum
from ..spectrum.fast import fast_spectrum

#: Methods of :func:`bbpfit.spike_test` that need only the eigenvalues (the spectrum is computed
#: once and passed); the others need the matrix entries.
SPECTRUM_METHODS = ("tw", "tw-asymptotic", "ratio")


@dataclass(frozen=True, repr=False)
class LayerReport:
    """What the analysis found in one layer (before adjustment across layers).

    Attributes
    ----------
    name : str
        Parameter name.
    shape : tuple of int
        Stored shape of the weight (conv kernels keep theirs).
    spectrum : Spectrum or None
        Its eigenvalues (None when the weight could not be read as a matrix).
    result : SpikeTestResult or None
        The spike test (None when the layer is too small or all zero; see ``notes``).
    fit : MPFit or None
        The Marchenko-Pastur bulk fit with ratio ``m / n`` (the spike test's fit when tested).
    fit_effective : MPFit or None
        The bulk fit with an effective ratio (``fit_mp(..., ratio="fit")``).
    notes : tuple of str
        Why the layer was not tested, and the bbpfit warnings raised while analysing it.
    """

    name: str
    shape: tuple[int, ...]
    spectrum: Spectrum | None
    result: SpikeTestResult | None
    fit: MPFit | None
    fit_effective: MPFit | None
    notes: tuple[str, ...] = ()

    @property
    def tested(self) -> bool:
        """Whether a spike test was run."""
        return self.result is not None

    def row(self) -> dict:
        """The layer's table row, without the across-layer columns (see :mod:`.table`)."""
        spec, res, fit, eff = self.spectrum, self.result, self.fit, self.fit_effective
        nan = math.nan
        return {
            "layer": self.name,
            "shape": "x".join(str(s) for s in self.shape),
            "n": spec.n if spec is not None else None,
            "m": spec.m if spec is not None else None,
            "ratio": spec.ratio if spec is not None else nan,
            "sigma2": fit.sigma2 if fit is not None else nan,
            "ratio_eff": eff.ratio if eff is not None else nan,
            "lower_edge": fit.lower_edge if fit is not None else nan,
            "upper_edge": fit.upper_edge if fit is not None else nan,
            "ks": fit.ks if fit is not None else nan,
            "lambda_max": float(spec.eigenvalues[0]) if spec is not None else nan,
            "n_spikes": res.n_spikes if res is not None else None,
            "pvalue": res.pvalue if res is not None else nan,
            "theta_hat": float(res.strengths[0]) if res is not None and res.n_spikes else nan,
            "method": res.method if res is not None else "",
            "path": "+".join(res.path) if res is not None else "",
            "notes": "; ".join(self.notes),
        }

    def __repr__(self) -> str:
        spikes = self.result.n_spikes if self.result is not None else "untested"
        return f"LayerReport({self.name!r}, shape={self.shape}, n_spikes={spikes})"


def _notes_of(caught) -> list[str]:
    notes = []
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, BBPFitWarning):
            if text not in notes:
                notes.append(text)
        else:  # not ours: pass it on unchanged
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return notes


def analyze_layer(name: str, weight, *, alpha: float = 0.05, method: str = "auto",
                  max_spikes: int | None = None, rng=None, null_cache=None) -> LayerReport:
    """Spectrum, bulk fits and spike test of one weight matrix.

    Parameters
    ----------
    name : str
        The layer's name (used in messages and kept on the report).
    weight : array_like or torch.Tensor
        A matrix or conv kernel.
    alpha, method, max_spikes, rng, null_cache
        As in :func:`bbpfit.spike_test`; ``max_spikes`` is capped at ``m - 5`` per layer.

    Returns
    -------
    LayerReport

    Raises
    ------
    ValueError
        The weight has NaN or infinite entries, or is not a matrix (the message names the layer).
    """
    shape = tuple(int(s) for s in weight.shape)
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BBPFitWarning)
        try:
            spec, gram = fast_spectrum(weight, name=name, with_gram=True)  # float32 if exact
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"layer {name!r}: {exc}") from None
        res = fit = eff = None
        if not spec.eigenvalues[0] > 0:
            notes.append("all-zero matrix: nothing to fit or test")
        elif spec.m < 3:
            notes.append(f"too small for a bulk fit (m = {spec.m} < 3)")
        else:
            eff = fit_mp(spec, ratio="fit", max_spikes=spec.m - 2)  # as the spike test's fit
            if spec.m < MIN_M:
                fit = fit_mp(spec)
                notes.append(f"too small to test (m = {spec.m} < {MIN_M})")
            else:
                kmax = None if max_spikes is None else max(1, min(max_spikes, spec.m - MIN_BULK))
                x = spec if method in SPECTRUM_METHODS else weight
                res = spike_test_given_spectrum(
                    x, spec, alpha=alpha, method=method, max_spikes=kmax, rng=rng,
                    null_cache=null_cache, name=name,
                    gram=None if method in SPECTRUM_METHODS else gram)
                fit = res.fit
    notes += [n for n in _notes_of(caught) if n not in notes]
    return LayerReport(name, shape, spec, res, fit, eff, tuple(notes))


def iter_reports(source, *, alpha: float = 0.05, method: str = "auto",
                 max_spikes: int | None = None, rng=0, null_cache=None,
                 **selection) -> Iterator[LayerReport]:
    """Yield a :class:`LayerReport` per layer of ``source``, reading one weight at a time.

    Parameters
    ----------
    source : nn.Module, mapping, str or path-like
        Anything :func:`bbpfit.sources.iter_layers` reads.
    alpha, method, max_spikes, null_cache
        As in :func:`analyze_layer`.
    rng : None, int or numpy.random.Generator, default 0
        Seeds one generator shared by the layers in order (ties of discrete entries).
    **selection
        ``include``, ``exclude``, ``embeddings``, ``others``, ``min_side``, ``format``,
        ``allow_unsafe_pickle``: passed to :func:`bbpfit.sources.iter_layers`.
    """
    gen = np.random.default_rng(rng)
    for name, weight in iter_layers(source, **selection):
        report = analyze_layer(name, weight, alpha=alpha, method=method, max_spikes=max_spikes,
                               rng=gen, null_cache=null_cache)
        del weight  # the next layer is read only after this one is dropped
        yield report
