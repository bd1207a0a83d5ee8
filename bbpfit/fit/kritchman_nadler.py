"""Kritchman-Nadler noise estimation with the number of outliers ``k`` found on the way.

Owns the KN fixed-point estimate of ``sigma2`` for a given ``k`` (KN 2009, their ``KN_noiseEst``)
and the outer loop that recounts ``k`` against the Tracy-Widom trimming edge until it is stable.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..laws.marchenko_pastur import mp_ppf_scalar
from .outliers import count_above, quantile_desc, tw_edge

#: Relative tolerance of the inner fixed point (KN use 1e-5; tighter costs nothing here).
KN_TOL = 1e-12
KN_MAX_ITER = 200


@njit(cache=True)
def kn_sigma2_sums(top: np.ndarray, tail: float, m: int, n_eff: float) -> float:
    """KN estimate of ``sigma2`` from the ``k = len(top)`` outliers and the sum of the others.

    Starts from ``tail / ((m - k)(1 - k/n))`` and iterates: for each outlier solve
    ``rho^2 - rho (lam_j + s - s (m - k)/n) + lam_j s = 0`` (larger root), then
    ``s <- [tail + sum_{j<=k} (lam_j - rho_j)] / (m - k)``. ``lam_j - rho_j`` is the noise
    energy the j-th outlier took from the bulk. A negative discriminant (an eigenvalue at the
    bulk edge) is clamped to zero rather than stopping the iteration. Needs only the top
    eigenvalues and the trace, so it also serves null draws that know nothing else
    (:mod:`bbpfit.inference.statistics`).
    """
    k = top.shape[0]
    s = tail / ((m - k) * (1.0 - k / n_eff))
    if k == 0:
        return s
    shrink = (m - k) / n_eff
    for _ in range(KN_MAX_ITER):
        corr = 0.0
        for j in range(k):
            t = top[j] + s - s * shrink
            disc = max(t * t - 4.0 * top[j] * s, 0.0)
            corr += top[j] - 0.5 * (t + math.sqrt(disc))
        new = (tail + corr) / (m - k)
        done = abs(new - s) <= KN_TOL * s
        s = new
        if done:
            break
    return s


def kn_sigma2(lam: np.ndarray, n_eff: float, k: int) -> float:
    """KN estimate of ``sigma2`` from a descending spectrum assuming ``k`` outliers.

    :func:`kn_sigma2_sums` with ``tail = sum_{j>k} lam_j`` (KN 2009, their ``KN_noiseEst``).
    The entry point for Python callers: a read-only or non-contiguous ``lam`` (a spectrum
    result's eigenvalues) is copied first, so the kernel is compiled for one array type only
    (each extra type costs a second of compilation in a fresh environment).
    """
    lam = np.asarray(lam)
    if not (lam.flags.c_contiguous and lam.flags.writeable):
        lam = np.array(lam, order="C")
    return _kn_sigma2(lam, n_eff, k)


@njit(cache=True)
def _kn_sigma2(lam: np.ndarray, n_eff: float, k: int) -> float:
    """:func:`kn_sigma2` inside the kernels."""
    tail = 0.0
    for j in range(k, lam.shape[0]):
        tail += lam[j]
    return kn_sigma2_sums(lam[:k], tail, lam.shape[0], n_eff)


@njit(cache=True)
def kn_fit_row(lam, n_eff, q, kmax, margin):
    """KN with ``k`` unknown on one descending spectrum of ratio ``q``; returns ``(sigma2, k)``.

    ``k`` starts from the count above the trimming edge of the median estimate, then alternates
    ``sigma2 = KN(k)`` and ``k = #{lam_j > tw_edge(sigma2, n, m - k)}`` until ``k`` repeats.
    """
    m = lam.shape[0]
    s0 = quantile_desc(lam, 0.5) / mp_ppf_scalar(0.5, q)
    k = count_above(lam, tw_edge(s0, n_eff, float(m), margin), kmax)
    sigma2 = _kn_sigma2(lam, n_eff, k)
    for _ in range(2 * kmax + 2):
        k_new = count_above(lam, tw_edge(sigma2, n_eff, float(m - k), margin), kmax)
        if k_new == k:
            break
        k = k_new
        sigma2 = _kn_sigma2(lam, n_eff, k)
    return sigma2, k


@njit(cache=True)
def kn_batch(lam2d, n_eff, q, kmax, margin):
    """:func:`kn_fit_row` over the rows of a (B, m) array of descending spectra; ``n_eff`` and
    ``q`` per row (:func:`bbpfit.fit.median.ratio_rows`). Returns ``(sigma2, k)``."""
    b = lam2d.shape[0]
    s_out = np.empty(b)
    k_out = np.empty(b, dtype=np.int64)
    for i in range(b):
        s_out[i], k_out[i] = kn_fit_row(lam2d[i], n_eff[i], q[i], kmax, margin)
    return s_out, k_out
