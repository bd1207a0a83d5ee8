"""Rank-Gaussianisation, biwhitening, diagnostics and spike strengths."""

import numpy as np
import pytest
from scipy import stats

import bbpfit as bf
from bbpfit.inference import (
    biwhiten,
    diagnose,
    optshrink_strengths,
    rank_gaussianize,
    strength_interval,
)
from bbpfit.inference.rank_gauss import normal_scores, rank_order
from bbpfit.inference.strengths import bbp_strengths
from bbpfit.laws.wishart import null_eigenvalues


def test_rank_gaussianize_is_a_monotone_arrangement_of_normal_scores():
    w = np.random.default_rng(0).standard_t(3, size=(50, 20))
    g = rank_gaussianize(w)
    np.testing.assert_array_equal(np.sort(g.ravel()), normal_scores(1000))
    order = np.argsort(w.ravel())
    assert np.all(np.diff(g.ravel()[order]) > 0)


def test_rank_gaussianize_breaks_ties_at_random_and_reproducibly():
    w = np.random.default_rng(1).choice([-1.0, 1.0], size=(40, 30))
    a = rank_gaussianize(w, rng=5)
    np.testing.assert_array_equal(a, rank_gaussianize(w, rng=5))
    assert not np.array_equal(a, rank_gaussianize(w, rng=6))
    assert a[w < 0].max() < a[w > 0].min()  # the two tied groups keep their order


def test_rank_order_equals_a_stable_argsort_of_distinct_float32_values():
    # float32 weights keep every bit in the integer sort keys: the order is exact.
    rng = np.random.default_rng(3)
    distinct = np.unique(rng.standard_t(4, size=30000).astype(np.float32))
    w = rng.permutation(distinct)[:29000].reshape(290, 100)
    np.testing.assert_array_equal(rank_order(w), np.argsort(w.ravel(), kind="stable"))


def test_rank_order_handles_the_whole_float_range():
    # Extremes, subnormals and signed zeros: the integer keys keep the float order.
    vals = np.array([1e308, -5e-324, 1.0, -1e308, 5e-324, -1.0, 0.0, 2.5e-310, -2.5e-310, 3.0])
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = rng.permutation(vals)  # 10 values, 2 of them tied in their keys: the many-ties path
        assert np.all(np.diff(x[rank_order(x)]) > 0)
    # Few ties: neighbours one ulp apart share a key among 1000 values and still come in order.
    x = rng.standard_normal(1000)
    x[[10, 20, 30]] = 0.7, np.nextafter(0.7, 1.0), np.nextafter(np.nextafter(0.7, 1.0), 1.0)
    for seed in range(20):
        y = rng.permutation(x)
        assert np.all(np.diff(y[rank_order(y, seed)]) > 0)


@pytest.mark.parametrize("many", [True, False])  # many ties (shuffle path), few (in-run path)
def test_rank_order_is_the_same_for_a_matrix_and_its_strided_view(many):
    # The tie paths gather values by flat index: a 1-D gather for a C-contiguous matrix, a 2-D
    # one for a strided view (a transposed layer); both must give the same order, and it must
    # put the values in order.
    w = np.random.default_rng(9).standard_normal((300, 120)).astype(np.float32)
    if many:
        w = np.round(w, 1)
    else:
        w.flat[::25] = w.flat[1::25]  # 8% of the entries tied in pairs
    strided = np.asfortranarray(w)
    assert not strided.flags.c_contiguous
    for seed in range(3):
        order = rank_order(w, seed)
        np.testing.assert_array_equal(order, rank_order(strided, seed))
        assert np.all(np.diff(w.ravel()[order]) >= 0)


@pytest.mark.parametrize("fill", [0.0, 0.5])  # many ties (shuffle path), few ties (in-run path)
def test_rank_order_shuffles_every_run_of_ties_uniformly(fill):
    # Runs {a, b} (with -0.0 == 0.0) and {d, e} among distinct values: each of the 2! * 2!
    # arrangements must come out with probability 1/4 (chi-square, 4000 draws, level 0.001).
    rng = np.random.default_rng(4)
    base = rng.standard_normal(40)
    base[[3, 17]] = [0.0, -0.0]
    base[[8, 12]] = 2.5
    if fill == 0.0:
        base[20:] = base[3]  # now most entries are tied: 22 zeros
    seen = {}
    for seed in range(4000):
        o = rank_order(base, seed)
        pos = np.empty_like(o)
        pos[o] = np.arange(o.size)
        key = (pos[3] < pos[17], pos[8] < pos[12])
        seen[key] = seen.get(key, 0) + 1
        assert np.all(np.diff(base[o]) >= 0)
    counts = np.array(list(seen.values()))
    assert counts.size == 4
    assert stats.chisquare(counts).pvalue > 1e-3


def test_rank_gaussianize_rejects_bad_input():
    with pytest.raises(ValueError, match="`W`"):
        rank_gaussianize(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError, match="`W`"):
        rank_gaussianize(np.ones((3, 3), dtype=complex))


def test_biwhiten_equalises_rows_and_columns_and_finds_the_scales():
    rng = np.random.default_rng(2)
    r = np.exp(rng.normal(0, 0.5, 500))
    c = np.exp(rng.normal(0, 0.5, 250))
    w = r[:, None] * rng.standard_normal((500, 250)) * c[None, :]
    b = biwhiten(w)
    assert b.converged
    np.testing.assert_allclose((b.matrix ** 2).sum(axis=1), 250, rtol=1e-6)
    np.testing.assert_allclose((b.matrix ** 2).sum(axis=0), 500, rtol=1e-6)
    prod = np.log(b.row_scale * r)
    assert np.std(prod) < 0.1  # row_scale ~ const / r up to sampling noise (sd ~ 1/sqrt(250))
    assert "Biwhitened(shape=(500, 250)" in repr(b)


def test_biwhiten_rejects_zero_lines_and_bad_shapes():
    w = np.random.default_rng(0).standard_normal((20, 10))
    w[3] = 0
    with pytest.raises(ValueError, match="all-zero row or column"):
        biwhiten(w)
    with pytest.raises(ValueError, match="`W`"):
        biwhiten(np.ones(5))


def test_diagnose_flags_tails_and_heterogeneity():
    rng = np.random.default_rng(3)
    g = diagnose(rng.standard_normal((400, 200)), rng=0)
    assert g.gaussian and not g.heterogeneous and g.bulk_mp and g.entries_available
    assert not diagnose(rng.standard_t(5, (400, 200))).gaussian
    assert not diagnose(rng.choice([-1.0, 1.0], (400, 200)), rng=0).gaussian
    het = np.exp(rng.normal(0, 0.3, (400, 1))) * rng.standard_normal((400, 200))
    d = diagnose(het)
    assert d.heterogeneous and d.row_pvalue < 1e-6 and d.col_pvalue > 1e-3
    assert set(d.to_dict()) >= {"kurtosis_pvalue", "heterogeneity_pvalue", "bulk_ks"}


def test_bbp_strengths_invert_the_forward_map_and_censor_at_the_threshold():
    q, s2 = 0.25, 2.0
    theta = np.array([3.0, 1.5, 0.9])
    lam = bf.spike_eigenvalue(theta, q, sigma2=s2)
    np.testing.assert_allclose(bbp_strengths(lam, 4000, 1000, s2), theta, rtol=1e-12)
    edge = s2 * (1 + q ** 0.5) ** 2
    np.testing.assert_allclose(bbp_strengths([0.5 * edge], 4000, 1000, s2), [q ** 0.25])
    assert bbp_strengths([], 4000, 1000, s2).shape == (0,)


@pytest.mark.parametrize("theta", [1.5, 3.0])
def test_optshrink_recovers_the_strength_on_an_mp_bulk(theta):
    # Brief section 4.4: the D-transform reproduces theta within ~0.02 on MP noise.
    lam = null_eigenvalues(4000, 1000, theta=theta, rng=np.random.default_rng(4))
    got = optshrink_strengths(lam, 4000, 1, 1.0)[0]
    assert got == pytest.approx(theta, abs=0.05)


def test_strength_interval_brackets_the_truth_and_is_reproducible():
    y = bf.spike_eigenvalue(1.6, 0.5)
    lo, hi = strength_interval(y, 1000, 500, n_draws=400, rng=1)
    assert lo < 1.6 < hi and hi - lo < 0.3
    assert strength_interval(y, 1000, 500, n_draws=400, rng=1) == (lo, hi)
    edge = (1 + 0.5 ** 0.5) ** 2
    lo0, hi0 = strength_interval(edge, 1000, 500, n_draws=400)
    assert lo0 == 0.0 and 0.7 < hi0 < 1.3


def test_kurtosis_pvalue_equals_scipy():
    from scipy import stats

    from bbpfit.inference.diagnostics import entry_tails

    rng = np.random.default_rng(8)
    for x in (rng.standard_normal(500), rng.standard_t(6, 5000), rng.uniform(size=(40, 30))):
        assert entry_tails(x)[1] == pytest.approx(stats.kurtosistest(x.ravel()).pvalue,
                                                  rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("seed", range(4))
def test_auto_does_not_read_a_strong_signal_as_heavy_tails(seed):
    # Regression: thetas (30, 20, 12) widen the entry law of a Gaussian matrix (excess kurtosis
    # about 3); the tail checks used to send it to the rank path, whose harmonics gave 4-5 spikes.
    w = bf.simulate.spiked_matrix(400, 200, thetas=(30, 20, 12), rng=seed)
    res = bf.spike_test(w, rng=seed)
    assert res.n_spikes == 3
    assert res.path == ("tw",)
    assert diagnose(w).gaussian
    assert any("delocalised outlier" in r for r in res.reasons)


@pytest.mark.parametrize("noise", ["rademacher", "uniform"])
def test_rank_path_count_is_confirmed_on_the_untransformed_spectrum(noise):
    # Strong rank-3 signal in light-tailed noise: the rank scores alone count harmonics of the
    # signal (4-5 spikes on these seeds); the confirmed count is the true 3 and never exceeds the
    # rank-score count.
    counts = []
    for seed in range(4):
        w = bf.simulate.spiked_matrix(400, 200, thetas=(30, 20, 12), noise=noise, rng=seed)
        res = bf.spike_test(w, method="rank", rng=seed)
        assert res.path == ("rank-gaussianize", "tw")
        assert any("untransformed spectrum" in r for r in res.reasons)
        counts.append(res.n_spikes)
    assert counts == [3, 3, 3, 3]


def test_rank_path_keeps_heavy_tail_size_with_the_confirmation():
    # Pure Student-t 3 noise: the untransformed spectrum alone would flag single entries; the
    # rule takes the smaller count, so nothing is flagged where the rank test flags nothing.
    rng = np.random.default_rng(3)
    flagged = sum(bf.spike_test(rng.standard_t(3, (300, 150)), rng=rng).n_spikes > 0
                  for _ in range(20))
    assert flagged <= 3  # binomial(20, 0.05): P(>= 4) = 0.016


def test_winsorised_confirmation_tames_heavy_tails_under_a_strong_signal():
    # Student-t 5 noise with thetas (30, 20, 12): the rank scores alone count harmonics (5-7),
    # the raw spectrum single-entry outliers (3-4 on these seeds); winsorising the noise part
    # before confirming gives the true 3 on most seeds, and never more than the rank scores.
    from bbpfit.inference.confirm import winsorize_noise

    counts = []
    for seed in range(6):
        w = bf.simulate.spiked_matrix(400, 200, thetas=(30, 20, 12), noise="student-t", df=5.0,
                                      rng=seed)
        res = bf.spike_test(w, rng=seed)
        scores = bf.spike_test(rank_gaussianize(w, rng=seed), method="tw").n_spikes
        assert res.n_spikes <= scores
        counts.append(res.n_spikes)
    assert sum(c == 3 for c in counts) >= 5, counts
    # Gaussian noise is left as it is; the low-rank part is never clipped
    g = np.random.default_rng(0).standard_normal((300, 100))
    assert winsorize_noise(g, g) is g
    low = np.outer(np.ones(300), np.linspace(-50, 50, 100))
    z = np.random.default_rng(1).standard_t(2, (300, 100))
    out = winsorize_noise(low + z, z)
    c = z.std() * np.sqrt(2 * np.log(z.size))
    np.testing.assert_allclose(out - low, np.clip(z, z.mean() - c, z.mean() + c), atol=1e-12)
    assert np.abs(out - low).max() < np.abs(z).max()


def test_confirmation_leaves_the_first_rank_score_spike_alone():
    # A harmonic is never stronger than its fundamental, so step 0 is the rank test's own:
    # with an untransformed spectrum that shows no outlier at all, one spike still counts (the
    # size under pure noise and the power near the threshold are the rank test's), and the
    # second needs the confirmation it does not get.
    from bbpfit.inference.confirm import confirm_on_untransformed
    from bbpfit.inference.methods import STEP_TESTS, Step

    lam = null_eigenvalues(400, 200, size=1, rng=0)[0]
    steps = [Step(9.0, 1e-4, 3.0, 1.0), Step(8.0, 1e-3, 3.0, 1.0), Step(2.0, 0.5, 3.0, 1.0)]
    out, note = confirm_on_untransformed(STEP_TESTS["tw"], steps, lam, 400, alpha=0.05, kmax=10,
                                         n_null=999, cache=None)
    assert [s.pvalue <= 0.05 for s in out] == [True, False]
    assert out[0].pvalue == 1e-4 and out[1].pvalue > 0.05
    assert "1 confirmed" in note
    one, _ = confirm_on_untransformed(STEP_TESTS["tw"], steps[1:], lam, 400, alpha=0.05,
                                      kmax=10, n_null=999, cache=None)
    assert one == steps[1:]


def test_auto_counts_a_constant_offset_that_ranking_removes():
    # Issue #12, item 0: ranking all entries removes a common shift exactly, so before the fix
    # auto reported 0 spikes (path rank-gaussianize+tw) for a uniform matrix plus 0.3, whose top
    # eigenvalue is 9.4 against an edge of 0.83; "tw" finds it with p ~ 0.
    w = np.random.default_rng(0).uniform(-1, 1, (300, 100)) + 0.3
    res = bf.spike_test(w)
    tw = bf.spike_test(w, method="tw")
    assert res.path == ("rank-gaussianize", "restore-mean", "tw")
    assert res.n_spikes == tw.n_spikes == 1 and res.pvalue < 1e-12
    np.testing.assert_allclose(res.strengths, tw.strengths, rtol=1e-12)  # from the raw spectrum


@pytest.mark.parametrize("law", ["t3", "sparse", "uniform"])
def test_auto_finds_an_offset_at_1_6_theta_c_in_non_gaussian_noise(law):
    # Held-out cases (shape and seeds not used in the design): an offset c 1 1^T of strength
    # theta = c sqrt(m) / sd = 1.6 q^(1/4) in unit-variance noise; the old code found 1 of 20
    # in each law (n_spikes 0), the untransformed "tw" on Gaussian noise finds it ~always.
    rng = np.random.default_rng({"t3": 31, "sparse": 32, "uniform": 33}[law])
    n, m, reps = 360, 180, 10
    theta = 1.6 * (m / n) ** 0.25
    found = 0
    for _ in range(reps):
        if law == "t3":
            z = rng.standard_t(3, (n, m)) / np.sqrt(3)
        elif law == "sparse":
            z = ((rng.random((n, m)) < 0.1) - 0.1) / 0.3
        else:
            z = rng.uniform(-np.sqrt(3), np.sqrt(3), (n, m))
        res = bf.spike_test(z + theta / np.sqrt(m), rng=rng)
        found += res.n_spikes >= 1
    assert found == reps, found


def test_restored_mean_leaves_zero_mean_noise_alone():
    # Pure zero-mean noise: the sample mean is ~ n^(-1/2) of the threshold, far below
    # MEAN_FRACTION, so the rank scores are exactly as before (same path, same p-value as rank).
    from bbpfit.inference.pipeline import mean_shift

    rng = np.random.default_rng(5)
    for _ in range(20):
        w = rng.uniform(-1, 1, (300, 150))
        assert mean_shift(w) == 0.0
        assert "restore-mean" not in bf.spike_test(w).path


@pytest.mark.parametrize("law", ["t3", "sparse"])
@pytest.mark.parametrize("kind", ["row_means", "delocalised", "localised"])
def test_auto_finds_other_structures_at_1_6_theta_c_in_non_gaussian_noise(law, kind):
    # The held-out cases of issue #12 beside the offset: row means (u = random signs, v = 1),
    # a delocalised spike and one localised on 10 rows, strength 1.6 q^(1/4) in unit-variance
    # noise: found every time (before and after the grand-mean fix).
    rng = np.random.default_rng([41, ["t3", "sparse"].index(law),
                                 ["row_means", "delocalised", "localised"].index(kind)])
    n, m, reps = 360, 180, 5
    theta = 1.6 * (m / n) ** 0.25
    for _ in range(reps):
        if law == "t3":
            z = rng.standard_t(3, (n, m)) / np.sqrt(3)
        else:
            z = ((rng.random((n, m)) < 0.1) - 0.1) / 0.3
        if kind == "row_means":
            u, v = rng.choice([-1.0, 1.0], n), np.ones(m)
        elif kind == "delocalised":
            u, v = rng.standard_normal(n), rng.standard_normal(m)
        else:
            u = np.zeros(n)
            u[rng.choice(n, 10, replace=False)] = rng.standard_normal(10)
            v = rng.standard_normal(m)
        s = theta * np.sqrt(n) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
        assert bf.spike_test(z + s, rng=rng).n_spikes >= 1
