"""The shipped KN null table that replaces per-shape simulations in ``transition_time``.

Pinned two ways: one grid cell re-simulated by the script that built the table gives exactly
the stored quantiles, and at shapes off the grid the interpolated null agrees with a fresh
simulation (another seed, nothing shared but the sampler) within its Monte Carlo error.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import bbpfit as bf
from bbpfit._data import load_npz
from bbpfit.inference import NullCache
from bbpfit.inference.null_cache import simulate_null
from bbpfit.simulate import spike_trajectory
from bbpfit.transition.null_table import TabulatedNullCache, in_table, tabulated_null

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("make_kn_null_table",
                                                  ROOT / "scripts" / "make_kn_null_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_table_is_what_the_script_makes():
    script = _script()
    table = load_npz("kn_null_quantiles.npz", "KN null quantile", "scripts/make_kn_null_table.py")
    np.testing.assert_array_equal(table["m"], script.M_GRID)
    np.testing.assert_array_equal(table["q"], script.Q_GRID)
    np.testing.assert_array_equal(table["probs"], script.PROBS)
    i, j = 0, 3  # m = 20, q = 0.2 (n = 100): the cheapest cell, re-simulated in full
    n, z = script.cell(int(script.M_GRID[i]), float(script.Q_GRID[j]), int(table["draws"]))
    assert n == table["n"][i, j] == 100
    np.testing.assert_array_equal(z, table["z"][i, j])


@pytest.mark.parametrize("n, m", [(256, 63), (3072, 768), (150, 150), (5000, 100), (40, 22)])
def test_off_grid_shapes_match_a_fresh_simulation(n, m):
    b = 9999
    tab = tabulated_null(n, m, b)
    assert tab.shape == (b,) and np.all(np.diff(tab) >= 0)
    sim = simulate_null("kn", n, m, b, rng=np.random.default_rng([20261203, 7, n, m]))
    assert stats.ks_2samp(tab, sim).pvalue > 0.01
    # quantiles within 4 Monte Carlo standard errors of a B-draw quantile (plus the table's own
    # error, 50 000 draws): se = sqrt(p (1 - p) / B) / f(x_p), f estimated from the sample
    for p in (0.5, 0.9, 0.95, 0.99):
        lo, hi = np.quantile(sim, [p - 0.005, p + 0.005])
        f = 0.01 / (hi - lo)
        se = np.sqrt(p * (1 - p) * (1 / b + 1 / 50_000)) / f
        assert abs(np.quantile(tab, p) - np.quantile(sim, p)) < 4 * se, p


def test_range_and_errors():
    assert in_table(256, 64) and in_table(4096, 4096) and in_table(1000, 20)
    assert not in_table(256, 10) and not in_table(8192, 8192) and not in_table(4096, 64)
    with pytest.raises(ValueError, match="outside the KN null table"):
        tabulated_null(4096, 64, 999)


def test_cache_reads_the_table_and_simulates_the_rest():
    cache = TabulatedNullCache()
    calls = []

    def factory():
        calls.append(1)
        return np.arange(99.0)

    got = cache.get(("kn", 400, 200, 999), factory)
    np.testing.assert_array_equal(got, tabulated_null(400, 200, 999))
    assert not calls
    cache.get(("kn", 4096, 64, 999), factory)  # q < 0.02: outside, simulated
    cache.get(("known", 400, 200, 999), factory)  # another statistic: simulated
    assert len(calls) == 2


def test_transition_time_with_the_table_agrees_with_simulated_nulls():
    tr = spike_trajectory(400, 200, 50, lambda t: 0.035 * np.asarray(t, float), drift=0.3,
                          rng=np.random.default_rng(5))
    da = xr.DataArray(tr.eigenvalues, dims=("step", "rank"), coords={"step": np.arange(50)},
                      attrs={"n": 400}, name="w")
    table = bf.transition_time(da, method="detect")
    exact = bf.transition_time(da, method="detect", null_cache=NullCache())
    assert [t.to_dict() for t in table] == [t.to_dict() for t in exact]
    p_t = table.diagnostics["pvalue"].values
    p_e = exact.diagnostics["pvalue"].values
    ok = np.isfinite(p_e) & (p_e > 1e-3)  # where both read the Monte Carlo sample
    assert ok.sum() > 20
    np.testing.assert_allclose(p_t[ok], p_e[ok], atol=0.03)
