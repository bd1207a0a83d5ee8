"""Continuous one-break ("hinge") regression: flat, then a straight line, and where it bends.

Owns :func:`fit_hinge`: least squares of ``x(t) = a + b max(t - tau, 0)`` with ``b > 0``, the
break ``tau`` found exactly by profiling the residual sum of squares over a fine grid between
the first and the last step (each ``tau`` is a two-parameter linear fit, all grid points solved
at once in numpy). This is the exact single change point of the continuous piecewise-linear
cost (``ruptures``' ``"clinear"`` with one break, or Muggeo's segmented regression), in a few
lines and without a new dependency; one break is what a crossing needs. The interval is a
parametric AR(1) bootstrap of the residuals, refitting ``tau`` each time.

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


def fit_hinge(t, x, *, confidence_level=0.9, n_boot=400, rng=None) -> HingeFit | None:
    """Fit the hinge to ``x(t)`` (finite values, increasing ``t``); None if no rising break."""
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if t.size < 5:
        return None
    grid = np.linspace(t[0], t[-2], _GRID)
    tau, a, b, rss = _profile(t, x[:, None], grid)
    if not np.isfinite(rss[0]):
        return None
    fitted = a[0] + b[0] * np.maximum(t - tau[0], 0.0)
    r = x - fitted
    sd = math.sqrt(float(rss[0]) / max(t.size - 3, 1))
    rho = float(np.sum(r[1:] * r[:-1]) / max(np.sum(r * r), 1e-300))
    rho = min(max(rho + (1.0 + 3.0 * rho) / t.size, 0.0), 0.95)
    rng = np.random.default_rng(rng)
    e = rng.standard_normal((t.size, n_boot))
    innov = math.sqrt(1.0 - rho * rho)
    for i in range(1, t.size):
        e[i] = rho * e[i - 1] + innov * e[i]
    tau_b, _, _, rss_b = _profile(t, fitted[:, None] + sd * e, grid)
    ok = np.isfinite(rss_b)
    lo = hi = math.nan
    if ok.sum() >= n_boot // 2:
        q = (1.0 - confidence_level) / 2.0
        lo, hi = np.quantile(tau_b[ok], [q, 1.0 - q])
    return HingeFit(tau=float(tau[0]), ci_low=float(lo), ci_high=float(hi), slope=float(b[0]),
                    rho=rho)
