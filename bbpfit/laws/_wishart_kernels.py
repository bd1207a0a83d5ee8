"""Numba kernels behind :mod:`bbpfit.laws.wishart` (bidiagonal beta-Laguerre model, beta = 1).

This module owns the compiled inner loops only; the public functions, their input checks and the
random draws live in :mod:`bbpfit.laws.wishart`. Every kernel loops over a batch of draws (the
leading axis) and works on rows of an upper-bidiagonal matrix ``B`` with diagonal ``d`` and
superdiagonal ``e``:

* :func:`bidiagonal_eigenvalues` -- all squared singular values of ``B`` through LAPACK ``dlasq1``
  (dqds, high relative accuracy even for the smallest ones), called from Numba through the
  address that ``scipy.linalg.cython_lapack`` exports;
* :func:`top_eigenvalues_rows` -- the top ``k`` eigenvalues of ``R R^T`` where ``R`` holds the first
  ``K`` rows of ``B``, by Sturm-sequence bisection on that K x K tridiagonal, in O(K) per bisection
  step and to full float64 precision.

The LAPACK routine is bound by symbol name (``llvmlite.binding.add_symbol``), not by a ctypes
pointer, so the kernels can be compiled with ``cache=True``.
"""

from __future__ import annotations

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types
from numba.extending import get_cython_function_address

__all__ = ["bidiagonal_eigenvalues", "top_eigenvalues_rows"]

_DLASQ1_SYMBOL = "bbpfit_cython_lapack_dlasq1"
llvm.add_symbol(
    _DLASQ1_SYMBOL, get_cython_function_address("scipy.linalg.cython_lapack", "dlasq1")
)
_INT_P = types.CPointer(types.intc)
_DBL_P = types.CPointer(types.float64)
# DLASQ1(N, D, E, WORK, INFO): singular values of an N x N bidiagonal, returned descending in D.
_dlasq1 = types.ExternalFunction(_DLASQ1_SYMBOL, types.void(_INT_P, _DBL_P, _DBL_P, _DBL_P, _INT_P))

_EPS = np.finfo(np.float64).eps
_SAFE_MIN = np.finfo(np.float64).tiny


@njit(cache=True)
def bidiagonal_eigenvalues(d, e, n, out):  # pragma: no cover - compiled
    """Write ``s_i**2 / n`` (s = singular values of each bidiagonal, descending) into ``out``.

    ``d`` is (draws, m), ``e`` is (draws, m - 1) or wider (extra columns ignored), ``out`` is
    (draws, m). Returns the first nonzero LAPACK ``INFO`` (0 when every draw converged).
    """
    n_draws, m = d.shape
    size = np.empty(1, np.intc)
    size[0] = m
    info = np.zeros(1, np.intc)
    dd = np.empty(m)
    ee = np.zeros(max(m, 1))
    work = np.empty(4 * max(m, 1))
    for r in range(n_draws):
        for i in range(m):
            dd[i] = d[r, i]
        for i in range(m - 1):
            ee[i] = e[r, i]
        _dlasq1(size.ctypes, dd.ctypes, ee.ctypes, work.ctypes, info.ctypes)
        if info[0] != 0:
            return info[0]
        for i in range(m):
            out[r, i] = dd[i] * dd[i] / n
    return 0


@njit(cache=True)
def _counts_below(a, b2, x1, x2, x3, pivmin):  # pragma: no cover - compiled
    """Numbers of eigenvalues below ``x1``, ``x2``, ``x3`` of the tridiagonal (diag ``a``,
    squared off-diagonal ``b2``): three independent Sturm sequences in one pass, so that their
    divisions overlap in the pipeline."""
    c1 = 0
    c2 = 0
    c3 = 0
    q1 = 1.0
    q2 = 1.0
    q3 = 1.0
    for i in range(a.size):
        off = b2[i - 1] if i > 0 else 0.0
        q1 = (a[i] - x1) - off / q1
        q2 = (a[i] - x2) - off / q2
        q3 = (a[i] - x3) - off / q3
        if abs(q1) < pivmin:
            q1 = -pivmin
        if abs(q2) < pivmin:
            q2 = -pivmin
        if abs(q3) < pivmin:
            q3 = -pivmin
        c1 += q1 < 0.0
        c2 += q2 < 0.0
        c3 += q3 < 0.0
    return c1, c2, c3


@njit(cache=True)
def _top_k_tridiagonal(a, b2, k, out):  # pragma: no cover - compiled
    """Top ``k`` eigenvalues (descending) of one symmetric positive semi-definite tridiagonal,
    by bisection (four sub-intervals per pass) until the bracket holds two adjacent floats."""
    size = a.size
    hi = 0.0
    bmax = 0.0
    for i in range(size):
        left = np.sqrt(b2[i - 1]) if i > 0 else 0.0
        right = np.sqrt(b2[i]) if i < size - 1 else 0.0
        hi = max(hi, a[i] + left + right)
        if i < size - 1:
            bmax = max(bmax, b2[i])
    pivmin = _SAFE_MIN * max(1.0, bmax)
    hi += 4.0 * _EPS * hi + pivmin  # Gershgorin
    lo = -pivmin  # the matrix is R R^T, so every eigenvalue is >= 0
    for j in range(1, k + 1):
        # invariant: at least j eigenvalues >= left, fewer than j eigenvalues >= right
        left = lo
        right = hi
        while True:
            x2 = 0.5 * (left + right)
            if x2 <= left or x2 >= right:
                break
            x1 = 0.5 * (left + x2)
            x3 = 0.5 * (x2 + right)
            c1, c2, c3 = _counts_below(a, b2, x1, x2, x3, pivmin)
            if size - c1 < j:
                right = x1
            elif size - c2 < j:
                left = x1
                right = x2
            elif size - c3 < j:
                left = x2
                right = x3
            else:
                left = x3
        out[j - 1] = 0.5 * (left + right)
        hi = right
    return


@njit(cache=True)
def top_eigenvalues_rows(d, e, k, n, out):  # pragma: no cover - compiled
    """Top ``k`` eigenvalues of ``R R^T / n`` for the leading rows ``R`` of each draw.

    ``d`` and ``e`` are (draws, K): row i of ``R`` holds ``d[:, i]`` on the diagonal and ``e[:, i]``
    just right of it (``e[:, K-1]`` couples to column K + 1; pass 0 when K = m). ``R R^T`` is the
    K x K tridiagonal with diagonal ``d_i**2 + e_i**2`` and off-diagonal ``e_i d_{i+1}``.
    ``out`` is (draws, k).
    """
    n_draws, size = d.shape
    a = np.empty(size)
    b2 = np.zeros(max(size - 1, 1))
    vals = np.empty(k)
    for r in range(n_draws):
        for i in range(size):
            a[i] = d[r, i] * d[r, i] + e[r, i] * e[r, i]
        for i in range(size - 1):
            off = e[r, i] * d[r, i + 1]
            b2[i] = off * off
        _top_k_tridiagonal(a, b2[: max(size - 1, 0)], k, vals)
        for j in range(k):
            out[r, j] = vals[j] / n
    return
