"""Top-k singular vectors by a partial method that reuses the recorder's Gram matrix and eigenvalues.

Owns :func:`gram_top_vectors` (Chebyshev-filtered subspace iteration with Rayleigh-Ritz on the
Gram matrix ``G`` of the smaller side) and :func:`top_singular_vectors` (a weight matrix to its
top-k left/right vector pairs with the sign convention of the store). Works on numpy arrays and on
torch tensors on their own device (CPU or CUDA) alike; only the k vectors are copied back.

Why this method: the recorder already forms ``G`` and its exact eigenvalues ``mu`` (``eigvalsh``)
at every recorded step. Knowing ``mu`` exactly gives

- the interval of unwanted eigenvalues ``[mu_m, mu_(p+1)]`` that the Chebyshev polynomial damps
  (Zhou & Saad 2007, "A Chebyshev-Davidson algorithm", and Zhou, Saad, Tiago & Chelikowsky 2006,
  "Self-consistent-field calculations using Chebyshev-filtered subspace iteration"), so the block
  size ``p`` and the polynomial degree are chosen *before* iterating, for a target accuracy;
- a rigorous a-posteriori check: for a Ritz pair ``(theta_j, v_j)`` with residual ``r_j``,
  ``sin angle(v_j, true v_j) <= |r_j| / gap_j`` where ``gap_j`` is the distance from ``theta_j``
  to the other exact eigenvalues (Davis & Kahan 1970 sin-theta theorem).

A block of ``p ~ k + 8`` vectors costs ``2 m^2 p`` flops per degree against ``~ 9 m^3`` for a
full ``eigh`` with vectors; for a spike 1.5x above the next unwanted eigenvalue a degree of
about 15 is planned. The first round filters in float32 (about half the time of float64 at
m = 512: ``G @ X`` reads half the bytes); its rounding only has to be small against the target
``SIN_TOL``, because the Rayleigh-Ritz step and the a-posteriori check run in float64 on the
float64 Gram matrix. Where float32 cannot resolve a gap (eigenvalues closer than about 1e-5
relative) the check fails and further rounds filter in float64.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_finite
from ..spectrum.eigenvalues import _is_torch

#: Target ``sin`` of the angle between a computed vector and the exact one (Davis-Kahan bound):
#: ``|<v, v_exact>|^2 >= 1 - 1e-6``, below float16 storage's own rounding (``sin`` about 3e-4).
SIN_TOL = 1e-3
#: The a-priori plan damps unwanted components this much further than ``tol`` (the a-posteriori
#: bound divides the residual by the gap, which is smaller than the spread of the spectrum).
PLAN_MARGIN = 1e-2
#: Eigenvalues closer than this (relative to the largest) are one degenerate cluster: only the
#: subspace they span is determined (by this method and by a full SVD alike).
CLUSTER_RTOL = 1e-7
#: Below this smaller side a full ``eigh`` is as cheap as anything partial.
DENSE_MAX_SIDE = 64
#: Cost of one product ``G @ X`` in columns of ``X``, beyond the columns themselves (reading G).
BLOCK_OVERHEAD = 16
#: Largest polynomial degree tried before falling back to a full ``eigh``.
MAX_DEGREE = 300
#: Largest amplification of the top eigenvalue over the k-th in one filter chunk (then QR), for
#: a filter in float64: the k-th direction keeps relative precision ``eps * CHUNK_RATIO``.
CHUNK_RATIO = 1e8
#: The same for the first round's filter in float32 (half the memory traffic of float64, about
#: twice the speed): ``eps32 * SINGLE_CHUNK_RATIO = 6e-6``, well below the accuracy target.
SINGLE_CHUNK_RATIO = 1e2


class _Ops:
    """The handful of array operations the method needs, for numpy or torch."""

    def __init__(self, like):
        self.torch = _is_torch(like)
        if self.torch:
            import torch

            self.t = torch
            self.device = like.device

    def randn(self, m, p):
        x = np.random.default_rng(20260603).standard_normal((m, p))
        return self.t.as_tensor(x, dtype=self.t.float64, device=self.device) if self.torch else x

    def single(self, x):
        return x.to(self.t.float32) if self.torch else np.asarray(x, np.float32)

    def double(self, x):
        return x.to(self.t.float64) if self.torch else np.asarray(x, np.float64)

    def qr(self, x):
        return (self.t.linalg.qr(x)[0] if self.torch else np.linalg.qr(x)[0])

    def eigh(self, x):
        return self.t.linalg.eigh(x) if self.torch else np.linalg.eigh(x)

    def flip(self, x):
        return x.flip(-1) if self.torch else x[:, ::-1]

    def like(self, values, x):
        return self.t.as_tensor(values, dtype=x.dtype, device=x.device) if self.torch else values

    def colnorm(self, x):
        return (x * x).sum(0) ** 0.5

    def numpy(self, x):
        return x.cpu().numpy() if self.torch else np.asarray(x)


def plan(mu: np.ndarray, k: int, tol: float = SIN_TOL, ratio: float = CHUNK_RATIO
         ) -> tuple[int, int] | None:
    """Block size ``p`` and Chebyshev degree for the top ``k`` eigenvectors, from exact eigenvalues.

    ``mu`` are the Gram matrix's eigenvalues, descending. For each block size ``p`` in
    ``k+1 .. min(m-1, 2k+32)``, the filter damps ``[mu[-1], mu[p]]`` (where ``|T| <= 1``) and
    amplifies ``mu[k-1]`` by ``T_c(x_k)`` per chunk of degree ``c`` (:func:`_chunk`, chunks
    amplifying the top eigenvalue over the k-th by at most ``ratio``), ``x_k`` being
    its position relative to the damped interval; the degree is what it takes to reach
    ``2 sqrt(m) / (PLAN_MARGIN tol)`` (a random start has ``tan angle ~ sqrt(m)``). The cheapest
    ``degree * (p + BLOCK_OVERHEAD)`` wins (a product ``G @ X`` costs about as much as
    ``BLOCK_OVERHEAD`` extra columns for reading ``G``, measured with OpenBLAS at m = 512-1024).
    ``None`` when no block separates the k-th eigenvalue from the unwanted ones.
    """
    m = mu.size
    need = math.log(2.0 * math.sqrt(m) / (tol * PLAN_MARGIN))
    p = np.arange(k + 1, min(m - 1, 2 * k + 32) + 1)  # all block sizes at once (as _position,
    if p.size == 0:                                     # _chunk and _rate for each p)
        return None
    lo, hi = float(mu[-1]), mu[p]
    half = 0.5 * (hi - lo)
    ok = (half > 0) & (mu[k - 1] - hi > CLUSTER_RTOL * mu[0])  # something to damp, separated
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(ok, (mu[k - 1] - (hi + lo) / 2) / half, 0.0)
        ok &= x > 1.0 + 1e-12
        x = np.where(ok, x, 2.0)
        x0 = (mu[0] - (hi + lo) / 2) / np.where(ok, half, 1.0)
        per = np.arccosh(np.maximum(x0, 1.0)) - np.arccosh(np.maximum(x, 1.0))
        chunk = np.where(per <= 0, MAX_DEGREE,
                         np.maximum(1, np.floor(math.log(ratio) / np.where(per > 0, per, 1.0))))
        t = chunk * np.arccosh(x)
        rate = (t + np.log1p(np.exp(-2 * t)) - math.log(2)) / chunk
        degree = np.maximum(2, np.ceil(need / rate))
    ok &= degree <= MAX_DEGREE
    if not ok.any():
        return None
    cost = np.where(ok, degree * (p + BLOCK_OVERHEAD), np.inf)
    i = int(np.argmin(cost))  # the first of equal costs, as a loop keeping strict improvements
    return int(p[i]), int(degree[i])


def _position(mu, j, p) -> float:
    """Where ``mu[j]`` lies relative to the damped interval ``[mu[-1], mu[p]]`` mapped to [-1, 1]."""
    a, b = float(mu[-1]), float(mu[p])
    return (float(mu[j]) - 0.5 * (a + b)) / (0.5 * (b - a))


def _rate(x: float, chunk: int) -> float:
    """Log-amplification per degree of a point at ``x`` > 1 by chunks of degree ``chunk``."""
    t = chunk * math.acosh(x)
    return (t + math.log1p(math.exp(-2 * t)) - math.log(2)) / chunk  # log(cosh(t)) / chunk


def _chunk(mu, k, p, ratio: float = CHUNK_RATIO) -> int:
    """Degree of one filter chunk: it amplifies ``mu[0]`` over ``mu[k-1]`` by at most ``ratio``.

    Re-orthonormalising between chunks keeps the k-th direction at relative precision
    ``eps * ratio``; a longer chunk keeps more of the Chebyshev acceleration
    (``T_c(x)^(d/c)`` against ``T_d(x)``).
    """
    per = math.acosh(max(_position(mu, 0, p), 1.0)) - math.acosh(max(_position(mu, k - 1, p), 1.0))
    return MAX_DEGREE if per <= 0 else max(1, int(math.log(ratio) / per))


def _filter(g, x, degree, a, b, top):
    """Chebyshev filter of ``degree`` on ``x``, damping ``[a, b]``, scaled at ``top`` (Zhou-Saad)."""
    e, c = 0.5 * (b - a), 0.5 * (b + a)
    sigma = e / (top - c)
    tau = 2.0 / sigma
    y = (g @ x - c * x) * (sigma / e)
    for _ in range(degree - 1):
        sigma_new = 1.0 / (tau - sigma)
        y, x = (g @ y - c * y) * (2.0 * sigma_new / e) - (sigma * sigma_new) * x, y
        sigma = sigma_new
    return y


def _chunks(degree: int, size: int) -> list[int]:
    """``degree`` split into chunks of ``size`` (the last one shorter)."""
    return [size] * (degree // size) + ([degree % size] if degree % size else [])


def _gaps(theta: np.ndarray, mu: np.ndarray, scale: float) -> np.ndarray:
    """For each Ritz value, its distance to the exact eigenvalues outside its own cluster."""
    out = np.empty(theta.size)
    for j, t in enumerate(theta):
        d = np.abs(mu - t)
        own = np.abs(mu - mu[j]) <= CLUSTER_RTOL * scale
        out[j] = d[~own].min() if (~own).any() else np.inf
    return out


def gram_top_vectors(gram, mu: np.ndarray, k: int, *, tol: float = SIN_TOL):
    """Top-``k`` eigenvectors of a PSD Gram matrix whose eigenvalues ``mu`` are known exactly.

    Parameters
    ----------
    gram : numpy.ndarray or torch.Tensor
        Symmetric positive semi-definite (m, m), float64 (numpy or torch, any device).
    mu : numpy.ndarray
        Its eigenvalues, descending (length m), e.g. from ``eigvalsh``.
    k : int
        1 <= k <= m.
    tol : float
        Target bound on ``sin`` of the angle to each exact eigenvector (outside degenerate clusters).

    Returns
    -------
    vectors : numpy.ndarray or torch.Tensor
        (m, k), orthonormal columns in descending eigenvalue order, same kind/device as ``gram``.
    method : str
        ``"chebyshev"`` or ``"eigh"`` (small ``m``, no separated block, or the a-posteriori check
        failed three times).

    Notes
    -----
    Guarantee (a-posteriori, Davis-Kahan with the exact ``mu``): each returned vector j is within
    angle ``asin(tol)`` of the exact eigenvector, so ``|<v, v_exact>|^2 >= 1 - tol^2``, unless
    its eigenvalue lies within ``CLUSTER_RTOL * mu[0]`` of another one. For such near-degenerate
    eigenvalues no method (a full SVD included) determines the individual vectors; what is
    guaranteed is the subspace of the whole cluster (when the cluster ends before rank k; a
    cluster straddling rank k is cut arbitrarily, as by an SVD).
    """
    ops = _Ops(gram)
    mu = np.asarray(mu, np.float64)
    m = mu.size
    if m <= DENSE_MAX_SIDE or k >= m // 2:
        return _dense(ops, gram, k), "eigh"
    chosen = plan(mu, k, tol, SINGLE_CHUNK_RATIO)
    if chosen is None:
        return _dense(ops, gram, k), "eigh"
    p, degree = chosen
    a, b, top = float(mu[-1]), float(mu[p]), float(mu[0])
    # Round 1 filters in float32 (its rounding, eps32 * SINGLE_CHUNK_RATIO relative, is far below
    # the target); Rayleigh-Ritz and the a-posteriori check are always in float64 on the float64
    # Gram matrix, so the guarantee does not depend on the filter's precision. Rounds 2-3, if the
    # check fails (too close a gap for float32, or an unlucky start), filter in float64.
    # The float32 copy is scaled to a top eigenvalue of 1 (the filter is scale-invariant), so
    # no Gram matrix overflows or underflows float32 whatever the weights' scale.
    single = ops.single(gram * (1.0 / top))
    q = ops.randn(m, p)
    for attempt in range(3):
        if attempt == 0:
            q = ops.single(ops.qr(q))
            for d in _chunks(degree, _chunk(mu, k, p, SINGLE_CHUNK_RATIO)):
                q = ops.qr(_filter(single, q, d, a / top, b / top, 1.0))
            q = ops.qr(ops.double(q))
        else:
            for d in _chunks(degree, _chunk(mu, k, p)):
                q = ops.qr(_filter(gram, q, d, a, b, top))
        theta, s = ops.eigh(q.T @ (gram @ q))  # Rayleigh-Ritz, ascending
        q = ops.flip(q @ s)                      # Ritz vectors, descending
        theta = ops.numpy(theta)[::-1].copy()
        v = q[:, :k]
        res = ops.numpy(ops.colnorm(gram @ v - v * ops.like(theta[:k], v)))
        short = res / (tol * _gaps(theta[:k], mu, top))
        if np.all(short <= 1):
            return v, "chebyshev"
        # Another round, of the degree that damps the shortfall (with a factor 4 to spare).
        rate = _rate(_position(mu, k - 1, p), _chunk(mu, k, p))
        degree = min(degree, max(2, math.ceil(math.log(4 * float(short.max())) / rate)))
    return _dense(ops, gram, k), "eigh"


def _dense(ops, gram, k):
    _, vecs = ops.eigh(gram)
    return ops.flip(vecs[:, -k:])


def top_singular_vectors(a, k: int, *, gram=None, mu=None, tol: float = SIN_TOL
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Top-k singular vector pairs of a matrix (numpy array or torch tensor, on its device).

    Parameters
    ----------
    a : numpy.ndarray or torch.Tensor
        Read as (rows, cols) = (a.shape[0], prod(a.shape[1:])).
    k : int
        Pairs wanted (``min(k, rows, cols)`` are returned).
    gram, mu : optional
        The float64 Gram matrix of the smaller side (``a^T a`` if rows >= cols, else ``a a^T``)
        and its eigenvalues, descending, when the caller has them already (the recorder does).
    tol : float
        Accuracy target of :func:`gram_top_vectors`.

    Returns
    -------
    left, right : numpy.ndarray
        float32 arrays (k', rows) and (k', cols), descending singular value order. Sign
        convention: each pair is flipped so that the largest-magnitude entry of the right vector
        is positive (ties: the first such entry), which makes vectors recorded at different steps
        comparable without sign flips.
    """
    ops = _Ops(a)
    if ops.torch:
        a = a.detach().reshape(a.shape[0], -1).to(ops.t.float64)
    else:
        a = np.asarray(a, np.float64).reshape(a.shape[0], -1)
    rows, cols = a.shape
    tall = rows >= cols
    k = min(k, rows, cols)
    if gram is None:
        gram = a.T @ a if tall else a @ a.T
    if mu is None:
        mu = ops.numpy(ops.eigh(gram)[0])[::-1]
    small, _ = gram_top_vectors(gram, np.clip(mu, 0.0, None), k, tol=tol)
    big = (a @ small) if tall else (a.T @ small)  # = other-side vectors times s
    norms = ops.colnorm(big)
    big = big / (norms + (norms == 0))
    small, big = ops.numpy(small), ops.numpy(big)
    right, left = (small, big) if tall else (big, small)
    return orient(left.T, right.T)


def orient(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flip pairs (rows of ``left`` (k, rows) and ``right`` (k, cols)) to the store's sign convention."""
    idx = np.argmax(np.abs(right), axis=1)
    sign = np.where(right[np.arange(right.shape[0]), idx] < 0, -1.0, 1.0)[:, None]
    return (left * sign).astype(np.float32), (right * sign).astype(np.float32)


def spectrum_and_vectors(w, k: int):
    """Eigenvalues (as :func:`bbpfit.eigenvalues`) and the top-k vector pairs, sharing one Gram matrix.

    ``w`` is a numpy array or torch tensor (on its device), read as (rows, cols) like
    :func:`bbpfit.eigenvalues`; its eigenvalues are bit-identical to ``eigenvalues(w)`` (the same
    Gram matrix and ``eigvalsh``), and that Gram matrix and its eigenvalues are reused by
    :func:`gram_top_vectors`. NaN/Inf entries raise ``ValueError`` as in ``eigenvalues``.

    Returns
    -------
    lam : numpy.ndarray
        float64 (m,), descending.
    left, right : numpy.ndarray
        As :func:`top_singular_vectors`.
    """
    from ..spectrum.eigenvalues import SVD_MAX_SIDE, descending, eigenvalues

    ops = _Ops(w)
    if ops.torch:
        a = w.detach().reshape(w.shape[0], -1).to(ops.t.float64)
        if not bool(ops.t.isfinite(a).all()):
            bad = int((~ops.t.isfinite(a)).sum())
            raise ValueError(f"`W` contains {bad} NaN or infinite value(s) out of {a.numel()}; "
                             "clean or mask them first")
    else:
        a = np.asarray(w).reshape(w.shape[0], -1).astype(np.float64, copy=False)
        check_finite(a, "W")
    rows, cols = a.shape
    if min(rows, cols) <= SVD_MAX_SIDE:  # eigenvalues take the SVD route there; vectors: dense
        return eigenvalues(a), *top_singular_vectors(a, k)
    tall = a if rows >= cols else a.T
    gram = tall.T @ tall
    mu_asc = ops.t.linalg.eigvalsh(gram) if ops.torch else np.linalg.eigvalsh(gram)
    lam = descending(ops.numpy(mu_asc), max(rows, cols))
    mu = lam * max(rows, cols)
    return lam, *top_singular_vectors(a, k, gram=gram, mu=mu)
