"""Growth laws of the spike strength over steps, fitted with censoring, and the crossing step.

Owns :func:`fit_growth`: given the strength ratio ``u(t) = theta-hat(t) / theta_c(t)`` of one
spike over the recorded steps, observed only where the spike was significantly out (elsewhere
known to be below the step's censoring point ``c(t)``, the ratio at which the test would have
seen it), fit ``u = g(t)`` by censored maximum likelihood (:func:`bbpfit.transition.tobit`) for
each law of :data:`GROWTH_LAWS`, solve each for ``g(t*) = 1`` (the step at which the spike
crossed the BBP threshold) and take the weighted median of the crossings (Akaike weights).
Steps where the spike is hidden in the bulk thus say "not
above ``c(t)`` yet", which pins ``t*`` without the lag of a first-detection rule. The crossing
is constrained to the recorded steps (``bounds``), in the estimate and in every bootstrap
replicate: a law that would put it before the first step says "at or before the first step"
(``censored="left"``), never a step outside the record.

Noise model: ``u-hat = g + kappa s(g) e`` with ``s(u)^2 = 1 + 2.7 / (u^4 - 1)`` (the spread
of the inverted outlier of an additive spike, measured with the exact spiked sampler; it
diverges at the threshold like the slope of the inverse BBP map) and ``kappa`` fitted. The
interval is a parametric bootstrap with AR(1) errors (the spectra of successive steps share
their noise): the lag-one autocorrelation of the standardised residuals, bias-corrected for a
fitted line (``(2 + 4 rho) / N``, Kendall's ``(1 + 3 rho) / N`` plus the fitted slope), drives
the simulated errors; censoring is re-applied and the law refitted each time (its rate or
kink too). Every law with a weight of at least :data:`W_MIN` is bootstrapped and the
replicates are pooled with the law's weight (model averaging, Buckland et al. 1997), so the
interval carries the uncertainty of the law's choice, not only that of its parameters: a
single law fitted to a trajectory of another shape covered 62% of held-out crossings at 90%.
Weights: ``exp(ess (loglik - p) / TEMPER)`` (``p`` parameters, AIC), the log-likelihood scaled
by the effective sample size under AR(1) errors, ``ess = (1 - rho) / (1 + rho)`` per row. Chance
hits (:data:`CHANCE_LEVEL`) before the spike is significant for good count as censored rows.

The laws describe the rise *around the crossing*: the window ends where the observed ratio
reaches :data:`U_MAX` or the rise stalls, and a straight rise that stops dead (``"plateau"``,
the kink profiled over the observed steps) competes with the smooth ones, so a
rise-then-plateau is not fitted by a line through the plateau (whose root lies far before the
record: ``t_unbounded = -335`` on a tiny BERT run).

References
----------
S. T. Buckland, K. P. Burnham and N. H. Augustin, "Model selection: an integral part of
inference", Biometrics 53(2):603-618 (1997). doi:10.2307/2533961

J. Tobin, "Estimation of relationships for limited dependent variables", Econometrica
26(1):24-36 (1958). doi:10.2307/1907382

M. G. Kendall, "Note on bias in the estimation of autocorrelation", Biometrika 41:403-404
(1954). doi:10.1093/biomet/41.3-4.403
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .tobit import tobit_fit

__all__ = ["GROWTH_LAWS", "GrowthFit", "fit_growth"]

#: Growth laws ``g(t)``: ``"linear"`` ``a + b t``; ``"exponential"`` ``exp(a + b t)``;
#: ``"saturating"`` ``a - b exp(-r t)`` (the signal of the linear teacher-student
#: model, ``s (1 - (1 - lr)^t)``; ``r`` profiled on a grid and counted as a parameter, and only
#: rates that level off, 80% of the way, within the observed steps); ``"plateau"``
#: ``a + b min(t, k)`` (a straight rise that stops at the kink ``k``, profiled over the observed
#: steps). Also available through ``laws=``, not a default: ``"quadratic"`` ``a + b t + c t^2``
#: (it took the weight on straight rises whose noise happened to curve and put ``t*`` 27% late
#: in tests/test_transition_cli.py).
GROWTH_LAWS = ("linear", "exponential", "saturating", "plateau")
#: Regression parameters of each law (a profiled rate or kink counts).
_NPAR = {"linear": 2, "exponential": 2, "quadratic": 3, "saturating": 3, "plateau": 3}
#: Kinks of the ``"plateau"`` law tried: the first observed steps, leaving this many on the
#: plateau ...
_PLATEAU_MIN = 3
#: ... at most this many candidates.
_KINKS = 12
#: Temperature of the model weights: log-likelihood differences (already scaled by the effective
#: sample size) are divided by it before ``exp``; above 1 the weights spread over the laws that
#: fit about as well: the interval carries more of the law's choice (no law has a sigmoid's
#: inflection). Tuned with :data:`CHANCE_LEVEL` on 48 runs per cell of section 1b's grid, seeds
#: 5001-5027 and 8001-8027 (not the benchmark's): logistic cells' coverage 0.83 -> 0.88.
TEMPER = 2.0
#: Laws below this weight are left out of the bootstrap ...
W_MIN = 0.02
#: ... and each law kept gets at least this many replicates (weighted by its share).
N_BOOT_MIN = 40
_RATES = np.geomspace(0.5, 40.0, 10)
#: Window: the fit uses the steps until the (running-median) observed ratio reaches this value
#: (at least :data:`MIN_FAST` observed steps; 3 before the growth laws were averaged: a
#: narrower window fits the rise near the crossing, not the top of a sigmoid; 1.6-1.8 cost
#: accuracy on straight rises, section 1b of docs/transition.md) ...
U_MAX = 2.2
#: A stall (below) ends the window only after this many observed steps.
MIN_OBSERVED = 8
#: Fewest observed steps in the window to fit a law (fewer: the rise is not resolved).
MIN_FIT = 4
#: A fast rise that reaches :data:`U_MAX` within fewer observed steps is given this many: the
#: most parameters of a law (3) + the noise scale + 2 degrees of freedom, no more. Rows past
#: :data:`U_MAX` describe the bend towards saturation, not the crossing: taking 8 of them (the
#: former rule) on a rise first seen 1-2 records after the start put the bend in every window,
#: the laws' backward extrapolations then spread over 10 steps (linear 18, saturating 26-29 on
#: the digits MLP at lr 0.2, 2.weight) and the model weights, flattened by the misfit's
#: autocorrelation, picked one or the other from seed to seed (seed spread 62%).
MIN_FAST = 6
#: ... and until the rise stalls: over the last quarter of the time since the spike was first
#: seen, the (running-median) ratio gained less than this fraction of its gain since then (a
#: line gains a quarter) and it never gains a quarter more later (the laws describe the rise,
#: not a saturation).
STALL = 0.1
#: The "never gains a quarter more later" of the stall rule looks this many times the time
#: since the spike was first seen ahead, no further: the window (and so the estimate) does not
#: depend on records long after the crossing.
LOOK_AHEAD = 1.5
#: Prior bonus (log units) of the first law in the model weights (2 until chance hits were set
#: aside: favouring the line put convex rises 2-4% late once they no longer pulled it early;
#: exponential cells of section 1b, 48 runs: median error +3.3% with 1, +1.2% with 0).
PREFER_FIRST = 0.0
#: Hits before the first run of :data:`RUN` significant records where the law fitted to all
#: the records is below this fraction of the threshold are chance (the test's 5% false
#: alarms, ~1 in 20 records before the crossing): the Gaussian noise model can only explain
#: them by a law close to the threshold, which pulled slow, flat-then-steep rises 4-7% early
#: (logistic cells of section 1b). They count as censored at their own value ("below it").
CHANCE_LEVEL = 0.5
#: ... the run of consecutive significant records after which hits are never set aside.
RUN = 3
_U_FLOOR = 1.02
#: ``sd(u-hat)^2 ~ 1 + _SHAPE / (u^4 - 1)``: the spread of the inverted outlier, measured with
#: the exact spiked sampler (ratio 1/2, n = 400 and 1000: 0.102, 0.078, 0.070, 0.066 at
#: u = 1.3, 1.6, 2, 2.5 for n = 400, the same shape at n = 1000); it diverges at the threshold
#: like the inverse BBP map's slope.
_SHAPE = 2.7


@dataclass(frozen=True)
class GrowthFit:
    """A fitted growth law and the step at which it crosses the threshold.

    Attributes
    ----------
    law : str
        The law of largest weight (a member of :data:`GROWTH_LAWS`).
    t_cross, ci_low, ci_high : float
        ``g(t*) = 1`` and its bootstrap percentile interval (NaN if not solvable).
    loglik : dict
        Maximised log-likelihood of each law (on the scale of ``u``).
    kappa : float
        Fitted noise scale.
    rho : float
        Lag-one autocorrelation of the standardised residuals used by the bootstrap.
    n_observed, n_censored : int
        Rows of the window seen above / hidden below their censoring point.
    window : tuple of float
        First and last step of the window.
    n_boot_failed : int
        Bootstrap replicates without a solvable crossing.
    t_unbounded : float
        The root of the fitted law before it is bounded to the recorded steps (may lie outside
        them: a backward extrapolation).
    censored : str or None
        ``"left"`` when the root lies before the first recorded step (``t_cross`` is then that
        step: the crossing happened at or before it), ``"right"`` when it lies after the last
        one (``t_cross`` is the last step), None inside.
    weights : dict
        Model weight of each law that rises through the threshold (they sum to 1); the
        crossing is the weighted median of their crossings and the interval pools their bootstrap replicates.
    """

    law: str
    t_cross: float
    ci_low: float
    ci_high: float
    loglik: dict
    kappa: float
    rho: float
    n_observed: int
    n_censored: int
    window: tuple
    n_boot_failed: int
    t_unbounded: float = math.nan
    censored: str | None = None
    weights: dict = field(default_factory=dict)


def _scale(g):
    u4 = np.maximum(g, _U_FLOOR) ** 4
    return np.sqrt((u4 - 1.0 + _SHAPE) / (u4 - 1.0))


def _design(law, tau, rate):
    if law == "saturating":
        return np.stack([np.ones_like(tau), -np.exp(-rate * tau)], axis=1)
    if law == "quadratic":
        return np.stack([np.ones_like(tau), tau, tau * tau], axis=1)
    if law == "plateau":  # a straight rise that stops at the kink ``rate``
        return np.stack([np.ones_like(tau), np.minimum(tau, rate)], axis=1)
    return np.stack([np.ones_like(tau), tau], axis=1)


def _fit_once(law, X, u, c, obs):
    """Fit one law with a given design, twice (scales from the data, then from the fit)."""
    g = np.where(obs, u, c)
    for _ in range(2):
        s = _scale(g)
        if law == "exponential":
            y, cc, ss = np.log(np.maximum(u, 1e-12)), np.log(c), s / np.maximum(g, _U_FLOOR)
        else:
            y, cc, ss = u, c, s
        try:
            # contiguous copies: one compiled signature of the kernel, whatever slices came in
            beta, kappa, ll, ok = tobit_fit(*(np.ascontiguousarray(a) for a in (X, y, cc, ss, obs)))
        except np.linalg.LinAlgError:  # a degenerate design (a bootstrap replicate, no support)
            return None
        if not ok:
            return None
        lin = X @ beta
        g = np.exp(lin) if law == "exponential" else lin
    if law == "exponential":
        ll -= float(np.sum(np.log(u[obs])))  # density of u, not of log u
    return {"beta": beta, "kappa": kappa, "ll": ll, "s": ss, "X": X, "rate": math.nan}


def _fit_law(law, tau, u, c, obs, rate=None):
    """Fit ``law``; the saturating law profiles its rate over :data:`_RATES` (or uses ``rate``)."""
    if law not in ("saturating", "plateau"):
        return _fit_once(law, _design(law, tau, 0.0), u, c, obs)
    best = None
    if law == "plateau":
        rates = tau[obs][1:-_PLATEAU_MIN][:_KINKS]  # two observed rows on the rise at least
    else:
        span = float(np.ptp(tau[obs])) if obs.any() else 0.0
        rates = _RATES[_RATES * span >= math.log(5.0)]  # it must level off (80%) where seen
    for r in (rates if rate is None else (rate,)):
        fit = _fit_once(law, _design(law, tau, r), u, c, obs)
        if fit is not None and (best is None or fit["ll"] > best["ll"]):
            best = fit
            best["rate"] = r
    return best


def _fitted(law, fit):
    lin = fit["X"] @ fit["beta"]
    return np.exp(lin) if law == "exponential" else lin


def _crossing(law, fit):
    """``tau*`` with ``g(tau*) = 1``, NaN if the law does not rise through 1."""
    if law == "quadratic":  # the root where the parabola rises
        b0, b1, b2 = fit["beta"]
        disc = b1 * b1 - 4.0 * b2 * (b0 - 1.0)
        if disc < 0:
            return math.nan
        den = b1 + math.sqrt(disc)  # (-b1 + sqrt(disc)) / (2 b2), stable as b2 -> 0
        return 2.0 * (1.0 - b0) / den if den > 0 else math.nan
    b0, b1 = fit["beta"]
    if not b1 > 0:
        return math.nan
    if law == "linear":
        return (1.0 - b0) / b1
    if law == "plateau":
        r = (1.0 - b0) / b1
        return r if r <= fit["rate"] else math.nan
    if law == "exponential":
        return -b0 / b1
    if not b0 > 1.0:  # saturating: b0 - b1 exp(-rate tau) = 1
        return math.nan
    return -math.log((b0 - 1.0) / b1) / fit["rate"]


def _fits(tau, u, c, obs, laws):
    fits = {}
    for law in laws:
        res = _fit_law(law, tau, u, c, obs)
        if res is not None:
            fits[law] = res
    return fits


def _ar1(resid, obs, n_obs):
    """Lag-one autocorrelation of standardised residuals, bias-corrected, in [0, 0.95]."""
    pairs = obs[1:] & obs[:-1]
    if np.count_nonzero(pairs) < 3:
        return 0.0
    a, b = resid[1:][pairs], resid[:-1][pairs]
    rho = float(np.sum(a * b) / max(np.sum(b * b), 1e-300))
    return min(max(rho + (2.0 + 4.0 * rho) / n_obs, 0.0), 0.95)


def _resid(law, fit, u):
    y = np.log(np.where(u > 0, u, 1.0)) if law == "exponential" else u
    return (y - fit["X"] @ fit["beta"]) / (fit["kappa"] * fit["s"])


def _window(t, u, obs):
    """Index one past the window's end (see :func:`fit_growth`).

    The end is decided from the records up to it and a bounded look-ahead only (at most
    :data:`LOOK_AHEAD` times the time since the spike was first seen), never from the whole
    store: recording longer after the crossing cannot move the window, so it cannot move the
    estimate (issue #11: "recording longer never moves a crossing"). Without that bound, a
    stall that a short store saw as final and a longer store saw resume gave two windows
    (digits MLP, 0.weight rank 2: window to step 435 on 1000 steps, to 1410 on 5000). A rise
    that neither reaches :data:`U_MAX` nor stalls still takes all the records there are.
    """
    idx = np.flatnonzero(obs)
    if idx.size == 0:
        return u.size
    k = min(5, idx.size)
    smooth = np.array([np.median(u[idx[max(i - k // 2, 0): i + k // 2 + 1]])
                       for i in range(idx.size)])
    ts = t[idx]
    end, reached = u.size, False
    for i in range(idx.size):
        if smooth[i] >= U_MAX:
            end, reached = idx[i] + 1, True
            break
        back = np.searchsorted(ts, ts[i] - 0.25 * (ts[i] - ts[0]))
        ahead = np.searchsorted(ts, ts[i] + LOOK_AHEAD * (ts[i] - ts[0]), side="right")
        gain = smooth[i] - smooth[0]
        if (i >= MIN_OBSERVED and smooth[i] - smooth[back] < STALL * gain
                and smooth[i:ahead].max() - smooth[i] < 0.25 * gain):
            end = idx[i] + 1  # the rise has stalled: a plateau, not the growth law
            break
    if np.count_nonzero(obs[:end]) < MIN_FAST and reached:
        end = idx[min(MIN_FAST, idx.size) - 1] + 1  # a fast rise: a few more points
    return int(end)


def _chance_hits(t, u, c, obs, laws):
    """``obs`` without the chance hits (:data:`CHANCE_LEVEL`): the records before the first run of
    :data:`RUN` significant ones where the best law fitted to all the records is below it."""
    run = obs.copy()
    for j in range(1, RUN):
        run[:-j] &= obs[j:]
        run[-j:] = False
    first = int(np.argmax(run)) if run.any() else 0
    end = _window(t, u, obs)
    if not obs[:first].any() or np.count_nonzero(obs[:end]) < MIN_FIT:
        return obs
    t0, ts = float(t[:end][obs[:end]].mean()), float(max(np.ptp(t[:end]), 1.0))
    fits = _fits((t[:end] - t0) / ts, u[:end], c[:end], obs[:end], laws)
    if not fits:
        return obs
    top = max(fits, key=lambda k: fits[k]["ll"] - _NPAR[k])
    rate = fits[top]["rate"] if math.isfinite(fits[top]["rate"]) else 0.0
    lin = _design(top, (t[:first] - t0) / ts, rate) @ fits[top]["beta"]
    out = obs.copy()
    out[:first] &= (np.exp(lin) if top == "exponential" else lin) >= CHANCE_LEVEL
    return out


def _bounded(x, lo, hi):
    """``x`` limited to ``[lo, hi]`` and which side it was limited on (NaN stays NaN)."""
    if not math.isfinite(x):
        return x, None
    if x < lo:
        return lo, "left"
    if x > hi:
        return hi, "right"
    return x, None


def _weights(fits, ess, first):
    """Akaike weights of the fitted laws, the log-likelihood differences scaled by ``ess`` and
    tempered by :data:`TEMPER` (module docstring)."""
    score = {law: ess * (f["ll"] - _NPAR[law] + (PREFER_FIRST if law == first else 0.0))
             / TEMPER for law, f in fits.items()}
    top = max(score.values())
    w = {law: math.exp(s - top) for law, s in score.items()}
    tot = sum(w.values())
    return {law: v / tot for law, v in w.items()}


def _wmedian(cross, w):
    """Weighted median of the laws' crossings: robust to one law's far extrapolation (a line
    through a plateau has its root hundreds of steps before the record)."""
    laws = sorted(w, key=lambda k: cross[k])
    acc = 0.0
    for k in laws:
        acc += w[k]
        if acc >= 0.5:
            return cross[k]
    return cross[laws[-1]]


def _wquantile(x, w, q):
    """Quantiles ``q`` of the weighted sample ``(x, w)`` (linear interpolation of the CDF)."""
    order = np.argsort(x)
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return np.interp(q, cdf, x)


def _boot_law(law, fit, tau, c, rho, kappa_min, n_b, rng):
    """``n_b`` crossings (tau units) refitted to AR(1) replicates of ``law``'s fit."""
    draws = np.full(n_b, np.nan)
    innov = math.sqrt(1.0 - rho * rho)
    lin = fit["X"] @ fit["beta"]
    cut = np.log(c) if law == "exponential" else c
    scale = max(fit["kappa"], kappa_min) * fit["s"]
    for b in range(n_b):  # the law is kept; its parameters (and rate) are refitted
        e = rng.standard_normal(tau.size)
        for i in range(1, tau.size):
            e[i] = rho * e[i - 1] + innov * e[i]
        y = lin + scale * e
        fit_b = _fit_law(law, tau, np.exp(y) if law == "exponential" else y, c, y >= cut)
        if fit_b is not None:
            draws[b] = _crossing(law, fit_b)
    return draws


def fit_growth(t, u, c, obs, *, kappa_min=0.0, confidence_level=0.9, n_boot=400, laws=GROWTH_LAWS,
               rng=None, bounds=None):
    """Censored fit of ``u(t)`` by each growth law, the crossing ``g(t*) = 1`` and its interval.

    Parameters
    ----------
    t : (N,) float, increasing steps; u : (N,) ratios (used where ``obs``); c : (N,) censoring
    points > 0 (used where not ``obs``); obs : (N,) bool; kappa_min : float, a floor of the noise scale used
    by the bootstrap (the known spread of ``u-hat``: a residual scale fitted to persistent,
    slowly varying errors is too small); confidence_level, n_boot, laws, rng;
    bounds : (float, float), optional, the steps the crossing is constrained to (default: the
    first and last of ``t``).

    Returns
    -------
    GrowthFit or None
        None when fewer than :data:`MIN_FIT` observed rows in the window (nothing to fit).

    Notes
    -----
    The crossing is the weighted median of the laws' crossings ``t*_L`` (weights ``w_L``) over
    the laws that rise through the threshold, and the interval the weighted percentiles of the
    pooled bootstrap replicates of every law (each law's replicates weighted by ``w_L``): the
    uncertainty of the law's choice is in the interval, not only that of its parameters.

    The crossing is constrained to ``bounds``: nothing is known of ``u`` outside the recorded
    steps, so a root of the law there is an extrapolation, not an estimate. For a rising law
    the constraint ``t* >= lo`` is ``g(lo) <= 1``, linear in the coefficients (and in Olsen's
    parameters), so the constrained maximum of the concave censored likelihood lies on
    ``g(lo) = 1`` whenever the unconstrained root is earlier: the constrained estimate is the
    root limited to ``bounds``. Each bootstrap replicate is limited in the same way, so a
    replicate before the window counts at the first step and the interval cannot leave the
    recorded steps. ``censored`` says on which side the point estimate was limited.
    """
    t = np.asarray(t, dtype=np.float64)
    lo_t, hi_t = (float(t[0]), float(t[-1])) if bounds is None else map(float, bounds)
    u = np.asarray(u, dtype=np.float64)
    c = np.maximum(np.asarray(c, dtype=np.float64), _U_FLOOR)
    obs = np.asarray(obs, dtype=bool) & np.isfinite(u) & (u > 0)
    obs = _chance_hits(t, u, c, obs, laws)
    end = _window(t, u, obs)
    t, u, c, obs = t[:end], u[:end], c[:end], obs[:end]
    if np.count_nonzero(obs) < MIN_FIT:
        return None
    t0, ts = float(t[obs].mean()), float(max(np.ptp(t), 1.0))
    tau = (t - t0) / ts
    fits = _fits(tau, u, c, obs, laws)
    if not fits:
        return None
    n_obs = int(np.count_nonzero(obs))
    top = max(fits, key=lambda k: fits[k]["ll"] - _NPAR[k])  # misfit is no noise
    rho = _ar1(np.nan_to_num(_resid(top, fits[top], u)), obs, n_obs)
    ess = (1.0 - rho) / (1.0 + rho)
    cross = {law: _crossing(law, f) for law, f in fits.items()}
    w = {law: v for law, v in _weights(fits, ess, laws[0]).items() if math.isfinite(cross[law])}
    if not w:
        tc = math.nan
        law = top
    else:
        tot = sum(w.values())
        w = {law: v / tot for law, v in w.items()}
        law = max(w, key=w.get)
        tc = _wmedian(cross, w)
    lls = {k: v["ll"] for k, v in fits.items()}
    rng = np.random.default_rng(rng)
    xs, ws, n_fail, n_all = [], [], 0, 0
    for k, wk in w.items():
        if wk < W_MIN:
            continue
        n_b = max(int(math.ceil(n_boot * wk)), N_BOOT_MIN)
        d = _boot_law(k, fits[k], tau, c, rho, kappa_min, min(n_b, n_boot), rng)
        ok = np.isfinite(d)
        n_fail += int(n_b - ok.sum())
        n_all += n_b
        if ok.any():
            xs.append(d[ok])
            ws.append(np.full(ok.sum(), wk / ok.sum()))
    a = (1.0 - confidence_level) / 2.0
    lo = hi = math.nan
    if math.isfinite(tc) and xs and n_fail <= (3 * n_all) // 4:  # a plateau may stay below 1
        x = np.clip(t0 + ts * np.concatenate(xs), lo_t, hi_t)
        lo, hi = _wquantile(x, np.concatenate(ws), [a, 1.0 - a])
    t_raw = t0 + ts * tc if math.isfinite(tc) else math.nan
    t_cross, censored = _bounded(t_raw, lo_t, hi_t)
    if math.isfinite(lo):  # the interval holds the estimate (a model average may not be inside)
        lo, hi = min(lo, t_cross), max(hi, t_cross)
    return GrowthFit(law=law, t_cross=t_cross, ci_low=float(lo), ci_high=float(hi), loglik=lls,
                     kappa=float(fits[law]["kappa"]), rho=rho, n_observed=n_obs,
                     n_censored=int(t.size - n_obs), window=(float(t[0]), float(t[-1])),
                     n_boot_failed=n_fail, t_unbounded=t_raw, censored=censored,
                     weights={k: round(v, 4) for k, v in w.items()})
