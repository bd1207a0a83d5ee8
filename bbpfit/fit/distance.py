"""Minimum-distance fits: the MP law closest to the trimmed bulk in KS or Cramer-von Mises distance.

Owns the Numba distance kernels (also used to report ``MPFit.ks``), the golden-section search over
``log sigma2`` (ratio fixed) and the Nelder-Mead search over ``(log sigma2, q)`` (``ratio="fit"``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..laws.marchenko_pastur import mp_cdf_scalar, mp_ppf_scalar
from .median import Q_MIN, ratio_from_quartiles
from .outliers import count_above, quantile_desc, tw_edge

KS, CVM = 0, 1
_GOLD = 0.5 * (math.sqrt(5.0) - 1.0)


@njit(cache=True)
def bulk_distance(lam: np.ndarray, k: int, sigma2: float, q: float, kind: int) -> float:
    """Distance of the bulk ``lam[k:]`` (descending) to the MP(q, sigma2) cdf.

    ``kind=0``: Kolmogorov-Smirnov ``sup |F_N - F|``; ``kind=1``: Cramer-von Mises
    ``omega^2 = 1/(12 N^2) + (1/N) sum_i (F(x_(i)) - (i - 1/2)/N)^2``, ``N = m - k``.
    """
    m = lam.shape[0]
    nb = m - k
    d = 0.0
    for i in range(nb):
        f = mp_cdf_scalar(lam[m - 1 - i] / sigma2, q)
        if kind == KS:
            d = max(d, (i + 1.0) / nb - f, f - i / nb)
        else:
            d += (f - (i + 0.5) / nb) ** 2
    if kind == CVM:
        d = d / nb + 1.0 / (12.0 * nb * nb)
    return d


@njit(cache=True)
def kept_law(sigma2: float, q: float, m: int, k: int):
    """MP ``(scale, ratio)`` of the bulk left after removing ``k`` outliers from MP(q, sigma2).

    A strong rank-k signal takes k dimensions from each side, so the remaining m - k eigenvalues
    are those of an ``(n - k) x (m - k)`` noise matrix, still divided by n:
    ``MP((m - k) / (n - k), sigma2 (n - k) / n)`` with ``n = m / q``. Without this the trimmed
    bulk looks narrower and the fits are biased low by about ``k / n``.
    """
    n_eff = m / q
    return sigma2 * (n_eff - k) / n_eff, (m - k) / (n_eff - k)


@njit(cache=True)
def _dist(lam, k, t, q, kind):
    s_k, q_k = kept_law(math.exp(t), q, lam.shape[0], k)
    return bulk_distance(lam, k, s_k, q_k, kind)


@njit(cache=True)
def _golden(lam, k, t0, q, kind, half_width):
    # Minimise the distance over t = log sigma2 in [t0 - w, t0 + w] (unimodal for KS).
    a, b = t0 - half_width, t0 + half_width
    c = b - _GOLD * (b - a)
    d = a + _GOLD * (b - a)
    fc = _dist(lam, k, c, q, kind)
    fd = _dist(lam, k, d, q, kind)
    while b - a > 1e-11:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLD * (b - a)
            fc = _dist(lam, k, c, q, kind)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLD * (b - a)
            fd = _dist(lam, k, d, q, kind)
    return 0.5 * (a + b)


@njit(cache=True)
def _objective2(lam, k, x, kind):
    # (log sigma2, q) -> distance; q is clamped to [Q_MIN, 1] with a penalty outside.
    qq = min(max(x[1], Q_MIN), 1.0)
    return _dist(lam, k, x[0], qq, kind) + abs(x[1] - qq)


@njit(cache=True)
def _nelder_mead(lam, k, x0, kind):
    # Standard Nelder-Mead (reflection 1, expansion 2, contraction 1/2, shrink 1/2) in 2-D.
    pts = np.empty((3, 2))
    f = np.empty(3)
    pts[0] = x0
    pts[1] = x0
    pts[2] = x0
    pts[1, 0] += 0.05
    pts[2, 1] += 0.05 * max(x0[1], 0.02)
    for i in range(3):
        f[i] = _objective2(lam, k, pts[i], kind)
    for _ in range(1000):
        order = np.argsort(f)
        pts = pts[order].copy()
        f = f[order].copy()
        size = max(abs(pts[1, 0] - pts[0, 0]) + abs(pts[2, 0] - pts[0, 0]),
                   abs(pts[1, 1] - pts[0, 1]) + abs(pts[2, 1] - pts[0, 1]))
        if size < 1e-10:
            break
        cen = 0.5 * (pts[0] + pts[1])
        xr = cen + (cen - pts[2])
        fr = _objective2(lam, k, xr, kind)
        if fr < f[0]:
            xe = cen + 2.0 * (cen - pts[2])
            fe = _objective2(lam, k, xe, kind)
            if fe < fr:
                pts[2], f[2] = xe, fe
            else:
                pts[2], f[2] = xr, fr
        elif fr < f[1]:
            pts[2], f[2] = xr, fr
        else:
            xc = cen + 0.5 * (pts[2] - cen) if fr >= f[2] else cen + 0.5 * (xr - cen)
            fcn = _objective2(lam, k, xc, kind)
            if fcn < min(fr, f[2]):
                pts[2], f[2] = xc, fcn
            else:
                for i in (1, 2):
                    pts[i] = pts[0] + 0.5 * (pts[i] - pts[0])
                    f[i] = _objective2(lam, k, pts[i], kind)
    best = np.argmin(f)
    return pts[best, 0], min(max(pts[best, 1], Q_MIN), 1.0)


@njit(cache=True)
def ks_batch(lam2d, sigma2, q, k):
    """KS distance of each row's kept bulk to the fitted law with its k outliers removed."""
    out = np.empty(lam2d.shape[0])
    for i in range(lam2d.shape[0]):
        s_k, q_k = kept_law(sigma2[i], q[i], lam2d.shape[1], k[i])
        out[i] = bulk_distance(lam2d[i], k[i], s_k, q_k, KS)
    return out


@njit(cache=True)
def _fit_given_k(lam, k, sigma2, q, fit_ratio, kind):
    if fit_ratio:
        x0 = np.array([math.log(sigma2), q])
        t, q = _nelder_mead(lam, k, x0, kind)
    else:
        t = _golden(lam, k, math.log(sigma2), q, kind, 0.5)
    return math.exp(t), q


@njit(cache=True)
def distance_fit_row(lam, n_eff, q, fit_ratio, kmax, margin, kind):
    """Minimum-distance fit of one descending spectrum; returns ``(sigma2, q, k)``.

    Starts from the median (and quartile-ratio) estimate; alternates the fit of the bulk
    ``lam[k:]`` and the recount of ``k`` above the Tracy-Widom trimming edge until ``k`` repeats.
    """
    m = lam.shape[0]
    if fit_ratio:
        q = ratio_from_quartiles(lam)
        n_eff = m / q
    s0 = quantile_desc(lam, 0.5) / mp_ppf_scalar(0.5, q)
    if not s0 > 0.0:  # more than half the spectrum is zero: start from the mean instead
        s0 = np.mean(lam)
        if not s0 > 0.0:
            return np.nan, q, 0
    k = count_above(lam, tw_edge(s0, n_eff, float(m), margin), kmax)
    sigma2, q = _fit_given_k(lam, k, s0, q, fit_ratio, kind)
    for _ in range(2 * kmax + 2):
        ne = m / q if fit_ratio else n_eff
        k_new = count_above(lam, tw_edge(sigma2, ne, float(m - k), margin), kmax)
        if k_new == k:
            break
        k = k_new
        sigma2, q = _fit_given_k(lam, k, sigma2, q, fit_ratio, kind)
    return sigma2, q, k


@njit(cache=True)
def distance_batch(lam2d, n_eff, q, fit_ratio, kmax, margin, kind):
    """:func:`distance_fit_row` over the rows of a (B, m) array of descending spectra."""
    b = lam2d.shape[0]
    s_out = np.empty(b)
    q_out = np.empty(b)
    k_out = np.empty(b, dtype=np.int64)
    for i in range(b):
        s_out[i], q_out[i], k_out[i] = distance_fit_row(lam2d[i], n_eff, q, fit_ratio, kmax,
                                                        margin, kind)
    return s_out, q_out, k_out
