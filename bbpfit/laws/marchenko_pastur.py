"""The Marchenko-Pastur law of a null spectrum, as a frozen scipy-style distribution.

Owns the closed-form density and distribution function, their Numba kernels (used by the bulk
estimators in :mod:`bbpfit.fit`) and the exact finite-n sampler entry point (``rvs``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import UNSET, as_real_array, check_int, check_positive, check_ratio, renamed


@njit(cache=True)
def mp_cdf_scalar(y: float, q: float) -> float:
    """MP(q, 1) distribution function at ``y`` (eigenvalue over sigma2), closed form."""
    sq = math.sqrt(q)
    a = (1.0 - sq) ** 2
    b = (1.0 + sq) ** 2
    if y <= a:
        return 0.0
    if y >= b:
        return 1.0
    r = math.sqrt((b - y) * (y - a))
    t1 = min(1.0, max(-1.0, (y - 1.0 - q) / (2.0 * sq)))
    val = r + (1.0 + q) * math.asin(t1)
    if q < 1.0:
        t2 = min(1.0, max(-1.0, ((1.0 + q) * y - (1.0 - q) ** 2) / (2.0 * sq * y)))
        val -= (1.0 - q) * math.asin(t2)
    f = 0.5 + val / (2.0 * math.pi * q)
    return min(1.0, max(0.0, f))


@njit(cache=True)
def mp_cdf_kernel(y: np.ndarray, q: float) -> np.ndarray:
    """Vectorised :func:`mp_cdf_scalar` over a 1-D array of standardised eigenvalues."""
    out = np.empty(y.shape[0])
    for i in range(y.shape[0]):
        out[i] = mp_cdf_scalar(y[i], q) if y[i] == y[i] else np.nan
    return out


@njit(cache=True)
def mp_pdf_kernel(y: np.ndarray, q: float) -> np.ndarray:
    """MP(q, 1) density at a 1-D array of standardised eigenvalues (0 outside the support)."""
    sq = math.sqrt(q)
    a = (1.0 - sq) ** 2
    b = (1.0 + sq) ** 2
    out = np.empty(y.shape[0])
    for i in range(y.shape[0]):
        v = y[i]
        if v != v:
            out[i] = np.nan
        elif a < v < b:
            out[i] = math.sqrt((b - v) * (v - a)) / (2.0 * math.pi * q * v)
        else:
            out[i] = 0.0
    return out


@njit(cache=True)
def mp_ppf_scalar(p: float, q: float) -> float:
    """Quantile of MP(q, 1) by bisection on the closed-form cdf (to float64 resolution)."""
    sq = math.sqrt(q)
    lo = (1.0 - sq) ** 2
    hi = (1.0 + sq) ** 2
    if p <= 0.0:
        return lo
    if p >= 1.0:
        return hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid == lo or mid == hi:
            break
        if mp_cdf_scalar(mid, q) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@njit(cache=True)
def mp_ppf_kernel(p: np.ndarray, q: float) -> np.ndarray:
    """Vectorised :func:`mp_ppf_scalar`; NaN outside [0, 1]."""
    out = np.empty(p.shape[0])
    for i in range(p.shape[0]):
        v = p[i]
        out[i] = mp_ppf_scalar(v, q) if 0.0 <= v <= 1.0 else np.nan
    return out


def _apply(kernel, x, q):
    arr = np.asarray(x, dtype=np.float64)
    out = kernel(np.ascontiguousarray(arr.ravel()), q).reshape(arr.shape)
    return out if out.ndim else float(out)


class MarchenkoPastur:
    """Frozen Marchenko-Pastur law with ratio ``q = m / n`` and scale ``sigma2``.

    The limiting eigenvalue distribution of ``W^T W / n`` for an n x m matrix with iid entries of
    variance ``sigma2`` (convention of DESIGN.md). Support ``[sigma2 (1 - sqrt q)^2, sigma2 (1 + sqrt q)^2]``.
    Methods follow ``scipy.stats``: ``pdf cdf sf ppf isf median mean var std support interval rvs``.
    """

    def __init__(self, ratio: float, sigma2: float = 1.0):
        self.ratio = check_ratio(ratio)
        self.sigma2 = check_positive(sigma2, "sigma2")

    def __repr__(self) -> str:
        return f"marchenko_pastur(ratio={self.ratio:.6g}, sigma2={self.sigma2:.6g})"

    def support(self) -> tuple[float, float]:
        """The bulk edges ``(lower, upper)``."""
        sq = math.sqrt(self.ratio)
        return self.sigma2 * (1.0 - sq) ** 2, self.sigma2 * (1.0 + sq) ** 2

    def pdf(self, x):
        """Density; 0 outside the support."""
        return _apply(mp_pdf_kernel, np.asarray(x, dtype=np.float64) / self.sigma2, self.ratio) / self.sigma2

    def cdf(self, x):
        """Distribution function (closed form, exact to rounding)."""
        return _apply(mp_cdf_kernel, np.asarray(x, dtype=np.float64) / self.sigma2, self.ratio)

    def sf(self, x):
        """Survival function ``1 - cdf``."""
        return 1.0 - self.cdf(x)

    def ppf(self, p):
        """Quantile function (bisection on the closed-form cdf); NaN outside [0, 1]."""
        return _apply(mp_ppf_kernel, p, self.ratio) * self.sigma2

    def isf(self, p):
        """Inverse survival function ``ppf(1 - p)``."""
        return self.ppf(1.0 - np.asarray(p, dtype=np.float64))

    def median(self) -> float:
        """Median (no closed form; Gavish & Donoho's ``mu_beta`` times ``sigma2``)."""
        return float(self.ppf(0.5))

    def mean(self) -> float:
        """Mean, ``sigma2``."""
        return self.sigma2

    def var(self) -> float:
        """Variance, ``sigma2**2 * q``."""
        return self.sigma2**2 * self.ratio

    def std(self) -> float:
        """Standard deviation."""
        return math.sqrt(self.var())

    def interval(self, confidence_level=UNSET, *, confidence=UNSET):
        """Central interval holding ``confidence_level`` of the mass (old name: ``confidence``)."""
        level = renamed(confidence_level, confidence, "confidence_level", "confidence", UNSET)
        if level is UNSET:
            raise TypeError("interval() needs `confidence_level`, e.g. interval(0.95)")
        c = check_positive(level, "confidence_level")
        if c > 1:
            raise ValueError(f"`confidence_level` must be in (0, 1], got {c}")
        return float(self.ppf((1 - c) / 2)), float(self.ppf((1 + c) / 2))

    def rvs(self, n: int, size=None, *, rng=None) -> np.ndarray:
        """Exact finite-n null spectra: eigenvalues of ``W^T W / n`` for Gaussian n x m ``W``.

        Parameters
        ----------
        n : int
            The long side; ``m = ratio * n`` must be a whole number.
        size : int or tuple of int, optional
            Number (shape) of independent spectra.
        rng : None, int or numpy.random.Generator
            Seed or generator.

        Returns
        -------
        numpy.ndarray
            Shape ``(*size, m)``, each row descending. Drawn from the Dumitriu-Edelman bidiagonal
            model in O(m^2) per spectrum (:func:`bbpfit.laws.wishart.null_eigenvalues`).
        """
        n = check_int(n, "n", minimum=1)
        m = int(round(self.ratio * n))
        if m < 1 or abs(self.ratio * n - m) > 1e-6 * n:
            raise ValueError(f"`n`={n} gives no integer m with m/n = ratio={self.ratio:.6g}")
        from .wishart import null_eigenvalues

        return self.sigma2 * null_eigenvalues(n, m, size, rng=rng)


def marchenko_pastur(ratio: float, sigma2: float = 1.0) -> MarchenkoPastur:
    """The frozen Marchenko-Pastur distribution with ratio ``q`` in (0, 1] and scale ``sigma2``.

    Parameters
    ----------
    ratio : float
        ``q = m / n = min(rows, cols) / max(rows, cols)``.
    sigma2 : float, default 1.0
        The entry variance (the law's mean).

    Returns
    -------
    MarchenkoPastur

    Notes
    -----
    With ``y = x / sigma2``, ``a, b = (1 -+ sqrt q)^2`` and ``r = sqrt((b - y)(y - a))`` the
    density is ``r / (2 pi q y sigma2)`` and the distribution function is

    ``F = 1/2 + [r + (1+q) asin((y-1-q) / (2 sqrt q))
    - (1-q) asin(((1+q) y - (1-q)^2) / (2 sqrt(q) y))] / (2 pi q)``.

    References
    ----------
    V. A. Marchenko and L. A. Pastur, "Distribution of eigenvalues for some sets of random
    matrices", Math. USSR-Sbornik 1(4):457-483 (1967). doi:10.1070/SM1967v001n04ABEH001994

    Examples
    --------
    >>> import bbpfit as bf
    >>> mp = bf.marchenko_pastur(0.5)
    >>> [round(e, 6) for e in mp.support()]
    [0.085786, 2.914214]
    >>> round(mp.median(), 6)
    0.830466
    """
    return MarchenkoPastur(ratio, sigma2)


def standardise(x, sigma2: float) -> np.ndarray:
    """Eigenvalues over ``sigma2`` as a float64 array (validated); helper for the estimators."""
    return as_real_array(x, "x") / check_positive(sigma2, "sigma2")
