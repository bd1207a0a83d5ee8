"""The empirical D-transform of a bulk, smoothed at its edge: BBP threshold and strengths.

Owns the Numba kernels behind ``theta_c`` and ``theta-hat`` for a bulk that need not be
Marchenko-Pastur. For the bulk eigenvalues ``l_j`` (``s_j^2 / n``, spikes removed) and
``z^2 >= b`` (the bulk edge),

* ``phi(z) = (1 / (m - r)) sum_j z / (z^2 - l_j)``,
* ``phibar(z) = (1 / (n - r)) [sum_j z / (z^2 - l_j) + (n - m) / z]``,
* ``D(z) = phi(z) phibar(z)``; a spike of strength ``theta`` (in the units of ``sqrt(l)``) has an
  outlier iff ``theta > theta_c = D(sqrt(b))^(-1/2)``, and an outlier at ``z`` has
  ``theta-hat = D(z)^(-1/2)`` (Benaych-Georges & Nadakuditi 2012; OptShrink, Nadakuditi 2014).

``D`` is singular at the top bulk eigenvalue, so the top of the bulk is replaced by its soft-edge
model (:mod:`bbpfit.transition.edge`): the ``N`` eigenvalues above ``b - U`` with
``U = s (3 pi K / 2)^(2/3)`` become the density ``(3 N / 2) sqrt(b - x) / U^(3/2)`` on
``[b - U, b]``, whose contribution is closed-form. Away from the edge this agrees with
:func:`bbpfit.inference.optshrink_strengths` (the raw empirical transform); at the edge it is
finite and stable. For Marchenko-Pastur noise ``theta_c`` is ``sigma (m / n)^(1/4)``.

References
----------
F. Benaych-Georges and R. R. Nadakuditi, "The singular values and vectors of low rank
perturbations of large rectangular random matrices", J. Multivariate Anal. 111:120-135 (2012).
doi:10.1016/j.jmva.2012.04.019

R. R. Nadakuditi, "OptShrink: an algorithm for improved low-rank signal matrix denoising by
optimal, data-driven singular value shrinkage", IEEE Trans. Inf. Theory 60(5):3002-3018 (2014).
doi:10.1109/TIT.2014.2311661
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .edge import edge_fit

__all__ = ["d_transform_strengths"]

_AIRY_MASS = (3.0 * math.pi / 2.0) ** (2.0 / 3.0)


@njit(cache=True)
def _theta(z2, lam, start, cut, n_top, b, U, n, m):
    """``D(z)^(-1/2)`` at ``z^2 = z2 >= b`` for the bulk ``lam[start:]`` smoothed above ``cut``."""
    z = math.sqrt(z2)
    acc = 0.0
    for j in range(start, lam.shape[0]):
        if lam[j] < cut:
            acc += z / (z2 - lam[j])
    d = z2 - b
    if d <= 0.0:
        integral = 2.0 * math.sqrt(U)
    else:
        integral = 2.0 * math.sqrt(U) - 2.0 * math.sqrt(d) * math.atan(math.sqrt(U / d))
    acc += n_top * 1.5 / U**1.5 * z * integral
    phi = acc / (m - start)
    phibar = (acc + (n - m) / z) / (n - start)
    dd = phi * phibar
    return 1.0 / math.sqrt(dd) if dd > 0.0 else math.nan


@njit(cache=True)
def bulk_threshold(lam: np.ndarray, n: float, start: int, K: int, xi: np.ndarray):
    """``(b, s, theta_c, cut, n_top, U)`` of the bulk ``lam[start:]`` (descending spectrum)."""
    m = lam.shape[0]
    b, s = edge_fit(lam, start, K, 0, xi)
    if not s > 0.0:
        return math.nan, math.nan, math.nan, math.nan, 0, math.nan
    U = s * _AIRY_MASS * K ** (2.0 / 3.0)
    cut = b - U
    # typed int64 from the start: a literal 0 here makes Numba compile `_theta` a second time
    # (for Literal[int](0)) in a fresh environment
    n_top = np.int64(0)
    for j in range(start, m):
        if lam[j] >= cut:
            n_top += 1
    tc = _theta(b, lam, start, cut, n_top, b, U, n, m)
    return b, s, tc, cut, n_top, U


@njit(cache=True)
def d_transform_strengths(lam2d: np.ndarray, n: float, n_spikes: np.ndarray, K: int,
                          xi: np.ndarray, crit: np.ndarray):
    """Edge, scale, threshold and strengths per row of descending spectra.

    For each row the bulk starts at ``n_spikes[row]``; ``edge``, ``scale`` and ``theta_c``
    (rows,) describe it. Each rank ``k < R = crit.shape[1]`` gets its strength
    ``theta_hat[row, k]``, its threshold ``theta_ck[row, k]`` and the strength
    ``theta_crit[row, k]`` that an eigenvalue at ``crit[row, k]`` would have, all from the bulk
    that starts at ``max(n_spikes, k + 1)`` (a rank is never part of its own bulk). An
    eigenvalue at or below the fitted edge gets the threshold itself (censored).
    """
    rows, m = lam2d.shape
    R = crit.shape[1]
    # np.empty and NaN written in the loop: np.full's two overloads cost a tenth of a second of
    # compilation in a fresh environment (every entry of edge/scale/theta_c is assigned below)
    edge = np.empty(rows)
    scale = np.empty(rows)
    theta_c = np.empty(rows)
    theta_hat = np.empty((rows, R))
    theta_ck = np.empty((rows, R))
    theta_crit = np.empty((rows, R))
    for r in range(rows):
        for k in range(R):
            theta_hat[r, k] = math.nan
            theta_ck[r, k] = math.nan
            theta_crit[r, k] = math.nan
        lam = lam2d[r]
        r0 = n_spikes[r]
        b, s, tc, cut, n_top, U = bulk_threshold(lam, n, r0, K, xi)
        edge[r], scale[r], theta_c[r] = b, s, tc
        for k in range(R):
            st = max(r0, k + 1)
            if st != r0:
                b, s, tc, cut, n_top, U = bulk_threshold(lam, n, st, K, xi)
                r0 = st
            if not s > 0.0:
                continue
            theta_ck[r, k] = tc
            z2 = lam[k]
            theta_hat[r, k] = _theta(z2, lam, st, cut, n_top, b, U, n, m) if z2 > b else tc
            z2 = crit[r, k]
            if math.isfinite(z2):
                theta_crit[r, k] = _theta(z2, lam, st, cut, n_top, b, U, n, m) if z2 > b else tc
    return edge, scale, theta_c, theta_hat, theta_ck, theta_crit
