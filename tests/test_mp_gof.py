"""Goodness of fit of the MP bulk: the statistic, its calibration, power, and where it is reported.

Calibration uses dense numpy Gaussian matrices and LAPACK SVD, which share no code with the
Dumitriu-Edelman sampler of the null; tolerances are binomial and stated at each assertion. The
full study (five shapes, 400 replicates) is ``benchmarks/bench_mp_gof.py`` -> ``docs/mp_gof.md``.
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

import bbpfit as bf
from bbpfit.fit.bulk_law import bulk_law
from bbpfit.fit.gof import default_draws, gof_statistic, mp_gof


def lam_of(w):
    return np.linalg.svd(w, compute_uv=False) ** 2 / max(w.shape)


def test_statistic_is_cvm_against_quadrature_mp_cdf():
    rng = np.random.default_rng(0)
    n, m, k = 300, 100, 3
    lam = np.sort(lam_of(rng.standard_normal((n, m))))[::-1]
    bulk = np.sort(lam[k:])
    q, s = (m - k) / (n - k), bulk.mean()
    a, b = s * (1 - math.sqrt(q)) ** 2, s * (1 + math.sqrt(q)) ** 2

    def pdf(x):
        return math.sqrt(max((b - x) * (x - a), 0.0)) / (2 * math.pi * s * q * x)

    f = np.array([integrate.quad(pdf, a, min(max(x, a), b))[0] for x in bulk])
    nb = len(bulk)
    cvm = 1 / (12 * nb * nb) + np.mean((f - (np.arange(nb) + 0.5) / nb) ** 2)
    assert gof_statistic(lam, n, k) == pytest.approx(cvm, rel=1e-6)
    assert gof_statistic(7.0 * lam, n, k) == pytest.approx(cvm, rel=1e-6)  # scale-free


def test_uniform_pvalues_under_the_null_through_the_whole_pipeline():
    # 200 dense Gaussian 300 x 100 matrices -> spike_test(method="tw") -> GoF after its k, with a
    # 999-draw null. p-values randomised in their grid cell are exactly U(0, 1) under H0:
    # KS p > 0.001, and the 5% rejection rate within 0.05 +- 3 sd (sd 0.0154).
    rng = np.random.default_rng(1)
    ps = []
    for _ in range(200):
        res = bf.spike_test(bf.Spectrum(0.3 * lam_of(rng.standard_normal((300, 100))), n=300,
                                        m=100), method="tw", n_gof=999)
        ps.append(res.mp_pvalue - rng.random() / 1000)
    ps = np.array(ps)
    assert stats.kstest(ps, "uniform").pvalue > 1e-3
    assert 0.004 <= np.mean(ps <= 0.05) <= 0.096


def test_size_with_planted_spikes_removed():
    # two strong spikes: the spike test removes them and the null is the deflated shape;
    # 120 replicates, rejection at 0.05 at most 0.05 + 3 sd (sd 0.02)
    rng = np.random.default_rng(2)
    n, m, rej, ks = 400, 150, 0, []
    for _ in range(120):
        w = rng.standard_normal((n, m))
        for theta in (3.0, 2.0):
            u, v = rng.standard_normal(n), rng.standard_normal(m)
            w += theta * math.sqrt(n) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
        res = bf.spike_test(bf.Spectrum(lam_of(w), n=n, m=m), method="tw", n_gof=199)
        rej += res.mp_pvalue <= 0.05
        ks.append(res.bulk_gof.k)
    assert np.mean(ks) >= 1.9
    assert rej / 120 <= 0.11


def test_power_against_non_mp_bulks():
    rng = np.random.default_rng(3)
    n, m = 600, 200
    rows = np.sqrt(np.where(np.arange(n) < n // 2, 1.0, 2.0))[:, None]
    for _ in range(5):
        res = bf.spike_test(rows * rng.standard_normal((n, m)), method="tw")
        assert res.mp_pvalue < 0.05 and not res.spikes_interpretable
        assert res.fit.gof_pvalue == res.mp_pvalue and res.fit.gof_k == res.n_spikes
        assert any("not Marchenko-Pastur" in r for r in res.reasons)
    t3 = bf.spike_test(rng.standard_t(3, (n, m)), method="tw")
    assert t3.mp_pvalue < 0.05


def test_reported_in_fit_and_spike_test():
    rng = np.random.default_rng(4)
    w = rng.standard_normal((400, 100))
    fit = bf.fit_mp(w)
    assert math.isnan(fit.gof_pvalue) and fit.gof_k == -1
    fit = bf.fit_mp(w, gof=True)
    assert 0 < fit.gof_pvalue <= 1 and fit.gof_k == fit.n_excluded
    assert "MP goodness of fit" in fit.summary() and "gof_pvalue" in fit.to_dict()
    res = bf.spike_test(w, method="tw")
    assert res.bulk_gof.n_bulk == 400 - res.n_spikes and res.to_dict()["bulk_gof"]["pvalue"] > 0
    assert "MP goodness of fit" in res.summary()
    off = bf.spike_test(w, method="tw", gof=False)
    assert off.bulk_gof is None and math.isnan(off.mp_pvalue) and off.spikes_interpretable
    assert math.isnan(off.fit.gof_pvalue)
    # the null is a deterministic function of the shape: same p-value on a second call
    assert mp_gof(lam_of(w), 400).pvalue == mp_gof(lam_of(w), 400).pvalue


def test_default_draws_fall_with_size():
    assert default_draws(384) == 99 and default_draws(1000) == 99
    assert default_draws(1500) == 39 and default_draws(4096) == 19
    assert all((default_draws(m) + 1) % 20 == 0 for m in (10, 700, 1200, 1500, 3000))


def test_bulk_law_criterion():
    assert bulk_law(0.5) == "MP" and bulk_law(float("nan")) == ""
    assert bulk_law(0.01, 0.3, 3.0) == "power-law tail"
    assert bulk_law(0.01, 0.3, 7.0) == "deformed MP"
    assert bulk_law(0.01, 0.05, 3.0) == "deformed MP"


def test_analyze_table_columns():
    rng = np.random.default_rng(6)  # (the noise layer fails its GoF in 5% of seeds, e.g. 5)
    n = 300
    hetero = np.sqrt(np.where(np.arange(n) < n // 2, 1.0, 3.0))[:, None]
    layers = {"noise.weight": rng.standard_normal((n, 100)),
              "hetero.weight": hetero * rng.standard_normal((n, 100))}
    table = bf.analyze(layers, method="tw").set_index("layer")
    for col in ("mp_pvalue", "spikes_interpretable", "alpha", "alpha_low", "alpha_high",
                "pl_pvalue", "bulk_law"):
        assert col in table.columns
    assert table.loc["noise.weight", "bulk_law"] == "MP"
    assert table.loc["hetero.weight", "mp_pvalue"] < 0.05
    assert table.loc["hetero.weight", "bulk_law"] in ("deformed MP", "power-law tail")
    if table.loc["hetero.weight", "n_spikes"] > 0:
        assert not table.loc["hetero.weight", "spikes_interpretable"]
        assert "not interpretable" in table.loc["hetero.weight", "notes"]
    row = table.loc["noise.weight"]
    assert row["alpha_low"] <= row["alpha"] <= row["alpha_high"]


@pytest.mark.parametrize("args, err, match", [
    ((np.ones((3, 3)), 5), ValueError, "1-D"),
    ((np.array([1.0, -1.0, 2.0, 3.0]), 10), ValueError, ">= 0"),
    ((np.ones(10), 5), ValueError, "`n`"),
    ((np.ones(10), 20, 8), ValueError, "`k`"),
    ((np.ones(10), 20, 0.5), TypeError, "`k`"),
])
def test_bad_input(args, err, match):
    with pytest.raises(err, match=match):
        mp_gof(*args)


def test_minilm_ffn_bulk_is_not_mp_and_its_count_is_flagged():
    from test_sources_minilm import minilm_folder

    folder = minilm_folder()
    if folder is None:
        pytest.skip("MiniLM weights not installed")
    table = bf.analyze(folder, include="encoder.layer.0.intermediate.*")
    row = table.iloc[0]
    # trained FFN layer: dozens of "spikes" above an MP edge, but the bulk itself is not MP
    assert row["n_spikes"] > 10 and row["mp_pvalue"] <= 0.05
    assert not row["spikes_interpretable"] and "not interpretable" in row["notes"]
    assert row["bulk_law"] in ("deformed MP", "power-law tail")
    # alpha as computed by the `powerlaw` package 2.0 with the same x_min rule
    # (docs/powerlaw.md: 2.4789, x_min 0.0025199)
    assert row["alpha"] == pytest.approx(2.4789, abs=1e-4)
    assert row["alpha_low"] < row["alpha"] < row["alpha_high"]
