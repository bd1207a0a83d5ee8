"""Shipped exact null samples (bbpfit.laws.null_samples, data/exact_null_samples.npz).

The reference is the simulator itself: a shipped entry must be the array `simulate_null` (or the
GoF null's `_simulate`) draws for its key, bit for bit, so every p-value read from it is the
simulated one. These tests fail when the table and the simulators drift apart (a changed sampler,
seed or statistic without a remade table), when a version bump is not followed by a new table,
and when a stale version could be read.
"""

import numpy as np
import pytest

from bbpfit._data import _SOURCE_DATA
from bbpfit.fit import gof
from bbpfit.inference import NullCache, null_cache
from bbpfit.inference.null_cache import (
    N_NULL,
    N_NULL_DEFLATION,
    NULL_VERSION,
    mc_critical_value,
    mc_pvalue,
    null_distribution,
    simulate_null,
)
from bbpfit.laws import null_samples
from bbpfit.laws.null_samples import decode, encode, shipped_keys, shipped_sample, table_version


def _bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def test_codec_is_lossless_on_any_float64():
    rng = np.random.default_rng(0)
    x = np.r_[np.sort(rng.standard_normal(500)), rng.standard_normal(50) * 1e300, np.nan, np.inf,
              -np.inf, -0.0, 0.0, 5e-324, np.finfo(float).max]
    np.testing.assert_array_equal(_bits(decode(encode(x))), _bits(x))
    assert encode(x).dtype == np.uint8 and encode(x).size == 8 * x.size
    with pytest.raises(ValueError, match="8 bytes per value"):
        decode(np.zeros(7, np.uint8))


def test_the_table_was_made_with_the_current_versions():
    # a bumped NULL_VERSION / GOF_NULL_VERSION without a remade table silently loses the table
    assert table_version("kn") == NULL_VERSION
    assert table_version("mpgof") == gof.GOF_NULL_VERSION


@pytest.mark.parametrize("key", [("kn", 1536, 383, N_NULL_DEFLATION), ("kn", 384, 310, N_NULL_DEFLATION),
                                 ("kn", 384, 384, N_NULL), ("mpgof", 384, 384, 99),
                                 ("mpgof", 1536 - 40, 384 - 40, 99)])
def test_shipped_entry_is_the_simulated_sample_bit_for_bit(key):
    kind, n, m, b = key
    version = NULL_VERSION if kind == "kn" else gof.GOF_NULL_VERSION
    shipped = shipped_sample(key, version)
    assert shipped is not None, f"{key} is not in the table"
    simulated = gof._simulate(n, m, b) if kind == "mpgof" else simulate_null(kind, n, m, b)
    np.testing.assert_array_equal(_bits(shipped), _bits(simulated))
    assert not shipped.flags.writeable
    grid = np.quantile(simulated, [0.0, 0.3, 0.5, 0.95, 0.999, 1.0])
    for t in np.r_[grid, np.nextafter(grid, np.inf), np.nextafter(grid, -np.inf)]:
        assert mc_pvalue(shipped, t) == mc_pvalue(simulated, t)
    assert mc_critical_value(shipped, 0.05) == mc_critical_value(simulated, 0.05)


def test_the_shapes_of_a_minilm_check_are_covered_and_the_file_is_small():
    keys = set(shipped_keys())
    for n in (384, 1536):  # the 384/1536 family: first step, deflation to k = 80, GoF to k = 96
        assert ("kn", n, 384, N_NULL) in keys
        assert all(("kn", n, 384 - k, N_NULL_DEFLATION) in keys for k in range(1, 81))
        assert all(("mpgof", n - k, 384 - k, 99) in keys for k in range(97))
    assert all(("mpgof", n - k, 768 - k, 99) in keys for n in (768, 3072) for k in range(129))
    assert (_SOURCE_DATA / null_samples.TABLE).stat().st_size < 2.1e6


def test_a_stale_version_is_never_read(monkeypatch):
    key = ("kn", 1536, 383, N_NULL_DEFLATION)
    assert shipped_sample(key, NULL_VERSION + "-next") is None
    assert shipped_sample(("mpgof", 384, 384, 99), NULL_VERSION + "-next") is None
    calls = []
    monkeypatch.setattr(null_cache, "NULL_VERSION", NULL_VERSION + "-next")
    monkeypatch.setattr(null_cache, "simulate_null", lambda *a: calls.append(a) or np.zeros(a[3]))
    out = null_distribution(1536, 383, n_draws=N_NULL_DEFLATION, cache=NullCache())
    assert calls == [("kn", 1536, 383, N_NULL_DEFLATION)] and not out.any()
    monkeypatch.setattr(gof, "GOF_NULL_VERSION", "next")
    monkeypatch.setattr(gof, "_simulate", lambda *a: calls.append(a) or np.zeros(a[2]))
    assert not gof.gof_null(384, 384, 99, cache=NullCache()).any() and calls[-1] == (384, 384, 99)


def test_uncovered_shapes_and_other_draw_counts_are_simulated(monkeypatch):
    for key in [("kn", 500, 250, N_NULL), ("kn", 1536, 383, 999), ("known", 384, 384, N_NULL),
                ("mpgof", 384, 384, 199)]:
        assert shipped_sample(key, NULL_VERSION if key[0] != "mpgof" else gof.GOF_NULL_VERSION) is None
    np.testing.assert_array_equal(null_distribution(120, 60, n_draws=499, cache=NullCache()),
                                  simulate_null("kn", 120, 60, 499))


def test_a_check_reads_the_table_and_simulates_nothing_covered(monkeypatch, tmp_path):
    def fail(*args):
        raise AssertionError(f"simulated a covered null {args}")

    monkeypatch.setattr(null_cache, "simulate_null", fail)
    monkeypatch.setattr(gof, "_simulate", fail)
    cache = NullCache(directory=tmp_path)
    lam = np.sort(np.random.default_rng(1).chisquare(1536, 384) / 1536)[::-1].copy()
    lam[:3] *= 4.0  # three spikes: the deflation steps read (1536, 383), (1536, 382), ...
    from bbpfit.inference.methods.tw import ExactTW

    for k in range(4):  # the sequential test's draws: N_NULL at k = 0, N_NULL_DEFLATION after
        draws = N_NULL if k == 0 else N_NULL_DEFLATION
        ExactTW().step(lam, 1536, k, alpha=0.05, kmax=10, n_null=draws, cache=cache)
    assert gof.mp_gof(lam, 1536, 3, cache=cache).n_bulk == 1533
