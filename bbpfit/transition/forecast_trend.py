"""The numpy core of the early warning: sub-threshold strength per step, its trend, its crossing.

Owns :func:`forecast_series`: given one spike rank's standardised eigenvalue ``x_t`` over the
recorded steps (TW scale, noise level by the mean eigenvalue) and the critical-window law of
that shape (:mod:`bbpfit.laws.critical_window`), over the last half of the record it gives

1. the crossing's distribution: the grid posterior of :mod:`bbpfit.transition.forecast_posterior`
   (a straight rise of ``w``, i.e. of ``theta``, through ``w = 0`` at ``t*``; each step's ``x_t``
   from the critical-window law at its ``w``, so steps far below the threshold, where the law
   does not move, carry no weight; log-likelihood tempered by ``(1 - rho) / (1 + rho)``, ``rho``
   the bias-corrected lag-one autocorrelation of the normal scores along the best path, as in
   :mod:`bbpfit.transition.growth`): its median is the predicted step, its quantiles the
   prediction interval, its mass within the horizon the crossing probability. Two earlier
   versions were dropped: per-step inverses ``w-hat_t`` with a line through them (the median
   inversion is so non-linear below ``w = -1`` that the line had the wrong sign of slope in
   half the runs), and a least-squares line with a parametric bootstrap (its root jumped between
   "now" and "never" and its intervals did not cover when the slope was not resolved);
2. the warning's test of a rise: the least-squares slope of ``x_t`` over the window against its
   parametric bootstrap under "no trend" (a constant ``w`` whose mean is the window's mean of
   ``x``, the law's draws through a Gaussian copula with AR(1) scores, ``rho`` from the whole
   record, the value within two standard errors of it under which the slope varies most, since
   a short record pins it poorly: with the point estimate, or one standard error above it, 6.0%
   and 7.5% false warnings over 200 records of slowly renewing noise, 5% of the entries per
   record, at 100 x 50 and 200 x 100; 13% with a cap of 0.99 instead of 0.95, as the slope of a
   nearly frozen series hardly varies): a one-sided p-value. (The slope of a fitted ``w`` path
   was tried first: started in the flat region below ``w = -2`` the fits of the null
   replicates did not move, so their slopes were 0 and the test rejected too often.) The
   warning is raised when it is at
   most ``alpha`` *and* the crossing probability is at least one half, so its false-warning
   rate on records without a spike is at most ``alpha``. A record whose top eigenvalue does not
   move (``lr = 0``) has no trend and never warns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from .forecast_posterior import D_GRID, crossing_posterior, prior_weights
from .growth import _ar1

__all__ = ["SeriesForecast", "forecast_series", "kl_from_prior"]

#: Largest autocorrelation of the trend test's null.
RHO_MAX = 0.99
#: Steps in the trend window: the last half of the record, at least this many ...
MIN_WINDOW = 5


@dataclass(frozen=True)
class SeriesForecast:
    """The forecast of one series (see :func:`forecast_series`)."""

    step: float
    ci_low: float
    ci_high: float
    probability: float
    pvalue: float
    law: str
    slope: float
    w_last: float
    rho: float
    window: tuple
    ess: float
    prior: tuple
    information: float


_ITER = 40
_B_MAX = 40.0


def _tables(law):
    """Mean, its derivative and the sd of ``x`` on the law's grid (derivative by differences)."""
    d = np.gradient(law.means, law.w)
    return law.w, law.means, np.maximum(d, 0.0), law.sds


def _interp(grid, table, w):
    return np.interp(w, grid, table)


def _objective(tab, tau, x, a, b):
    grid, mu, _, sd = tab
    w = a[:, None] + b[:, None] * tau
    r = (x - _interp(grid, mu, w)) / _interp(grid, sd, w)
    return np.sum(r * r, axis=1)


def _fit_batch(tab, tau, x, a0, b0=None, *, slope=True):
    """Least squares of ``x_t ~ mean(w_t)`` (weights ``1 / sd(w_t)^2``), ``w_t = a + b tau_t``,
    for every row of ``x`` at once (Levenberg-Marquardt; ``slope=False`` fixes ``b = 0``)."""
    grid, mu, dmu, sd = tab
    a = np.clip(a0, grid[0], grid[-1]).astype(np.float64)
    b = np.zeros_like(a) if b0 is None else b0.astype(np.float64)
    lam = np.full(a.shape, 1e-2)
    obj = _objective(tab, tau, x, a, b)
    for _ in range(_ITER):
        w = np.clip(a[:, None] + b[:, None] * tau, grid[0], grid[-1])
        s = _interp(grid, sd, w)
        r = (x - _interp(grid, mu, w)) / s
        j0 = _interp(grid, dmu, w) / s
        j1 = j0 * tau if slope else np.zeros_like(j0)
        h00, h01, h11 = (j0 * j0).sum(1), (j0 * j1).sum(1), (j1 * j1).sum(1)
        g0, g1 = (j0 * r).sum(1), (j1 * r).sum(1)
        h00, h11 = h00 * (1 + lam) + 1e-9, h11 * (1 + lam) + 1e-9
        det = h00 * h11 - h01 * h01
        da, db = (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det
        a1 = np.clip(a + da, grid[0], grid[-1])
        b1 = np.clip(b + db, -_B_MAX, _B_MAX) if slope else b
        obj1 = _objective(tab, tau, x, a1, b1)
        ok = obj1 < obj
        a, b, obj = np.where(ok, a1, a), np.where(ok, b1, b), np.where(ok, obj1, obj)
        lam = np.where(ok, lam * 0.3, lam * 10.0)
    return a, b


def _start(law, x):
    """Initial level: the ``w`` whose mean is the mean of the last few ``x`` (per row)."""
    tail = x[:, -min(5, x.shape[1]):].mean(axis=1)
    return np.interp(tail, np.maximum.accumulate(law.means), law.w)


def _lag1(z):
    """Lag-one autocorrelation of ``z`` about its mean, bias-corrected (Kendall 1954,
    ``+ (1 + 3 rho) / N``), in [0, :data:`RHO_MAX`]."""
    z = z - z.mean()
    den = float(np.sum(z * z))
    if not den > 0:
        return 0.0
    rho = float(np.sum(z[1:] * z[:-1]) / den)
    return min(max(rho + (1.0 + 3.0 * rho) / z.size, 0.0), RHO_MAX)


def _worst_rho(rho, N, tau):
    """The AR(1) coefficient within ``rho -+ 2 se`` that maximises the variance of the
    least-squares slope over ``tau``."""
    se = math.sqrt(max(1.0 - rho * rho, 0.01) / N)
    grid = np.linspace(max(rho - 2 * se, 0.0), min(rho + 2 * se, RHO_MAX), 41)
    c = tau - tau.mean()
    lag = np.abs(np.subtract.outer(np.arange(tau.size), np.arange(tau.size)))
    var = [float(c @ (r ** lag) @ c) for r in grid]
    return float(grid[int(np.argmax(var))])


def _simulate(law, w_path, rho, n_boot, rng):
    """``n_boot`` replicates of ``x`` along ``w_path`` with AR(1) normal scores (copula)."""
    T = w_path.size
    e = rng.standard_normal((n_boot, T))
    innov = math.sqrt(1.0 - rho * rho)
    for i in range(1, T):
        e[:, i] = rho * e[:, i - 1] + innov * e[:, i]
    u = ndtr(e)
    return law.sample(np.broadcast_to(w_path, (n_boot, T)), u)


def _quantiles(values, weights, qs):
    """Quantiles of a discrete distribution (``values`` increasing; a step function, so the
    quantile is the first value whose cumulative weight reaches ``q``)."""
    cdf = np.cumsum(weights)
    return tuple(float(values[min(int(np.searchsorted(cdf, q)), values.size - 1)]) for q in qs)


def kl_from_prior(post) -> float:
    """What the record added: the Kullback-Leibler divergence ``sum p log(p / prior)`` (nats)
    of the crossing's posterior weights on :data:`~bbpfit.transition.forecast_posterior.D_GRID`
    from the prior's; 0 when the eigenvalues said nothing (the forecast is the prior's)."""
    pw = prior_weights()
    p = np.asarray(post, dtype=np.float64)
    pos = p > 0
    return float(max(np.sum(p[pos] * np.log(p[pos] / pw[pos])), 0.0))


def forecast_series(law, steps, x, *, horizon, alpha=0.05, confidence_level=0.9, n_boot=400,
                    rng=None) -> SeriesForecast:
    """Forecast the crossing of one spike rank from its standardised eigenvalues ``x``.

    Parameters
    ----------
    law : bbpfit.laws.critical_window.CriticalWindowLaw
        The law of that rank's shape.
    steps : (N,) float, increasing; x : (N,) float, finite
    horizon : float > 0
        Steps after the last one within which the crossing probability is computed.
    alpha, confidence_level, n_boot, rng
        Level of the warning's trend test, of the prediction interval, bootstrap replicates,
        seed.

    Returns
    -------
    SeriesForecast
        ``step`` (the predicted crossing, ``inf`` when the fitted law does not rise to the
        threshold), ``ci_low``, ``ci_high`` (prediction interval of the crossing; ``inf`` for an
        unbounded upper end), ``probability`` (of crossing within ``horizon`` after the last
        step), ``pvalue`` (of the rise), ``law``, ``slope`` (``dw / dstep`` at the last step),
        ``w_last`` (the fitted ``w`` there), ``rho``, ``window``, ``ess``, ``prior`` (the
        interval's low end, median and high end under the prior alone: what the data added),
        ``information`` (:func:`kl_from_prior`, nats).
    """
    rng = np.random.default_rng(rng)
    steps = np.asarray(steps, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    N = steps.size
    start = max(0, N - max(MIN_WINDOW, N // 2))
    t, xs = steps[start:], x[start:]
    t_last = float(t[-1])
    scale = float(max(t[-1] - t[0], 1.0))
    tau = (t - t_last) / scale
    tab = _tables(law)
    a, b = (float(v[0]) for v in _fit_batch(tab, tau, xs[None], _start(law, xs[None])))
    w_fit = np.clip(a + b * tau, law.w[0], law.w[-1])
    if np.ptp(xs) == 0.0:  # nothing moves (lr = 0): one draw repeated, no information beyond it
        rho = 1.0
    else:
        _, w_map = crossing_posterior(law, tau, xs)
        z = ndtri(np.clip(law.cdf(xs, w_map), 1e-3, 1 - 1e-3))
        rho = _ar1(z - z.mean(), np.ones(z.size, bool), z.size)
    ess = (1.0 - rho) / (1.0 + rho)
    post, _ = crossing_posterior(law, tau, xs, ess=ess)
    cross = t_last + scale * np.maximum(D_GRID, 0.0)
    cross = np.where(D_GRID >= D_GRID[-1], np.inf, cross)  # the end of the grid: beyond reach
    q = (1.0 - confidence_level) / 2.0
    lo, step, hi = _quantiles(cross, post, (q, 0.5, 1.0 - q))
    prob = float(post[cross <= t_last + horizon].sum())
    prior = _quantiles(cross, prior_weights(), (q, 0.5, 1.0 - q))
    information = kl_from_prior(post)
    # trend test under "no rise": a constant w fitted, same autocorrelation, slopes refitted
    if np.ptp(xs) == 0.0:
        pvalue = 1.0
    else:
        # the null: a constant w, the level whose mean is the window's mean of x, and the AR(1)
        # scores of the whole record at that level (a trend in them only raises the estimate):
        # of the autocorrelations within two standard errors of it, the one that makes the
        # window's slope vary most (a short record pins rho poorly, and the slope's spread is
        # not monotone in rho: a nearly frozen record has almost no slope)
        w0 = float(np.interp(xs.mean(), np.maximum.accumulate(law.means), law.w))
        z0 = ndtri(np.clip(law.cdf(x, np.full(N, w0)), 1e-3, 1 - 1e-3))
        rho_t = _worst_rho(max(_lag1(z0), rho), N, tau)
        x0 = _simulate(law, np.full(t.size, w0), rho_t, n_boot, rng)
        tc = tau - tau.mean()
        pvalue = float((1 + np.count_nonzero(x0 @ tc >= xs @ tc)) / (n_boot + 1))
    return SeriesForecast(step=step, ci_low=lo, ci_high=hi, probability=prob, pvalue=pvalue,
                          law="linear", slope=float(b / scale), w_last=float(w_fit[-1]),
                          rho=float(rho), window=(float(t[0]), t_last), ess=float(ess),
                          prior=prior, information=information)
