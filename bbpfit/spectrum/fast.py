"""Fast spectra for the tests: float32 eigenvalues where provably accurate, top ones by Lanczos.

Owns the numerical shortcuts behind ``method="auto"`` and :func:`bbpfit.analyze`:

* :func:`gram_eigenvalues` -- all eigenvalues ``s**2 / n`` of an ``n x m`` matrix from its
  float64 Gram matrix, tridiagonalised in **float32** when the a-priori error bound
  :func:`float32_error` is below :data:`F32_TW_FRACTION` of the Tracy-Widom scale of the
  largest noise eigenvalue (else in float64). Bound: the float32 eigenvalues are exact for
  ``G + dG + E`` with ``|dG|_2 <= u |G|_F`` (rounding the Gram matrix, ``u = 2^-24``) and
  ``|E|_2 <= p(m) u |G|_2`` (the backward error of LAPACK's symmetric eigensolvers, LAPACK
  Users' Guide section 4.7, "p(m) a modestly growing function"; ``p(m) = m`` here: measured
  errors reach ``1.8 sqrt(m) u lam_1``, so ``sqrt(m)`` would not do), so by Weyl's inequality
  every eigenvalue moves by at most ``u (|lam|_2 + m lam_1)`` (``s**2 / n`` units). The TW
  scale is ``sigma2 (sqrt n + sqrt m)(1/sqrt n + 1/sqrt m)^(1/3) / n`` (Johnstone 2001) with
  ``sigma2`` bounded below by the mean of the lower half of the spectrum.
* :func:`top_eigenvalues` -- the ``k`` largest eigenvalues by Lanczos on ``x^T x`` (matrix-vector
  products only, never the Gram matrix), for the large layers where the tests need only the top
  of a spectrum and its trace (:func:`partial_spectrum`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import eigh
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from .tridiagonal import TridiagonalGram, top_eigenvectors  # noqa: F401 - re-exported

#: A float32 spectrum is used when its error bound is below this fraction of the TW scale.
F32_TW_FRACTION = 0.01
#: Unit roundoff of float32.
U32 = 2.0**-24
#: Smallest side ``m`` from which :func:`partial_spectrum` uses Lanczos (dense below). ARPACK's
#: products ``x^T (x v)`` are memory-bound (~1 GFlop/s against ~20 for the dense BLAS-3 route)
#: and the bulk-edge eigenvalue the last step needs takes ~200 of them: measured (one thread)
#: 1.2 s against 0.6 s dense at 3000 x 1100 and 4.8 s against 3.5 s at 4096 x 2048, so Lanczos
#: pays only from about m = 8192 (70B-model layers), where the dense route takes minutes.
LANCZOS_MIN_M = 8192


def tw_scale(n: int, m: int, sigma2: float = 1.0) -> float:
    """Tracy-Widom scale of the largest eigenvalue ``s**2 / n`` of an ``n x m`` noise matrix."""
    sn, sm = math.sqrt(n), math.sqrt(m)
    return sigma2 * (sn + sm) * (1.0 / sn + 1.0 / sm) ** (1.0 / 3.0) / n


def float32_error(lam: np.ndarray) -> float:
    """A-priori bound on the error of float32 eigenvalues (``s**2 / n`` units), module docstring.

    ``lam``: the spectrum (any precision; descending or not).
    """
    lam = np.asarray(lam, dtype=np.float64)
    return U32 * (float(np.sqrt(np.sum(lam * lam))) + lam.shape[-1] * float(lam.max()))


def float32_ok(lam: np.ndarray, n: int) -> bool:
    """Whether :func:`float32_error` is below :data:`F32_TW_FRACTION` of the TW scale."""
    m = lam.shape[-1]
    low = np.sort(np.asarray(lam, dtype=np.float64))[: max(1, m // 2)]
    sigma2_low = float(low.mean())  # the lower half's mean is below the MP mean sigma2
    if not sigma2_low > 0:
        return False
    return float32_error(lam) <= F32_TW_FRACTION * tw_scale(n, m, sigma2_low)


#: Entries per block of rows when a matrix is processed by blocks (16 MiB of float64): a layer
#: of at most this size is one block, so its arithmetic is that of the whole matrix; a larger
#: one never has a float64 copy of itself made.
BLOCK_ENTRIES = 1 << 21


def row_blocks(n: int, m: int):
    """Slices of about :data:`BLOCK_ENTRIES` entries covering the rows of an ``n x m`` matrix."""
    step = max(1, BLOCK_ENTRIES // max(m, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def one_block(n: int, m: int) -> bool:
    """Whether :func:`row_blocks` covers an ``n x m`` matrix with one block."""
    return n <= max(1, BLOCK_ENTRIES // max(m, 1))


def as_float64(block: np.ndarray) -> np.ndarray:
    """``block`` as float64, in its own memory layout (itself when it already is float64)."""
    return block.astype(np.float64, copy=False)


def gram_of(a: np.ndarray) -> np.ndarray:
    """float64 Gram matrix ``a^T a`` of an ``n x m`` matrix, ``n >= m``.

    A matrix of another dtype is cast by blocks of rows (:func:`row_blocks`), so no float64
    copy of a large float32 layer is made; one block is the whole-matrix product.
    """
    if a.dtype == np.float64:
        return a.T @ a
    gram: np.ndarray | None = None
    for rows in row_blocks(*a.shape):
        b = as_float64(a[rows])
        gram = b.T @ b if gram is None else gram + b.T @ b
    assert gram is not None  # row_blocks yields at least one block
    return gram


def matmul_rows(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``a @ v`` in float64 with ``a`` cast by blocks of rows (no float64 copy of ``a``)."""
    if a.dtype == np.float64:
        return a @ v
    out = np.empty((a.shape[0],) + v.shape[1:])
    for rows in row_blocks(*a.shape):
        out[rows] = as_float64(a[rows]) @ v
    return out


def gram_eigenvalues(gram: np.ndarray, n: int) -> np.ndarray:
    """Descending eigenvalues ``/ n`` of a float64 Gram matrix, float32 where accurate (module doc).

    Before the solve, ``lam_1 <= |lam|_2 = |G|_F / n`` and the noise level ``trace / m`` predict
    the bound (a strong outlier: straight to float64); after it, the bound is checked with the
    float32 eigenvalues themselves (and the lower half's mean as the noise level), and the
    float64 solve is done when it fails.
    """
    return _gram_eigen(gram, n, keep=False)[0]


def gram_eigen(gram: np.ndarray, n: int):
    """:func:`gram_eigenvalues` and what gives the top eigenvectors without a second solve.

    Returns ``(descending eigenvalues / n, factor)``: on the float64 route a
    :class:`~bbpfit.spectrum.tridiagonal.TridiagonalGram` made in ``gram``'s memory (``gram``
    is overwritten), on the float32 route ``gram`` itself; either goes to
    :func:`top_eigenvectors`. The eigenvalues are those of :func:`gram_eigenvalues`.
    """
    return _gram_eigen(gram, n, keep=True)


def _gram_eigen(gram: np.ndarray, n: int, keep: bool):
    m = gram.shape[0]
    frob = float(np.sqrt(np.einsum("ij,ij->", gram, gram))) / n
    trace = float(np.trace(gram)) / n
    if U32 * (1.0 + m) * frob <= F32_TW_FRACTION * tw_scale(n, m, trace / m):
        lam = eigh(gram.astype(np.float32), eigvals_only=True, driver="ev", check_finite=False,
                   overwrite_a=True).astype(np.float64)
        desc = np.clip(lam[::-1] / n, 0.0, None)
        if float32_ok(desc, n):
            return np.ascontiguousarray(desc), gram
    if not keep:
        return _float64_eigenvalues(gram, n), None
    tri = TridiagonalGram.of(gram, overwrite=True)
    return np.ascontiguousarray(np.clip(tri.ascending[::-1] / n, 0.0, None)), tri


def _float64_eigenvalues(gram: np.ndarray, n: int) -> np.ndarray:
    lam = np.linalg.eigvalsh(gram)
    return np.ascontiguousarray(np.clip(lam[::-1] / n, 0.0, None))


def top_eigenvalues(x: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest eigenvalues ``s**2 / n`` of ``x`` (``n x m``, ``n >= m``), descending.

    Lanczos (ARPACK, fixed start) on ``v -> x^T (x v) / n``: ``O(n m)`` per product, no Gram
    matrix; dense fallback if it does not converge.
    """
    n, m = x.shape
    op = LinearOperator((m, m), matvec=lambda v: x.T @ (x @ v) / n, dtype=np.float64)
    try:
        lam = eigsh(op, k=k, which="LA", v0=np.random.default_rng(m).standard_normal(m),
                    tol=1e-8, return_eigenvectors=False)
    except ArpackNoConvergence:
        lam = np.linalg.eigvalsh(gram_of(x))[m - k:] / n
    return np.clip(np.sort(lam)[::-1], 0.0, None)


def partial_spectrum(x: np.ndarray, k: int, *, trace: float | None = None
                     ) -> tuple[np.ndarray, bool]:
    """A length-``m`` stand-in for the spectrum of ``x`` that is exact for the sequential test.

    The step statistics ``l_{j+1} / sigma2_KN(j+1)`` for ``j < k`` need only the top ``k + 1``
    eigenvalues and the trace (the sum of the others): the top ``k + 1`` are computed (Lanczos
    for ``m >=`` :data:`LANCZOS_MIN_M` and ``k + 1 <= m / 8``, else the full spectrum is
    returned), the remaining ``m - k - 1`` entries all equal their mean, so every sum is exact.
    Not a spectrum for anything else (bulk fits, KS distances): the second value says whether
    the full spectrum was computed instead.

    Parameters
    ----------
    x : numpy.ndarray
        ``n x m`` matrix, ``n >= m``.
    k : int
        Steps the sequential test may take.
    trace : float, optional
        ``sum_i s_i**2 / n`` when known (rank scores: fixed by their normal scores).
    """
    n, m = x.shape
    top = k + 1
    if m < LANCZOS_MIN_M or 8 * top > m:
        return gram_eigenvalues(gram_of(x), n), True
    if trace is None:
        trace = float(np.einsum("ij,ij->", x, x)) / n
    head = top_eigenvalues(x, top)
    rest = max(trace - float(head.sum()), 0.0) / (m - top)
    return np.concatenate([head, np.full(m - top, min(rest, float(head[-1])))]), False


def fast_spectrum(W, name: str | None = None, *, with_gram: bool = False,
                  with_factor: bool = False):
    """:func:`bbpfit.spectrum` with :func:`gram_eigenvalues` (float32 where provably accurate).

    With ``with_gram=True`` returns ``(Spectrum, Gram matrix or None)``: the float64 Gram matrix
    of the matrix oriented ``n x m`` (``n >= m``), for the tests to reuse (None on the routes of
    :func:`bbpfit.spectrum`). With ``with_factor=True`` instead, ``(Spectrum, factor or None)``
    with the factor of :func:`gram_eigen` (the top eigenvectors of the Gram matrix without a
    second solve), made in the Gram matrix's memory.

    For numpy arrays and CPU tensors (bfloat16/float16 read exactly as float32); tensors on an
    accelerator, and matrices with a side of at most 32 (SVD route), go to
    :func:`bbpfit.spectrum`. Raises as :func:`bbpfit.spectrum` does (NaN/Inf, empty, complex).
    """
    from .._validation import check_finite, check_real_dtype
    from .eigenvalues import SVD_MAX_SIDE, _is_torch, matrix_shape
    from .spectrum import Spectrum, spectrum

    if _is_torch(W):
        if W.device.type != "cpu" or W.is_complex() or not W.is_floating_point():
            spec = spectrum(W, name=name)
            return (spec, None) if with_gram or with_factor else spec
        shape = tuple(int(d) for d in W.shape)
        arr = W.detach().float().numpy() if W.dtype.itemsize < 4 else W.detach().numpy()
    else:
        arr = np.asarray(W)
        shape = arr.shape
        check_real_dtype(arr.dtype, "W")
    _, rows, cols = matrix_shape(shape)
    if rows == 0 or cols == 0 or min(rows, cols) <= SVD_MAX_SIDE:
        spec = spectrum(W, name=name)
        return (spec, None) if with_gram or with_factor else spec
    a = arr.reshape(rows, cols)
    check_finite(a, "W")
    if rows < cols:
        a = a.T
    gram = gram_of(a)
    if with_factor:
        lam, factor = gram_eigen(gram, a.shape[0])
        return Spectrum(lam, n=a.shape[0], m=a.shape[1], name=name, shape=shape), factor
    lam = gram_eigenvalues(gram, a.shape[0])
    spec = Spectrum(lam, n=a.shape[0], m=a.shape[1], name=name, shape=shape)
    return (spec, gram) if with_gram else spec
