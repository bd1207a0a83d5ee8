"""Per-step spike tests for one layer: the exact Marchenko-Pastur test or the soft-edge test.

Owns the choice, at every recorded step, of the test that is valid for the bulk the
layer has then:

* while the bulk's edge is the Marchenko-Pastur edge (the ``K`` eigenvalues below the outliers
  that the MP fit trims sit where that MP law puts them, on average within
  :data:`MP_EDGE_TOL` Tracy-Widom units: a few spikes on an MP bulk), the exact finite-n test of
  :mod:`bbpfit.inference` (``l_(k+1) / sigma2_KN(k+1)`` against its Monte Carlo null, TW-tail
  extrapolated beyond the simulation), the most powerful test we have;
* otherwise (small-batch SGD deforms the bulk away from MP) the edge statistic of
  :mod:`bbpfit.transition.edge` against its universal null, which needs nothing of the bulk but
  a soft edge; an MP test would call the deformed bulk itself "spikes".

Ranks are tested in order at each step (rank ``k`` counts only if ranks ``< k`` are significant).
Each test also gives the critical eigenvalue at a level, which the growth-law fit uses as the
step's censoring point.

References
----------
S. Kritchman and B. Nadler, "Non-parametric detection of the number of signals: hypothesis
testing and random matrix theory", IEEE Trans. Signal Process. 57(10):3930-3941 (2009).
doi:10.1109/TSP.2009.2022897

Z. Ma, "Accuracy of the Tracy-Widom limits for the extreme eigenvalues in white Wishart
matrices", Bernoulli 18(1):322-359 (2012). doi:10.3150/10-BEJ334
"""

from __future__ import annotations

import math

import numpy as np

from ..fit import fit_mp_array
from ..fit.kritchman_nadler import kn_sigma2
from ..inference.methods.tw import TAIL_COUNT, tw_tail_pvalue
from ..inference.null_cache import mc_critical_value, mc_pvalue, null_distribution
from ..inference.statistics import kn_statistic, ma_constants
from ..laws.tracy_widom import tracy_widom
from .edge import edge_fit, edge_statistics
from .edge_null import AIRY_MEANS, EDGE_K, edge_critical, edge_pvalue

__all__ = ["MP_EDGE_TOL", "step_tests"]

#: Mean offset (TW units) of the top ``K`` bulk eigenvalues (below the outliers that the MP fit
#: trims) from their MP positions, above which the bulk is treated as deformed. Measured: MP
#: bulks with or without spikes -0.6 to 0.8 (10-90%), the digits MLP's layers (ten class
#: spikes on an MP bulk) -0.6 to 0, small-batch teacher-student bulks above ``lr_os`` 1.7-5.7.
MP_EDGE_TOL = 1.5
_TW1 = tracy_widom(1)
_TW_MEDIAN, _TW_Q99 = (float(v) for v in _TW1.ppf([0.5, 0.99]))


def _mp_critical(null: np.ndarray, level: float) -> float:
    """Critical statistic of the exact null at ``level``, TW-tail extrapolated when needed."""
    if level * (null.shape[0] + 1) >= TAIL_COUNT:
        return mc_critical_value(null, level)
    q50, q99 = np.quantile(null, [0.5, 0.99])
    scale = (q99 - q50) / (_TW_Q99 - _TW_MEDIAN)
    return float(q50 + scale * (float(_TW1.isf(level)) - _TW_MEDIAN))


def _mp_offset(lam, n, r, K, xi):
    """Mean TW-unit offset of ``lam[r : r+K]`` from the positions of an MP bulk below ``r`` outliers.

    The MP scale is the Kritchman-Nadler estimate with ``r`` signals; the positions are
    ``E[xi_1..xi_K]`` on Ma's scale of an ``(n, m - r)`` bulk.
    """
    s2 = float(kn_sigma2(lam, float(n), r))
    if not s2 > 0:
        return math.inf
    mu, sd = ma_constants(n, lam.shape[0] - r)
    y = lam[r: r + K] * n / s2
    return float(np.mean((y - mu) / sd - xi[:K]))


def step_tests(lam2d, n, *, kmax, crit_level, n_null=9999, cache=None):
    """Per-step tests of the top ``kmax`` ranks of descending spectra (rows, m).

    Returns a dict of arrays (rows, kmax): ``pvalue`` (each rank tested as the top of the bulk
    below it), ``pvalue_seq`` (the running maximum over ranks: rank ``k`` is significant at
    level ``a`` iff ranks ``0..k`` all are, a fixed-sequence test), ``mp`` (bool, which test),
    ``crit`` (the eigenvalue the test calls significant at ``crit_level``) and ``sigma2`` (the
    KN noise estimate with ``k + 1`` signals).
    """
    rows, m = lam2d.shape
    xi = AIRY_MEANS
    K = EDGE_K
    t_edge = edge_statistics(lam2d, K, kmax, xi)
    p_edge = edge_pvalue(t_edge)
    c_edge = edge_critical(crit_level)
    pvalue = np.full((rows, kmax), np.nan)
    mp = np.zeros((rows, kmax), dtype=bool)
    crit = np.full((rows, kmax), np.nan)
    sigma2 = np.full((rows, kmax), np.nan)
    nulls = {}
    n_out = fit_mp_array(lam2d, n).n_excluded
    for r in range(rows):
        lam = lam2d[r]
        out = int(min(n_out[r], m - K - 1))
        bulk_mp = _mp_offset(lam, n, out, K, xi) <= MP_EDGE_TOL
        for k in range(kmax):
            t, s2 = kn_statistic(lam, n, k)
            sigma2[r, k] = s2
            if not (s2 > 0 and math.isfinite(t)):
                continue
            if bulk_mp:
                if k not in nulls:
                    null = null_distribution(n, m - k, n_draws=n_null, cache=cache)
                    nulls[k] = (null, _mp_critical(null, crit_level))
                null, c_mp = nulls[k]
                p, count = mc_pvalue(null, t)
                pvalue[r, k] = tw_tail_pvalue(null, t) if count < TAIL_COUNT else p
                mp[r, k] = True
                crit[r, k] = c_mp * s2
            else:
                pvalue[r, k] = p_edge[r, k]
                b, s = edge_fit(lam, k + 1, K, 1, xi)
                crit[r, k] = b + s * c_edge
    filled = np.where(np.isnan(pvalue), 1.0, pvalue)
    return {"pvalue": pvalue, "pvalue_seq": np.maximum.accumulate(filled, axis=1), "mp": mp,
            "crit": crit, "sigma2": sigma2}
