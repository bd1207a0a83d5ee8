"""The building blocks of bbpfit.transition: edge fit and its null, D-transform, level
statistics, censored regression, growth laws and the hinge (seeded; see docs/transition.md)."""

import numpy as np
import pytest
from scipy import optimize, stats
from threadpoolctl import threadpool_limits

from bbpfit.inference import optshrink_strengths
from bbpfit.laws.wishart import null_eigenvalues, top_eigenvalues
from bbpfit.transition import GOE_SPACING_RATIO, POISSON_SPACING_RATIO, fluctuation, spacing_ratio
from bbpfit.transition.dtransform import bulk_threshold, d_transform_strengths
from bbpfit.transition.edge import edge_fit, edge_statistics
from bbpfit.transition.edge_null import (
    AIRY_MEANS,
    EDGE_K,
    edge_critical,
    edge_pvalue,
    simulate_edge_null,
)
from bbpfit.transition.growth import fit_growth
from bbpfit.transition.hinge import fit_hinge
from bbpfit.transition.tobit import tobit_fit


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Dense linear algebra on one thread: the machine is shared."""
    with threadpool_limits(1):
        yield


def test_edge_fit_recovers_a_quadratic_edge_exactly():
    x = AIRY_MEANS
    lam = 3.0 + 0.05 * x + 1e-4 * x**2
    b, s = edge_fit(lam, 0, EDGE_K, 0, x)
    assert b == pytest.approx(3.0, abs=1e-10) and s == pytest.approx(0.05, rel=1e-8)
    assert np.isnan(edge_fit(lam[:10], 0, EDGE_K, 0, x)[0])  # too few eigenvalues


def test_edge_pvalue_table_is_monotone_and_inverts():
    t = np.linspace(-5, 80, 400)
    p = edge_pvalue(t)
    assert np.all(np.diff(p) <= 0) and p[0] == 1.0 and edge_pvalue(np.nan) == 1.0
    for level in (0.5, 0.05, 1e-3, 1e-5):
        assert edge_pvalue(edge_critical(level)) == pytest.approx(level, rel=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("n, m", [(100, 50), (400, 200)])
def test_edge_statistic_null_is_universal_in_size(n, m):
    # the table was made at 2000 x 1000; sizes at other shapes within 4 binomial SE
    t = simulate_edge_null(1500, n=n, m=m, rng=np.random.default_rng(3))
    for level in (0.05, 0.01):
        size = float(np.mean(edge_pvalue(t) <= level))
        assert abs(size - level) < 4 * np.sqrt(level * (1 - level) / t.size) + 0.003


def test_edge_statistic_sees_a_spike_and_not_the_bulk():
    top = top_eigenvalues(1000, 500, 200, k=EDGE_K + 2, theta=2.0 * 0.5**0.25,
                          rng=np.random.default_rng(0))
    t = edge_statistics(np.ascontiguousarray(top), EDGE_K, 2, AIRY_MEANS)
    assert np.mean(edge_pvalue(t[:, 0]) < 1e-3) > 0.95  # the spike
    assert np.mean(edge_pvalue(t[:, 1]) < 0.05) < 0.2  # the top of the bulk below it


def test_d_transform_threshold_and_strengths_on_mp_noise():
    n, m = 1000, 500
    lam = null_eigenvalues(n, m, 40, theta=1.5, rng=np.random.default_rng(1))
    crit = np.full((40, 1), np.nan)
    edge, scale, tc, th, tck, tcr = d_transform_strengths(lam, float(n), np.ones(40, np.int64),
                                                          EDGE_K, AIRY_MEANS, crit)
    # raw threshold 1-2% low at this size (corrected by 1 + 0.13 m^(-1/3) in diagnostics)
    assert tc.mean() * (1 + 0.13 * m ** (-1 / 3)) == pytest.approx(0.5**0.25, rel=0.015)
    assert th[:, 0].mean() == pytest.approx(1.5, rel=0.02)
    assert edge.mean() == pytest.approx((1 + 0.5**0.5) ** 2, rel=0.01)
    # away from the edge it is OptShrink's empirical D-transform
    ref = optshrink_strengths(lam[0], n, 1, 1.0)[0]
    assert th[0, 0] == pytest.approx(ref, rel=0.02)
    assert np.all(np.isnan(tcr))


def test_bulk_threshold_follows_the_noise_scale():
    lam = null_eigenvalues(800, 400, rng=np.random.default_rng(2))
    a = bulk_threshold(lam, 800.0, 0, EDGE_K, AIRY_MEANS)
    b = bulk_threshold(4.0 * lam, 800.0, 0, EDGE_K, AIRY_MEANS)
    assert b[0] == pytest.approx(4 * a[0]) and b[2] == pytest.approx(2 * a[2])


def test_spacing_ratio_reference_values():
    lam = null_eigenvalues(2000, 1000, 10, rng=np.random.default_rng(0))
    assert spacing_ratio(lam).mean() == pytest.approx(GOE_SPACING_RATIO, abs=0.01)
    poisson = -np.sort(-np.random.default_rng(0).random((10, 2000)), axis=-1)
    assert spacing_ratio(poisson).mean() == pytest.approx(POISSON_SPACING_RATIO, abs=0.01)


def test_fluctuation_measures_the_injected_noise():
    rng = np.random.default_rng(0)
    base = -np.sort(-rng.random(500)) * 3
    for sd in (1e-4, 4e-4):  # well below the spacing (3 / 500), so sorting keeps the order
        lam = base + sd * rng.standard_normal((20, 500)) + 0.01 * np.arange(20)[:, None] * base
        f = fluctuation(-np.sort(-lam, axis=-1), np.arange(20) * 2)
        assert np.isnan(f[0])
        assert np.nanmean(f) == pytest.approx(sd**2, rel=0.2)  # 2 sd^2 over 2 steps


def test_tobit_matches_a_generic_optimizer():
    rng = np.random.default_rng(0)
    t = np.linspace(-1, 1, 80)
    X = np.stack([np.ones(80), t], 1)
    s = 0.5 + rng.random(80)
    y = 1.0 + 2.0 * t + 0.3 * s * rng.standard_normal(80)
    c = np.full(80, 0.8)
    obs = y >= c
    beta, kappa, ll, ok = tobit_fit(X, y, c, s, obs)

    def nll(p):
        mu, k = X @ p[:2], np.exp(p[2])
        return -(stats.norm.logpdf(y[obs], mu[obs], k * s[obs]).sum()
                 + stats.norm.logcdf((c[~obs] - mu[~obs]) / (k * s[~obs])).sum())

    ref = optimize.minimize(nll, [0, 1, 0], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    assert ok and np.allclose(beta, ref.x[:2], atol=1e-5) and ll == pytest.approx(-ref.fun)
    assert kappa == pytest.approx(np.exp(ref.x[2]), rel=1e-4)


def test_growth_fit_recovers_a_linear_crossing_with_coverage():
    # u(t) = t / 50 observed above c = 1.15 with noise growing toward the threshold
    rng = np.random.default_rng(0)
    t = np.arange(120.0)
    g = t / 50.0
    hits, errs = 0, []
    for rep in range(20):
        u = g + 0.05 * np.sqrt(1 + 2.7 / np.maximum(g**4 - 1, 0.05)) * rng.standard_normal(120)
        c = np.full(120, 1.15)
        fit = fit_growth(t, u, c, u >= c, n_boot=100, rng=rep)
        errs.append(fit.t_cross / 50 - 1)
        hits += fit.ci_low <= 50 <= fit.ci_high
    assert np.median(np.abs(errs)) < 0.03 and hits >= 15
    assert fit.law == "linear" and fit.n_observed + fit.n_censored <= 120


def test_growth_fit_picks_the_exponential_for_clear_curvature():
    t = np.arange(100.0)
    u = 0.2 * np.exp(t / 30.0) * (1 + 0.01 * np.random.default_rng(1).standard_normal(100))
    c = np.full(100, 1.1)
    fit = fit_growth(t, u, c, u >= c, n_boot=50, rng=0)
    assert fit.law == "exponential"
    assert fit.t_cross == pytest.approx(30 * np.log(5), rel=0.02)
    assert fit_growth(t, u, c, np.zeros(100, bool)) is None


def test_hinge_finds_the_break():
    rng = np.random.default_rng(0)
    t = np.arange(100.0)
    x = 0.1 + 0.02 * np.maximum(t - 40, 0) + 0.02 * rng.standard_normal(100)
    fit = fit_hinge(t, x, n_boot=200, rng=1)
    assert abs(fit.tau - 40) < 4 and fit.ci_low < 40 < fit.ci_high and fit.slope > 0
    assert fit_hinge(t, 0.1 - 0.001 * t) is None  # no rising break
