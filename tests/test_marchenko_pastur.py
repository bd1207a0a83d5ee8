"""Marchenko-Pastur law: closed form against quadrature, moments, medians, bad input."""

import numpy as np
import pytest
from scipy import integrate

import bbpfit as bf

RATIOS = [0.01, 0.1, 0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize("q", RATIOS)
def test_cdf_matches_quadrature_of_pdf(q):
    mp = bf.marchenko_pastur(q, sigma2=2.5)
    lo, hi = mp.support()
    for x in np.linspace(lo, hi, 13)[1:-1]:
        ref, _ = integrate.quad(mp.pdf, lo, x, epsabs=1e-13, epsrel=1e-13, limit=200)
        assert mp.cdf(x) == pytest.approx(ref, abs=1e-10)
    assert mp.cdf(lo) == 0.0 and mp.cdf(hi) == 1.0


@pytest.mark.parametrize("q", RATIOS)
def test_moments(q):
    sigma2 = 0.7
    mp = bf.marchenko_pastur(q, sigma2)
    lo, hi = mp.support()
    m1, _ = integrate.quad(lambda x: x * mp.pdf(x), lo, hi, epsabs=1e-12, limit=200)
    m2, _ = integrate.quad(lambda x: x * x * mp.pdf(x), lo, hi, epsabs=1e-12, limit=200)
    assert mp.mean() == sigma2 and m1 == pytest.approx(sigma2, abs=1e-9)
    assert mp.var() == pytest.approx(sigma2**2 * q) and m2 - m1**2 == pytest.approx(sigma2**2 * q, abs=1e-9)


# Medians mu_q at sigma2 = 1, statistics-brief.md section 1.1 (brentq on the closed-form cdf).
@pytest.mark.parametrize(("q", "mu"), [(0.01, 0.996666), (0.1, 0.966565), (0.25, 0.916004),
                                       (0.5, 0.830466), (0.75, 0.742948), (1.0, 0.652776)])
def test_median_reference_values(q, mu):
    assert bf.marchenko_pastur(q).median() == pytest.approx(mu, abs=5e-7)


def test_ppf_inverts_cdf_and_shapes():
    mp = bf.marchenko_pastur(0.3, 4.0)
    p = np.linspace(0.001, 0.999, 50).reshape(5, 10)
    x = mp.ppf(p)
    assert x.shape == (5, 10)
    np.testing.assert_allclose(mp.cdf(x), p, atol=1e-12)
    np.testing.assert_allclose(mp.sf(x) + mp.cdf(x), 1.0)
    assert np.isnan(mp.ppf(1.5)) and np.isnan(mp.cdf(np.nan))
    assert mp.isf(0.25) == pytest.approx(mp.ppf(0.75))
    lo, hi = mp.interval(0.9)
    assert mp.cdf(hi) - mp.cdf(lo) == pytest.approx(0.9)


def test_pdf_outside_support_is_zero():
    mp = bf.marchenko_pastur(0.5)
    lo, hi = mp.support()
    assert mp.pdf(lo / 2) == 0.0 and mp.pdf(hi * 2) == 0.0 and mp.pdf(1.0) > 0


def test_rvs_pass_ks_against_cdf():
    from scipy import stats

    mp = bf.marchenko_pastur(0.5, sigma2=3.0)
    lam = mp.rvs(800, size=10, rng=0)
    assert lam.shape == (10, 400) and np.all(np.diff(lam, axis=-1) <= 0)
    # Eigenvalues are rigid (far less variable than iid draws), so the KS test is very lenient;
    # a wrong scale or ratio still fails it at this size.
    assert stats.kstest(lam.ravel(), mp.cdf).pvalue > 0.05
    assert stats.kstest(lam.ravel() * 1.1, mp.cdf).pvalue < 1e-6


@pytest.mark.parametrize(("kw", "exc", "match"), [
    ({"ratio": 0.0}, ValueError, "`ratio` must be in"),
    ({"ratio": 1.5}, ValueError, "`ratio` must be in"),
    ({"ratio": np.nan}, ValueError, "`ratio` must be finite"),
    ({"ratio": "0.5"}, TypeError, "`ratio` must be a real number"),
    ({"ratio": 0.5, "sigma2": 0.0}, ValueError, "`sigma2` must be > 0"),
    ({"ratio": 0.5, "sigma2": -1.0}, ValueError, "`sigma2` must be > 0"),
])
def test_bad_parameters(kw, exc, match):
    with pytest.raises(exc, match=match):
        bf.marchenko_pastur(**kw)


def test_rvs_needs_compatible_n():
    with pytest.raises(ValueError, match="`n`=7"):
        bf.marchenko_pastur(0.3).rvs(7)
