"""The critical-window law of the top eigenvalue (bbpfit.laws.critical_window) against a
brute-force simulation that shares no code with it (dense Gaussian matrices, numpy eigvalsh,
Ma's constants written out here), the Tracy-Widom limit and the BBP outlier location."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bbpfit.laws.critical_window import critical_window_law

N, M = 120, 60
#: Tracy-Widom beta = 1 mean (Bornemann 2010, Table 8 / Prahofer's tables): -1.2065335745820.
TW1_MEAN = -1.2065335745820


def _brute(w, draws, seed):
    """Standardised top eigenvalues of ``Z + theta sqrt(n) u v^T``, noise level by the mean
    eigenvalue, by dense matrices."""
    rng = np.random.default_rng(seed)
    theta = (M / N) ** 0.25 * (1.0 + w * N ** (-1.0 / 3.0))
    a, b = math.sqrt(N - 0.5), math.sqrt(M - 0.5)
    mu, s = (a + b) ** 2, (a + b) * (1 / a + 1 / b) ** (1 / 3)
    out = np.empty(draws)
    for i in range(draws):
        u = rng.standard_normal(N)
        v = rng.standard_normal(M)
        W = rng.standard_normal((N, M)) + theta * math.sqrt(N) * np.outer(u / np.linalg.norm(u),
                                                                         v / np.linalg.norm(v))
        lam = np.linalg.eigvalsh(W.T @ W / N)
        out[i] = (N * lam[-1] / lam.mean() - mu) / s
    return out


@pytest.fixture(scope="module")
def law():
    return critical_window_law(N, M)


@pytest.mark.parametrize("w", [-2.0, 0.0, 1.5])
def test_quantiles_and_mean_match_brute_force(law, w):
    x = _brute(w, 1500, seed=int(10 * w) + 100)
    sd = x.std()
    # standard error of a quantile ~ 1.3 sd / sqrt(N) (the median of a near-Gaussian: 1.25);
    # 1500 brute-force draws against 4000 in the table: about 0.05 sd together; 4 of them
    tol = 4 * 1.3 * sd * math.sqrt(1 / 1500 + 1 / 4000)
    for q in (0.1, 0.5, 0.9):
        assert law.quantile(q, w) == pytest.approx(np.quantile(x, q), abs=tol), q
    assert law.mean(w) == pytest.approx(x.mean(), abs=4 * sd * math.sqrt(1 / 1500 + 1 / 4000))
    assert law.sd(w) == pytest.approx(sd, rel=0.1)


def test_neyman_interval_covers_w_at_its_level(law):
    x = _brute(0.5, 1500, seed=7)
    w_hat, lo, hi = law.estimate_w(x, confidence_level=0.9)
    cover = np.mean((lo <= 0.5) & (0.5 <= hi))
    # binomial sd at 0.9 over 1500: 0.0077; 4 of them, plus the table's own error
    assert abs(cover - 0.9) < 0.04
    assert abs(np.median(w_hat) - 0.5) < 0.3  # median-unbiased


def test_far_below_the_threshold_the_law_is_tracy_widom():
    law = critical_window_law(400, 200)
    # finite-n with an estimated noise level: measured -1.20 at the grid's low end
    assert law.mean(law.w[0]) == pytest.approx(TW1_MEAN, abs=0.1)
    assert law.sd(law.w[0]) == pytest.approx(1.2680, abs=0.1)  # TW1 sd: sqrt(1.6077810345)


def test_far_above_it_the_median_sits_at_the_bbp_outlier():
    law = critical_window_law(400, 200)
    w = law.w[-1]
    theta = float(law.theta(w))
    q = 0.5
    y = (1 + theta**2) * (q + theta**2) / theta**2  # Benaych-Georges & Nadakuditi (2012)
    a, b = math.sqrt(400 - 0.5), math.sqrt(200 - 0.5)
    mu, s = (a + b) ** 2, (a + b) * (1 / a + 1 / b) ** (1 / 3)
    # the mean eigenvalue includes the spike's energy theta^2 / m: remove it from the prediction
    x_pred = (400 * y / (1 + theta**2 / 200) - mu) / s
    assert law.quantile(0.5, w) == pytest.approx(x_pred, rel=0.1)


def test_the_inverse_recovers_w_and_the_theta_map(law):
    for w in (-1.0, 0.0, 2.0):
        assert law.estimate_w(law.quantile(0.5, w))[0] == pytest.approx(w, abs=0.05)
        assert float(law.w_of_theta(law.theta(w))) == pytest.approx(w)
    assert law.estimate_w(np.nan)[0] != law.estimate_w(np.nan)[0]
    assert "n=120" in repr(law) and "theta/theta_c" in law.summary()
    assert set(law.to_dict()) >= {"w", "quantiles", "means", "sds"}


def test_cached_per_shape_and_bad_input(law):
    assert critical_window_law(M, N) is law  # sides sorted, cached
    with pytest.raises(ValueError, match="`m`"):
        critical_window_law(100, 1)
    with pytest.raises(ValueError, match="`n_draws`"):
        critical_window_law(100, 50, n_draws=10)
    with pytest.raises(TypeError, match="`n`"):
        critical_window_law(100.5, 50)
    with pytest.raises(ValueError, match="confidence_level"):
        law.estimate_w(0.0, confidence_level=1.5)
