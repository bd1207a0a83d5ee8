"""The null samples of the per-step MP test, from a shipped table instead of a simulation.

Owns :func:`tabulated_null` and :class:`TabulatedNullCache`, the null cache
:func:`bbpfit.transition_time` uses by default. The exact test of a step compares the KN statistic
``l_1 / sigma2_KN(1)`` with a Monte Carlo sample of it for an ``(n, m - k)`` Gaussian bulk; a
transition analysis needs one per layer shape and tested rank, and simulating them (0.2-1 s each,
Dumitriu-Edelman sampler) was most of the cost of a first call in a fresh process. The table
``data/kn_null_quantiles.npz`` (made by ``scripts/make_kn_null_table.py`` from 50 000 draws per
shape) keeps the quantiles of the Ma-standardised statistic ``Z = (n T - mu) / sigma`` on a grid
of ``m`` (20 to 4096) and ``q = m / n`` (0.02 to 1); ``Z`` tends to TW1 and moves slowly and
smoothly with the shape, so interpolation (bilinear in ``log m`` and ``q``) gives the quantiles
at any shape in the grid's range, within the Monte Carlo error of a 9 999-draw sample
(``tests/test_transition_null_table.py`` pins this against fresh simulations at shapes off the
grid). The sample handed to the test holds the quantiles at ``(i + 1) / (B + 1)``, so the Monte
Carlo p-value ``(1 + #{T_b >= t}) / (B + 1)`` reads the tabulated survival function. Shapes
outside the grid are simulated as before.
"""

from __future__ import annotations

import numpy as np

from .._data import load_npz
from ..inference.null_cache import NullCache
from ..inference.statistics import ma_constants

__all__ = ["TRANSITION_NULL_CACHE", "TabulatedNullCache", "in_table", "tabulated_null"]

_SCRIPT = "scripts/make_kn_null_table.py"


def _table():
    return load_npz("kn_null_quantiles.npz", "KN null quantile", _SCRIPT)


def in_table(n: int, m: int) -> bool:
    """Whether the null of an ``(n, m)`` bulk is within the table's range of shapes."""
    t = _table()
    q = m / n
    return bool(t["m"][0] <= m <= t["m"][-1] and t["q"][0] <= q <= t["q"][-1])


def _bracket(grid: np.ndarray, x: float) -> tuple[int, float]:
    i = int(np.clip(np.searchsorted(grid, x, side="right") - 1, 0, grid.size - 2))
    return i, float((x - grid[i]) / (grid[i + 1] - grid[i]))


def _logit(p):
    return np.log(p) - np.log1p(-p)


def tabulated_null(n: int, m: int, n_draws: int) -> np.ndarray:
    """Sorted null sample of ``l_1 / sigma2_KN(1)`` for an ``(n, m)`` bulk, from the table.

    Parameters
    ----------
    n, m : int
        Long and short side, within the table (:func:`in_table`).
    n_draws : int
        Size ``B`` of the sample: the quantiles at ``(i + 1) / (B + 1)``, ``i < B``.

    Returns
    -------
    numpy.ndarray
        Ascending, shape ``(n_draws,)``.

    Raises
    ------
    ValueError
        The shape is outside the table.

    Examples
    --------
    >>> from bbpfit.transition.null_table import tabulated_null
    >>> t = tabulated_null(400, 200, 9999)
    >>> t.shape, bool(t[0] < t[-1])
    ((9999,), True)
    """
    if not in_table(n, m):
        raise ValueError(f"the shape (n, m) = ({n}, {m}) is outside the KN null table "
                         "(m in [20, 4096], m / n in [0.02, 1]); simulate it instead")
    t = _table()
    i, a = _bracket(np.log(t["m"].astype(np.float64)), float(np.log(m)))
    j, b = _bracket(t["q"], m / n)
    z = t["z"]
    zq = ((1 - a) * (1 - b) * z[i, j] + a * (1 - b) * z[i + 1, j] + (1 - a) * b * z[i, j + 1]
          + a * b * z[i + 1, j + 1])
    lp = _logit(t["probs"])
    u = _logit(np.arange(1, n_draws + 1) / (n_draws + 1.0))
    out = np.interp(u, lp, zq)
    lo, hi = u < lp[0], u > lp[-1]  # beyond the table: its end slopes
    out[lo] = zq[0] + (u[lo] - lp[0]) * (zq[1] - zq[0]) / (lp[1] - lp[0])
    out[hi] = zq[-1] + (u[hi] - lp[-1]) * (zq[-1] - zq[-2]) / (lp[-1] - lp[-2])
    mu, sd = ma_constants(n, m)
    return np.sort((mu + sd * np.maximum.accumulate(out)) / n)


class TabulatedNullCache(NullCache):
    """A memory-only :class:`~bbpfit.inference.NullCache` that reads ``"kn"`` nulls of shapes
    within the table from it (:func:`tabulated_null`) and simulates the others.

    Parameters
    ----------
    maxsize : int, default 256
        Samples kept in memory.
    """

    def __init__(self, maxsize: int = 256):
        super().__init__(maxsize=maxsize)

    def get(self, key, factory):
        """The sample for ``key`` from memory, the table, or ``factory()``."""
        kind, n, m, b = key
        if kind == "kn" and in_table(n, m):
            return super().get(key, lambda: tabulated_null(n, m, b))
        return super().get(key, factory)


#: The null cache of :func:`bbpfit.transition_time` when it is not given one.
TRANSITION_NULL_CACHE = TabulatedNullCache()
