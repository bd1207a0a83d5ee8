"""`transition_time`: input checks, the per-layer diagnostics and the method registry.

Owns the public entry point of the transition layer: reads a store (or a DataArray), validates
it, computes :func:`bbpfit.transition.diagnostics.step_diagnostics` per layer and asks the
chosen method (:data:`bbpfit.transition.methods.TRANSITION_METHODS`) for each spike rank.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from .._validation import check_alpha, check_int, check_method
from .._warnings import BBPFitWarning
from .consistency import check_estimate, order_ranks
from .diagnostics import MIN_M, step_diagnostics
from .methods import TRANSITION_METHODS, LayerData, detect
from .null_table import TRANSITION_NULL_CACHE
from .result import SpikeTransition, TransitionResult

__all__ = ["transition_time"]

#: Fewest recorded steps a transition can be estimated from.
MIN_STEPS = 3


def _layer_table(spectra, n, m):
    """``(DataArray (layer, step, rank), {layer: (n, m)})`` from a Dataset or DataArray."""
    import xarray as xr

    if isinstance(spectra, xr.Dataset):
        if "eigenvalues" not in spectra:
            raise ValueError("`spectra` must be a spectra store (a Dataset with an "
                             "'eigenvalues' variable, see bbpfit.open_spectra)")
        da = spectra["eigenvalues"]
    elif isinstance(spectra, xr.DataArray):
        da = spectra
    else:
        raise TypeError("`spectra` must be an xarray Dataset from bbpfit.open_spectra or a "
                        f"DataArray (step, rank), got {type(spectra).__name__}")
    if "layer" not in da.dims:
        if set(da.dims) != {"step", "rank"}:
            raise ValueError(f"`spectra` must have dims (step, rank) or (layer, step, rank), got "
                             f"{da.dims}")
        name = str(da.name) if da.name is not None else "layer"
        da = da.expand_dims(layer=[name])
    if set(da.dims) != {"layer", "step", "rank"}:
        raise ValueError(f"`spectra` must have dims (layer, step, rank), got {da.dims}")
    da = da.transpose("layer", "step", "rank")
    sizes = {}
    src = spectra if isinstance(spectra, xr.Dataset) else da
    for i, name in enumerate(da["layer"].values.tolist()):
        sizes[str(name)] = (_dim(src, da, "n", n, i), _dim(src, da, "m", m, i))
    return da, sizes


def _dim(src, da, key, given, i):
    if given is not None:
        return check_int(given, key, minimum=1)
    for obj in (src, da):
        if key in obj.coords:
            v = obj.coords[key].values
            return int(v.reshape(-1)[i] if v.ndim else v)
        if key in obj.attrs:
            return int(obj.attrs[key])
    if key == "m":
        return None
    raise ValueError(f"`{key}` is unknown: pass {key}=... or give the DataArray a '{key}' "
                     "coordinate or attribute (the long side of the matrix)")


def _steps(da):
    steps = np.asarray(da["step"].values)
    if steps.dtype.kind not in "iuf":
        raise TypeError(f"the `step` coordinate must be numeric, got dtype {steps.dtype}")
    if steps.size < MIN_STEPS:
        raise ValueError(f"`spectra` has {steps.size} recorded step(s); a transition needs at "
                         f"least {MIN_STEPS}")
    d = np.diff(steps)
    if np.any(d == 0):
        raise ValueError("`spectra` has duplicate steps; keep one record per step")
    if np.any(d < 0):
        raise ValueError("`spectra` steps are not increasing; sort them first "
                         "(spectra.sortby('step'))")
    return steps.astype(np.float64)


def _select(da, layer):
    names = [str(x) for x in da["layer"].values]
    if layer is None:
        return names
    wanted = [layer] if isinstance(layer, str) else list(layer)
    missing = [x for x in wanted if x not in names]
    if missing:
        raise ValueError(f"layer(s) {missing} not in `spectra`; available: {names}")
    return wanted


def transition_time(spectra, *, layer=None, alpha=0.05, method="bbp", confidence_level=0.9,
                    max_spikes=3, n=None, m=None, n_boot=400, rng=0,
                    null_cache=None, runs=None, group=None, time=None):
    """When did each spike of each layer cross the BBP threshold, with a confidence interval.

    Parameters
    ----------
    spectra : xarray.Dataset or xarray.DataArray, or a list of them (or of store paths)
        A store from :func:`bbpfit.open_spectra` (``eigenvalues(layer, step, rank)``, coords
        ``n``, ``m`` per layer), or a DataArray ``(step, rank)`` / ``(layer, step, rank)`` of
        eigenvalues ``s**2 / n`` with ``n`` (and optionally ``m``) as coordinates, attributes or
        keywords. A list or tuple holds several runs (seeds, learning rates) of the same model:
        each is analysed as alone, and the result is a
        :class:`~bbpfit.transition.runs_result.RunsTransitionResult` (one table with a ``run``
        column, and crossings pooled per group; :mod:`bbpfit.transition.runs`).
    layer : str or list of str, optional
        Layers to analyse (default: all).
    alpha : float, default 0.05
        Probability of declaring a crossing for a spike that never appears, over the whole
        sequence of steps (per layer and rank).
    method : {"bbp", "detect", "changepoint"}, default "bbp"
        ``"bbp"``: censored growth-law fit of ``theta-hat / theta_c``, solved for the crossing
        (no detection lag). ``"detect"``: first step from which the spike is significant and
        stays so (Bonferroni over steps). ``"changepoint"``: the break of a hinge fitted to the
        edge-gap series. See :mod:`bbpfit.transition.methods`.
    confidence_level : float, default 0.9
        Of the intervals.
    max_spikes : int, default 3
        Ranks examined per layer.
    n, m : int, optional
        Long and short side of the matrices (DataArray input without coordinates).
    n_boot : int, default 400
        Bootstrap replicates of the intervals.
    rng : None, int or numpy.random.Generator, default 0
        Seeds the bootstrap (fixed by default: the result is reproducible).
    null_cache : bbpfit.inference.NullCache, optional
        Where the null samples of the MP test come from. Default: the shipped table of the
        null for shapes within it (m 20-4096, m / n >= 0.02; :mod:`bbpfit.transition.null_table`,
        no simulation on a first call), simulated otherwise; pass a
        :class:`~bbpfit.inference.NullCache` to simulate every shape.
    runs : sequence of str, optional
        Several runs only: a name per store (default: the store folders' names, else
        ``run0, run1, ...``).
    group : None, "lr" or sequence of str, optional
        Several runs only: which runs are pooled together. None: all of them; ``"lr"``: runs
        with the same peak recorded learning rate; or one label per store.
    time : str or callable, optional
        Several runs only: the time axis of the table and of the pooled crossings, ``"step"``
        (default), ``"lr*step"`` (the integrated learning rate, ``lr * step`` at a constant
        rate: compares runs at different learning rates), ``"elapsed"`` (seconds), the name of
        a per-step variable of the stores (e.g. ``"samples"``, ``"epoch"``), or a callable
        ``time(ds) -> one value per step`` (:mod:`bbpfit.transition.timeaxis`).

    Returns
    -------
    TransitionResult
        For one store. For a list, a ``RunsTransitionResult``: ``rows`` per (run, layer,
        rank) in steps and on the time axis, ``pooled`` per (group, layer, rank) with the mean
        crossing and a between-run Student-t interval of it (:func:`bbpfit.transition.runs.
        pool_crossings`), ``results`` (each run's own TransitionResult).
        Steps and interval limits always lie within the recorded steps; ``censored`` says when
        a crossing is only bounded: ``"left"``, at or before the first recorded step (a spike
        significant from it, or a ``"bbp"`` growth law above the threshold there: then ``step``
        is that step, not an extrapolation before it); ``"right"``, not detected up to the last.

    Raises
    ------
    ValueError
        Fewer than 3 steps, unsorted or duplicate steps, a layer name not in ``spectra``, a layer
        whose eigenvalues are all NaN, unknown ``method``, ``alpha`` or ``confidence_level``
        outside (0, 1), missing ``n``.
        Several runs: stores with different layers or layer shapes (pass ``layer=`` to pick
        shared ones), a time axis missing or non-finite in a store, mismatched ``runs`` or
        ``group`` lengths. ``runs``, ``group`` or ``time`` given with a single store.
    TypeError
        ``spectra`` not an xarray object (or a list of them / of store paths).

    Warns
    -----
    BBPFitWarning
        Layers with ``m < 24`` are tested against the exact MP null only (too few eigenvalues
        to fit a soft edge; ``details["small_layer"]`` says so); layers with ``m < 3`` are
        skipped.

    Notes
    -----
    At each step the top ranks are tested against the bulk the layer has then: the exact
    Marchenko-Pastur test while the bulk's edge is MP, a universal soft-edge test when training
    has deformed it; ``theta-hat`` and ``theta_c`` come from the same bulk (MP inverse, or the
    empirical D-transform of Benaych-Georges & Nadakuditi 2012). Diagnostics per step are in
    ``result.diagnostics``; accuracy and coverage in ``docs/transition.md``.

    References
    ----------
    F. Benaych-Georges and R. R. Nadakuditi, "The singular values and vectors of low rank
    perturbations of large rectangular random matrices", J. Multivariate Anal. 111:120-135
    (2012). doi:10.1016/j.jmva.2012.04.019

    R. R. Nadakuditi, "OptShrink: an algorithm for improved low-rank signal matrix denoising by
    optimal, data-driven singular value shrinkage", IEEE Trans. Inf. Theory 60(5):3002-3018
    (2014). doi:10.1109/TIT.2014.2311661

    Examples
    --------
    >>> import numpy as np, xarray as xr, bbpfit as bf
    >>> from bbpfit.simulate import spike_trajectory
    >>> tr = spike_trajectory(400, 200, 80, lambda t: 0.03 * t, drift=0.3,
    ...                       rng=np.random.default_rng(1))
    >>> da = xr.DataArray(tr.eigenvalues, dims=("step", "rank"),
    ...                   coords={"step": tr.steps}, attrs={"n": 400}, name="w")
    >>> res = bf.transition_time(da, n_boot=100)
    >>> res.detected, bool(abs(res.step - tr.t_cross) < 8)
    (True, True)
    """
    if isinstance(spectra, list | tuple):
        from .runs import transition_runs

        return transition_runs(spectra, runs=runs, group=group, time=time, layer=layer,
                               alpha=alpha, method=method, confidence_level=confidence_level,
                               max_spikes=max_spikes, n=n, m=m, n_boot=n_boot, rng=rng,
                               null_cache=null_cache)
    if runs is not None or group is not None or time is not None:
        raise ValueError("`runs`, `group` and `time` apply to several runs; pass a list of "
                         "stores (e.g. transition_time([ds], time='lr*step'))")
    alpha = check_alpha(alpha)
    confidence_level = check_alpha(confidence_level, "confidence_level")
    estimator = check_method(method, TRANSITION_METHODS)
    max_spikes = check_int(max_spikes, "max_spikes", minimum=1)
    n_boot = check_int(n_boot, "n_boot", minimum=20)
    da, sizes = _layer_table(spectra, n, m)
    steps = _steps(da)
    names = _select(da, layer)
    rng = np.random.default_rng(rng)
    rows, diags = [], []
    for name in names:
        n_l, m_l = sizes[name]
        lam = da.sel(layer=name)
        vals = np.asarray(lam.values, dtype=np.float64)
        finite = np.isfinite(vals)
        if not finite.any():
            raise ValueError(f"layer {name!r} has no finite eigenvalues (all NaN)")
        m_l = int(finite.sum(axis=1).max()) if m_l is None else m_l
        if m_l < 3:
            warnings.warn(f"layer {name!r} skipped: m = {m_l} < 3 eigenvalues, no bulk to test "
                          "against", BBPFitWarning, stacklevel=2)
            continue
        small = None
        if m_l < MIN_M:
            small = (f"m = {m_l} < {MIN_M}: exact MP test and 'detect' only; too few "
                     "eigenvalues to fit a soft edge or measure strengths, so a deformed bulk "
                     "cannot be told from spikes")
            warnings.warn(f"layer {name!r}: {small}", BBPFitWarning, stacklevel=2)
        lam = lam.isel(rank=slice(0, m_l)).astype(np.float64)
        lam = lam.copy(data=-np.sort(-lam.values, axis=-1))
        ds = step_diagnostics(lam.drop_vars([c for c in lam.coords if c not in ("step", "rank")]),
                              n_l, max_spikes=max_spikes, alpha=alpha,
                              cache=TRANSITION_NULL_CACHE if null_cache is None else null_cache)
        diags.append(ds.expand_dims(layer=[name]))
        ok = np.isfinite(ds["pvalue"].values[:, 0])
        if ok.sum() < MIN_STEPS:
            raise ValueError(f"layer {name!r} has {int(ok.sum())} usable step(s); a transition "
                             f"needs at least {MIN_STEPS}")
        data = LayerData(name=name, n=n_l, m=m_l, steps=steps[ok],
                         diag={k: v.values[ok] for k, v in ds.data_vars.items()}, alpha=alpha,
                         confidence_level=confidence_level, crit_level=alpha, n_boot=n_boot,
                         rng=rng)
        ests = []
        for k in range(ds.sizes["spike"]):
            est = check_estimate((detect if small else estimator)(data, k), data, k)
            if small:
                est = dataclasses.replace(est, details={**est.details, "small_layer": small})
            if k > 0 and not est.detected:
                break
            ests.append(est)
            if not est.detected:
                break
        for k, est in enumerate(order_ranks(ests)):
            rows.append(SpikeTransition(name, k, bool(est.detected), float(est.step),
                                        float(est.ci_low), float(est.ci_high),
                                        "detect" if small else method,
                                        float(est.first_detected), est.details,
                                        est.censored))
    if not rows:
        raise ValueError("no layer could be analysed (all have m < 3)")
    import xarray as xr

    diagnostics = xr.concat(diags, dim="layer", join="outer") if diags else None
    return TransitionResult(tuple(rows), diagnostics, method, alpha, confidence_level)
