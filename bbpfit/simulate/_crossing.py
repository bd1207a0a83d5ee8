"""The first upward crossing of a level by a sampled series, refined by linear interpolation."""

from __future__ import annotations

import numpy as np

__all__ = ["first_crossing"]


def first_crossing(t: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """First ``t`` at which ``y`` rises through ``level``, per column of ``y``.

    ``t`` has shape ``(k,)`` (increasing) and ``y`` shape ``(k,)`` or ``(k, r)``. For each column
    the first sample ``j >= 1`` with ``y[j-1] <= level < y[j]`` is found and the crossing is placed
    by linear interpolation between ``t[j-1]`` and ``t[j]``. NaN where the series never rises
    through the level inside the window, including a series that starts above it.
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    cols = y.reshape(y.shape[0], -1)
    out = np.full(cols.shape[1], np.nan)
    for i in range(cols.shape[1]):
        c = cols[:, i]
        if c.size < 2 or not c[0] <= level:
            continue
        above = np.flatnonzero(c[1:] > level)
        if above.size == 0:
            continue
        j = above[0] + 1
        frac = (level - c[j - 1]) / (c[j] - c[j - 1])
        out[i] = t[j - 1] + frac * (t[j] - t[j - 1])
    return out.reshape(y.shape[1:]) if y.ndim > 1 else out[0]
