"""Per-step spike tests for one layer: the exact Marchenko-Pastur test or the soft-edge test.

Owns the choice, at every recorded step and rank, of the test that is valid for the bulk the
layer has then:

* while the bulk's edge is the Marchenko-Pastur edge (the ``K`` eigenvalues below the candidate
  sit where the MP law fitted to the whole spectrum puts them, on average within
  :data:`MP_EDGE_TOL` Tracy-Widom units), the exact finite-n test of
  :mod:`bbpfit.inference` (``l_(k+1) / sigma2_KN(k+1)`` against its Monte Carlo null, TW-tail
  extrapolated beyond the simulation), the most powerful test we have;
* otherwise (small-batch SGD deforms the bulk away from MP) the edge statistic of
  :mod:`bbpfit.transition.edge` against its universal null, which needs nothing of the bulk but
  a soft edge; an MP test would call the deformed bulk itself "spikes".

Ranks are tested in order at each step (rank ``k`` counts only if ranks ``< k`` are significant).
Each test also gives the critical eigenvalue at a level, which the growth-law fit uses as the
step's censoring point.
"""

from __future__ import annotations

import math

import numpy as np

from ..inference.methods.tw import TAIL_COUNT, tw_tail_pvalue
from ..inference.null_cache import mc_critical_value, mc_pvalue, null_distribution
from ..inference.statistics import kn_statistic, ma_constants
from ..laws.tracy_widom import tracy_widom
from .edge import edge_fit, edge_statistics
from .edge_null import AIRY_MEANS, EDGE_K, edge_critical, edge_pvalue

__all__ = ["MP_EDGE_TOL", "step_tests"]

#: Mean offset (TW units) of the K eigenvalues below a candidate from the MP prediction above
#: which the bulk is treated as deformed. Under MP it is about 0.3 +- 0.7 at m = 200.
MP_EDGE_TOL = 3.0
_TW1 = tracy_widom(1)
_TW_MEDIAN, _TW_Q99 = (float(v) for v in _TW1.ppf([0.5, 0.99]))


def _mp_critical(null: np.ndarray, level: float) -> float:
    """Critical statistic of the exact null at ``level``, TW-tail extrapolated when needed."""
    if level * (null.shape[0] + 1) >= TAIL_COUNT:
        return mc_critical_value(null, level)
    q50, q99 = np.quantile(null, [0.5, 0.99])
    scale = (q99 - q50) / (_TW_Q99 - _TW_MEDIAN)
    return float(q50 + scale * (float(_TW1.isf(level)) - _TW_MEDIAN))


def _mp_offset(lam, n, k, s2, K, xi):
    """Mean TW-unit offset of ``lam[k+1 : k+1+K]`` from their MP(sigma2 = s2) positions."""
    mu, sd = ma_constants(n, lam.shape[0] - k)
    y = lam[k + 1: k + 1 + K] * n / s2
    return float(np.mean((y - mu) / sd - xi[1: K + 1]))


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
    for r in range(rows):
        lam = lam2d[r]
        for k in range(kmax):
            t, s2 = kn_statistic(lam, n, k)
            sigma2[r, k] = s2
            if not (s2 > 0 and math.isfinite(t)):
                continue
            if _mp_offset(lam, n, k, s2, K, xi) <= MP_EDGE_TOL:
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
