"""Exact samplers of real Wishart eigenvalues, null and rank-one spiked (bidiagonal model).

This module owns the fast exact sampler of the eigenvalues ``l_i = s_i**2 / n`` of an ``n x m``
Gaussian matrix ``W`` (``n >= m``, iid N(0, 1) entries, optionally plus a rank-one additive spike
``theta * sqrt(n) * u v^T``), through the Dumitriu--Edelman bidiagonal beta-Laguerre model with
beta = 1, and the slow dense reference it is tested against:

* :func:`null_eigenvalues` -- all ``m`` eigenvalues, O(m^2) per draw;
* :func:`top_eigenvalues` -- the top ``k`` eigenvalues (and optionally the exact trace) from a
  leading block of the bidiagonal, O(m^(1/3)) per draw;
* :func:`dense_eigenvalues` -- Gaussian matrix plus ``eigvalsh`` of its Gram, O(n m^2) per draw.

Callers scale by ``sigma2`` themselves. The compiled loops are in
:mod:`bbpfit.laws._wishart_kernels`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._validation import check_int, check_real_scalar
from ._wishart_kernels import bidiagonal_eigenvalues, top_eigenvalues_rows

__all__ = ["default_block", "dense_eigenvalues", "null_eigenvalues", "top_eigenvalues"]

_CHUNK_ENTRIES = 1 << 21  # bidiagonal entries drawn per chunk (bounds memory for huge `size`)



def null_eigenvalues(n, m, size=None, *, theta=0.0, rng=None):
    """Draw all ``m`` eigenvalues of ``W^T W / n`` for a Gaussian ``n x m`` matrix ``W``, exactly.

    Parameters
    ----------
    n, m : int
        Shape of ``W``, ``n >= m >= 1``.
    size : None, int or tuple of int, optional
        Number (shape) of independent draws; ``None`` for a single draw.
    theta : float, optional
        Strength of an additive rank-one spike in noise units, ``W = Z + theta sqrt(n) u v^T``
        (``0``, the default, is the null).
    rng : None, int or numpy.random.Generator, optional
        Source of randomness, passed to :func:`numpy.random.default_rng`.

    Returns
    -------
    ndarray, shape ``(*size, m)``
        Eigenvalues in descending order (convention ``s_i**2 / n``, unit noise variance).

    Raises
    ------
    ValueError
        If ``m > n``, ``n`` or ``m`` < 1, ``theta`` < 0 or not finite, or ``size`` is negative.
    TypeError
        If ``n``, ``m`` or ``size`` are not integers or ``theta`` is not a real number.

    Notes
    -----
    ``W`` is reduced to an upper-bidiagonal ``B`` with independent entries
    ``B_ii ~ chi_(n-i+1)`` and ``B_i,i+1 ~ chi_(m-i)`` [1]_; the eigenvalues of ``B^T B`` have the
    law of those of ``W^T W``. By orthogonal invariance the spike is ``theta sqrt(n) e_1 e_1^T``,
    which only turns ``B_11`` into a noncentral chi with ``n`` degrees of freedom and
    noncentrality ``theta**2 n``. The singular values of ``B`` are computed by LAPACK ``dlasq1``
    (dqds), to high relative accuracy even for the smallest eigenvalues; see [2]_ for a survey.
    References
    ----------
    .. [1] I. Dumitriu and A. Edelman, "Matrix models for beta ensembles", J. Math. Phys.
       43(11):5830-5847, 2002. doi:10.1063/1.1507823
    .. [2] A. Edelman and N. R. Rao, "Random matrix theory", Acta Numerica 14:233-297, 2005,
       section 10. doi:10.1017/S0962492904000236

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.laws.wishart import null_eigenvalues
    >>> lam = null_eigenvalues(400, 200, size=3, rng=np.random.default_rng(0))
    >>> lam.shape
    (3, 200)
    >>> bool(np.all(np.diff(lam, axis=-1) <= 0))
    True
    """
    n, m, theta, shape = _check_common(n, m, size, theta)
    rng = np.random.default_rng(rng)
    out = np.empty((*shape, m))
    flat = out.reshape(-1, m)
    for start, stop in _chunks(flat.shape[0], m):
        d, e = _draw_rows(n, m, m, stop - start, theta, rng)
        info = bidiagonal_eigenvalues(d, e, float(n), flat[start:stop])
        if info != 0:  # pragma: no cover - dqds practically never fails
            raise RuntimeError(f"LAPACK dlasq1 failed to converge (INFO={info})")
    return out


def top_eigenvalues(n, m, size=None, *, k=1, theta=0.0, rng=None, block=None, return_trace=False):
    """Draw the top ``k`` eigenvalues of ``W^T W / n`` (Gaussian ``n x m`` ``W``) in O(m^(1/3)).

    Parameters
    ----------
    n, m : int
        Shape of ``W``, ``n >= m >= 1``.
    size : None, int or tuple of int, optional
        Number (shape) of independent draws; ``None`` for a single draw.
    k : int, optional
        How many of the largest eigenvalues to return, ``1 <= k <= m``.
    theta : float, optional
        Strength of an additive rank-one spike in noise units (``0`` is the null).
    rng : None, int or numpy.random.Generator, optional
        Source of randomness, passed to :func:`numpy.random.default_rng`.
    block : int, optional
        Number ``K`` of leading bidiagonal rows used, ``k <= K <= m``. The default
        :func:`default_block` (``10 m^(1/3)`` for ``k = 1``, ``n = m``; more for larger ``k``
        or smaller ``m / n``), whose truncation error is below float64 rounding.
    return_trace : bool, optional
        Also return the exact trace of ``W^T W / n`` for the same draws.

    Returns
    -------
    top : ndarray, shape ``(*size, k)``
        The ``k`` largest eigenvalues, descending (convention ``s_i**2 / n``).
    trace : ndarray, shape ``size`` (float when ``size`` is None)
        Only with ``return_trace=True``: ``tr(W^T W) / n``, exactly ``chi2_(nm) / n`` under the
        null (noncentral with noncentrality ``theta**2 n`` under the spike).

    Raises
    ------
    ValueError
        For the conditions of :func:`null_eigenvalues`, or ``k`` not in ``[1, m]``, or ``block``
        not in ``[k, m]``.
    TypeError
        If ``k`` or ``block`` are not integers.

    Notes
    -----
    The top eigenvector of ``B B^T`` is localised in its first O(m^(1/3)) coordinates (it converges
    to an Airy function) [2]_, so the top eigenvalues of the leading ``K x K`` block of ``B B^T``
    agree with those of the full matrix to rounding for ``K`` of order ``10 m^(1/3)``. That block
    is ``R R^T`` for the first ``K`` rows ``R`` of ``B``, i.e. the entries ``B_11 .. B_KK`` and
    ``B_12 .. B_K,K+1``; its top eigenvalues are found by Sturm-sequence bisection to adjacent
    floats. The remaining entries are independent of the block and the sum of their squares is
    ``chi2`` with ``nm - (degrees of freedom used)`` degrees of freedom, which is drawn as one
    variate, so the returned trace is exact and statistics such as ``l_1 / (trace / m)`` have
    their exact null law. The trace variate is drawn whether or not ``return_trace`` is set,
    so the same seed gives the same ``top`` either way.
    References
    ----------
    .. [1] I. Dumitriu and A. Edelman, "Matrix models for beta ensembles", J. Math. Phys.
       43(11):5830-5847, 2002. doi:10.1063/1.1507823
    .. [2] A. Edelman and N. R. Rao, "Random matrix theory", Acta Numerica 14:233-297, 2005,
       section 10. doi:10.1017/S0962492904000236

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.laws.wishart import top_eigenvalues
    >>> top, tr = top_eigenvalues(4000, 2000, size=5, k=2, rng=np.random.default_rng(1),
    ...                           return_trace=True)
    >>> top.shape, tr.shape
    ((5, 2), (5,))
    >>> bool(np.all((top[:, 0] > 2.5) & (top[:, 0] < 3.3)))
    True
    """
    n, m, theta, shape = _check_common(n, m, size, theta)
    k = check_int(k, "k", minimum=1)
    if k > m:
        raise ValueError(f"`k` must be <= m = {m}, got {k}")
    if block is None:
        rows = default_block(n, m, k)
    else:
        rows = check_int(block, "block", minimum=1)
        if not k <= rows <= m:
            raise ValueError(f"`block` must be in [k, m] = [{k}, {m}], got {rows}")
    rng = np.random.default_rng(rng)
    n_draws = math.prod(shape)
    top = np.empty((n_draws, k))
    trace = np.empty(n_draws)
    dof_left = n * m - _dof_used(n, m, rows)
    for start, stop in _chunks(n_draws, rows):
        d, e = _draw_rows(n, m, rows, stop - start, theta, rng)
        top_eigenvalues_rows(d, e, k, float(n), top[start:stop])
        rest = rng.chisquare(dof_left, size=stop - start) if dof_left > 0 else 0.0
        trace[start:stop] = (np.sum(d * d, axis=-1) + np.sum(e * e, axis=-1) + rest) / n
    top = top.reshape(*shape, k)
    if not return_trace:
        return top
    trace = trace.reshape(shape)
    return top, (float(trace) if size is None else trace)


def dense_eigenvalues(n, m, size=None, *, theta=0.0, rng=None):
    """Draw eigenvalues of ``W^T W / n`` the slow way: a dense Gaussian ``W`` and ``eigvalsh``.

    The reference for :func:`null_eigenvalues` and :func:`top_eigenvalues` (same parameters and
    return value). The spike uses random unit vectors ``u``, ``v``, so agreement with the
    bidiagonal samplers also checks the orthogonal-invariance reduction they rely on.

    Parameters
    ----------
    n, m : int
        Shape of ``W``, ``n >= m >= 1``.
    size : None, int or tuple of int, optional
        Number (shape) of independent draws; ``None`` for a single draw.
    theta : float, optional
        Additive rank-one spike strength in noise units, ``W = Z + theta sqrt(n) u v^T``.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness, passed to :func:`numpy.random.default_rng`.

    Returns
    -------
    ndarray, shape ``(*size, m)``
        Eigenvalues in descending order.

    Raises
    ------
    ValueError, TypeError
        As :func:`null_eigenvalues`.

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.laws.wishart import dense_eigenvalues
    >>> dense_eigenvalues(40, 20, size=2, rng=np.random.default_rng(0)).shape
    (2, 20)
    """
    n, m, theta, shape = _check_common(n, m, size, theta)
    rng = np.random.default_rng(rng)
    out = np.empty((*shape, m))
    flat = out.reshape(-1, m)
    for start, stop in _chunks(flat.shape[0], n * m):
        w = rng.standard_normal((stop - start, n, m))
        if theta > 0.0:
            u = rng.standard_normal((stop - start, n, 1))
            v = rng.standard_normal((stop - start, 1, m))
            norms = np.linalg.norm(u, axis=1, keepdims=True) * np.linalg.norm(v, axis=2, keepdims=True)
            w += (theta * math.sqrt(n) / norms) * u * v
        gram = np.matmul(np.swapaxes(w, -1, -2), w)
        flat[start:stop] = np.linalg.eigvalsh(gram)[:, ::-1] / n
    return out


def default_block(n, m, k=1):
    """Default number ``K`` of leading bidiagonal rows used by :func:`top_eigenvalues`.

    ``K = ceil(max(10 m^(1/3), (12 + |a_k|) L))`` capped at ``m``, where
    ``L = (m / (1 + sqrt(m/n))**2)^(1/3)`` is the length (in rows) over which the top eigenvectors
    of the bidiagonal model decay like Airy functions and ``|a_k| ~ (3 pi (4k - 1) / 8)^(2/3)`` is
    the k-th Airy zero. For ``k = 1`` and ``n = m`` this is the ``10 m^(1/3)`` of Edelman & Rao
    (2005, section 10); the truncation error is then below float64 rounding (checked against the
    full bidiagonal for ``m / n`` from 1e-3 to 1, ``k`` up to 20, null and spiked).

    Examples
    --------
    >>> from bbpfit.laws.wishart import default_block
    >>> default_block(20_000, 10_000), default_block(20_000, 10_000, 5), default_block(80, 50)
    (216, 301, 37)
    """
    n, m, _, _ = _check_common(n, m, None, 0.0)
    k = check_int(k, "k", minimum=1)
    airy = (3.0 * math.pi * (4 * k - 1) / 8.0) ** (2.0 / 3.0)
    length = (m / (1.0 + math.sqrt(m / n)) ** 2) ** (1.0 / 3.0)
    rows = math.ceil(max(10.0 * m ** (1.0 / 3.0), (12.0 + airy) * length))
    return min(m, max(rows, k + 2))


def _check_common(n, m, size, theta):
    n = check_int(n, "n", minimum=1)
    m = check_int(m, "m", minimum=1)
    if m > n:
        raise ValueError(
            f"`m` must be <= `n` (W is n x m with n >= m; transpose first), got n={n}, m={m}"
        )
    theta = check_real_scalar(theta, "theta")
    if theta < 0.0:
        raise ValueError(f"`theta` must be >= 0, got {theta!r}")
    return n, m, theta, _check_size(size)


def _check_size(size):
    if size is None:
        return ()
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (size,)
    if not isinstance(size, tuple | list):
        raise TypeError(f"`size` must be None, an int or a tuple of ints, got {type(size).__name__}")
    return tuple(check_int(s, "size", minimum=0) for s in size)


def _chunks(n_draws, rows):
    step = max(1, _CHUNK_ENTRIES // rows)
    for start in range(0, n_draws, step):
        yield start, min(start + step, n_draws)


def _dof_used(n, m, rows):
    """Chi-square degrees of freedom in the first ``rows`` rows of the bidiagonal (exact ints)."""
    ne = min(rows, m - 1)
    return rows * n - rows * (rows - 1) // 2 + ne * (m - 1) - ne * (ne - 1) // 2


def _draw_rows(n, m, rows, count, theta, rng):
    """First ``rows`` rows of ``count`` bidiagonals: ``d`` and ``e`` of shape (count, rows).

    ``d[:, i] ~ chi_(n-i)``, ``e[:, i] ~ chi_(m-1-i)`` (0-based; ``e = 0`` where that is chi_0).
    The spike makes ``d[:, 0]`` a noncentral chi_n with noncentrality ``theta**2 n``.
    """
    d2 = np.empty((count, rows))
    if theta > 0.0:
        d2[:, 0] = rng.noncentral_chisquare(n, theta * theta * n, size=count)
    else:
        d2[:, 0] = rng.chisquare(n, size=count)
    if rows > 1:
        d2[:, 1:] = rng.chisquare(n - np.arange(1, rows), size=(count, rows - 1))
    e2 = np.zeros((count, rows))
    ne = min(rows, m - 1)
    if ne > 0:
        e2[:, :ne] = rng.chisquare(m - 1 - np.arange(ne), size=(count, ne))
    return np.sqrt(d2, out=d2), np.sqrt(e2, out=e2)
