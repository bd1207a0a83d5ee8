"""Quantile matching (Gavish & Donoho 2014): ``sigma2 = median(lambda) / mu_q``.

Owns the median estimator of the noise level and the two-quantile (quartile-ratio) estimator of an
effective aspect ratio, which the other estimators reuse when ``ratio="fit"``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..laws.marchenko_pastur import mp_ppf_scalar
from .outliers import count_above, quantile_desc, tw_edge

#: Levels of the two quantiles whose ratio identifies the effective ratio ``q_eff``.
Q_LOW, Q_HIGH = 0.25, 0.75
#: Smallest effective ratio the fits return.
Q_MIN = 1e-6


@njit(cache=True)
def _log_quartile_ratio(q: float) -> float:
    return math.log(mp_ppf_scalar(Q_HIGH, q) / mp_ppf_scalar(Q_LOW, q))


@njit(cache=True)
def ratio_from_quartiles(lam: np.ndarray) -> float:
    """Effective ratio ``q`` whose MP law has the spectrum's quartile ratio ``Q(3/4) / Q(1/4)``.

    The ratio is scale free and increases with ``q`` (from 1 at ``q -> 0`` to 10.31 at ``q = 1``),
    so ``q`` is its root, found by regula falsi (Illinois variant) on the log ratio; a spectrum
    wider than MP(1) gives ``q = 1``. The top quarter of the spectrum may hold outliers without
    changing the answer.
    """
    lo_val = quantile_desc(lam, Q_LOW)
    hi_val = quantile_desc(lam, Q_HIGH)
    if not lo_val > 0.0:
        return 1.0
    target = math.log(hi_val / lo_val)
    a, b = Q_MIN, 1.0
    fa = _log_quartile_ratio(a) - target
    fb = _log_quartile_ratio(b) - target
    if fb <= 0.0:
        return 1.0
    if fa >= 0.0:
        return a
    side = 0
    for _ in range(200):
        c = (a * fb - b * fa) / (fb - fa)
        fc = _log_quartile_ratio(c) - target
        if fc == 0.0 or b - a < 1e-13:
            return c
        if fc < 0.0:
            a, fa = c, fc
            if side == -1:
                fb *= 0.5
            side = -1
        else:
            b, fb = c, fc
            if side == 1:
                fa *= 0.5
            side = 1
        if abs(fc) < 1e-14:
            return c
    return (a * fb - b * fa) / (fb - fa)


@njit(cache=True)
def ratio_batch(lam2d):
    """:func:`ratio_from_quartiles` of each row of a (B, m) array of descending spectra."""
    out = np.empty(lam2d.shape[0])
    for i in range(lam2d.shape[0]):
        out[i] = ratio_from_quartiles(lam2d[i])
    return out


def ratio_rows(lam2d, n_eff, q, fit_ratio):
    """``(n_eff, q)`` per row of ``lam2d``: the given ones, or with ``fit_ratio`` the
    quartile-ratio ``q`` of each row and ``n_eff = m / q``.

    Outside the fit kernels so that they compile without the ratio fit, which only
    ``ratio="fit"`` needs (a fresh environment compiles what a kernel can reach).
    """
    b, m = lam2d.shape
    if fit_ratio:
        q_rows = ratio_batch(lam2d)
        return m / q_rows, q_rows
    return np.full(b, float(n_eff)), np.full(b, float(q))


@njit(cache=True)
def median_fit_row(lam, n_eff, q, kmax, margin):
    """Median matching on one descending spectrum of ratio ``q``; returns ``(sigma2, k)``.

    ``k`` (reported, not used by the estimate) is the fixed point of counting eigenvalues above
    the Tracy-Widom trimming edge of a bulk of ``m - k``.
    """
    m = lam.shape[0]
    sigma2 = quantile_desc(lam, 0.5) / mp_ppf_scalar(0.5, q)
    k = count_above(lam, tw_edge(sigma2, n_eff, float(m), margin), kmax)
    for _ in range(kmax + 1):
        k_new = count_above(lam, tw_edge(sigma2, n_eff, float(m - k), margin), kmax)
        if k_new == k:
            break
        k = k_new
    return sigma2, k


@njit(cache=True)
def median_batch(lam2d, n_eff, q, kmax, margin):
    """:func:`median_fit_row` over the rows of a (B, m) array of descending spectra; ``n_eff``
    and ``q`` per row (:func:`ratio_rows`). Returns ``(sigma2, k)``."""
    b = lam2d.shape[0]
    s_out = np.empty(b)
    k_out = np.empty(b, dtype=np.int64)
    for i in range(b):
        s_out[i], k_out[i] = median_fit_row(lam2d[i], n_eff[i], q[i], kmax, margin)
    return s_out, k_out
