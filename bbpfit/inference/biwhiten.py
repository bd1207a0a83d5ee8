"""Biwhitening: rescale rows and columns so that the noise variance is the same everywhere.

Owns the Sinkhorn scaling of Landa, Zhang & Kluger (2022). If the noise variance of entry
``(i, j)`` is ``a_i b_j`` (heterogeneous row and column scales, common in trained layers), the
spectrum is not Marchenko-Pastur and a spike test would read the deformed edge as outliers.
Finding positive ``x, y`` with ``D(x) (W o W) D(y)`` having every row sum ``m`` and every column
sum ``n`` (``o``: entrywise product) and returning ``D(x)^(1/2) W D(y)^(1/2)`` restores a
homogeneous unit noise variance, with the low-rank signal kept (rescaled).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_real_array, check_int, check_positive


@dataclass(frozen=True, repr=False, eq=False)
class Biwhitened:
    """A biwhitened matrix with its scaling factors.

    Attributes
    ----------
    matrix : numpy.ndarray
        ``row_scale[:, None] * W * col_scale[None, :]``.
    row_scale, col_scale : numpy.ndarray
        The factors ``sqrt(x)``, ``sqrt(y)`` (their product is fixed, the split is arbitrary).
    n_iter : int
        Sinkhorn sweeps done.
    converged : bool
        Whether the row and column sums met the tolerance.
    """

    matrix: np.ndarray
    row_scale: np.ndarray
    col_scale: np.ndarray
    n_iter: int
    converged: bool

    def __repr__(self) -> str:
        spread = (float(np.ptp(np.log(self.row_scale))), float(np.ptp(np.log(self.col_scale))))
        return (f"Biwhitened(shape={self.matrix.shape}, n_iter={self.n_iter}, "
                f"converged={self.converged}, log-scale range rows/cols="
                f"{spread[0]:.3g}/{spread[1]:.3g})")


def biwhiten(W, *, tol: float = 1e-10, max_iter: int = 2000) -> Biwhitened:
    """Biwhiten a matrix by Sinkhorn scaling of its squared entries.

    Parameters
    ----------
    W : array_like
        Real 2-D matrix with no all-zero row or column.
    tol : float, default 1e-10
        Largest relative deviation of a row or column sum of squares from its target.
    max_iter : int, default 2000
        Sinkhorn sweeps at most.

    Returns
    -------
    Biwhitened

    Raises
    ------
    ValueError
        ``W`` not 2-D, empty, with NaN/Inf or with an all-zero row or column.
    TypeError
        Complex or non-numeric ``W``.

    References
    ----------
    B. Landa, T. T. C. K. Zhang and Y. Kluger, "Biwhitening reveals the rank of a count matrix",
    SIAM J. Math. Data Sci. 4(4):1420-1446 (2022). doi:10.1137/21M1456807

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.inference import biwhiten
    >>> rng = np.random.default_rng(0)
    >>> W = np.exp(rng.normal(0, 0.5, (400, 1))) * rng.standard_normal((400, 200))
    >>> b = biwhiten(W)
    >>> b.converged, bool(np.allclose((b.matrix ** 2).sum(axis=1), 200))
    (True, True)
    """
    a = as_real_array(W, "W", min_ndim=2, keep_float32=True)  # float64 arithmetic below
    if a.ndim != 2:
        raise ValueError(f"`W` must be 2-D, got shape {a.shape}")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    a2 = np.square(a, dtype=np.float64)
    rows, cols = a2.shape
    if not (a2.sum(axis=1) > 0).all() or not (a2.sum(axis=0) > 0).all():
        raise ValueError("`W` has an all-zero row or column; drop it before biwhitening")
    x = np.ones(rows)
    y = np.ones(cols)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported
        y = rows / (a2.T @ x)
        rs = x * (a2 @ y)
        x = cols / (a2 @ y)
        if np.max(np.abs(rs / cols - 1.0)) < tol:
            converged = True
            break
    del a2
    rs, cs = np.sqrt(x), np.sqrt(y)
    out = np.multiply(rs[:, None], a, dtype=np.float64)  # one float64 copy, scaled in place
    out *= cs[None, :]
    return Biwhitened(out, rs, cs, it, converged)
