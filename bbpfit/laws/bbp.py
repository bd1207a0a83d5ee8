"""BBP maps for additive rank-one spikes in rectangular noise (Benaych-Georges & Nadakuditi 2012).

Spike strength ``theta`` is in noise units: ``W = noise + sigma sqrt(n) sum theta_i u_i v_i^T``.
Owns the threshold, the forward map to the outlier eigenvalue, its inverse and the limiting
squared overlaps of the top singular vectors with the planted ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_real_array, check_positive, check_ratio


def _scalar_or_array(out: np.ndarray):
    return float(out) if out.ndim == 0 else out


def _nonneg(x, name: str) -> np.ndarray:
    arr = as_real_array(x, name, min_ndim=0)
    if np.any(arr < 0):
        raise ValueError(f"`{name}` must be >= 0")
    return arr


def bbp_threshold(ratio: float) -> float:
    """The detection threshold ``theta_c = ratio**0.25`` in noise units.

    Examples
    --------
    >>> import bbpfit as bf
    >>> round(bf.bbp_threshold(0.5), 6)
    0.840896
    """
    return check_ratio(ratio) ** 0.25


def spike_eigenvalue(theta, ratio: float, sigma2: float = 1.0):
    """Limiting outlier eigenvalue of a spike of strength ``theta``.

    ``sigma2 (1 + theta^2)(q + theta^2) / theta^2`` above the threshold; at or below it the top
    eigenvalue sticks to the bulk edge ``sigma2 (1 + sqrt q)^2``.

    References
    ----------
    F. Benaych-Georges and R. R. Nadakuditi, "The singular values and vectors of low rank
    perturbations of large rectangular random matrices", J. Multivariate Anal. 111:120-135 (2012).
    doi:10.1016/j.jmva.2012.04.019

    Examples
    --------
    >>> import bbpfit as bf
    >>> round(bf.spike_eigenvalue(2.0, 0.5), 6)
    5.625
    """
    q = check_ratio(ratio)
    s2 = check_positive(sigma2, "sigma2")
    t = _nonneg(theta, "theta")
    edge = (1.0 + np.sqrt(q)) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t2 = t * t
        y = np.where(t > q**0.25, (1.0 + t2) * (q + t2) / np.where(t2 > 0, t2, 1.0), edge)
    return _scalar_or_array(s2 * y)


def spike_strength(lam, ratio: float, sigma2: float = 1.0):
    """Invert :func:`spike_eigenvalue`: the strength ``theta`` that puts the outlier at ``lam``.

    ``theta^2 = [(y - 1 - q) + sqrt((y - 1 - q)^2 - 4q)] / 2`` with ``y = lam / sigma2``. NaN for
    eigenvalues below the bulk edge (they carry no information on theta); the edge maps to
    ``theta_c``. Invert only eigenvalues that a test has found significant.

    Examples
    --------
    >>> import bbpfit as bf
    >>> round(bf.spike_strength(bf.spike_eigenvalue(1.5, 0.25), 0.25), 12)
    1.5
    """
    q = check_ratio(ratio)
    s2 = check_positive(sigma2, "sigma2")
    y = _nonneg(lam, "lam") / s2
    edge = (1.0 + np.sqrt(q)) ** 2
    d = y - 1.0 - q
    disc = np.clip(d * d - 4.0 * q, 0.0, None)
    with np.errstate(invalid="ignore"):
        theta = np.where(y >= edge, np.sqrt(np.clip((d + np.sqrt(disc)) / 2.0, 0.0, None)), np.nan)
    return _scalar_or_array(theta)


@dataclass(frozen=True, eq=False)
class SpikeOverlaps:
    """Limiting squared overlaps of the top singular vectors with the planted ones.

    A frozen dataclass; it unpacks like the pair it used to be (``n, m = spike_overlaps(...)``).

    Attributes
    ----------
    n_side : float or numpy.ndarray
        ``|<u_hat, u>|^2`` on the long (n) side.
    m_side : float or numpy.ndarray
        ``|<v_hat, v>|^2`` on the short (m) side (the eigenvector of ``W^T W``).
    """

    n_side: float | np.ndarray
    m_side: float | np.ndarray

    def __iter__(self):
        return iter((self.n_side, self.m_side))

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {k: np.asarray(v).tolist() for k, v in (("n_side", self.n_side), ("m_side", self.m_side))}


def spike_overlaps(theta, ratio: float) -> SpikeOverlaps:
    """Squared overlaps of the outlier's singular vectors with the planted ``u`` (n side), ``v`` (m side).

    ``n side: (1 - q/theta^4) / (1 + 1/theta^2)``, ``m side: (1 - q/theta^4) / (1 + q/theta^2)``
    above the threshold and 0 below (Benaych-Georges & Nadakuditi 2012, Section 3.1).

    Examples
    --------
    >>> import bbpfit as bf
    >>> ov = bf.spike_overlaps(2.5, 0.5)
    >>> round(ov.n_side, 3), round(ov.m_side, 3)
    (0.851, 0.914)
    """
    q = check_ratio(ratio)
    t = _nonneg(theta, "theta")
    with np.errstate(divide="ignore", invalid="ignore"):
        t2 = np.where(t > 0, t * t, 1.0)
        core = 1.0 - q / (t2 * t2)
        above = t > q**0.25
        n_side = np.where(above, core / (1.0 + 1.0 / t2), 0.0)
        m_side = np.where(above, core / (1.0 + q / t2), 0.0)
    return SpikeOverlaps(_scalar_or_array(n_side), _scalar_or_array(m_side))
