"""Plain-Python twins of the scalar Tracy-Widom kernels, for the few-value calls of the default paths.

Owns :func:`dist_scalar` and :func:`ppf_scalar`: the same arithmetic as
:func:`bbpfit.laws._tw_kernels.dist_scalar` and :func:`~bbpfit.laws._tw_kernels.ppf_scalar`
(table interpolation, tail series, safeguarded Newton), written with :mod:`math` on Python floats.
``transition_time`` and ``bbpfit check`` evaluate the TW1 law at a handful of points per call
(a median, a 99% point, a level, far-tail p-values: 528 ``sf`` and 1-3 quantiles in a
``transition_time`` call on the digits MLP store); the Numba kernels cost 2.5-3 s of CPU to compile
in a fresh environment for that, these nothing (``sf`` 1-9 us a value, a quantile about 25 us,
against 1 and 7 us for the compiled kernels: 1.4 ms a call in all). Arrays of more than
:data:`SMALL` values still go to the Numba kernels (:mod:`bbpfit.laws.tracy_widom`). The tests
check that both agree to 1e-13 (relative) everywhere.

The law is the kernels' tuple converted once to nested lists (:func:`as_lists`): indexing numpy
arrays one element at a time from Python costs more than the arithmetic.
"""

from __future__ import annotations

import math

from ._tw_kernels import (
    CDF,
    LEFT_BRACKET,
    LOGCDF,
    LOGSF,
    P_A,
    P_B,
    P_C0,
    P_C3,
    P_CLOG,
    P_H,
    P_LF_SPLIT,
    P_LOGC,
    P_S0,
    P_SEND,
    P_SPLIT,
    PDF,
    RIGHT_BRACKET,
    SF,
)

#: Arrays up to this many values are evaluated here; larger ones by the Numba kernels.
SMALL = 16


def as_lists(law: tuple) -> tuple:
    """The kernels' law tuple ``(cc, vv, par, lpw, lcf, rcf)`` as nested Python lists of floats."""
    return tuple(a.tolist() for a in law)


def _left_series(s, par, lpw, lcf):
    t = -s
    v = par[P_C0] + par[P_CLOG] * math.log(t)
    dv = par[P_CLOG] / t
    for p, c in zip(lpw, lcf, strict=True):
        term = c * t ** p
        v += term
        dv += term * p / t
    return v, -dv


def _right_series(s, par, rcf):
    z = 2.0 / 3.0 * s * math.sqrt(s)
    zi = 1.0 / z
    ssum = 0.0
    dsum = 0.0
    p = 1.0
    for k, c in enumerate(rcf):
        ssum += c * p
        dsum -= k * c * p * zi
        p *= zi
    a = par[P_A]
    b = par[P_B]
    v = par[P_LOGC] - a * z - b * math.log(z) + math.log(ssum)
    dz = -a - b * zi + dsum / ssum
    return v, dz * math.sqrt(s)


def _interior(cells, s, s0, hinv):
    u = (s - s0) * hinv
    i = min(int(u), len(cells) - 1)
    c0, c1, c2, c3, c4, c5 = cells[i]
    t = u - i
    v = c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * c5))))
    d = c1 + t * (2.0 * c2 + t * (3.0 * c3 + t * (4.0 * c4 + t * 5.0 * c5)))
    return v, d * hinv


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
    return _interior(cc[which], s, s0, 1.0 / par[P_H])


def _finish(code, left, v, d):
    if code == LOGCDF or code == LOGSF:
        return v
    e = math.exp(v)
    if code == PDF:
        return e * d if left else -e * d
    if code == CDF:
        return e if left else 1.0 - e
    return 1.0 - e if left else e


def dist_scalar(s, code, law):
    """One of cdf, sf, logcdf, logsf, pdf (``code``) at a float ``s``; NaN in, NaN out."""
    if s != s:
        return math.nan
    if math.isinf(s):
        up = s > 0.0
        if code == CDF:
            return 1.0 if up else 0.0
        if code == SF:
            return 0.0 if up else 1.0
        if code == LOGCDF:
            return 0.0 if up else -math.inf
        if code == LOGSF:
            return -math.inf if up else 0.0
        return 0.0
    left = s <= law[2][P_SPLIT] if code < LOGCDF or code == PDF else code == LOGCDF
    v, d = log_branch(s, 0 if left else 1, law)
    return _finish(code, left, v, d)


def _cell(v, target):
    lo = 0
    hi = len(v) - 1
    up = v[hi] > v[0]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if (v[mid] <= target) == up:
            lo = mid
        else:
            hi = mid
    return lo


def _solve(target, which, law):
    vv = law[1]
    par = law[2]
    s0 = par[P_S0]
    h = par[P_H]
    v = vv[which]
    if which == 0 and target < v[0]:
        lo, hi = LEFT_BRACKET, s0
        s = -((-target / par[P_C3]) ** (1.0 / 3.0))
    elif which == 1 and target < v[-1]:
        lo, hi = par[P_SEND], RIGHT_BRACKET
        s = (1.5 * (-target / par[P_A])) ** (2.0 / 3.0)
    else:
        j = _cell(v, target)
        lo, hi = s0 + j * h, s0 + (j + 1) * h
        s = lo + h * (target - v[j]) / (v[j + 1] - v[j])
        lo -= h
        hi += h
    return _newton(target, which, law, lo, hi, s)


def _newton(target, which, law, lo, hi, s):
    sign = 1.0 if which == 0 else -1.0
    if not lo < s < hi:
        s = 0.5 * (lo + hi)
    for _ in range(200):
        v, d = log_branch(s, which, law)
        g = sign * (v - target)
        if g == 0.0:
            return s
        if g > 0.0:
            hi = s
        else:
            lo = s
        dg = sign * d
        step = g / dg if dg > 0.0 else math.inf
        s_new = s - step
        if not lo < s_new < hi:
            s_new = 0.5 * (lo + hi)
        if abs(s_new - s) <= 1e-15 * (1.0 + abs(s)) or hi - lo <= 1e-15 * (1.0 + abs(s)):
            return s_new
        s = s_new
    return s


def ppf_scalar(q, upper, law):
    """Quantile at probability ``q`` (``upper``: ``isf``); NaN outside [0, 1]."""
    if not 0.0 <= q <= 1.0:
        return math.nan
    if q == 0.0:
        return math.inf if upper else -math.inf
    if q == 1.0:
        return -math.inf if upper else math.inf
    log_q = math.log(q)
    log_c = math.log1p(-q)
    if upper:
        log_q, log_c = log_c, log_q
    if log_q <= law[2][P_LF_SPLIT]:
        return _solve(log_q, 0, law)
    return _solve(log_c, 1, law)
