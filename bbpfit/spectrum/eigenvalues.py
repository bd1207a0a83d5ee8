"""Weight matrices to eigenvalues ``lambda_i = s_i**2 / n``, on numpy or on the tensor's device.

Owns the reading of a weight array as a matrix (conv kernels as (out, in*prod(k)), batches of
same-shape matrices) and the choice of the numerical route. Returns float64 numpy, descending.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_finite, check_method, check_real_dtype

#: The smallest side at or below which ``route="auto"`` uses the SVD (its cost is negligible there).
SVD_MAX_SIDE = 32


def _is_torch(x) -> bool:
    return type(x).__module__.split(".")[0] == "torch"


def matrix_shape(shape: tuple[int, ...], *, batched: bool = False) -> tuple[tuple[int, ...], int, int]:
    """Split an array shape into (batch shape, rows, cols) following the bbpfit convention.

    With ``batched=False`` a 2-D array is one matrix and a higher-dimensional one is a conv
    kernel (out, in, *k) read as (out, in * prod(k)). With ``batched=True`` the last two axes are
    the matrix and the leading axes index the batch.
    """
    shape = tuple(int(s) for s in shape)
    if batched:
        if len(shape) < 2:
            raise ValueError(f"`W` must have at least 2 dimensions when batched=True, got shape {shape}")
        return shape[:-2], shape[-2], shape[-1]
    if len(shape) < 2:
        raise ValueError(f"`W` must be 2-D or a conv kernel (out, in, *k), got shape {shape}")
    return (), shape[0], math.prod(shape[1:])


def _gram_numpy(a: np.ndarray) -> np.ndarray:
    # a: (..., rows, cols) float64 with rows >= cols; eigenvalues of a^T a, ascending.
    gram = np.matmul(np.swapaxes(a, -1, -2), a)
    return np.linalg.eigvalsh(gram)


def _svd_numpy(a: np.ndarray) -> np.ndarray:
    s = np.linalg.svd(a, compute_uv=False)
    return s[..., ::-1] ** 2


def _gram_torch(a):
    import torch

    return torch.linalg.eigvalsh(a.mT @ a)


def _svd_torch(a):
    import torch

    return torch.linalg.svdvals(a).flip(-1) ** 2


_ROUTES = {
    "auto": None,
    "gram": (_gram_numpy, _gram_torch),
    "svd": (_svd_numpy, _svd_torch),
}


def eigenvalues(W, *, batched: bool = False, route: str = "auto", check_finite_values: bool = True):
    """Eigenvalues ``s_i**2 / n`` of a weight matrix (or a batch of them), descending.

    Parameters
    ----------
    W : array_like or torch.Tensor
        A matrix (rows, cols), a conv kernel (out, in, *k) read as (out, in * prod(k)), or with
        ``batched=True`` a stack (..., rows, cols) of same-shape matrices. Any real dtype,
        including float16 and bfloat16 tensors. Torch tensors are processed on their own device
        (CPU or CUDA) in float64; only the m eigenvalues are copied back.
    batched : bool, default False
        Read the leading axes as a batch instead of as conv kernel axes.
    route : {"auto", "gram", "svd"}
        ``"gram"`` forms the float64 Gram matrix of the smaller side and calls ``eigvalsh``
        (about 2-5x faster than an SVD); ``"svd"`` squares the singular values. ``"auto"`` uses
        the SVD when the smaller side is at most 32 and the Gram route otherwise.
    check_finite_values : bool, default True
        Raise on NaN/Inf entries (a silent NaN spectrum is never returned).

    Returns
    -------
    numpy.ndarray
        float64 array (..., m) with ``m = min(rows, cols)``, sorted descending; ``n = max(rows, cols)``.

    Raises
    ------
    ValueError
        Wrong number of dimensions, an empty matrix, NaN/Inf entries, an unknown ``route``.
    TypeError
        Complex, boolean, object or string data.

    Notes
    -----
    Accuracy: both routes run in float64. The Gram route has absolute eigenvalue error of order
    ``eps * lambda_1`` (``eps = 2.2e-16``), so eigenvalues below about ``1e-13 * lambda_1`` lose
    their relative accuracy (they are still accurate in absolute terms, which is what bulk fits
    and spike tests use). The SVD route keeps relative accuracy of eigenvalues down to about
    ``eps * lambda_1 / lambda_i``-times smaller errors; choose it when the smallest eigenvalues
    matter (e.g. condition numbers). Negative rounding residues of the Gram route are clipped to 0.

    Examples
    --------
    >>> import numpy as np, bbpfit as bf
    >>> W = np.random.default_rng(0).standard_normal((400, 200))
    >>> lam = bf.eigenvalues(W)
    >>> lam.shape, bool(lam[0] < (1 + 0.5 ** 0.5) ** 2 * 1.1)
    ((200,), True)
    """
    routes = check_method(route, _ROUTES, "route")
    if _is_torch(W):
        return _eigenvalues_torch(W, batched, routes, check_finite_values)
    arr = np.asarray(W)
    check_real_dtype(arr.dtype, "W")
    batch, rows, cols = matrix_shape(arr.shape, batched=batched)
    if rows == 0 or cols == 0 or arr.size == 0:
        raise ValueError(f"`W` is empty (shape {arr.shape})")
    a = arr.reshape(*batch, rows, cols).astype(np.float64, copy=False)
    if check_finite_values:
        check_finite(a, "W")
    n, m = max(rows, cols), min(rows, cols)
    if rows < cols:
        a = np.swapaxes(a, -1, -2)
    fn = (_svd_numpy if m <= SVD_MAX_SIDE else _gram_numpy) if routes is None else routes[0]
    return descending(fn(a), n)


def descending(ascending: np.ndarray, n: int) -> np.ndarray:
    """``s**2`` values in ascending order (an eigensolver's) to bbpfit's eigenvalues: / n,
    descending, rounding residues below 0 clipped."""
    return np.ascontiguousarray(np.clip(ascending[..., ::-1] / n, 0.0, None))


def _eigenvalues_torch(W, batched, routes, check_finite_values):
    import torch

    if W.is_complex():
        raise TypeError(f"`W` must be real, got complex dtype {W.dtype}")
    if not (W.is_floating_point() or W.dtype in (torch.int8, torch.int16, torch.int32, torch.int64,
                                                  torch.uint8)):
        raise TypeError(f"`W` must have a real numeric dtype, got {W.dtype}")
    batch, rows, cols = matrix_shape(tuple(W.shape), batched=batched)
    if rows == 0 or cols == 0 or W.numel() == 0:
        raise ValueError(f"`W` is empty (shape {tuple(W.shape)})")
    with torch.no_grad():
        a = W.detach().reshape(*batch, rows, cols).to(torch.float64)
        if check_finite_values and not bool(torch.isfinite(a).all()):
            bad = int((~torch.isfinite(a)).sum())
            raise ValueError(
                f"`W` contains {bad} NaN or infinite value(s) out of {a.numel()}; "
                "clean or mask them first"
            )
        n, m = max(rows, cols), min(rows, cols)
        if rows < cols:
            a = a.mT
        fn = (_svd_torch if m <= SVD_MAX_SIDE else _gram_torch) if routes is None else routes[1]
        lam = (fn(a).flip(-1) / n).clamp_min(0.0)
    return np.ascontiguousarray(lam.cpu().numpy())
