"""Per-step spike tests for one layer: the exact Marchenko-Pastur test or the soft-edge test.

Owns the choice, at every recorded step, of the test that is valid for the bulk the
layer has then (the step's *null*):

* while the bulk's edge is the Marchenko-Pastur edge (the ``K`` eigenvalues below the outliers
  that the MP fit trims sit where that MP law puts them, on average within
  :data:`MP_EDGE_TOL` Tracy-Widom units: a few spikes on an MP bulk), the exact finite-n test of
  :mod:`bbpfit.inference` (``l_(k+1) / sigma2_KN(k+1)`` against its Monte Carlo null, TW-tail
  extrapolated beyond the simulation), the most powerful test we have;
* otherwise (small-batch SGD deforms the bulk away from MP) the edge statistic of
  :mod:`bbpfit.transition.edge` against its universal null, which needs nothing of the bulk but
  a soft edge; an MP test would call the deformed bulk itself "spikes".

The choice follows the evidence of the neighbouring steps, not of one step alone: the offset
(``bulk_offset``) is measured at every step with the MP fit allowed to trim up to ``m - K - 4``
outliers (a cap of ``m / 2`` or 50 left spikes in the "bulk" of a long run, which then looked
deformed), and the step's null follows the running median of the offsets over
:data:`NULL_WINDOW` neighbouring records (``bulk_offset_smooth``), with hysteresis: a step on
the MP null moves to the soft edge only above :data:`MP_EDGE_ENTER` and comes back at or below
:data:`MP_EDGE_TOL`. On real training runs the raw offset wanders around the tolerance while
spikes emerge (digits MLP: 1.28, 1.44, 1.60, 0.98 at four consecutive records), so a per-step
choice flipped the test at single records on essentially identical spectra and turned a spike
at ``p ~ 1e-120`` into ``p = 0.56``; one reclassified record cannot move a median of five.
Layers too small for a soft-edge fit (``m < 24``) always use the exact MP test (the bulk's shape
cannot be checked).

The soft-edge test of rank ``k`` (:mod:`bbpfit.transition.edge_depth`) fits the edge not only
on the ``K`` ranks right below ``k`` but also 1, 3 and 7 ranks deeper, and combines the depths by
their smallest p-value against the tabulated null of that minimum: other spikes right below rank
``k`` (up to 7 of them) lift the shallow fits but not the deep one, so they no longer mask it
(the demo's second teacher spike was masked by the third for 280 steps), while the per-step
false-positive rate stays at its nominal level. Which depth decided is reported per rank
(``edge_depth``).

Ranks are tested in order at each step (rank ``k`` counts only if ranks ``< k`` are significant).
The spike count ``n_spikes`` continues the same sequence beyond the ranks examined, down to
``m - K - 4`` (TW approximation of the exact MP null there), so it is not capped at
``max_spikes``. Each test also gives the critical eigenvalue at a level, which the growth-law
fit uses as the step's censoring point.

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
from .edge_depth import depth_tests
from .edge_null import AIRY_MEANS, EDGE_K

__all__ = ["MP_EDGE_ENTER", "MP_EDGE_TOL", "NULL_WINDOW", "choose_null", "smooth_offsets",
           "step_tests"]

#: Mean offset (TW units) of the top ``K`` bulk eigenvalues (below the outliers that the MP fit
#: trims) from their MP positions, above which the bulk is treated as deformed. Measured: MP
#: bulks with or without spikes -0.6 to 0.8 (10-90%), the digits MLP's layers (ten class
#: spikes on an MP bulk) -0.6 to 0, small-batch teacher-student bulks above ``lr_os`` 1.7-5.7.
MP_EDGE_TOL = 1.5
#: Smoothed offset above which a step on the MP null switches to the soft edge (hysteresis:
#: it switches back at :data:`MP_EDGE_TOL`). MP bulks give smoothed offsets below 1.
MP_EDGE_ENTER = 2.0
#: Records in the running median of the offsets that decides each step's null.
NULL_WINDOW = 5
_TW1 = tracy_widom(1)
#: TW1 median and 99% point, precomputed (no quantile solve at import); checked against an
#: independent Fredholm-determinant computation in tests/test_tw_python.py.
_TW_MEDIAN, _TW_Q99 = -1.2685746165810712, 2.023449281380162


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


def smooth_offsets(offset, window: int = NULL_WINDOW) -> np.ndarray:
    """Running median of ``offset`` over ``window`` neighbouring records (centred, NaN skipped).

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.transition.significance import smooth_offsets
    >>> smooth_offsets(np.array([1.3, 1.4, 1.6, 1.0, 0.5, 0.3])).round(2).tolist()
    [1.4, 1.35, 1.3, 1.0, 0.75, 0.5]
    """
    x = np.asarray(offset, dtype=np.float64)
    h = window // 2
    out = np.full(x.shape, np.nan)
    for i in range(x.size):
        w = x[max(0, i - h): i + h + 1]
        w = w[np.isfinite(w)]
        if w.size:
            out[i] = float(np.median(w))
    return out


def choose_null(smooth) -> np.ndarray:
    """MP null (True) or soft edge (False) per record from the smoothed offsets, with hysteresis.

    The soft edge is entered when the smoothed offset exceeds :data:`MP_EDGE_ENTER` and left
    when it falls back to :data:`MP_EDGE_TOL` or below; NaN (no bulk left below the outliers, or
    a layer too small to judge) keeps the MP null.

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.transition.significance import choose_null
    >>> choose_null(np.array([0.2, 1.8, 2.3, 1.8, 1.4, 1.9])).tolist()
    [True, True, False, False, True, True]
    """
    out = np.ones(len(smooth), dtype=bool)
    mp = True
    for i, x in enumerate(np.asarray(smooth, dtype=np.float64)):
        if math.isfinite(x):
            mp = x <= MP_EDGE_TOL if not mp else not x > MP_EDGE_ENTER
        else:
            mp = True
        out[i] = mp
    return out


def _offsets(lam2d, n, K, xi):
    """Raw bulk offsets per row (NaN where the outliers leave fewer than ``K + 4`` in the bulk)."""
    rows, m = lam2d.shape
    cap = m - K - 4
    out = np.full(rows, np.nan)
    if cap < 1:
        return out
    n_out = fit_mp_array(lam2d, n, max_spikes=cap, distance=False).n_excluded
    for r in range(rows):
        if n_out[r] < cap:
            out[r] = _mp_offset(lam2d[r], n, int(n_out[r]), K, xi)
    return out


def _count_mp(lam, n, start, limit, c_tw):
    """Continue the fixed sequence of MP tests from rank ``start`` (TW approximation, level of ``c_tw``)."""
    m = lam.shape[0]
    k = start
    while k < limit:
        t, s2 = kn_statistic(lam, n, k)
        if not (s2 > 0 and math.isfinite(t)):
            break
        mu, sd = ma_constants(n, m - k)
        if not (n * t - mu) / sd > c_tw:
            break
        k += 1
    return k


def step_tests(lam2d, n, *, kmax, crit_level, alpha=0.05, n_null=9999, cache=None):
    """Per-step tests of the top ``kmax`` ranks of descending spectra (rows, m), in record order.

    Returns a dict of arrays (rows, kmax): ``pvalue`` (each rank tested as the top of the bulk
    below it), ``pvalue_seq`` (the running maximum over ranks: rank ``k`` is significant at
    level ``a`` iff ranks ``0..k`` all are, a fixed-sequence test), ``mp`` (bool, which test),
    ``crit`` (the eigenvalue the test calls significant at ``crit_level``) and ``sigma2`` (the
    KN noise estimate with ``k + 1`` signals); and per row: ``offset``, ``offset_smooth`` (the
    raw and smoothed bulk offsets that choose the null), ``mp_null`` (bool), ``n_spikes``
    (ranks significant at ``alpha`` in the fixed sequence, counted down to ``m - K - 4``, or
    ``m - 2`` for a layer too small for the soft edge) and ``edge0`` (the TW centring of the
    step's null for rank 0: ``sigma2_KN(1) mu / n`` with Ma's ``mu``, or the soft edge ``b`` at
    the depth that gives rank 0's critical value); per row and rank ``edge_depth`` (on soft-edge
    steps, the depth of the edge fit that gave the smallest marginal p-value; NaN on MP steps).
    """
    rows, m = lam2d.shape
    xi = AIRY_MEANS
    K = EDGE_K
    small = m - K - 4 < max(kmax, 1)
    depth = max(kmax, (m - 2) if small else (m - K - 4))
    offset = np.full(rows, np.nan) if small else _offsets(lam2d, n, K, xi)
    smooth = smooth_offsets(offset)
    mp_null = choose_null(smooth)
    soft = None
    if not small and not mp_null.all():
        soft_rows = np.flatnonzero(~mp_null)
        soft = depth_tests(np.ascontiguousarray(lam2d[soft_rows]), depth, kmax, crit_level)
        where = np.full(rows, -1)
        where[soft_rows] = np.arange(soft_rows.size)
    c_tw = float(_TW1.isf(alpha))
    pvalue = np.full((rows, kmax), np.nan)
    mp = np.zeros((rows, kmax), dtype=bool)
    crit = np.full((rows, kmax), np.nan)
    sigma2 = np.full((rows, kmax), np.nan)
    n_spikes = np.zeros(rows, dtype=np.int64)
    edge0 = np.full(rows, np.nan)
    edge_depth = np.full((rows, kmax), np.nan)
    mu0, _ = ma_constants(n, m)
    nulls = {}
    for r in range(rows):
        lam = lam2d[r]
        if mp_null[r]:
            edge0[r] = float(kn_sigma2(lam, float(n), 1)) * mu0 / n
        else:
            w = where[r]
            edge0[r] = soft["edge"][w, 0]
            edge_depth[r] = soft["depth"][w, :kmax]
        for k in range(kmax):
            t, s2 = kn_statistic(lam, n, k)
            sigma2[r, k] = s2
            if not (s2 > 0 and math.isfinite(t)):
                continue
            if mp_null[r]:
                if k not in nulls:
                    null = null_distribution(n, m - k, n_draws=n_null, cache=cache)
                    nulls[k] = (null, _mp_critical(null, crit_level))
                null, c_mp = nulls[k]
                p, count = mc_pvalue(null, t)
                pvalue[r, k] = tw_tail_pvalue(null, t) if count < TAIL_COUNT else p
                mp[r, k] = True
                crit[r, k] = c_mp * s2
            else:
                pvalue[r, k] = soft["pvalue"][w, k]
                crit[r, k] = soft["crit"][w, k]
        seq = np.cumprod(np.where(np.isnan(pvalue[r]), 1.0, pvalue[r]) <= alpha)
        count = int(seq.sum())
        if count == kmax and depth > kmax:  # continue the sequence beyond the ranks examined
            if mp_null[r]:
                count = _count_mp(lam, n, kmax, depth, c_tw)
            else:
                more = np.cumprod(soft["pvalue"][w, kmax:] <= alpha)
                count = kmax + int(more.sum())
        n_spikes[r] = count
    filled = np.where(np.isnan(pvalue), 1.0, pvalue)
    return {"pvalue": pvalue, "pvalue_seq": np.maximum.accumulate(filled, axis=1), "mp": mp,
            "crit": crit, "sigma2": sigma2, "offset": offset, "offset_smooth": smooth,
            "mp_null": mp_null, "n_spikes": n_spikes, "edge0": edge0, "edge_depth": edge_depth}
