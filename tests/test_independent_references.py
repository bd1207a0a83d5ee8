"""Numerical routines against references that share no code with them (issue #12 audit gaps).

* Marchenko-Pastur: the density typed here from Marchenko & Pastur (1967) / Bai & Silverstein
  (2010, eq. 3.1.1) and integrated by mpmath at 30 digits, against ``cdf`` and ``ppf``.
* Hinge fit: the least-squares break found by brute force (``scipy.optimize.minimize_scalar`` on
  the residual sum of squares of ``numpy.linalg.lstsq`` fits), against :func:`fit_hinge`.
* Tobit fit: on a design with heavy censoring (deep in the tail where log Phi used to be wrong),
  against the likelihood maximised by scipy's Nelder-Mead with ``scipy.stats.norm.logcdf``.
"""

import mpmath as mp
import numpy as np
import pytest
from scipy import optimize, stats

import bbpfit as bf
from bbpfit.transition.hinge import fit_hinge
from bbpfit.transition.tobit import tobit_fit


def _mp_density(x, q, s2):
    a, b = s2 * (1 - mp.sqrt(q)) ** 2, s2 * (1 + mp.sqrt(q)) ** 2
    if not a < x < b:
        return mp.mpf(0)
    return mp.sqrt((b - x) * (x - a)) / (2 * mp.pi * s2 * q * x)


@pytest.mark.parametrize(("q", "s2"), [(0.25, 1.0), (0.5, 2.5), (1.0, 0.7)])
def test_marchenko_pastur_against_mpmath_quadrature(q, s2):
    law = bf.marchenko_pastur(q, s2)
    lo, hi = law.support()
    with mp.workdps(30):
        a = mp.mpf(s2) * (1 - mp.sqrt(q)) ** 2
        for frac in (0.05, 0.3, 0.5, 0.8, 0.97):
            x = lo + frac * (hi - lo)
            ref = mp.quad(lambda u: _mp_density(u, mp.mpf(q), mp.mpf(s2)), [a, x])
            assert law.cdf(x) == pytest.approx(float(ref), abs=1e-12)
            assert law.pdf(x) == pytest.approx(float(_mp_density(mp.mpf(x), q, s2)), rel=1e-12)
            assert law.ppf(float(ref)) == pytest.approx(x, rel=1e-9)


def test_hinge_break_equals_brute_force_least_squares():
    rng = np.random.default_rng(5)
    t = np.arange(120.0)
    x = 0.3 + 0.015 * np.maximum(t - 47.3, 0) + 0.05 * rng.standard_normal(t.size)

    def rss(tau):
        design = np.stack([np.ones_like(t), np.maximum(t - tau, 0)], 1)
        coef, res, *_ = np.linalg.lstsq(design, x, rcond=None)
        return float(np.sum((x - design @ coef) ** 2))

    coarse = min(np.arange(1.0, 118.0, 0.5), key=rss)
    ref = optimize.minimize_scalar(rss, bounds=(coarse - 1, coarse + 1), method="bounded",
                                   options={"xatol": 1e-8}).x
    fit = fit_hinge(t, x, n_boot=50, rng=0)
    step = (t[-2] - t[0]) / 399  # the profile grid of fit_hinge
    assert abs(fit.tau - ref) <= step
    assert rss(fit.tau) <= rss(ref) + 1e-9 * rss(ref) + 1e-12 or abs(fit.tau - ref) <= step


def test_tobit_with_deep_censoring_matches_scipy_likelihood():
    rng = np.random.default_rng(2)
    n = 600
    t = np.linspace(0.0, 1.0, n)
    X = np.stack([np.ones(n), t], 1)
    s = 0.2 + rng.random(n)
    y = -1.0 + 3.0 * t + 0.15 * s * rng.standard_normal(n)
    c = np.full(n, 0.3)
    obs = y >= c
    # one row known to lie below a point 60 noise sds under its mean: the fit widens kappa until
    # d = -sqrt(#observed) ~ -18 there, deep in the tail where the old series was off by 1e-3
    far = np.array([500])
    c[far] = (-1.0 + 3.0 * t[far]) - 60 * 0.15 * s[far]
    obs[far] = False
    beta, kappa, ll, ok = tobit_fit(X, y, c, s, obs)

    def nll(p):
        mu, k = X @ p[:2], np.exp(p[2])
        return -(stats.norm.logpdf(y[obs], mu[obs], k * s[obs]).sum()
                 + stats.norm.logcdf((c[~obs] - mu[~obs]) / (k * s[~obs])).sum())

    ref = optimize.minimize(nll, [0.0, 1.0, np.log(0.2)], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 40000})
    d = (c[~obs] - X[~obs] @ ref.x[:2]) / (np.exp(ref.x[2]) * s[~obs])
    assert d.min() < -10  # the test reaches the far tail
    assert ok and ll == pytest.approx(-ref.fun, rel=1e-9)
    np.testing.assert_allclose(beta, ref.x[:2], atol=1e-5)
    assert kappa == pytest.approx(np.exp(ref.x[2]), rel=1e-4)
