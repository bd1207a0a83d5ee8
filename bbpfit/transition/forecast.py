"""`forecast_transition`: early warning of a BBP transition from a store that ends before it.

Owns the public entry point of the early warning: reads a store (as
:func:`bbpfit.transition_time` does), and for each layer and spike rank either says the spike
has crossed (significant at the last step) or forecasts its crossing from the sub-threshold
evidence of the recorded steps (:mod:`bbpfit.transition.forecast_trend`, on the critical-window
law of :mod:`bbpfit.laws.critical_window`). Accuracy and calibration: ``docs/alignment.md``,
section 2 (``benchmarks/forecast_accuracy.py``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._validation import check_alpha, check_int, check_real_scalar
from .._warnings import BBPFitWarning
from ..laws.critical_window import critical_window_law
from .api import _layer_table, _select, _steps
from .diagnostics import layer_diagnostics
from .forecast_result import ForecastResult, SpikeForecast
from .forecast_trend import forecast_series
from .null_table import TRANSITION_NULL_CACHE
from .significance import NULL_WINDOW

__all__ = ["MIN_FORECAST_STEPS", "forecast_transition"]

#: Fewest recorded steps a forecast needs (the trend window).
MIN_FORECAST_STEPS = 5
#: Smallest short side: the critical-window law and the MP fit need a bulk.
MIN_M = 10


def _check_values(vals, name, m_l, kmax):
    top = vals[:, :kmax]
    if not np.all(np.isfinite(top)):
        bad = np.flatnonzero(~np.all(np.isfinite(top), axis=1))
        raise ValueError(f"layer {name!r} has NaN or infinite top eigenvalues at {bad.size} "
                         f"step(s) (first at index {int(bad[0])}); a forecast needs every step")
    if not np.all(np.isfinite(vals[:, :m_l])):
        raise ValueError(f"layer {name!r} has NaN or infinite eigenvalues within its m = {m_l}")


def forecast_transition(spectra, *, horizon, layer=None, alpha=0.05, confidence_level=0.8,
                        max_spikes=1, n=None, m=None, n_boot=400, rng=0) -> ForecastResult:
    """Will a spike cross the BBP threshold soon? Crossing probability, step and warning.

    Parameters
    ----------
    spectra : xarray.Dataset or xarray.DataArray
        A store from :func:`bbpfit.open_spectra`, or a DataArray ``(step, rank)`` /
        ``(layer, step, rank)`` with ``n`` (and optionally ``m``) as coordinates, attributes or
        keywords (as for :func:`bbpfit.transition_time`).
    horizon : float
        Steps after the store's last step within which the crossing probability is given, > 0.
    layer : str or list of str, optional
        Layers to forecast (default: all).
    alpha : float, default 0.05
        Level of the warning: on records without a spike (pure noise, ``lr = 0``) at most a
        fraction ``alpha`` of (layer, rank) forecasts warn.
    confidence_level : float, default 0.8
        Of the prediction interval of the crossing step.
    max_spikes : int, default 1
        Ranks examined per layer: the spikes that have already crossed, then the first that has
        not (the next one to cross), at most ``max_spikes`` rows per layer.
    n, m : int, optional
        Long and short side (DataArray input without coordinates).
    n_boot : int, default 400
        Bootstrap replicates (prediction interval, probability, trend test).
    rng : None, int or numpy.random.Generator, default 0

    Returns
    -------
    ForecastResult
        One :class:`~bbpfit.transition.forecast_result.SpikeForecast` per (layer, rank):
        ``status`` ("forecast" or "crossed"), ``warning``, ``probability``, ``step``,
        ``pi_low``, ``pi_high``, ``pvalue`` (of the rise), ``w_last``.

    Raises
    ------
    ValueError
        Fewer than 5 steps, unsorted or duplicate steps, unknown layer, ``horizon`` not > 0 or
        not finite, NaN/Inf among a layer's eigenvalues, a layer asked for by ``layer=`` with
        ``m < 10`` (or no layer with ``m >= 10``), ``alpha`` or ``confidence_level`` outside
        (0, 1), missing ``n``.
    TypeError
        ``spectra`` not an xarray object; ``horizon`` not a real number.

    Warns
    -----
    BBPFitWarning
        Layers with ``m < 10`` are skipped when ``layer`` is not given.

    Notes
    -----
    Below the threshold the top eigenvalue is not silent at finite ``n``: in the critical window
    ``theta = theta_c (1 + w n^(-1/3))`` its law moves away from Tracy-Widom (Baik, Ben Arous &
    Peche 2005). Each step's top eigenvalue on the TW scale (noise level: the mean eigenvalue)
    is an observation of ``w`` through that law
    (:class:`~bbpfit.laws.critical_window.CriticalWindowLaw`, simulated per shape). Over the
    last half of the record, a straight rise of ``w`` through the threshold gives the posterior
    of the crossing step (grid over crossing and rate, AR(1) dependence between steps by an
    effective sample size; prior in :mod:`bbpfit.transition.forecast_posterior`), and a
    parametric bootstrap of the fitted slope under "no trend" the warning's p-value
    (:mod:`bbpfit.transition.forecast_trend`).

    How much a record says is limited by the physics: far below the threshold (``w < -2``) the
    law barely moves (the models are contiguous, Onatski, Moreira & Hallin 2013), so the
    posterior is then mostly the prior; ``details["prior"]`` gives the prior's own interval, to
    see what the record added. The prior is log-uniform in spans of the trend window (the last
    half of the record; median 1.16 spans after the last step), so where the record says
    nothing the predicted step follows the record's length, not the spike: on teacher-student
    runs cut at 70% of the crossing it is within 5% from a record that starts at step 0 and 25%
    early from one that starts at 60% of the crossing, as the prior alone
    (``docs/alignment.md``, section 2d). Accuracy, calibration and the prior-only baseline:
    ``docs/alignment.md``, section 2. The bulk is taken to be Marchenko-Pastur (a bulk deformed
    by small-batch SGD reads as a rise).

    Examples
    --------
    >>> import numpy as np, xarray as xr, bbpfit as bf
    >>> from bbpfit.simulate import spike_trajectory
    >>> tr = spike_trajectory(200, 100, 40, np.zeros(40), rng=np.random.default_rng(0))
    >>> da = xr.DataArray(tr.eigenvalues, dims=("step", "rank"), coords={"step": tr.steps},
    ...                   attrs={"n": 200}, name="w")
    >>> res = bf.forecast_transition(da, horizon=20, n_boot=100)
    >>> res["w", 0].status, res.warning
    ('forecast', False)
    """
    alpha = check_alpha(alpha)
    confidence_level = check_alpha(confidence_level, "confidence_level")
    h = check_real_scalar(horizon, "horizon")
    if not (math.isfinite(h) and h > 0):
        raise ValueError(f"`horizon` must be a finite number of steps > 0, got {horizon!r}")
    max_spikes = check_int(max_spikes, "max_spikes", minimum=1)
    n_boot = check_int(n_boot, "n_boot", minimum=50)
    da, sizes = _layer_table(spectra, n, m)
    steps = _steps(da)
    if steps.size < MIN_FORECAST_STEPS:
        raise ValueError(f"`spectra` has {steps.size} recorded steps; a forecast needs at least "
                         f"{MIN_FORECAST_STEPS}")
    names = _select(da, layer)
    rng = np.random.default_rng(rng)
    rows, skipped = [], []
    for name in names:
        n_l, m_l = sizes[name]
        vals = np.asarray(da.sel(layer=name).values, dtype=np.float64)
        if m_l is None:
            m_l = int(np.isfinite(vals).sum(axis=1).max())
        if m_l < MIN_M:
            msg = (f"layer {name!r} has m = {m_l} < {MIN_M} eigenvalues: too few for a bulk fit "
                   "and the critical-window law")
            if layer is not None:
                raise ValueError(msg)
            warnings.warn(msg + "; skipped", BBPFitWarning, stacklevel=2)
            skipped.append(msg)
            continue
        kmax = min(max_spikes, m_l - MIN_M)
        _check_values(vals, name, m_l, max(kmax, 1))
        lam = -np.sort(-vals[:, :m_l], axis=1)
        tail = lam[-NULL_WINDOW:]
        diag = layer_diagnostics(tail, steps[-NULL_WINDOW:], n_l, max_spikes=max(kmax, 1),
                                 alpha=alpha, cache=TRANSITION_NULL_CACHE)
        p_last = diag["pvalue_seq"][-1]
        for k in range(max(kmax, 1)):
            pk = float(p_last[k]) if k < p_last.size else math.nan
            if pk <= alpha:
                rows.append(SpikeForecast(name, k, "crossed", False, 1.0, math.nan, math.nan,
                                          math.nan, math.nan, math.nan, "",
                                          {"pvalue_last": pk}))
                continue
            law = critical_window_law(n_l, m_l - k)
            x = law.standardise(lam[:, k], lam[:, k:].mean(axis=1))
            fc = forecast_series(law, steps, x, horizon=h, alpha=alpha,
                                 confidence_level=confidence_level, n_boot=n_boot, rng=rng)
            warn = bool(fc.pvalue <= alpha and fc.probability >= 0.5)
            rows.append(SpikeForecast(
                name, k, "forecast", warn, fc.probability, fc.step, fc.ci_low, fc.ci_high,
                fc.pvalue, fc.w_last, fc.law,
                {"slope": fc.slope, "rho": fc.rho, "window": fc.window,
                 "ess": fc.ess, "prior": fc.prior, "information": fc.information,
                 "pvalue_last": pk}))
            break  # ranks below the first uncrossed one wait for it
    if not rows:
        raise ValueError("no layer could be forecast: " + "; ".join(skipped))
    return ForecastResult(tuple(rows), float(h), float(steps[-1]), alpha, confidence_level)
