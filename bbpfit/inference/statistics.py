"""Test statistics of the sequential spike test and their null counterparts.

Owns the self-normalised statistic ``T_k = l_{k+1} / sigma2_KN(k+1)`` (the (k+1)-th eigenvalue over
the Kritchman-Nadler noise estimate that treats the top ``k + 1`` eigenvalues as signals), its
Numba kernel for batches of null draws that only know the top eigenvalue and the trace, Ma's
(2012) centring and scaling of the largest eigenvalue, and Onatski's (2009) eigen-gap ratio.

Why this statistic: it is scale-equivariant in the numerator and the denominator, so its null law
does not depend on ``sigma2``; the KN denominator is unbiased under the alternative (the spike's
own energy is removed), which keeps the power of the oracle test that knows ``sigma2``; and for
``k = 0`` the null law is exact, because ``sigma2_KN(1)`` is a function of ``l_1`` and the trace
alone, both drawn exactly by :func:`bbpfit.laws.wishart.top_eigenvalues`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..fit.kritchman_nadler import kn_sigma2, kn_sigma2_sums
from ..fit.outliers import tw_edge


@njit(cache=True)
def kn_statistic_draws(top1: np.ndarray, trace: np.ndarray, m: int, n: float) -> np.ndarray:
    """``l_1 / sigma2_KN(1)`` for draws given their top eigenvalue and trace (both ``s**2 / n``)."""
    out = np.empty(top1.shape[0])
    one = np.empty(1)
    for b in range(top1.shape[0]):
        one[0] = top1[b]
        out[b] = top1[b] / kn_sigma2_sums(one, trace[b] - top1[b], m, n)
    return out


def kn_statistic(lam: np.ndarray, n: int, k: int) -> tuple[float, float]:
    """Step-``k`` statistic of a descending spectrum: ``(l_{k+1} / s, s)``, ``s = sigma2_KN(k+1)``.

    Under "exactly ``k`` spikes" it is compared with ``l_1 / sigma2_KN(1)`` of an ``(n, m - k)``
    null bulk: both use ``m - k - 1`` bulk eigenvalues and the same KN shrinkage ``(m-k-1)/n``.
    """
    s = float(kn_sigma2(lam, float(n), k + 1))
    return float(lam[k]) / s, s


def ma_constants(n: float, p: float) -> tuple[float, float]:
    """Ma's (2012) centring ``mu`` and scale ``sigma`` of ``lambda_max(X^T X)``, X n x p N(0, 1).

    ``(n * l_1 / sigma2 - mu) / sigma`` tends to TW1 with error ``O(min(n, p)^(-2/3))``;
    computed with the fit layer's :func:`bbpfit.fit.outliers.tw_edge` (the same constants).

    Examples
    --------
    >>> from bbpfit.inference.statistics import ma_constants
    >>> mu, sigma = ma_constants(1000, 500)
    >>> round(mu, 2), round(sigma, 3)
    (2912.15, 22.896)
    """
    mu = tw_edge(1.0, float(n), float(p), 0.0) * n
    return mu, tw_edge(1.0, float(n), float(p), 1.0) * n - mu


def onatski_ratio(top: np.ndarray, width: int) -> float | np.ndarray:
    """Onatski's statistic ``max_{1<=i<=width} (l_i - l_{i+1}) / (l_{i+1} - l_{i+2})``.

    ``top`` holds (at least) the ``width + 2`` largest eigenvalues of the bulk under test on its
    last axis, descending; free of both the noise level and the centring.
    """
    top = np.asarray(top, dtype=np.float64)
    gaps = top[..., : width + 1] - top[..., 1 : width + 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = gaps[..., :width] / gaps[..., 1 : width + 1]
    ratios = np.where(np.isnan(ratios), 0.0, ratios)
    out = ratios.max(axis=-1)
    return float(out) if out.ndim == 0 else out
