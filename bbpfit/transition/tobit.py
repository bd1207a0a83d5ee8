"""Censored (Tobit) regression with known relative scales: the kernel of the growth-law fit.

Owns :func:`tobit_fit`, the maximum-likelihood fit of ``y_i = x_i . beta + kappa s_i e_i``
(``e_i`` standard normal, ``s_i > 0`` known, ``kappa`` unknown) where ``y_i`` is only observed
when ``y_i >= c_i`` and is otherwise known to lie below ``c_i`` (left censoring at a per-row
point). In Olsen's (1978) parameters ``gamma = beta / kappa`` and ``h = 1 / kappa`` the
log-likelihood

``sum_obs [log h - log s_i - (h y_i - x_i . gamma)^2 / (2 s_i^2)]``
``+ sum_cens log Phi((h c_i - x_i . gamma) / s_i)``

is concave, so Newton's method with step halving finds the maximum from a least-squares start.
A Numba kernel: the bootstrap of :mod:`bbpfit.transition.growth` calls it thousands of times.

References
----------
R. J. Olsen, "Note on the uniqueness of the maximum likelihood estimator for the Tobit model",
Econometrica 46(5):1211-1215 (1978). doi:10.2307/1911445
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["tobit_fit"]

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


_CF_SWITCH = -5.0  # below: Laplace's continued fraction; above: erfc (relative error < 1e-15 there)
_CF_TERMS = 40  # enough for double precision at |d| >= 5 (checked against mpmath in the tests)


@njit(cache=True)
def _tail_ratio(x: float) -> float:
    """``(1 - Phi(x)) / phi(x)`` for ``x >= 5`` by Laplace's continued fraction.

    ``R(x) = 1 / (x + 1 / (x + 2 / (x + 3 / (x + ...))))``, evaluated backwards with a fixed
    number of terms (Abramowitz & Stegun 26.2.14).
    """
    v = x
    for k in range(_CF_TERMS, 0, -1):
        v = x + k / v
    return 1.0 / v


@njit(cache=True)
def _log_ndtr(d: float) -> float:
    """``log Phi(d)``, relatively accurate for every ``d`` (as ``scipy.special.log_ndtr``)."""
    if d > 0.0:
        return math.log1p(-0.5 * math.erfc(d / _SQRT2))
    if d > _CF_SWITCH:
        return math.log(0.5 * math.erfc(-d / _SQRT2))
    # Phi(d) = phi(d) R(-d): no underflow however negative d is
    return -0.5 * d * d - _LOG_SQRT_2PI + math.log(_tail_ratio(-d))


@njit(cache=True)
def _mills(d: float) -> float:
    """``phi(d) / Phi(d)`` (the inverse Mills ratio), relatively accurate for every ``d``."""
    if d > _CF_SWITCH:
        return math.exp(-0.5 * d * d - _LOG_SQRT_2PI) / (0.5 * math.erfc(-d / _SQRT2))
    return 1.0 / _tail_ratio(-d)


@njit(cache=True)
def _loglik(X, y, c, s, obs, g, h):
    ll = 0.0
    p = X.shape[1]
    for i in range(X.shape[0]):
        xg = 0.0
        for j in range(p):
            xg += X[i, j] * g[j]
        if obs[i]:
            e = (h * y[i] - xg) / s[i]
            ll += math.log(h) - math.log(s[i]) - 0.5 * e * e - _LOG_SQRT_2PI
        else:
            ll += _log_ndtr((h * c[i] - xg) / s[i])
    return ll


@njit(cache=True)
def _solve(A, b):
    """``A x = b`` for a small square ``A`` by Gaussian elimination with partial pivoting.

    What ``np.linalg.solve`` (LAPACK ``gesv``) does, written out: Numba's ``np.linalg.solve``
    costs seconds of compilation (most of it its error-message formatting), this a fraction.
    Raises ``np.linalg.LinAlgError`` on an exactly zero pivot, as ``gesv`` does, and on a
    non-finite entry, as Numba's ``np.linalg.solve`` does. ``A`` and ``b`` are not modified.
    """
    n = b.shape[0]
    M = A.copy()
    x = b.copy()
    ok = True
    for i in range(n):
        ok = ok and math.isfinite(x[i])
        for j in range(n):
            ok = ok and math.isfinite(M[i, j])
    for col in range(n):
        if not ok:
            break
        piv = col
        for r in range(col + 1, n):
            if abs(M[r, col]) > abs(M[piv, col]):
                piv = r
        if M[piv, col] == 0.0:
            ok = False
            break
        for j in range(n):
            M[col, j], M[piv, j] = M[piv, j], M[col, j]
        x[col], x[piv] = x[piv], x[col]
        for r in range(col + 1, n):
            f = M[r, col] / M[col, col]
            for j in range(col, n):
                M[r, j] -= f * M[col, j]
            x[r] -= f * x[col]
    if not ok:
        raise np.linalg.LinAlgError("singular or non-finite matrix")
    for col in range(n - 1, -1, -1):
        v = x[col]
        for j in range(col + 1, n):
            v -= M[col, j] * x[j]
        x[col] = v / M[col, col]
    return x


@njit(cache=True)
def tobit_fit(X, y, c, s, obs, max_iter=60):
    """Maximum-likelihood ``(beta, kappa, loglik, ok)`` of the left-censored regression.

    Parameters
    ----------
    X : (N, p) design; y : (N,) responses (used where ``obs``); c : (N,) censoring points
    (used where not ``obs``); s : (N,) relative scales > 0; obs : (N,) bool.

    ``ok`` is False when fewer than ``p + 1`` rows are observed or Newton fails to converge.
    """
    N, p = X.shape
    n_obs = 0
    for i in range(N):
        if obs[i]:
            n_obs += 1
    # np.empty and explicit zeros: np.zeros's overloads cost Numba more compilation than loops
    A = np.empty((p, p))
    rhs = np.empty(p)
    for j in range(p):
        rhs[j] = 0.0
        for k in range(p):
            A[j, k] = 0.0
    if n_obs < p + 1:
        return rhs, math.nan, -math.inf, False
    # weighted least squares on the observed rows for the start
    for i in range(N):
        if obs[i]:
            w = 1.0 / (s[i] * s[i])
            for j in range(p):
                rhs[j] += w * X[i, j] * y[i]
                for k in range(p):
                    A[j, k] += w * X[i, j] * X[i, k]
    beta = _solve(A, rhs)
    rss = 0.0
    for i in range(N):
        if obs[i]:
            e = y[i]
            for j in range(p):
                e -= X[i, j] * beta[j]
            rss += (e / s[i]) ** 2
    kappa = math.sqrt(max(rss / max(n_obs - p, 1), 1e-12))
    h = 1.0 / kappa
    g = beta * h
    ll = _loglik(X, y, c, s, obs, g, h)
    grad = np.empty(p + 1)
    H = np.empty((p + 1, p + 1))
    for _ in range(max_iter):
        for j in range(p + 1):
            grad[j] = 0.0
            for k in range(p + 1):
                H[j, k] = 0.0
        for i in range(N):
            xg = 0.0
            for j in range(p):
                xg += X[i, j] * g[j]
            si = s[i]
            if obs[i]:
                z = y[i] / si
                e = h * z - xg / si
                for j in range(p):
                    wj = X[i, j] / si
                    grad[j] += e * wj
                    H[j, p] += wj * z
                    for k in range(p):
                        H[j, k] -= wj * X[i, k] / si
                grad[p] += 1.0 / h - e * z
                H[p, p] -= 1.0 / (h * h) + z * z
            else:
                ct = c[i] / si
                d = h * ct - xg / si
                lam = _mills(d)
                curv = lam * (d + lam)
                for j in range(p):
                    wj = X[i, j] / si
                    grad[j] -= lam * wj
                    H[j, p] += curv * wj * ct
                    for k in range(p):
                        H[j, k] -= curv * wj * X[i, k] / si
                grad[p] += lam * ct
                H[p, p] -= curv * ct * ct
        for j in range(p):
            H[p, j] = H[j, p]
        step = _solve(H, -grad)
        t = 1.0
        done = False
        for _ in range(40):
            g_new = g + t * step[:p]
            h_new = h + t * step[p]
            if h_new > 0.0:
                ll_new = _loglik(X, y, c, s, obs, g_new, h_new)
                if ll_new >= ll - 1e-12:
                    done = abs(ll_new - ll) < 1e-10 * (1.0 + abs(ll))
                    g, h, ll = g_new, h_new, ll_new
                    break
            t *= 0.5
        else:
            break
        if done:
            return g / h, 1.0 / h, ll, True
    return g / h, 1.0 / h, ll, math.isfinite(ll)
