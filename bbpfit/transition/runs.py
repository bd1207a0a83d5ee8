"""Transition times over several runs: one table with a run column, pooled crossings per group.

Owns :func:`transition_runs` (what :func:`bbpfit.transition_time` does with a list of stores):
each run is analysed exactly as a single store is, its estimates are mapped onto a common time
axis (:mod:`.timeaxis`), and the crossings of each (layer, rank) are pooled over the runs of a
group (seeds of one setting) into a mean with a between-run interval.

The between-run interval is the Student-t interval of the mean over the pooled runs,
``mean -+ t_{k-1, (1+c)/2} sd / sqrt(k)``: it treats the runs' estimates as independent draws
from the population of seeds, so it covers the expected crossing of a random seed of that
setting, and the spread of the estimates already carries each run's own estimation error. With
2-3 seeds it is wide by construction (``t_{1, 0.95} = 6.31``, ``t_{2, 0.95} = 2.92``): that is
how little two or three runs say about the seed-to-seed spread. It is never narrower than what
the runs' own intervals give for a mean of k (their root-mean-square half-widths over
``sqrt(k)``, on each side: runs that agree to the recording grid would otherwise give zero
width) and is kept within the recorded time. Runs not detected or censored
(no crossing within their recorded steps) are left out of the mean and counted in the note.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .._validation import check_alpha
from .runs_result import PooledTransition, RunsTransitionResult, RunTransition
from .timeaxis import time_axis, to_time

__all__ = ["pool_crossings", "transition_runs"]


def _open(store, i):
    import xarray as xr

    if isinstance(store, xr.Dataset | xr.DataArray):
        return store, f"run{i}"
    if isinstance(store, str | os.PathLike):
        from ..store import open_spectra

        path = os.fspath(store)
        stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
        return open_spectra(path), stem or f"run{i}"
    raise TypeError(f"`spectra[{i}]` must be a store path or an xarray Dataset/DataArray, got "
                    f"{type(store).__name__}")


def _names(runs, defaults):
    if runs is None:
        names = list(defaults)
        if len(set(names)) != len(names):  # e.g. several stores called run.bbp in other folders
            names = [f"run{i}" for i in range(len(names))]
        return names
    if isinstance(runs, str):
        raise TypeError("`runs` must be a sequence of names, one per store, not a string")
    names = [str(r) for r in runs]
    if len(names) != len(defaults):
        raise ValueError(f"`runs` must name each of the {len(defaults)} stores, got "
                         f"{len(names)} names")
    if len(set(names)) != len(names):
        raise ValueError(f"`runs` has duplicate names: {names}")
    return names


def _peak_lr(ds, run):
    lr = np.asarray(ds["lr"].values, dtype=np.float64) if "lr" in ds.coords or (
        hasattr(ds, "data_vars") and "lr" in ds.data_vars) else np.array([np.nan])
    if not np.isfinite(lr).any():
        raise ValueError(f"group='lr' needs the per-step `lr`, which run {run!r} does not have")
    return f"lr={float(np.nanmax(lr)):g}"


def _groups(group, datasets, names):
    if group is None:
        return ["all"] * len(names)
    if isinstance(group, str):
        if group != "lr":
            raise ValueError(f"`group` must be None, 'lr' or one label per store, got {group!r}")
        return [_peak_lr(ds, r) for ds, r in zip(datasets, names, strict=True)]
    labels = [str(g) for g in group]
    if len(labels) != len(names):
        raise ValueError(f"`group` must give one label per store ({len(names)}), got "
                         f"{len(labels)}")
    return labels


def _layer_shapes(ds):
    if "layer" not in ds.dims:
        return {str(ds.name) if ds.name is not None else "layer": None}
    names = [str(x) for x in ds["layer"].values]
    n = ds.coords["n"].values.tolist() if "n" in ds.coords else [None] * len(names)
    m = ds.coords["m"].values.tolist() if "m" in ds.coords else [None] * len(names)
    return {k: (a, b) for k, a, b in zip(names, n, m, strict=True)}


def _check_layers(datasets, names, layer):
    shapes = [_layer_shapes(ds) for ds in datasets]
    wanted = None if layer is None else ([layer] if isinstance(layer, str) else list(layer))
    ref_name, ref = names[0], shapes[0]
    for name, sh in zip(names[1:], shapes[1:], strict=True):
        keys = wanted if wanted is not None else sorted(set(ref) | set(sh))
        missing = [k for k in keys if k not in sh]
        extra = [k for k in keys if k not in ref]
        if missing or extra:
            parts = ([f"run {name!r} lacks {missing}"] if missing else []) + \
                    ([f"run {ref_name!r} lacks {extra}"] if extra else [])
            raise ValueError("the stores have different layers (" + "; ".join(parts) + "); "
                             "pass layer= to analyse the layers they share")
        diff = [k for k in keys if ref.get(k) != sh.get(k) and None not in (ref.get(k), sh.get(k))]
        if diff:
            k = diff[0]
            raise ValueError(f"layer {k!r} has (n, m) = {ref[k]} in run {ref_name!r} but {sh[k]} "
                             f"in run {name!r}; runs pooled together must record the same "
                             "matrices")


def pool_crossings(times, lows, highs, *, confidence_level=0.9):
    """Mean crossing over runs with its between-run Student-t interval.

    Parameters
    ----------
    times : array_like
        The runs' crossing times (only detected, uncensored crossings).
    lows, highs : array_like
        Their own intervals (used only when there is a single run).
    confidence_level : float, default 0.9

    Returns
    -------
    (mean, ci_low, ci_high, sd) : tuple of float
        NaN throughout for no runs; ``sd`` NaN and the run's own interval for one run.

    Examples
    --------
    >>> from bbpfit.transition.runs import pool_crossings
    >>> [round(v, 3) for v in pool_crossings([100.0, 110.0, 120.0], [0, 0, 0], [0, 0, 0])]
    [110.0, 93.141, 126.859, 10.0]
    """
    from scipy import stats

    x = np.asarray(times, dtype=np.float64)
    k = x.size
    if k == 0:
        return math.nan, math.nan, math.nan, math.nan
    if k == 1:
        return float(x[0]), float(np.asarray(lows)[0]), float(np.asarray(highs)[0]), math.nan
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence_level / 2.0, k - 1)) * sd / math.sqrt(k)
    return mean, mean - half, mean + half, sd


def _pool(rows, groups, confidence_level, span):
    keys = list(dict.fromkeys((r.group, r.transition.layer, r.transition.rank) for r in rows))
    pooled = []
    for g, layer, rank in keys:
        n_runs = groups.count(g)
        mine = [r for r in rows if (r.group, r.transition.layer, r.transition.rank) ==
                (g, layer, rank)]
        use = [r for r in mine if r.pooled]
        absent = n_runs - len(mine)  # a rank not examined: the rank above it was not detected
        out = [r for r in mine if not r.pooled]
        notes = []
        not_det = [r.run for r in out if not r.transition.detected]
        if not_det or absent:
            notes.append(f"{len(not_det) + absent} not detected")
        left = [r.run for r in out if r.transition.detected and r.transition.censored == "left"]
        if left:
            notes.append(f"{len(left)} at or before the first step ({', '.join(left)})")
        other = len(out) - len(not_det) - len(left)
        if other:
            notes.append(f"{other} censored")
        mean, lo, hi, sd = pool_crossings([r.time for r in use], [r.time_low for r in use],
                                          [r.time_high for r in use],
                                          confidence_level=confidence_level)
        if len(use) == 1:
            notes.append("one run: its own interval")
        if len(use) > 1:
            # never narrower than the runs' own errors averaged over k runs (runs that agree
            # on the recording grid would otherwise give a zero-width interval) ...
            lo = min(lo, mean - _within(use, "low"))
            hi = max(hi, mean + _within(use, "high"))
            # ... and within the recorded time (a t-interval can reach past it)
            lo = max(lo, min(span[r.run][0] for r in use))
            hi = min(hi, max(span[r.run][1] for r in use))
        pooled.append(PooledTransition(g, layer, int(rank), n_runs, len(use), mean, lo, hi, sd,
                                       "; ".join(notes)))
    return tuple(pooled)


def _within(use, side):
    """Half-width of the mean's interval from the runs' own intervals alone: rms / sqrt(k)."""
    d = [(r.time - r.time_low) if side == "low" else (r.time_high - r.time) for r in use]
    d = np.nan_to_num(np.asarray(d, dtype=np.float64))
    return float(np.sqrt(np.mean(d**2) / len(d)))


def transition_runs(spectra, *, runs=None, group=None, time="step", rng=0, n=None, m=None,
                    **kwargs) -> RunsTransitionResult:
    """:func:`bbpfit.transition_time` of several runs, with pooled crossings per group.

    Called by ``bbpfit.transition_time`` when ``spectra`` is a list or tuple; see its
    docstring for ``runs``, ``group`` and ``time``. Every other keyword is passed to each
    run's analysis unchanged (an integer ``rng`` seeds each run alike, so each run's result is
    exactly that of its store alone; a Generator is split with ``spawn``).
    """
    from .api import transition_time

    if len(spectra) == 0:
        raise ValueError("`spectra` is an empty list; give one store per run")
    opened = [_open(s, i) for i, s in enumerate(spectra)]
    datasets = [d for d, _ in opened]
    names = _names(runs, [nm for _, nm in opened])
    groups = _groups(group, datasets, names)
    _check_layers(datasets, names, kwargs.get("layer"))
    confidence_level = check_alpha(kwargs.get("confidence_level", 0.9), "confidence_level")
    if time is None:
        time = "step"
    axes = [time_axis(ds, time, r) for ds, r in zip(datasets, names, strict=True)]
    seeds = (rng.spawn(len(datasets)) if isinstance(rng, np.random.Generator)
             else [rng] * len(datasets))
    results, rows = [], []
    for ds, run, g, axis, seed in zip(datasets, names, groups, axes, seeds, strict=True):
        res = transition_time(ds, rng=seed, n=n, m=m, **kwargs)
        results.append(res)
        steps = np.asarray(ds["step"].values, dtype=np.float64)
        for t in res.transitions:
            v = to_time([t.step, t.ci_low, t.ci_high, t.first_detected], steps, axis)
            rows.append(RunTransition(run, g, t, *(float(x) for x in v)))
    rows = tuple(rows)
    first = results[0]
    return RunsTransitionResult(tuple(names), tuple(groups), tuple(results), rows,
                                _pool(rows, groups, confidence_level,
                                      {r: (float(a[0]), float(a[-1]))
                                       for r, a in zip(names, axes, strict=True)}),
                                time if isinstance(time, str) else "custom", first.method,
                                first.alpha, first.confidence_level)
