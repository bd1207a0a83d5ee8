"""Numba kernels of the power-law tail fit: the x_min scan and the two bootstrap loops.

Owns the compiled loops behind :func:`bbpfit.fit.fit_powerlaw`. Every kernel works on data sorted
ascending, positive, with their logarithms precomputed. The random numbers come from the caller's
``numpy.random.Generator`` (passed in as arrays), so ``rng`` alone decides every result.

The x_min rule is that of Clauset, Shalizi & Newman (2009) as implemented by the ``powerlaw``
package 2.0 (Alstott et al. 2014): candidates are the distinct values except the largest; for each,
``alpha = 1 + n / sum(log(x / x_min))`` over the ``n`` points ``>= x_min`` and the distance is
``D = max_t |F(x_(t)) - t / n|`` over the distinct tail values (``t`` = number of tail points
below ``x_(t)``, ``F(x) = 1 - (x / x_min)^(1 - alpha)``); the candidate with the smallest ``D``
wins (the first one on ties).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def tail_ks(logx, i, alpha, bound):  # pragma: no cover - compiled
    """KS distance of the tail ``logx[i:]`` to the power law with ``x_min = exp(logx[i])``.

    Stops early and returns a value above ``bound`` as soon as the distance exceeds it
    (:func:`tail_ks_probed` without a probe: one loop for both).
    """
    return tail_ks_probed(logx, i, alpha, bound, -1)[0]


@njit(cache=True)
def tail_ks_probed(logx, i, alpha, bound, probe):  # pragma: no cover - compiled
    """:func:`tail_ks`, trying first the point ``probe``; ``(distance, index where it exceeded
    bound or -1)``.

    ``probe`` is where the previous candidate of a scan exceeded the bound (a distinct-value
    index ``> i``, else ignored). Neighbouring candidates tend to exceed it at the same point, so
    one evaluation there usually settles a rejection: if that point alone is above ``bound``,
    the whole distance is too, and :func:`tail_ks` would also have returned a value above it.
    Otherwise the tail is scanned as :func:`tail_ks` does and the same distance is returned.
    """
    nn = logx.shape[0]
    n = nn - i
    l0 = logx[i]
    if i < probe < nn:
        diff = abs(-math.expm1((1.0 - alpha) * (logx[probe] - l0)) - (probe - i) / n)
        if diff > bound:
            return diff, probe
    d = 0.0
    for j in range(i, nn):
        if j > i and logx[j] == logx[j - 1]:
            continue
        f = -math.expm1((1.0 - alpha) * (logx[j] - l0))
        diff = abs(f - (j - i) / n)
        if diff > d:
            d = diff
            if d > bound:
                return d, j
    return d, -1


@njit(cache=True)
def scan_xmin(logx):  # pragma: no cover - compiled
    """``(index of x_min, alpha, D)`` of the KS-minimising candidate; ``(-1, nan, nan)`` if none.

    ``logx``: logs of the data, ascending. A first pass over about ``sqrt(N)`` evenly spaced
    candidates gives a distance that the minimum cannot exceed; the full pass then abandons a
    candidate as soon as its distance is above the best so far, so only the winner's ``D`` is
    computed in full, and tries each candidate first where the previous one was abandoned
    (:func:`tail_ks_probed`: one point usually suffices). The result is that of the exhaustive
    scan: a candidate is abandoned only when its distance is above ``min(bound, best)``, which
    the minimum never is, so the winner and its ``D`` (computed in full) are unchanged; only
    abandoned candidates' partial distances differ, and those never win.
    """
    nn = logx.shape[0]
    suffix = np.empty(nn + 1)
    suffix[nn] = 0.0
    for j in range(nn - 1, -1, -1):
        suffix[j] = suffix[j + 1] + logx[j]
    last = logx[nn - 1]
    bound = np.inf
    stride = max(1, int(math.sqrt(nn)))
    for i in range(0, nn, stride):
        if logx[i] == last:
            break
        if i > 0 and logx[i] == logx[i - 1]:
            continue  # not a candidate: its tail would leave out copies of its own value
        n = nn - i
        s = suffix[i] - n * logx[i]
        if s > 0.0:
            bound = min(bound, tail_ks(logx, i, 1.0 + n / s, bound))
    best_i, best_a, best_d = -1, np.nan, np.inf
    probe = -1
    for i in range(nn):
        if logx[i] == last:
            break  # the largest distinct value is not a candidate
        if i > 0 and logx[i] == logx[i - 1]:
            continue  # one candidate per distinct value (its first occurrence)
        n = nn - i
        s = suffix[i] - n * logx[i]
        if not s > 0.0:
            continue
        alpha = 1.0 + n / s
        d, at = tail_ks_probed(logx, i, alpha, min(bound, best_d), probe)
        if at >= 0:
            probe = at
        if d < best_d:
            best_i, best_a, best_d = i, alpha, d
    return best_i, best_a, best_d


@njit(cache=True)
def bootstrap_alpha(logx, idx):  # pragma: no cover - compiled
    """Refit (x_min search included) each nonparametric resample ``logx[idx[b]]``; its alpha."""
    b_count, nn = idx.shape
    out = np.empty(b_count)
    buf = np.empty(nn)
    for b in range(b_count):
        for j in range(nn):
            buf[j] = logx[idx[b, j]]
        buf.sort()
        out[b] = scan_xmin(buf)[1]
    return out


@njit(cache=True)
def gof_distances(logx, i_min, alpha, u_pick, u_draw, idx_body):  # pragma: no cover - compiled
    """KS distances of semiparametric bootstrap samples, each refitted with the x_min search.

    Sample ``b``: point ``j`` comes from the fitted power law above ``x_min`` when
    ``u_pick[b, j] < n_tail / N`` (drawn as ``x_min (1 - u)^(-1 / (alpha - 1))`` from
    ``u_draw[b, j]``), otherwise it is the body point ``logx[idx_body[b, j]]`` (``idx_body`` drawn
    uniformly from ``0 .. i_min - 1``, the points below x_min) [Clauset et al. 2009, sec. 4.1].
    """
    b_count, nn = u_pick.shape
    p_tail = (nn - i_min) / nn
    l0 = logx[i_min]
    out = np.empty(b_count)
    buf = np.empty(nn)
    for b in range(b_count):
        for j in range(nn):
            if i_min == 0 or u_pick[b, j] < p_tail:
                buf[j] = l0 - math.log1p(-u_draw[b, j]) / (alpha - 1.0)
            else:
                buf[j] = logx[idx_body[b, j]]
        buf.sort()
        out[b] = scan_xmin(buf)[2]
    return out
