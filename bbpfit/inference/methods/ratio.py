"""Onatski's (2009) eigen-gap ratio test, beta = 1: needs neither the noise level nor a centring.

Owns the step "``k`` spikes vs ``k < K <= k + d``" with
``R = max_{k < i <= k + d} (l_i - l_{i+1}) / (l_{i+1} - l_{i+2})`` and its null law, read from
the shipped table ``onatski_beta1.npz`` (made by ``scripts/make_onatski_table.py`` with the exact
Dumitriu-Edelman sampler at (n, m) = (400000, 200000), 30000 draws). The window is
``d = min(RATIO_WIDTH, max_spikes - k)``.
"""

from __future__ import annotations

import math

import numpy as np

from ..._data import load_npz
from ..statistics import onatski_ratio
from .tw import Step

TABLE_NAME = "onatski_beta1.npz"
#: Window width ``d = k1 - k0`` of each step (Onatski's alternative "up to d more spikes").
RATIO_WIDTH = 3


def load_table() -> dict[str, np.ndarray]:
    """The Onatski null table: ``widths``, upper-tail probabilities ``sf``, quantiles ``x``."""
    return load_npz(TABLE_NAME, "Onatski", "scripts/make_onatski_table.py")


def ratio_sf(r: float, width: int) -> float:
    """Null probability ``P(R >= r)`` for window ``width``.

    Interpolates ``log sf`` linearly in ``log r`` on the table; beyond it, extends the power law
    of the table's last decade (level repulsion gives ``P(R > r) ~ r^-2`` for beta = 1), with
    the slope capped at -1.5 so that the extrapolation stays conservative.

    Examples
    --------
    >>> from bbpfit.inference.methods.ratio import ratio_sf
    >>> round(ratio_sf(6.88, 1), 2)
    0.05
    """
    tab = load_table()
    x = tab["x"][int(width) - 1]
    log_sf = np.log(tab["sf"])
    if not r > x[0]:
        return 1.0
    lx = np.log(x)
    lr = math.log(r)
    if lr <= lx[-1]:
        return float(np.exp(np.interp(lr, lx, log_sf)))
    tail = log_sf > log_sf[-1] + math.log(10.0)
    i0 = int(np.flatnonzero(tail)[-1]) if tail.any() else 0
    slope = (log_sf[-1] - log_sf[i0]) / max(lx[-1] - lx[i0], 1e-12)
    slope = max(slope, -1.5) if np.isfinite(slope) else -1.5
    return float(np.exp(log_sf[-1] + slope * (lr - lx[-1])))


def ratio_critical_value(alpha: float, width: int) -> float:
    """The table's ``(1 - alpha)`` quantile of ``R`` (inf below its resolution)."""
    tab = load_table()
    sf = tab["sf"]
    if alpha < sf[-1]:
        return np.inf
    return float(np.exp(np.interp(math.log(alpha), np.log(sf[::-1]),
                                  np.log(tab["x"][int(width) - 1][::-1]))))


class OnatskiRatio:
    """Sequential Onatski test (step ``k``: ``k`` spikes vs ``k < K <= k + d``)."""

    name = "ratio"

    def null_description(self, n_null: int, known: bool) -> str:
        return (f"asymptotic beta = 1 null of Onatski's gap ratio over a window of up to "
                f"{RATIO_WIDTH} eigenvalues (table {TABLE_NAME}: exact sampler at n = 400000, "
                "m = 200000, 30000 draws)")

    def step(self, lam, n, k, *, alpha, kmax, n_null, cache, sigma2=None) -> Step:
        width = max(1, min(RATIO_WIDTH, kmax - k, lam.shape[0] - k - 2))
        r = float(onatski_ratio(lam[k: k + width + 2], width))
        return Step(r, ratio_sf(r, width), ratio_critical_value(alpha, width), np.nan)
