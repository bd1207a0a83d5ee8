"""`bf.fit_powerlaw`: the Clauset-Shalizi-Newman tail fit, its interval, p-value and comparisons.

References: an exhaustive pure-numpy implementation of the x_min rule written here (no code shared
with the Numba scan), closed forms, the `powerlaw` package 2.0 (Alstott et al. 2014) when
installed, and seeded simulations with binomial tolerances.
"""

import math

import numpy as np
import pytest

import bbpfit as bf
from bbpfit.fit.powerlaw_compare import compare_tail


def reference_fit(x):
    """Exhaustive CSN scan as the `powerlaw` package 2.0 defines it (distinct candidates but the
    largest; D over distinct tail values against the left empirical CDF; first minimum)."""
    x = np.sort(np.asarray(x, float))
    x = x[x > 0]
    best = (math.inf, None, None)
    for xm in np.unique(x)[:-1]:
        tail = x[x >= xm]
        n = len(tail)
        alpha = 1 + n / np.sum(np.log(tail / xm))
        vals, first = np.unique(tail, return_index=True)
        d = np.max(np.abs(1 - (vals / xm) ** (1 - alpha) - first / n))
        if d < best[0]:
            best = (d, xm, alpha)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scan_equals_exhaustive_reference(seed):
    rng = np.random.default_rng(seed)
    body = rng.uniform(0.1, 1, 300)
    tail = (1 - rng.random(100)) ** (-1 / 2.2)
    x = np.concatenate([body, tail])
    if seed == 2:  # ties (rounded data) and zeros (rank deficiency) are handled like powerlaw
        x = np.round(x, 2)
        x[:5] = 0.0
    d, xm, alpha = reference_fit(x)
    fit = bf.fit_powerlaw(x, n_boot=0, n_gof=0, compare=False)
    assert fit.xmin == xm
    assert fit.alpha == pytest.approx(alpha, rel=1e-12)
    assert fit.ks == pytest.approx(d, rel=1e-10)
    assert fit.n_tail == int(np.sum(x >= xm)) and fit.n == int(np.sum(x > 0))
    assert fit.sigma == pytest.approx((alpha - 1) / math.sqrt(fit.n_tail))


def test_fixed_xmin_closed_form():
    x = np.array([0.5, 1.0, 2.0, 4.0, 8.0, 3.0])
    fit = bf.fit_powerlaw(x, xmin=1.0, n_boot=50, n_gof=30, rng=0, compare=False)
    tail = np.sort(x[x >= 1.0])
    alpha = 1 + 5 / np.sum(np.log(tail))
    assert fit.alpha == pytest.approx(alpha, rel=1e-14) and fit.xmin_fixed and fit.n_tail == 5
    f = 1 - tail ** (1 - alpha)
    assert fit.ks == pytest.approx(np.max(np.abs(f - np.arange(5) / 5)), rel=1e-12)
    assert 0 < fit.pvalue <= 1 and fit.alpha_low <= fit.alpha_high


def test_matches_powerlaw_package_on_minilm_layers():
    powerlaw = pytest.importorskip("powerlaw")
    from test_sources_minilm import minilm_folder

    folder = minilm_folder()
    if folder is None:
        pytest.skip("MiniLM weights not installed")
    spectra = bf.load_spectra(folder, include="encoder.layer.0.*")
    import warnings

    for spec in spectra.values():
        fit = bf.fit_powerlaw(spec, n_boot=0, n_gof=0, compare=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = powerlaw.Fit(spec.eigenvalues, verbose=0, parameter_ranges={"alpha": [1, None]})
        assert fit.xmin == ref.xmin
        assert abs(fit.alpha - ref.alpha) < 1e-6
    # the likelihood ratios are those of powerlaw's distribution_compare
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for alt in ("lognormal", "exponential"):
            r, p = ref.distribution_compare("power_law", alt)
            ours = fit.comparisons if fit.comparisons else bf.fit_powerlaw(
                spec, n_boot=0, n_gof=0).comparisons
            assert ours[alt].statistic == pytest.approx(r, rel=1e-4, abs=1e-6)
            assert ours[alt].pvalue == pytest.approx(p, rel=1e-4, abs=1e-6)


def test_interval_covers_true_alpha_at_nominal_rate():
    # 80 Pareto samples (alpha = 3, N = 300); coverage of the 90% interval must lie in
    # [0.78, 0.99] (0.90 -3.6 / +2.7 binomial sd): fails if the interval is badly too narrow or wide
    rng = np.random.default_rng(11)
    reps, cover = 80, 0
    for _ in range(reps):
        x = (1 - rng.random(300)) ** (-1 / 2.0)
        fit = bf.fit_powerlaw(x, n_boot=100, n_gof=0, compare=False, rng=rng)
        cover += fit.alpha_low <= 3.0 <= fit.alpha_high
    assert 0.78 <= cover / reps <= 0.99


def test_gof_pvalue_calibrated_and_powerful():
    rng = np.random.default_rng(5)
    p_null = [bf.fit_powerlaw((1 - rng.random(200)) ** (-1 / 1.5), n_boot=0, n_gof=60,
                              compare=False, rng=rng).pvalue for _ in range(40)]
    # p-values of true power laws: about uniform (mean 0.5 +- 0.046 sd for 40 draws)
    assert 0.33 < np.mean(p_null) < 0.67
    assert np.mean(np.array(p_null) < 0.1) <= 0.25
    # eigenvalues of a pure-noise matrix: a bounded bulk, no power-law tail anywhere
    lam = bf.eigenvalues(rng.standard_normal((2000, 1000)))
    assert bf.fit_powerlaw(lam, n_boot=0, n_gof=100, rng=0, compare=False).pvalue < 0.1


def test_likelihood_ratios_pick_the_true_law():
    rng = np.random.default_rng(3)
    pareto = (1 - rng.random(2000)) ** (-1 / 1.5)
    cmp = compare_tail(pareto, 1.0, 1 + 2000 / np.sum(np.log(pareto)))
    assert cmp["exponential"].favoured == "power_law"
    expo = 1.0 + rng.exponential(1.0, 2000)
    alpha = 1 + 2000 / np.sum(np.log(expo))
    cmp = compare_tail(expo, 1.0, alpha)
    assert cmp["exponential"].favoured == "exponential"
    assert cmp["exponential"].parameters[0] == pytest.approx(1 / np.mean(expo - 1.0))
    assert cmp["truncated_power_law"].favoured == "truncated_power_law"
    assert cmp["truncated_power_law"].statistic <= 0 and cmp["truncated_power_law"].nested


def test_reproducible_and_result_object():
    x = np.random.default_rng(0).pareto(2.0, 500) + 1
    a = bf.fit_powerlaw(x, rng=7, n_boot=50, n_gof=20)
    b = bf.fit_powerlaw(x, rng=7, n_boot=50, n_gof=20)
    assert a.to_dict() == b.to_dict()
    d = a.to_dict()
    assert set(d["comparisons"]) == {"truncated_power_law", "lognormal", "exponential"}
    text = a.summary()
    assert "alpha" in text and "90% bootstrap CI" in text and "vs lognormal" in text
    assert "PowerLawFit(alpha=" in repr(a)
    from dataclasses import FrozenInstanceError

    with pytest.raises(FrozenInstanceError):
        a.alpha = 1.0


@pytest.mark.parametrize("bad, kwargs, err, match", [
    (np.array([1.0, np.nan, 2.0, 3.0]), {}, ValueError, "`x`"),
    (np.array([1.0, -2.0, 3.0, 4.0]), {}, ValueError, ">= 0"),
    (np.ones((3, 3)), {}, ValueError, "1-D"),
    (np.array([1.0, 1.0, 2.0]), {}, ValueError, "3 distinct"),
    (np.arange(1.0, 20.0), {"xmin": 0.0}, ValueError, "`xmin`"),
    (np.arange(1.0, 20.0), {"xmin": 19.0}, ValueError, "fewer than 2"),
    (np.arange(1.0, 20.0), {"confidence_level": 1.0}, ValueError, "`confidence_level`"),
    (np.arange(1.0, 20.0), {"n_boot": -1}, ValueError, "`n_boot`"),
    (np.arange(1.0, 20.0), {"n_gof": 2.5}, TypeError, "`n_gof`"),
    (np.array(["a", "b", "c"]), {}, TypeError, "`x`"),
])
def test_bad_input(bad, kwargs, err, match):
    with pytest.raises(err, match=match):
        bf.fit_powerlaw(bad, **kwargs)
