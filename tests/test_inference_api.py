"""`spike_test`: result fields, methods, input forms and bad input."""

import dataclasses
import json

import numpy as np
import pytest

import bbpfit as bf
from bbpfit.inference import METHODS, SpikeTestResult, spike_test
from bbpfit.inference.statistics import ma_constants
from bbpfit.laws.tracy_widom import tracy_widom
from bbpfit.laws.wishart import null_eigenvalues


def planted(n, m, thetas, rng, sigma=1.0):
    """sigma * (Z + sqrt(n) sum theta_i u_i v_i^T) with orthonormal random u, v."""
    u = np.linalg.qr(rng.standard_normal((n, len(thetas))))[0]
    v = np.linalg.qr(rng.standard_normal((m, len(thetas))))[0]
    return sigma * (rng.standard_normal((n, m)) + np.sqrt(n) * (u * thetas) @ v.T)


@pytest.fixture(scope="module")
def two_spikes():
    return planted(800, 400, [3.0, 2.0], np.random.default_rng(0), sigma=0.05)


def test_result_fields(two_spikes):
    res = spike_test(two_spikes)
    assert isinstance(res, SpikeTestResult)
    assert res.n_spikes == 2 and (res.n, res.m) == (800, 400) and res.alpha == 0.05
    assert res.pvalues.shape == res.statistics.shape == res.critical_values.shape == (3,)
    assert np.all(res.pvalues[:2] <= 0.05) and res.pvalues[2] > 0.05
    assert np.all(res.statistics[:2] > res.critical_values[:2])
    assert res.spikes.shape == res.strengths.shape == (2,)
    np.testing.assert_allclose(res.strengths, [3.0, 2.0], rtol=0.05)
    assert res.sigma2 == pytest.approx(0.0025, rel=0.01)
    assert res.fit.sigma2 == pytest.approx(0.0025, rel=0.01)
    assert res.method == "auto" and res.test == "tw" and res.path == ("tw",)
    assert res.strength_method == "bbp" and res.diagnostics.gaussian
    assert any("Gaussian" in r for r in res.reasons)
    assert res.pvalue == res.pvalues[0] and res.statistic == res.statistics[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n_spikes = 3
    with pytest.raises(ValueError):
        res.pvalues[0] = 1.0


def test_summary_repr_to_dict(two_spikes):
    res = spike_test(two_spikes, name="fc.weight")
    text = res.summary()
    assert "Spike test: fc.weight" in text and "800 x 400" in text and "spike" in text
    assert text.count("\n   ") >= 3  # one row per tested candidate
    assert repr(res).startswith("SpikeTestResult('fc.weight', n_spikes=2")
    d = res.to_dict()
    json.dumps(d)
    assert d["n_spikes"] == 2 and d["path"] == ["tw"] and len(d["pvalues"]) == 3
    assert d["fit"]["sigma2"] == res.fit.sigma2 and d["diagnostics"]["gaussian"]


def test_confidence_interval_is_cached_and_covers(two_spikes):
    res = spike_test(two_spikes)
    ci = res.confidence_interval(n_draws=300)
    assert ci is res.confidence_interval(n_draws=300)
    assert np.all(ci.low < res.strengths) and np.all(res.strengths < ci.high)
    assert np.all(ci.low < [3.0, 2.0]) and np.all([3.0, 2.0] < ci.high)


def test_spectrum_input_and_fallback_of_auto(two_spikes):
    spec = bf.spectrum(two_spikes, name="layer")
    res = spike_test(spec)
    assert res.path == ("tw",) and res.name == "layer" and res.n_spikes == 2
    assert not res.diagnostics.entries_available
    assert any("entries unavailable" in r for r in res.reasons)
    np.testing.assert_allclose(res.pvalues, spike_test(two_spikes, method="tw").pvalues)
    for method in ("rank", "biwhiten"):
        with pytest.raises(ValueError, match="needs the matrix entries"):
            spike_test(spec, method=method)


def test_orientation_and_conv_kernels_agree():
    w = planted(120, 60, [2.5], np.random.default_rng(1))
    ref = spike_test(w)
    np.testing.assert_allclose(spike_test(w.T).pvalues, ref.pvalues)
    kernel = w.T.reshape(60, 30, 2, 2)  # (out, in, kh, kw) read as (60, 120)
    np.testing.assert_allclose(spike_test(kernel).pvalues, ref.pvalues)


@pytest.mark.slow  # importing torch
def test_torch_tensors_agree_with_numpy():
    torch = pytest.importorskip("torch")
    w = planted(120, 60, [2.5], np.random.default_rng(1))
    ref = spike_test(w)
    for method in ("auto", "tw"):
        t = spike_test(torch.tensor(w, dtype=torch.float32), method=method)
        assert t.n_spikes == ref.n_spikes == 1 and t.path[-1] == "tw"
    t64 = spike_test(torch.tensor(w, dtype=torch.float64), method="tw")
    np.testing.assert_allclose(t64.pvalues, spike_test(w, method="tw").pvalues)
    with pytest.raises(TypeError, match="`x`"):
        spike_test(torch.ones((20, 20), dtype=torch.complex64))


def test_every_method_runs_and_is_named_in_the_result(two_spikes):
    for method in METHODS:
        res = spike_test(two_spikes, method=method)
        assert res.method == method and res.path[-1] == res.test
        # ratio: a window of 3 gap ratios; this draw has a tiny bulk gap at l_7 - l_8
        assert res.n_spikes == 2 or (method == "ratio" and res.n_spikes >= 2), method
    assert spike_test(two_spikes, method="rank").path == ("rank-gaussianize", "tw")
    assert spike_test(two_spikes, method="biwhiten").strength_method == "optshrink"


def test_known_sigma2_and_asymptotic_pvalues():
    lam = null_eigenvalues(500, 250, rng=np.random.default_rng(2))
    spec = bf.Spectrum(lam, n=500, m=250)
    res = spike_test(spec, method="tw-asymptotic", sigma2=1.0)
    mu, sd = ma_constants(500, 250)
    assert res.pvalue == pytest.approx(float(tracy_widom(1).sf((500 * lam[0] - mu) / sd)))
    assert res.known_sigma2 and res.sigma2 == 1.0
    assert spike_test(spec, sigma2=1.0, method="tw").null.startswith("exact")
    with pytest.raises(ValueError, match="`sigma2`"):
        spike_test(spec, sigma2=1.0)
    with pytest.raises(ValueError, match="`sigma2`"):
        spike_test(spec, method="tw", sigma2=-1.0)


def test_max_spikes_caps_the_sequence():
    w = planted(400, 200, [4.0, 3.5, 3.0], np.random.default_rng(3))
    res = spike_test(w, max_spikes=2)
    assert res.n_spikes == 2 and res.max_spikes == 2 and len(res.pvalues) == 2
    assert any("max_spikes=2" in r for r in res.reasons)


def test_auto_drops_dead_units_and_biwhitens_heterogeneous_noise():
    rng = np.random.default_rng(4)
    w = np.exp(rng.normal(0, 0.4, (300, 1))) * rng.standard_normal((300, 150))
    w[:5] = 0.0
    res = spike_test(w)
    assert res.path[:2] == ("drop-zero-lines", "biwhiten")
    assert res.strength_method == "optshrink" and res.diagnostics.heterogeneous
    assert res.n_spikes == 0
    # what the heterogeneity does unchecked:
    assert spike_test(w, method="tw", max_spikes=2).n_spikes > 0


def test_ratio_table_matches_the_brief():
    # statistics brief, section 3.3 (beta = 1, n = 4e5, m = 2e5, 20000 draws): 10% / 5% values
    from bbpfit.inference.methods.ratio import ratio_critical_value

    for width, (c10, c5) in {1: (4.60, 6.88), 2: (6.53, 9.66), 3: (7.81, 11.3)}.items():
        assert ratio_critical_value(0.10, width) == pytest.approx(c10, rel=0.04)
        assert ratio_critical_value(0.05, width) == pytest.approx(c5, rel=0.06)


BAD = [
    (np.ones(20), ValueError, "1-D"),
    (np.ones((0, 20)), ValueError, "empty"),
    (np.full((20, 20), np.nan), ValueError, "NaN"),
    (np.where(np.eye(20) > 0, np.inf, 1.0), ValueError, "NaN or infinite"),
    (np.ones((20, 20), dtype=complex), TypeError, "complex"),
    (np.empty((20, 20), dtype=object), TypeError, "dtype"),
    (np.ones((20, 20), dtype=bool), TypeError, "dtype"),
    (np.ones((100, 9)), ValueError, "too small"),
    (np.zeros((30, 20)), ValueError, "zero"),
]


@pytest.mark.parametrize(("x", "err", "match"), BAD)
def test_bad_x(x, err, match):
    with pytest.raises(err, match=match) as info:
        spike_test(x)
    assert "`x`" in str(info.value)


def test_bad_arguments():
    w = np.random.default_rng(5).standard_normal((50, 20))
    for alpha in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="`alpha`"):
            spike_test(w, alpha=alpha)
    with pytest.raises(TypeError, match="`alpha`"):
        spike_test(w, alpha="0.05")
    with pytest.raises(ValueError, match="unknown method 'kn'; valid names are 'auto'"):
        spike_test(w, method="kn")
    with pytest.raises(ValueError, match="`max_spikes`"):
        spike_test(w, max_spikes=16)
    with pytest.raises(ValueError, match="`max_spikes`"):
        spike_test(w, max_spikes=0)
    with pytest.raises(TypeError, match="`max_spikes`"):
        spike_test(w, max_spikes=2.5)
    with pytest.raises(ValueError, match="too small"):
        spike_test(bf.Spectrum(np.ones(9), n=20, m=9))
    with pytest.raises(TypeError, match="`null_cache`"):
        spike_test(w, null_cache=5)


def test_null_cache_directory(tmp_path):
    lam = null_eigenvalues(150, 60, rng=np.random.default_rng(6))
    res = spike_test(bf.Spectrum(lam, n=150, m=60), null_cache=tmp_path, n_null=199)
    assert len(list(tmp_path.glob("*_kn_*.npy"))) == len(res.pvalues)
    assert len(list(tmp_path.glob("*_mpgof_*.npy"))) == 1  # the bulk's goodness-of-fit null


def test_given_spectrum_is_used_and_must_match(two_spikes):
    from bbpfit.inference.api import spike_test_given_spectrum

    rng = np.random.default_rng(7)
    w = rng.standard_t(4, size=(300, 120)) + planted(300, 120, [3.0], rng)
    spec = bf.spectrum(w)
    a, b = spike_test(w, rng=1), spike_test_given_spectrum(w, spec, rng=1)
    assert (a.n_spikes, a.path, list(a.pvalues), a.sigma2) == (b.n_spikes, b.path, list(b.pvalues), b.sigma2)
    # the given eigenvalues are the ones reported (here a shifted copy, to see it is not recomputed)
    shifted = bf.Spectrum(spec.eigenvalues * 2.0, n=spec.n, m=spec.m)
    assert spike_test_given_spectrum(w, shifted, method="tw").spikes[0] == 2.0 * spec.eigenvalues[0]
    with pytest.raises(ValueError, match=r"\(300, 110\) matrix"):
        spike_test_given_spectrum(w, bf.spectrum(w[:, :110]))
    with pytest.raises(TypeError, match="Spectrum"):
        spike_test_given_spectrum(w, spec.eigenvalues)


@pytest.mark.parametrize("shape", [(1536, 384), (400, 200), (1200, 1030)])
def test_top_singular_vectors_match_the_svd(shape, monkeypatch):
    # Dense float32 partial solve (m < LANCZOS_MIN_M, here 1024, or a Gram matrix given) and
    # Lanczos on products (m >= 1024, no Gram matrix): outliers' vectors against numpy's SVD.
    import bbpfit.inference.diagnostics as dg
    from bbpfit.inference.diagnostics import gram_spectrum, top_singular_vectors
    from bbpfit.spectrum.fast import float32_error

    monkeypatch.setattr(dg, "LANCZOS_MIN_M", 1024)
    rng = np.random.default_rng(8)
    a = planted(*shape, [4.0, 3.0, 2.5], rng)
    u_ref, s_ref, vt_ref = np.linalg.svd(a, full_matrices=False)
    lam, gram = gram_spectrum(a)
    exact = bf.eigenvalues(a)
    assert np.max(np.abs(lam - exact)) <= float32_error(exact)
    for g in (None, gram):
        u, v = top_singular_vectors(a, 3, g)
        # same vectors, column by column (signs free); float32 solve: ~1e-6
        np.testing.assert_allclose(np.abs(np.sum(v * vt_ref[:3].T, axis=0)), 1.0, atol=1e-5)
        np.testing.assert_allclose(np.abs(np.sum(u * u_ref[:, :3], axis=0)), 1.0, atol=1e-5)


def test_top_singular_vectors_fall_back_when_lanczos_fails(monkeypatch):
    from scipy.sparse.linalg import ArpackNoConvergence

    import bbpfit.inference.diagnostics as dg

    def fail(*args, **kwargs):
        raise ArpackNoConvergence("no convergence", np.empty(0), np.empty((0, 0)))

    monkeypatch.setattr(dg, "LANCZOS_MIN_M", 1024)
    a = planted(1100, 1030, [4.0, 3.0], np.random.default_rng(9))
    ref = dg.top_singular_vectors(a, 3)[1]  # Lanczos (m >= 1024, no Gram matrix)
    monkeypatch.setattr(dg, "eigsh", fail)
    np.testing.assert_allclose(np.abs(np.sum(dg.top_singular_vectors(a, 3)[1][:, :2] * ref[:, :2],
                                             axis=0)), 1.0, atol=1e-8)


def test_given_spectrum_of_a_tensor_must_match_too():
    torch = pytest.importorskip("torch")
    from bbpfit.inference.api import spike_test_given_spectrum

    w = torch.randn(200, 80, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    spec = bf.spectrum(w)
    assert spike_test_given_spectrum(w, spec, rng=0).n_spikes == spike_test(w, rng=0).n_spikes
    with pytest.raises(ValueError, match=r"\(200, 70\) matrix"):
        spike_test_given_spectrum(w, bf.spectrum(w[:, :70]))
