"""Statistics, exact nulls and their cache (bbpfit.inference.statistics, .null_cache)."""

import numpy as np
import pytest

from bbpfit.fit.kritchman_nadler import kn_sigma2
from bbpfit.inference import NullCache, null_distribution
from bbpfit.inference.null_cache import mc_critical_value, mc_pvalue, simulate_null
from bbpfit.inference.statistics import (
    kn_sigma2_sums,
    kn_statistic,
    kn_statistic_draws,
    ma_constants,
    onatski_ratio,
)
from bbpfit.laws.wishart import null_eigenvalues


@pytest.mark.parametrize("k", [0, 1, 2, 5])
def test_kn_from_sums_equals_the_fit_layer_estimate(k):
    lam = null_eigenvalues(600, 300, theta=2.0, rng=np.random.default_rng(k))
    full = kn_sigma2(lam, 600.0, k)
    sums = kn_sigma2_sums(np.ascontiguousarray(lam[:k]), float(lam[k:].sum()), 300, 600.0)
    assert sums == pytest.approx(full, rel=1e-12)


def test_null_statistic_from_top_and_trace_equals_the_full_spectrum_statistic():
    # The "top eigenvalue + trace" route of the null sampler computes exactly the observed
    # statistic T_0 of the same spectrum.
    lam = null_eigenvalues(300, 120, size=50, rng=np.random.default_rng(3))
    direct = np.array([kn_statistic(row, 300, 0)[0] for row in lam])
    via_sums = kn_statistic_draws(np.ascontiguousarray(lam[:, 0]), lam.sum(axis=1), 120, 300.0)
    np.testing.assert_allclose(via_sums, direct, rtol=1e-12)


def test_ma_constants_match_the_formula():
    # Ma (2012): mu = (sqrt(n - 1/2) + sqrt(p - 1/2))^2,
    # sigma = (sqrt(n - 1/2) + sqrt(p - 1/2)) (1/sqrt(n - 1/2) + 1/sqrt(p - 1/2))^(1/3)
    n, p = 1000.0, 500.0
    a, b = np.sqrt(n - 0.5), np.sqrt(p - 0.5)
    mu, sd = ma_constants(n, p)
    assert mu == pytest.approx((a + b) ** 2, rel=1e-12)
    assert sd == pytest.approx((a + b) * (1 / a + 1 / b) ** (1 / 3), rel=1e-12)


def test_onatski_ratio_by_hand():
    top = np.array([10.0, 6.0, 5.0, 4.5, 4.4])
    assert onatski_ratio(top, 1) == pytest.approx(4.0 / 1.0)
    assert onatski_ratio(top, 3) == pytest.approx(max(4.0, 1.0 / 0.5, 0.5 / 0.1))
    batch = onatski_ratio(np.stack([top, top]), 2)
    np.testing.assert_allclose(batch, [4.0, 4.0])


def test_null_is_seeded_by_its_key_and_cached(tmp_path):
    cache = NullCache(maxsize=2, directory=tmp_path)
    a = null_distribution(200, 80, n_draws=499, cache=cache)
    assert a.shape == (499,) and np.all(np.diff(a) >= 0) and not a.flags.writeable
    assert null_distribution(200, 80, n_draws=499, cache=cache) is a
    fresh = NullCache(directory=tmp_path)  # reads the file written above
    np.testing.assert_array_equal(null_distribution(200, 80, n_draws=499, cache=fresh), a)
    np.testing.assert_array_equal(simulate_null("kn", 200, 80, 499), a)  # same seed, no cache
    null_distribution(200, 81, n_draws=499, cache=cache)
    null_distribution(200, 82, n_draws=499, cache=cache)
    assert len(cache) == 2 and ("kn", 200, 80, 499) not in cache
    assert len(list(tmp_path.glob("*.npy"))) == 3



def test_default_cache_holds_every_sample_a_minilm_sized_model_needs():
    """all-MiniLM-L6-v2 needs 279 null samples (``tw`` then ``auto``); a default cache keeps
    them all, so a second pass over the same keys simulates nothing (a cache of 256 evicted
    them in turn: every run re-read or re-simulated a few dozen)."""
    cache = NullCache()
    calls = []
    keys = [("kn", n, m, 1999) for n in (384, 1536) for m in range(384, 244, -1)]
    assert len(keys) == 280
    for key in keys + keys:
        cache.get(key, lambda key=key: calls.append(key) or np.zeros(1))
    assert calls == keys

def test_null_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        null_distribution(100, 50, kind="nope")
    with pytest.raises(ValueError, match="`m` must be <= `n`"):
        null_distribution(50, 100)
    with pytest.raises(ValueError, match="n_draws"):
        null_distribution(100, 50, n_draws=5)


def test_monte_carlo_pvalue_and_critical_value_agree():
    rng = np.random.default_rng(0)
    null = np.sort(rng.standard_normal(9999))
    for alpha in (0.05, 0.01, 0.001, 0.2):
        crit = mc_critical_value(null, alpha)
        for t in np.concatenate([rng.normal(crit, 0.05, 200), null[-200:], [crit]]):
            p, count = mc_pvalue(null, t)
            assert count == int(np.sum(null >= t))
            assert (p <= alpha) == (t > crit)
    assert mc_pvalue(null, -np.inf)[0] == 1.0
    assert mc_critical_value(null, 1e-5) == np.inf


def test_known_sigma_null_is_the_top_eigenvalue_law():
    # l_1 of an (n, m) null has mean close to Ma's centring / n (within 2% at n = 400).
    t = null_distribution(400, 200, kind="known", n_draws=999)
    mu, sd = ma_constants(400, 200)
    assert np.mean(t) == pytest.approx((mu - 1.2065 * sd) / 400, rel=0.02)
