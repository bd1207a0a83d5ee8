"""Outlier counting shared by the bulk estimators: the Tracy-Widom edge margin.

Owns the rule that decides which top eigenvalues are left out of a bulk fit: an eigenvalue is an
outlier when it lies more than ``TW_MARGIN`` Tracy-Widom units above the finite-n largest-eigenvalue
centring of an ``n_eff x p`` Gaussian matrix of the fitted scale (Ma 2012). This is a robust
trimming rule, not a test: calibrated p-values live in :mod:`bbpfit.inference`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Margin above Ma's centring, in TW1 units. 2.0 is about the 99% point of TW1 (2.0234), so a
#: pure-noise spectrum loses its top eigenvalue to the trimming in about 1% of draws.
TW_MARGIN = 2.0


@njit(cache=True)
def tw_edge(sigma2: float, n_eff: float, p: float, margin: float) -> float:
    """Trimming threshold for a bulk of ``p`` eigenvalues of a matrix with ``n_eff`` long side.

    ``sigma2 * (mu + margin * s) / n_eff`` with Ma's (2012) real-case constants
    ``mu = (sqrt(n - 1/2) + sqrt(p - 1/2))^2`` and
    ``s = (sqrt(n - 1/2) + sqrt(p - 1/2)) (1/sqrt(n - 1/2) + 1/sqrt(p - 1/2))^(1/3)``.
    """
    a = math.sqrt(max(n_eff - 0.5, 0.5))
    b = math.sqrt(max(p - 0.5, 0.5))
    mu = (a + b) ** 2
    s = (a + b) * (1.0 / a + 1.0 / b) ** (1.0 / 3.0)
    return sigma2 * (mu + margin * s) / n_eff


@njit(cache=True)
def count_above(lam: np.ndarray, threshold: float, kmax: int) -> int:
    """Number of leading entries of the descending ``lam`` above ``threshold``, at most ``kmax``."""
    k = 0
    while k < kmax and lam[k] > threshold:
        k += 1
    return k


@njit(cache=True)
def quantile_desc(lam: np.ndarray, p: float) -> float:
    """Empirical ``p``-quantile of a descending array, plotting positions ``(i - 1/2) / m``.

    Linear interpolation between order statistics, so a spectrum made of the exact MP quantiles
    at ``(i - 1/2) / m`` returns the MP quantile at every plotting position.
    """
    m = lam.shape[0]
    x = p * m - 0.5  # position in ascending order, 0-based
    if x <= 0.0:
        return lam[m - 1]
    if x >= m - 1:
        return lam[0]
    i = int(math.floor(x))
    f = x - i
    lo = lam[m - 1 - i]
    hi = lam[m - 2 - i]
    return lo + f * (hi - lo)
