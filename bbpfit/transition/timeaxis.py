"""Time axes other than the optimizer step, read from a store's per-step coordinates.

Owns :func:`time_axis`, which gives the value of a chosen time axis at every recorded step of a
run, and :func:`to_time`, which maps step estimates (crossings and interval limits, which may
fall between recorded steps) onto it by linear interpolation. Runs trained at different learning
rates are compared on ``"lr*step"``, the integrated learning rate ``sum_{s < step} lr_s`` (exactly
``lr * step`` at a constant rate): gradient flow moves the weights by ``lr`` per step, so
crossings of runs that differ only in the rate fall at similar integrated rates.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TIME_AXES", "time_axis", "to_time"]

#: Named time axes (any other string names a per-step variable of the store).
TIME_AXES = {
    "step": "the optimizer step",
    "lr*step": "the integrated learning rate sum_{s < step} lr_s (lr * step at a constant rate), "
               "trapezoidal between recorded steps from the store's per-step `lr`",
    "elapsed": "seconds since the first recorded step (the store's `wall_time`)",
}


def time_axis(ds, time, run: str) -> np.ndarray:
    """The time axis ``time`` at the recorded steps of one run's Dataset (float64, one per step).

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        One run, with a ``step`` coordinate (and the per-step variables the axis needs).
    time : str or callable
        ``"step"``, ``"lr*step"``, ``"elapsed"``, the name of any per-step variable or coordinate
        of ``ds`` (e.g. ``"samples"`` or ``"epoch"`` added with ``ds["samples"] = ds.step * 32``),
        or a callable ``time(ds) -> array`` of one value per recorded step.
    run : str
        The run's name, for error messages.

    Raises
    ------
    ValueError
        The axis needs a variable the run does not have, has non-finite values at a recorded
        step, has the wrong length, or decreases.
    TypeError
        ``time`` is neither a string nor a callable.
    """
    steps = np.asarray(ds["step"].values, dtype=np.float64)
    if callable(time):
        values, what = np.asarray(time(ds), dtype=np.float64), "the `time` callable"
    elif not isinstance(time, str):
        raise TypeError(f"`time` must be a string ({', '.join(map(repr, TIME_AXES))} or a per-step "
                        f"variable name) or a callable, got {type(time).__name__}")
    elif time == "step":
        return steps
    elif time == "lr*step":
        lr = _variable(ds, "lr", run, time)
        values, what = _integrated(steps, lr, run), "`lr*step`"
    elif time == "elapsed":
        wall = _variable(ds, "wall_time", run, time)
        values, what = wall - wall[0], "`elapsed`"
    else:
        values, what = _variable(ds, time, run, time), f"`{time}`"
    if values.shape != steps.shape:
        raise ValueError(f"run {run!r}: {what} must give one value per recorded step "
                         f"({steps.size}), got shape {values.shape}")
    if np.any(np.diff(values) < 0):
        raise ValueError(f"run {run!r}: the time axis {what} decreases between recorded steps; "
                         "a crossing can only be mapped onto a non-decreasing axis")
    return values


def _variable(ds, name: str, run: str, time: str) -> np.ndarray:
    have = name in getattr(ds, "data_vars", {}) or name in ds.coords
    if not have or ds[name].dims != ("step",):
        per_step = sorted(str(k) for k, v in {**dict(getattr(ds, "data_vars", {})),
                                               **dict(ds.coords)}.items() if v.dims == ("step",))
        raise ValueError(f"run {run!r} has no per-step variable {name!r} (needed by time="
                         f"{time!r}); per-step variables there: {per_step}; named axes: "
                         f"{list(TIME_AXES)}")
    values = np.asarray(ds[name].values, dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        steps = np.asarray(ds["step"].values)[bad]
        raise ValueError(f"run {run!r}: {name!r} (needed by time={time!r}) is not finite at "
                         f"{int(bad.sum())} recorded step(s), first {steps[:5].tolist()}; record "
                         "it (e.g. with an optimizer, or record(..., lr=...)) or pass time= a "
                         "callable")
    return values


def _integrated(steps: np.ndarray, lr: np.ndarray, run: str) -> np.ndarray:
    """``sum_{s < step} lr_s``: lr constant before the first record, trapezoidal between records."""
    if np.any(lr < 0):
        raise ValueError(f"run {run!r}: the recorded `lr` is negative at some step")
    seg = 0.5 * (lr[1:] + lr[:-1]) * np.diff(steps)
    return lr[0] * steps[0] + np.concatenate([[0.0], np.cumsum(seg)])


def to_time(x, steps: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Map step estimates ``x`` (NaN kept) onto a time axis known at the recorded ``steps``.

    Linear between recorded steps; estimates are within the recorded steps by construction
    (clipped otherwise).
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.interp(np.clip(x, steps[0], steps[-1]), steps, values)
    return np.where(np.isnan(x), np.nan, out)
