"""Numba kernels of the Tracy-Widom laws (used by :mod:`bbpfit.laws.tracy_widom`).

Owns the evaluation of ``log F`` and ``log(1 - F)`` (and their derivatives) at any real point:
quintic Hermite interpolation of the shipped table on ``[s0, s_end]``, the left-tail asymptotic
series below it and the right-tail asymptotic series above it; the vectorised ``cdf/sf/logcdf/
logsf/pdf`` loop and the quantile solver (safeguarded Newton on the same interpolant).

A law is passed to the kernels as the tuple ``law = (cc, vv, par, lpw, lcf, rcf)``:

``cc``  (2, n - 1, 6) polynomial coefficients, per table cell, of ``log F`` (``cc[0]``) and
        ``log sf`` (``cc[1]``) in the cell variable ``t = (s - s_i) / h`` in [0, 1];
``vv``  (2, n) the node values of ``log F`` (increasing) and ``log sf`` (decreasing);
``par`` scalars, indexed by the ``P_*`` constants below;
``lpw, lcf`` powers and coefficients of the left series
        ``log F = c0 + clog log t + sum lcf_j t**lpw_j`` with ``t = -s``;
``rcf`` coefficients ``c_k`` of the right series
        ``log sf = log C - a z - b log z + log(sum c_k z**-k)``, ``z = (2/3) s**1.5``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# indices into ``par``
P_S0, P_H, P_SEND, P_SPLIT, P_LF_SPLIT = 0, 1, 2, 3, 4  # grid, split point, log F(split)
P_C0, P_CLOG, P_LOGC, P_A, P_B, P_C3 = 5, 6, 7, 8, 9, 10  # tail series (P_C3: -t^3 coef)
N_PAR = 11

# codes of the vectorised distribution kernel
CDF, SF, LOGCDF, LOGSF, PDF = 0, 1, 2, 3, 4

LEFT_BRACKET = -60.0  # log F(-60) < -9000 for both laws: below any float64 log-probability
RIGHT_BRACKET = 200.0  # log sf(200) < -1800 for both laws


@njit(cache=True)
def _horner(c0, c1, c2, c3, c4, c5, t):
    """Value and t-derivative of ``c0 + c1 t + ... + c5 t^5`` (scalars only: no array refcounts)."""
    v = c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * c5))))
    d = c1 + t * (2.0 * c2 + t * (3.0 * c3 + t * (4.0 * c4 + t * 5.0 * c5)))
    return v, d


@njit(cache=True)
def _left_series(s, par, lpw, lcf):
    """``log F`` and its derivative from the left-tail series (valid for s <= -6)."""
    t = -s
    v = par[P_C0] + par[P_CLOG] * math.log(t)
    dv = par[P_CLOG] / t
    for j in range(lpw.shape[0]):
        term = lcf[j] * t ** lpw[j]
        v += term
        dv += term * lpw[j] / t
    return v, -dv


@njit(cache=True)
def _right_series(s, par, rcf):
    """``log sf`` and its derivative from the right-tail series (valid for s >= 12)."""
    z = 2.0 / 3.0 * s * math.sqrt(s)
    zi = 1.0 / z
    ssum = 0.0
    dsum = 0.0  # d/dz of the sum
    p = 1.0
    for k in range(rcf.shape[0]):
        ssum += rcf[k] * p
        dsum -= k * rcf[k] * p * zi
        p *= zi
    a = par[P_A]
    b = par[P_B]
    v = par[P_LOGC] - a * z - b * math.log(z) + math.log(ssum)
    dz = -a - b * zi + dsum / ssum
    return v, dz * math.sqrt(s)


@njit(cache=True)
def log_branch(s, which, law):
    """``(log F, d/ds log F)`` if ``which == 0`` else ``(log sf, d/ds log sf)``; finite ``s``."""
    cc, vv, par, lpw, lcf, rcf = law
    s0 = par[P_S0]
    if s < s0:
        lf, dlf = _left_series(s, par, lpw, lcf)
        if which == 0:
            return lf, dlf
        f = math.exp(lf)
        return math.log1p(-f), -f * dlf / (1.0 - f)
    if s > par[P_SEND]:
        ls, dls = _right_series(s, par, rcf)
        if which == 1:
            return ls, dls
        q = math.exp(ls)
        return math.log1p(-q), -q * dls / (1.0 - q)
    hinv = 1.0 / par[P_H]
    u = (s - s0) * hinv
    i = min(int(u), cc.shape[1] - 1)
    w = which
    v, d = _horner(cc[w, i, 0], cc[w, i, 1], cc[w, i, 2], cc[w, i, 3], cc[w, i, 4], cc[w, i, 5], u - i)
    return v, d * hinv


@njit(cache=True)
def _finish(code, left, v, d):
    """The ``code`` output from ``(v, d)`` = log F or log sf (``left``) and its derivative.

    ``exp(v) <= 1/2`` on the chosen branch, so ``1 - exp(v)`` is as accurate as ``-expm1(v)``
    (and cheaper).
    """
    if code == LOGCDF or code == LOGSF:
        return v  # v is already the requested branch
    e = math.exp(v)
    if code == PDF:
        return e * d if left else -e * d
    if code == CDF:
        return e if left else 1.0 - e
    return 1.0 - e if left else e


@njit(cache=True)
def dist_scalar(s, code, law):
    """One of cdf, sf, logcdf, logsf, pdf (``code``) at any ``s``; NaN in, NaN out."""
    if s != s:
        return np.nan
    if math.isinf(s):
        up = s > 0.0
        if code == CDF:
            return 1.0 if up else 0.0
        if code == SF:
            return 0.0 if up else 1.0
        if code == LOGCDF:
            return 0.0 if up else -np.inf
        if code == LOGSF:
            return -np.inf if up else 0.0
        return 0.0
    left = s <= law[2][P_SPLIT] if code < LOGCDF or code == PDF else code == LOGCDF
    v, d = log_branch(s, 0 if left else 1, law)
    return _finish(code, left, v, d)


@njit(cache=True)
def dist_kernel(x, code, law):
    """cdf, sf, logcdf, logsf or pdf (``code``) over a 1-D array; NaN in, NaN out.

    The table's interior is evaluated inline (no calls that pass arrays: their reference
    counting would cost more than the interpolation); tails, NaN and infinities go through
    :func:`dist_scalar`.
    """
    cc = law[0]
    par = law[2]
    s0 = par[P_S0]
    s_end = par[P_SEND]
    split = par[P_SPLIT]
    hinv = 1.0 / par[P_H]
    last = cc.shape[1] - 1
    out = np.empty(x.shape[0])
    for k in range(x.shape[0]):
        s = x[k]
        if not s0 <= s <= s_end:
            out[k] = dist_scalar(s, code, law)
            continue
        left = s <= split if code < LOGCDF or code == PDF else code == LOGCDF
        w = 0 if left else 1
        u = (s - s0) * hinv
        i = min(int(u), last)
        v, d = _horner(cc[w, i, 0], cc[w, i, 1], cc[w, i, 2], cc[w, i, 3], cc[w, i, 4], cc[w, i, 5], u - i)
        out[k] = _finish(code, left, v, d * hinv)
    return out


@njit(cache=True)
def _cell(v, target):
    """Index ``j`` with ``target`` between ``v[j]`` and ``v[j + 1]`` (``v`` monotone)."""
    lo = 0
    hi = v.shape[0] - 1
    up = v[hi] > v[0]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if (v[mid] <= target) == up:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def _solve(target, which, law):
    """The ``s`` with ``log F(s) = target`` (``which == 0``) or ``log sf(s) = target``.

    Called with ``target <= log F(split)`` (resp. ``log sf(split)``), so only the left (resp.
    right) tail lies beyond the table.
    """
    vv = law[1]
    par = law[2]
    s0 = par[P_S0]
    h = par[P_H]
    v = vv[which]
    if which == 0 and target < v[0]:  # left tail: start from log F ~ -c3 t^3
        lo, hi = LEFT_BRACKET, s0
        s = -((-target / par[P_C3]) ** (1.0 / 3.0))
    elif which == 1 and target < v[v.shape[0] - 1]:  # right tail: log sf ~ -a z
        lo, hi = par[P_SEND], RIGHT_BRACKET
        s = (1.5 * (-target / par[P_A])) ** (2.0 / 3.0)
    else:
        j = _cell(v, target)
        lo, hi = s0 + j * h, s0 + (j + 1) * h
        s = lo + h * (target - v[j]) / (v[j + 1] - v[j])
        lo -= h  # generous bracket: the interpolant may cross a node by rounding
        hi += h
    return _newton(target, which, law, lo, hi, s)


@njit(cache=True)
def _newton(target, which, law, lo, hi, s):
    """Safeguarded Newton for the monotone ``log_branch(., which) = target`` on ``[lo, hi]``."""
    sign = 1.0 if which == 0 else -1.0  # make the function increasing
    cc = law[0]
    par = law[2]
    s0 = par[P_S0]
    s_end = par[P_SEND]
    hinv = 1.0 / par[P_H]
    last = cc.shape[1] - 1
    w = which
    if not lo < s < hi:
        s = 0.5 * (lo + hi)
    for _ in range(200):
        if s0 <= s <= s_end:  # inline, as in dist_kernel
            u = (s - s0) * hinv
            i = min(int(u), last)
            v, d = _horner(
                cc[w, i, 0], cc[w, i, 1], cc[w, i, 2], cc[w, i, 3], cc[w, i, 4], cc[w, i, 5], u - i
            )
            d *= hinv
        else:
            v, d = log_branch(s, which, law)
        g = sign * (v - target)
        if g == 0.0:
            return s
        if g > 0.0:
            hi = s
        else:
            lo = s
        dg = sign * d
        step = g / dg if dg > 0.0 else np.inf
        s_new = s - step
        if not lo < s_new < hi:
            s_new = 0.5 * (lo + hi)
        if abs(s_new - s) <= 1e-15 * (1.0 + abs(s)) or hi - lo <= 1e-15 * (1.0 + abs(s)):
            return s_new
        s = s_new
    return s


@njit(cache=True)
def ppf_scalar(q, upper, law):
    """Quantile at probability ``q`` (``upper``: of the upper tail, i.e. ``isf``); NaN outside [0, 1]."""
    if not 0.0 <= q <= 1.0:
        return np.nan
    if q == 0.0:
        return np.inf if upper else -np.inf
    if q == 1.0:
        return -np.inf if upper else np.inf
    # solve on whichever of log F, log sf is the small side, with the probability kept exact
    log_q = math.log(q)
    log_c = math.log1p(-q)
    par = law[2]
    if upper:
        log_q, log_c = log_c, log_q  # now: log F target, log sf target
    if log_q <= par[P_LF_SPLIT]:
        return _solve(log_q, 0, law)
    return _solve(log_c, 1, law)


@njit(cache=True)
def ppf_kernel(q, upper, law):
    """Vectorised :func:`ppf_scalar` over a 1-D array."""
    out = np.empty(q.shape[0])
    for k in range(q.shape[0]):
        out[k] = ppf_scalar(q[k], upper, law)
    return out
