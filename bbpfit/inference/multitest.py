"""Multiple-testing adjustment across layers and training steps (statsmodels underneath).

Owns :func:`adjust_pvalues`, a thin wrapper of
:func:`statsmodels.stats.multitest.multipletests` that keeps the array's shape (layers x steps),
skips missing (NaN) p-values and returns raw and adjusted values together. Which correction:
Benjamini-Hochberg (``"fdr_bh"``, the default) controls the false discovery rate under
independence or positive dependence (PRDS), the likely case for one layer over training steps;
Benjamini-Yekutieli (``"fdr_by"``) under any dependence, at a cost of ``sum 1/i``; Holm
(``"holm"``) controls the family-wise error.

Also owns :func:`selective_counts`, the one implementation of the spike counts inside the selected
layers (Benjamini & Bogomolov 2014) that :func:`bbpfit.inference.spike_tests` and
:func:`bbpfit.analyze` both report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_real_array, check_alpha, check_method

#: Corrections by name (statsmodels' names; the value is a short description).
CORRECTIONS = {
    "fdr_bh": "Benjamini-Hochberg false discovery rate (independent or PRDS p-values)",
    "fdr_by": "Benjamini-Yekutieli false discovery rate (any dependence)",
    "holm": "Holm step-down family-wise error",
    "bonferroni": "Bonferroni family-wise error",
    "hommel": "Hommel family-wise error",
    "holm-sidak": "Holm-Sidak step-down family-wise error",
    "sidak": "Sidak family-wise error",
    "simes-hochberg": "Hochberg step-up family-wise error",
    "fdr_tsbh": "two-stage Benjamini-Hochberg false discovery rate",
    "fdr_tsbky": "two-stage Benjamini-Krieger-Yekutieli false discovery rate",
}


@dataclass(frozen=True, repr=False, eq=False)
class AdjustedPValues:
    """Raw and adjusted p-values of one family, in the input's shape.

    Attributes
    ----------
    pvalues, adjusted : numpy.ndarray
        Raw and adjusted p-values (NaN where the input was NaN).
    rejected : numpy.ndarray of bool
        ``adjusted <= alpha`` (False where NaN).
    method : str
        The correction (a key of :data:`CORRECTIONS`).
    alpha : float
        The level of the family.
    """

    pvalues: np.ndarray
    adjusted: np.ndarray
    rejected: np.ndarray
    method: str
    alpha: float

    @property
    def n_rejected(self) -> int:
        """How many hypotheses are rejected."""
        return int(self.rejected.sum())

    @property
    def n_tests(self) -> int:
        """How many (non-NaN) p-values the family has."""
        return int(np.isfinite(self.pvalues).sum())

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {"pvalues": self.pvalues.tolist(), "adjusted": self.adjusted.tolist(),
                "rejected": self.rejected.tolist(), "method": self.method, "alpha": self.alpha}

    def __repr__(self) -> str:
        return (f"AdjustedPValues(method={self.method!r}, alpha={self.alpha:g}, "
                f"n_tests={self.n_tests}, n_rejected={self.n_rejected}, "
                f"shape={self.pvalues.shape})")


def adjust_pvalues(pvalues, *, method: str = "fdr_bh", alpha: float = 0.05) -> AdjustedPValues:
    """Adjust a family of p-values (any shape, e.g. layers x steps) for multiple testing.

    Parameters
    ----------
    pvalues : array_like
        p-values in [0, 1]; NaN marks a missing test and is left out of the family.
    method : str, default "fdr_bh"
        A key of :data:`CORRECTIONS` (statsmodels' ``multipletests`` names).
    alpha : float, default 0.05
        Level of the family (FDR or FWER, depending on ``method``).

    Returns
    -------
    AdjustedPValues

    Raises
    ------
    ValueError
        p-values outside [0, 1] or infinite, empty input, ``alpha`` not in (0, 1), unknown
        ``method``.
    TypeError
        Non-numeric ``pvalues``.

    References
    ----------
    Y. Benjamini and Y. Hochberg, "Controlling the false discovery rate: a practical and powerful
    approach to multiple testing", J. R. Stat. Soc. B 57(1):289-300 (1995).
    doi:10.1111/j.2517-6161.1995.tb02031.x

    Y. Benjamini and D. Yekutieli, "The control of the false discovery rate in multiple testing
    under dependency", Ann. Statist. 29(4):1165-1188 (2001). doi:10.1214/aos/1013699998

    S. Holm, "A simple sequentially rejective multiple test procedure", Scand. J. Statist.
    6(2):65-70 (1979). https://www.jstor.org/stable/4615733

    Examples
    --------
    >>> from bbpfit.inference import adjust_pvalues
    >>> res = adjust_pvalues([[0.001, 0.04], [0.03, float("nan")]])
    >>> res.adjusted.round(3).tolist()
    [[0.003, 0.04], [0.04, nan]]
    >>> res.rejected.tolist()
    [[True, True], [True, False]]
    """
    check_method(method, CORRECTIONS)
    alpha = check_alpha(alpha)
    p = as_real_array(pvalues, "pvalues", min_ndim=0, allow_nonfinite=True)
    if np.any(np.isinf(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("`pvalues` must lie in [0, 1] (NaN marks a missing test)")
    ok = ~np.isnan(p)
    adjusted = np.full(p.shape, np.nan)
    rejected = np.zeros(p.shape, dtype=bool)
    if ok.any():
        from statsmodels.stats.multitest import multipletests  # lazy: 0.5 s with pandas

        rej, adj, _, _ = multipletests(p[ok], alpha=alpha, method=method)
        adjusted[ok] = adj
        rejected[ok] = rej
    return AdjustedPValues(p, adjusted, rejected, method, alpha)


def selective_counts(step_pvalues, n_spikes, adjusted: AdjustedPValues) -> np.ndarray:
    """Spikes per layer counted at the level that keeps a report over many layers valid.

    The layers' first-step p-values form one family, adjusted in ``adjusted``. Inside the
    ``R`` selected layers of ``L`` tested ones, each layer's sequential p-values are re-read at
    ``alpha R / L`` for the FDR corrections (Benjamini & Bogomolov 2014) and at ``alpha / L``
    for the family-wise ones; no new test is run.

    Parameters
    ----------
    step_pvalues : sequence of array_like
        Per layer, the sequential p-values of its candidates (first = the layer's p-value).
    n_spikes : sequence of int
        Per layer, the spikes found at level ``alpha`` on its own (the count never exceeds it).
    adjusted : AdjustedPValues
        The adjustment of the layers' first-step p-values (NaN: a layer not tested).

    Returns
    -------
    numpy.ndarray of int
        Spikes per layer; 0 in layers not selected or not tested.

    References
    ----------
    Y. Benjamini and M. Bogomolov, "Selective inference on multiple families of hypotheses",
    J. R. Stat. Soc. B 76(1):297-318 (2014). doi:10.1111/rssb.12028

    Examples
    --------
    >>> from bbpfit.inference.multitest import adjust_pvalues, selective_counts
    >>> first = [0.001, 0.3, 0.002, float("nan")]
    >>> adj = adjust_pvalues(first)  # BH: 2 of 3 tested layers selected, level 0.05 * 2 / 3
    >>> steps = [[0.001, 0.02, 0.04], [0.3], [0.002, 0.01], []]
    >>> selective_counts(steps, [3, 0, 2, 0], adj).tolist()
    [2, 0, 2, 0]
    """
    rejected = np.asarray(adjusted.rejected).ravel()
    counts = np.zeros(rejected.size, dtype=np.int64)
    n_tests = adjusted.n_tests
    if n_tests == 0:
        return counts
    if adjusted.method.startswith("fdr"):
        level = adjusted.alpha * adjusted.n_rejected / n_tests
    else:
        level = adjusted.alpha / n_tests
    for i in np.flatnonzero(rejected):
        p, k = step_pvalues[i], 0
        while k < n_spikes[i] and p[k] <= level:
            k += 1
        counts[i] = k
    return counts
