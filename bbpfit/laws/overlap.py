"""BBP prediction of singular-vector overlaps for a matrix of given shape, with an interval.

Owns :func:`predicted_overlaps`: the limiting squared overlaps of a spike's sample left and right
singular vectors with its population directions, for a weight matrix of shape ``(rows, cols)``
(a torch ``Linear`` weight is ``(out, in)``: left vectors have length ``rows``), as a function of
the strength ``theta`` in noise units (DESIGN.md). The long (n) side gets
``(1 - q/theta^4) / (1 + 1/theta^2)``, the short (m) side ``(1 - q/theta^4) / (1 + q/theta^2)``
(:func:`bbpfit.laws.spike_overlaps`), both 0 at or below ``theta_c = q^(1/4)``. Both are
nondecreasing in ``theta``, so an interval for ``theta`` maps to one for each overlap by its ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_real_array
from .bbp import spike_overlaps

__all__ = ["OverlapPrediction", "predicted_overlaps"]


@dataclass(frozen=True, eq=False)
class OverlapPrediction:
    """Predicted squared overlaps ``|<u_hat, u>|^2`` (left) and ``|<v_hat, v>|^2`` (right).

    Attributes
    ----------
    theta : numpy.ndarray
        The strengths the prediction is for (noise units).
    rows, cols : int
        The matrix shape: left vectors have length ``rows``, right vectors ``cols``.
    theta_c : float
        ``(m / n)**0.25``: below it both overlaps are 0.
    left, right : numpy.ndarray
        The overlaps at ``theta``.
    left_low, left_high, right_low, right_high : numpy.ndarray
        The overlaps at the ends of ``theta``'s interval (NaN when none was given).
    """

    theta: np.ndarray
    rows: int
    cols: int
    theta_c: float
    left: np.ndarray
    right: np.ndarray
    left_low: np.ndarray
    left_high: np.ndarray
    right_low: np.ndarray
    right_high: np.ndarray

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()}

    def summary(self) -> str:
        """One line per strength: theta, then each side's overlap and interval."""
        lines = [f"BBP overlap prediction, W {self.rows}x{self.cols}, theta_c = {self.theta_c:.4f}",
                 f"{'theta':>8} {'left':>7} {'[low, high]':>16} {'right':>7} {'[low, high]':>16}"]
        for i, t in enumerate(np.atleast_1d(self.theta).ravel()):
            row = [np.atleast_1d(getattr(self, k)).ravel()[i]
                   for k in ("left", "left_low", "left_high", "right", "right_low", "right_high")]
            lines.append(f"{t:>8.4g} {row[0]:>7.4f} [{row[1]:>6.4f}, {row[2]:>6.4f}] "
                         f"{row[3]:>7.4f} [{row[4]:>6.4f}, {row[5]:>6.4f}]")
        return "\n".join(lines)


def _sides(theta: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    q = min(rows, cols) / max(rows, cols)
    finite = np.isfinite(theta)
    ov = spike_overlaps(np.where(finite, np.maximum(theta, 0.0), 0.0), q)
    n_side, m_side = (np.where(finite, np.asarray(x, np.float64), np.nan) for x in ov)
    return (n_side, m_side) if rows >= cols else (m_side, n_side)


def predicted_overlaps(theta, rows: int, cols: int, *, theta_low=None,
                       theta_high=None) -> OverlapPrediction:
    """BBP squared overlaps of a spike's left/right singular vectors with its population directions.

    Parameters
    ----------
    theta : float or array_like
        Spike strength(s) in noise units (e.g. ``theta_hat`` from :func:`bbpfit.spike_test`);
        NaN gives NaN (a strength that was not estimated).
    rows, cols : int
        Shape of the weight matrix (left vectors have length ``rows``).
    theta_low, theta_high : float or array_like, optional
        An interval for ``theta`` (e.g. ``SpikeTestResult.confidence_interval()``), broadcast
        with it; its ends give the overlaps' interval.

    Returns
    -------
    OverlapPrediction

    Raises
    ------
    ValueError
        ``rows`` or ``cols`` < 1, negative strengths, or ``theta_low > theta_high``.

    Notes
    -----
    Asymptotic in ``n -> inf`` at fixed ``q = m / n`` for an MP bulk (Benaych-Georges &
    Nadakuditi 2012, Example 3.1 with ``theta`` the signal singular value in units of
    ``sigma sqrt(n)``). Checked against brute-force simulation (``docs/alignment.md``) and against
    the D-transform integrals evaluated by mpmath (``tests/test_overlap_prediction.py``). At
    finite ``n`` the measured overlap is not 0 just below ``theta_c`` (critical window).

    References
    ----------
    F. Benaych-Georges and R. R. Nadakuditi, "The singular values and vectors of low rank
    perturbations of large rectangular random matrices", J. Multivariate Anal. 111:120-135 (2012).
    doi:10.1016/j.jmva.2012.04.019

    Examples
    --------
    >>> from bbpfit.laws.overlap import predicted_overlaps
    >>> p = predicted_overlaps(2.5, 1000, 500, theta_low=2.4, theta_high=2.6)
    >>> round(float(p.left), 3), round(float(p.right), 3)
    (0.851, 0.914)
    >>> bool(p.left_low < p.left < p.left_high)
    True
    """
    for name, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"`{name}` must be an integer >= 1, got {v!r}")
    rows, cols = int(rows), int(cols)
    t = np.asarray(as_real_array(theta, "theta", min_ndim=0, allow_nonfinite=True), np.float64)
    if np.any(t < 0) or np.any(np.isinf(t)):
        raise ValueError("`theta` must be finite and >= 0 (NaN for not estimated)")
    nan = np.full(t.shape, np.nan)
    lo = nan if theta_low is None else np.broadcast_to(
        as_real_array(theta_low, "theta_low", min_ndim=0, allow_nonfinite=True), t.shape)
    hi = nan if theta_high is None else np.broadcast_to(
        as_real_array(theta_high, "theta_high", min_ndim=0, allow_nonfinite=True), t.shape)
    if np.any(np.isinf(lo)) or np.any(np.isinf(hi)) or np.any(lo < 0):
        raise ValueError("`theta_low`/`theta_high` must be finite and >= 0 (NaN for none)")
    if np.any(lo > hi):
        raise ValueError("`theta_low` must be <= `theta_high`")
    left, right = _sides(t, rows, cols)
    l_lo, r_lo = _sides(np.asarray(lo, np.float64), rows, cols)
    l_hi, r_hi = _sides(np.asarray(hi, np.float64), rows, cols)
    q = min(rows, cols) / max(rows, cols)
    return OverlapPrediction(t, rows, cols, q**0.25, left, right, l_lo, l_hi, r_lo, r_hi)
