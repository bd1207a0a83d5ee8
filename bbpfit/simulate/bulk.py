"""How far eigenvalues sit above the Marchenko-Pastur edge, in Tracy-Widom units.

Owns :func:`edge_excess`, the simple bulk-deformation measure used to check the simulators
(and printed by the teacher-student example): the scale is fitted by matching the median, so a
deformed bulk shows up as eigenvalues many TW units above the fitted edge with no spike behind
them. It is a diagnostic, not a test: the calibrated spike tests live in the inference layer.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_real_array, check_int
from ..laws import marchenko_pastur

__all__ = ["edge_excess"]


def edge_excess(eigenvalues, n) -> np.ndarray:
    """``(lambda_k - edge) / sigma_TW`` for each eigenvalue, with ``sigma2`` fitted by the median.

    Parameters
    ----------
    eigenvalues : array_like, shape (..., m)
        Eigenvalues ``s**2 / n`` of ``n x m`` matrices along the last axis (any order).
    n : int
        The long side, ``n >= m``.

    Returns
    -------
    numpy.ndarray
        Same shape as ``eigenvalues``: each eigenvalue's distance above the fitted MP edge
        ``sigma2 (1 + sqrt q)^2`` in units of
        ``sigma_TW = sigma2 (sqrt n + sqrt m)(1 / sqrt n + 1 / sqrt m)^(1/3) / n`` (negative inside).

    Notes
    -----
    ``sigma2 = median(lambda) / median(MP_q)`` (Gavish & Donoho 2014) is robust to a few outliers.
    Johnstone's (2001) first-order centering and scaling are used; under the Gaussian null the
    top eigenvalue is then TW1-distributed (mean -1.21, sd 1.27) up to O(n^(-2/3)) corrections.

    References
    ----------
    .. [1] I. M. Johnstone, "On the distribution of the largest eigenvalue in principal
       components analysis", Ann. Statist. 29(2):295-327, 2001. doi:10.1214/aos/1009210544
    .. [2] M. Gavish and D. L. Donoho, "The optimal hard threshold for singular values is
       4/sqrt(3)", IEEE Trans. Inf. Theory 60(8):5040-5053, 2014. doi:10.1109/TIT.2014.2323359

    Examples
    --------
    >>> import numpy as np
    >>> import bbpfit as bf
    >>> from bbpfit.simulate import edge_excess
    >>> lam = bf.eigenvalues(np.random.default_rng(0).standard_normal((1000, 500)))
    >>> bool(-6 < edge_excess(lam, 1000)[0] < 4)
    True
    """
    lam = as_real_array(eigenvalues, "eigenvalues")
    n = check_int(n, "n", minimum=1)
    m = lam.shape[-1]
    if m > n:
        raise ValueError(f"`eigenvalues` has m = {m} values per spectrum but n = {n} < m")
    q = m / n
    sigma2 = np.median(lam, axis=-1, keepdims=True) / marchenko_pastur(q).median()
    edge = sigma2 * (1.0 + np.sqrt(q)) ** 2
    tw = sigma2 * (np.sqrt(n) + np.sqrt(m)) * (1.0 / np.sqrt(n) + 1.0 / np.sqrt(m)) ** (1 / 3) / n
    return (lam - edge) / tw
