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

Speed without changing a bit of the result (the ``analyze`` table refits 300 samples per layer):
the scan abandons a candidate as soon as its distance exceeds a bound, visits each candidate's
tail from where the previous one was abandoned, and a bootstrap refit is bounded first by the
original sample's x_min (:func:`scan_xmin_hinted`); resamples are assembled by counting indices
instead of sorting values. ``tests/test_powerlaw_scan.py`` checks every kernel against an
exhaustive scan of numpy-sorted samples.
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
    """:func:`tail_ks`, starting at the point ``probe``; ``(distance, index where it exceeded
    bound or -1)``.

    ``probe`` is where the previous candidate of a scan exceeded the bound (a distinct-value
    index ``> i``, else ignored). Neighbouring candidates tend to exceed it at the same point or
    a few points above it, so the tail is visited from ``probe`` up to its end and then from
    ``i`` up to ``probe``: a rejection is usually settled in a step or two. The distance is the
    maximum over the same points in any order, so when it does not exceed ``bound`` it is the
    one :func:`tail_ks` returns, and when it does, :func:`tail_ks` would also have returned a
    value above ``bound``.
    """
    nn = logx.shape[0]
    n = nn - i
    l0 = logx[i]
    start = probe if i < probe < nn else i
    d = 0.0
    for k in range(nn - i):
        j = start + k if start + k < nn else i + (start + k - nn)
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

    :func:`scan_xmin_hinted` without a hint.
    """
    return scan_xmin_hinted(logx, -1)


@njit(cache=True)
def scan_xmin_hinted(logx, hint):  # pragma: no cover - compiled
    """:func:`scan_xmin`, bounded first by the candidate at (or just below) index ``hint``.

    ``hint`` is where the minimum is expected (a bootstrap refit: the original sample's x_min
    index); -1 or an index that is no candidate gives no first bound. The hinted candidate's
    distance is a distance of a candidate, so it bounds the minimum like the first pass's do
    and the result is the same whatever the hint; a good hint only makes the bound tight early.

    ``logx``: logs of the data, ascending. Without a usable hint, a first pass over about
    ``sqrt(N)`` evenly spaced candidates gives a distance that the minimum cannot exceed; the
    full pass then abandons a candidate as soon as its distance is above the best so far, so
    only the winner's ``D`` is computed in full, and tries each candidate first where the
    previous one was abandoned (:func:`tail_ks_probed`: one point usually suffices). The
    result is that of the exhaustive scan: a candidate is abandoned only when its distance is
    above ``min(bound, best)``, which the minimum never is, so the winner and its ``D``
    (computed in full) are unchanged; only abandoned candidates' partial distances differ, and
    those never win. The full pass goes down from the largest candidate: tails there are
    short, so the candidates that improve on the best (each computed in full) cost little, and
    the best is tight before the long tails come; a candidate equal to the best replaces it,
    so on ties the lowest one wins, as in an upward scan.
    """
    nn = logx.shape[0]
    suffix = np.empty(nn + 1)
    suffix[nn] = 0.0
    for j in range(nn - 1, -1, -1):
        suffix[j] = suffix[j + 1] + logx[j]
    last = logx[nn - 1]
    bound = np.inf
    if 0 <= hint < nn:
        h = hint
        while h > 0 and logx[h] == logx[h - 1]:
            h -= 1  # the candidate of this value is its first occurrence
        n = nn - h
        s = suffix[h] - n * logx[h]
        if logx[h] != last and s > 0.0:
            bound = tail_ks(logx, h, 1.0 + n / s, bound)
    stride = max(1, int(math.sqrt(nn)))
    probe = -1
    for i in range(0, nn if bound == np.inf else 0, stride):  # no hint: a first bound
        if logx[i] == last:
            break
        if i > 0 and logx[i] == logx[i - 1]:
            continue  # not a candidate: its tail would leave out copies of its own value
        n = nn - i
        s = suffix[i] - n * logx[i]
        if s > 0.0:
            d, at = tail_ks_probed(logx, i, 1.0 + n / s, bound, probe)
            bound = min(bound, d)
            if at >= 0:
                probe = at
    best_i, best_a, best_d = -1, np.nan, np.inf
    for i in range(nn - 1, -1, -1):
        if logx[i] == last:
            continue  # the largest distinct value is not a candidate
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
        if d <= best_d:  # downwards: on ties the lower candidate, the first one, wins
            best_i, best_a, best_d = i, alpha, d
    return best_i, best_a, best_d


@njit(cache=True)
def sorted_resample(logx, idx_row, buf, counts):  # pragma: no cover - compiled
    """Fill ``buf[:k]`` with ``logx[idx_row]`` sorted (``logx`` ascending), by counting the
    indices: the same values as sorting them, in O(len(logx)); returns ``k``."""
    counts[:] = 0
    for j in range(idx_row.shape[0]):
        counts[idx_row[j]] += 1
    k = 0
    for v in range(counts.shape[0]):
        for _ in range(counts[v]):
            buf[k] = logx[v]
            k += 1
    return k


@njit(cache=True)
def bootstrap_alpha(logx, idx, hint=-1):  # pragma: no cover - compiled
    """Refit (x_min search included) each nonparametric resample ``logx[idx[b]]``; its alpha.

    ``hint``: the x_min index of ``logx`` (:func:`scan_xmin_hinted`; the result does not depend
    on it).
    """
    b_count, nn = idx.shape
    out = np.empty(b_count)
    buf = np.empty(nn)
    counts = np.empty(logx.shape[0], np.int64)
    for b in range(b_count):
        sorted_resample(logx, idx[b], buf, counts)
        out[b] = scan_xmin_hinted(buf, hint)[1]
    return out


@njit(cache=True)
def gof_distances(logx, i_min, alpha, u_pick, u_draw, idx_body):  # pragma: no cover - compiled
    """KS distances of semiparametric bootstrap samples, each refitted with the x_min search.

    Sample ``b``: point ``j`` comes from the fitted power law above ``x_min`` when
    ``u_pick[b, j] < n_tail / N`` (drawn as ``x_min (1 - u)^(-1 / (alpha - 1))`` from
    ``u_draw[b, j]``), otherwise it is the body point ``logx[idx_body[b, j]]`` (``idx_body`` drawn
    uniformly from ``0 .. i_min - 1``, the points below x_min) [Clauset et al. 2009, sec. 4.1].

    The sorted sample is assembled without a full sort: the body points (all ``<= x_min``) by
    counting their indices, then the tail draws (all ``>= x_min``) sorted among themselves; the
    same array as sorting the whole sample.
    """
    b_count, nn = u_pick.shape
    p_tail = (nn - i_min) / nn
    l0 = logx[i_min]
    out = np.empty(b_count)
    buf = np.empty(nn)
    body = np.empty(nn, np.int64)
    counts = np.empty(i_min, np.int64)
    for b in range(b_count):
        n_body = 0
        n_tail = 0
        for j in range(nn):
            if i_min == 0 or u_pick[b, j] < p_tail:
                buf[nn - 1 - n_tail] = l0 - math.log1p(-u_draw[b, j]) / (alpha - 1.0)
                n_tail += 1
            else:
                body[n_body] = idx_body[b, j]
                n_body += 1
        sorted_resample(logx[:i_min], body[:n_body], buf, counts)
        buf[n_body:] = np.sort(buf[n_body:])
        out[b] = scan_xmin_hinted(buf, i_min)[2]
    return out
