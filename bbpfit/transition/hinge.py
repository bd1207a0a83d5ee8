"""Continuous one-break ("hinge") regression: flat, then a straight line, and where it bends.

Owns :func:`fit_hinge`: least squares of ``x(t) = a + b max(t - tau, 0)`` with ``b > 0``, the
break ``tau`` found exactly by profiling the residual sum of squares over a fine grid between
the first and the last step (each ``tau`` is a two-parameter linear fit, all grid points solved
at once in numpy). This is the exact single change point of the continuous piecewise-linear
cost (``ruptures``' ``"clinear"`` with one break, or Muggeo's segmented regression), in a few
lines and without a new dependency; one break is what a crossing needs.

The interval is a parametric bootstrap from the fitted hinge with AR(1) errors (successive
spectra share their noise), refitting ``tau`` each time, widened about the estimate:

* The flat part and the rising part get their own error scale and lag-one autocorrelation
  (the floor is mostly exact zeros, the rise carries the outlier's fluctuation: one pooled
  scale is too small for the rise, the part that places the break).
* Both are moment-matched to the residuals of the fitted segment (a constant, a line):
  ``rho`` solves ``E[sum r_i r_(i+1)] / E[sum r_i^2] = observed`` and the scale is
  ``RSS / tr(M Sigma(rho))``, ``M`` the residual projector, ``Sigma`` the AR(1) correlation.
  A fitted line absorbs much of a persistent error, so the raw residual scale and
  autocorrelation are both biased low (the latter beyond Kendall's ``(1 + 3 rho) / N``).
* The bootstrap sees only the noise about a straight rise; the rise is curved (``x`` is linear
  in ``theta - theta_c / theta``: concave in ``t`` for a linear ``theta(t)``, convex for an
  exponential one), which moves the break by an amount comparable to the noise. The
  interval's distances from the estimate are therefore multiplied by :data:`WIDEN`, measured on
  the spike trajectories of ``benchmarks/transition_accuracy.py`` (section 1 of
  docs/transition.md: coverage 0.57-0.61 at 1, 0.90-0.92 at 2.5, on 400 x 200 with drift 0.1
  and 0.3).

References
----------
V. M. R. Muggeo, "Estimating regression models with unknown break-points", Stat. Med.
22(19):3055-3071 (2003). doi:10.1002/sim.1545
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["HingeFit", "fit_hinge"]

_GRID = 400
#: Factor on the bootstrap interval's distances from the estimate (module docstring).
WIDEN = 2.5
_RHOS = np.linspace(0.0, 0.99, 100)


@dataclass(frozen=True)
class HingeFit:
    """``tau`` (the break), its percentile interval, slope ``b`` and residual autocorrelation."""

    tau: float
    ci_low: float
    ci_high: float
    slope: float
    rho: float


def _profile(t, X, grid):
    """Best ``(tau, a, b, rss)`` per column of ``X`` (N, B) over the break ``grid``."""
    H = np.maximum(t[:, None] - grid[None, :], 0.0)  # (N, G)
    n = t.size
    sh, shh = H.sum(0), (H * H).sum(0)
    sx = X.sum(0)  # (B,)
    sxx = (X * X).sum(0)
    shx = H.T @ X  # (G, B)
    det = n * shh - sh * sh  # (G,)
    ok = det > 1e-12 * max(float(shh.max()), 1.0) * n
    det = np.where(ok, det, np.inf)
    b = (n * shx - sh[:, None] * sx[None, :]) / det[:, None]
    a = (sx[None, :] - b * sh[:, None]) / n
    rss = sxx[None, :] - a * sx[None, :] - b * shx
    rss = np.where(ok[:, None] & (b > 0), rss, np.inf)
    j = np.argmin(rss, axis=0)
    cols = np.arange(X.shape[1])
    return grid[j], a[j, cols], b[j, cols], rss[j, cols]


def _ar1_moments(t, r, deg):
    """``(scale, rho)`` of AR(1) errors behind the residuals ``r`` of a degree-``deg`` polynomial
    fit in ``t``, moment-matched (module docstring); ``rho`` in [0, 0.99]."""
    k = r.size
    rss = float(np.sum(r * r))
    if k < deg + 4:
        return math.sqrt(rss / max(k - deg - 1, 1)), 0.0
    X = np.vander((t - t.mean()) / max(float(np.ptp(t)), 1.0), deg + 1)
    M = np.eye(k) - X @ np.linalg.pinv(X)
    i = np.arange(k - 1)
    A = 0.5 * (M[:, i] @ M[i + 1, :] + M[:, i + 1] @ M[i, :])  # M D M, D the lag-one form
    lag = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
    den = np.array([np.sum(M * r_ ** lag) for r_ in _RHOS])  # tr(M Sigma)
    num = np.array([np.sum(A * r_ ** lag) for r_ in _RHOS])  # tr(M D M Sigma)
    f = num / np.maximum(den, 1e-300)
    q = float(np.sum(r[1:] * r[:-1])) / max(rss, 1e-300)
    j = int(np.argmin(np.abs(f - q)))
    return math.sqrt(rss / max(float(den[j]), 1e-300)), float(_RHOS[j])


def _ar1_noise(n, rho, n_boot, rng):
    e = rng.standard_normal((n, n_boot))
    innov = math.sqrt(1.0 - rho * rho)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + innov * e[i]
    return e


def fit_hinge(t, x, *, confidence_level=0.9, n_boot=400, rng=None) -> HingeFit | None:
    """Fit the hinge to ``x(t)`` (finite values, increasing ``t``); None if no rising break.

    ``rho`` of the result is the rising part's moment-matched autocorrelation; the interval
    lies within ``[t[0], t[-1]]``.
    """
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if t.size < 5:
        return None
    grid = np.linspace(t[0], t[-2], _GRID)
    tau, a, b, rss = _profile(t, x[:, None], grid)
    if not np.isfinite(rss[0]):
        return None
    tau0 = float(tau[0])
    fitted = a[0] + b[0] * np.maximum(t - tau0, 0.0)
    r = x - fitted
    rise = t > tau0
    sd_r, rho = _ar1_moments(t[rise], r[rise], 1)
    sd_f, rho_f = _ar1_moments(t[~rise], r[~rise], 0)
    rng = np.random.default_rng(rng)
    e = np.where(rise[:, None], sd_r * _ar1_noise(t.size, rho, n_boot, rng),
                 sd_f * _ar1_noise(t.size, rho_f, n_boot, rng))
    tau_b, _, _, rss_b = _profile(t, fitted[:, None] + e, grid)
    ok = np.isfinite(rss_b)
    lo = hi = math.nan
    if ok.sum() >= n_boot // 2:
        q = (1.0 - confidence_level) / 2.0
        q_lo, q_hi = np.quantile(tau_b[ok], [q, 1.0 - q])
        lo = max(tau0 - WIDEN * max(tau0 - q_lo, 0.0), float(t[0]))
        hi = min(tau0 + WIDEN * max(q_hi - tau0, 0.0), float(t[-1]))
    return HingeFit(tau=tau0, ci_low=float(lo), ci_high=float(hi), slope=float(b[0]), rho=rho)
