"""The soft-edge fit of a bulk and the edge statistic: how far an eigenvalue stands above it.

Owns the Numba kernels that locate the upper edge of a bulk whatever its global shape. Near a
square-root (soft) edge the top eigenvalues form the Airy-1 point process,
``lambda_j ~ b + s xi_j`` with ``xi_j`` the j-th largest point in Tracy-Widom units
(:data:`bbpfit.transition.edge_null.AIRY_MEANS`), for Marchenko-Pastur as for the bulks that SGD
deforms. A least-squares fit of ``K`` consecutive eigenvalues against ``E[xi_j]``, with a
quadratic term that absorbs the curvature of the edge at finite size, gives the edge ``b`` (the
Tracy-Widom centring) and the local scale ``s`` (one Tracy-Widom unit).

The edge statistic of rank ``k`` is ``T_k = (lambda_k - b) / s`` with the fit made on
``lambda_(k+1) .. lambda_(k+K)`` at ``xi_2 .. xi_(K+1)``, i.e. as if rank ``k`` were the top of the
bulk. It is free of location and scale, so its null law is the same for every soft-edged bulk at
every size (checked by simulation from 100 x 50 up) and is tabulated once
(:mod:`bbpfit.transition.edge_null`).

References
----------
I. M. Johnstone, "On the distribution of the largest eigenvalue in principal components
analysis", Ann. Statist. 29(2):295-327 (2001). doi:10.1214/aos/1009210544

L. Erdos, H.-T. Yau and J. Yin, "Rigidity of eigenvalues of generalized Wigner matrices", Adv.
Math. 229(3):1435-1515 (2012), edge universality. doi:10.1016/j.aim.2011.12.010
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["edge_fit", "edge_statistics"]


@njit(cache=True)
def edge_fit(lam: np.ndarray, start: int, K: int, offset: int, xi: np.ndarray):
    """``(b, s)``: ``lam[start + i] ~ b + s x + c x^2`` at ``x = xi[offset + i]``, ``i < K``.

    Least squares on a descending ``lam``; ``s`` is the slope at ``x = 0`` (the edge). NaN when
    fewer than ``K`` values are left or the fit is degenerate (``s <= 0``).
    """
    m = lam.shape[0]
    if start + K > m or offset + K > xi.shape[0] or K < 4:
        return math.nan, math.nan
    # normal equations of the quadratic in the centred variable u = x - xm
    xm = 0.0
    for i in range(K):
        xm += xi[offset + i]
    xm /= K
    s0 = float(K)
    s1 = s2 = s3 = s4 = t0 = t1 = t2 = 0.0
    for i in range(K):
        u = xi[offset + i] - xm
        y = lam[start + i]
        if not math.isfinite(y):
            return math.nan, math.nan
        u2 = u * u
        s1 += u
        s2 += u2
        s3 += u2 * u
        s4 += u2 * u2
        t0 += y
        t1 += y * u
        t2 += y * u2
    # solve [[s0 s1 s2] [s1 s2 s3] [s2 s3 s4]] (a0 a1 a2) = (t0 t1 t2) by Cramer's rule
    det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2)
    if not abs(det) > 0.0:
        return math.nan, math.nan
    a0 = (t0 * (s2 * s4 - s3 * s3) - s1 * (t1 * s4 - s3 * t2) + s2 * (t1 * s3 - s2 * t2)) / det
    a1 = (s0 * (t1 * s4 - s3 * t2) - t0 * (s1 * s4 - s3 * s2) + s2 * (s1 * t2 - t1 * s2)) / det
    a2 = (s0 * (s2 * t2 - t1 * s3) - s1 * (s1 * t2 - t1 * s2) + t0 * (s1 * s3 - s2 * s2)) / det
    # back to x: y = a0 + a1 (x - xm) + a2 (x - xm)^2; at x = 0
    b = a0 - a1 * xm + a2 * xm * xm
    s = a1 - 2.0 * a2 * xm
    if not s > 0.0:
        return math.nan, math.nan
    return b, s


@njit(cache=True)
def edge_statistics(lam2d: np.ndarray, K: int, kmax: int, xi: np.ndarray, depth: int = 0) -> np.ndarray:
    """Edge statistic ``T_k`` of ranks ``k < kmax`` for each row of descending spectra.

    Returns ``T`` (rows, kmax): ``(lambda_k - b) / s`` with ``(b, s)`` fitted on the ``K``
    eigenvalues ``depth`` ranks below rank ``k`` (ranks ``k + depth + 1 .. k + depth + K``) at
    positions ``xi[depth + 1 : depth + K + 1]``, i.e. as if rank ``k`` were the top of the bulk
    and the ``depth`` ranks right below it were skipped (other spikes that would mask it); NaN
    where the fit is impossible.
    """
    rows = lam2d.shape[0]
    out = np.full((rows, kmax), np.nan)
    for r in range(rows):
        lam = lam2d[r]
        for k in range(kmax):
            b, s = edge_fit(lam, k + depth + 1, K, depth + 1, xi)
            if s > 0.0:
                out[r, k] = (lam[k] - b) / s
    return out
