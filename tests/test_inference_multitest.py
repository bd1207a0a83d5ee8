"""Multiple testing across layers: `adjust_pvalues` and `spike_tests` against statsmodels."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

import bbpfit as bf
from bbpfit.inference import CORRECTIONS, adjust_pvalues, spike_test, spike_tests
from bbpfit.laws.wishart import null_eigenvalues


@pytest.mark.parametrize("method", ["fdr_bh", "fdr_by", "holm", "bonferroni"])
def test_adjust_pvalues_equals_statsmodels(method):
    p = np.random.default_rng(0).uniform(size=(6, 7)) ** 3
    res = adjust_pvalues(p, method=method, alpha=0.1)
    rej, adj, _, _ = multipletests(p.ravel(), alpha=0.1, method=method)
    np.testing.assert_allclose(res.adjusted, adj.reshape(6, 7))
    np.testing.assert_array_equal(res.rejected, rej.reshape(6, 7))
    np.testing.assert_array_equal(res.pvalues, p)
    assert res.method == method and res.n_tests == 42 and res.n_rejected == rej.sum()
    assert f"method={method!r}" in repr(res) and res.to_dict()["method"] == method


def test_adjust_pvalues_skips_missing_tests():
    p = np.array([0.001, np.nan, 0.02, 0.5])
    res = adjust_pvalues(p)
    _, adj, _, _ = multipletests(p[[0, 2, 3]], method="fdr_bh")
    np.testing.assert_allclose(res.adjusted[[0, 2, 3]], adj)
    assert np.isnan(res.adjusted[1]) and not res.rejected[1] and res.n_tests == 3


def test_adjust_pvalues_bad_input():
    with pytest.raises(ValueError, match="unknown method 'bh'; valid names are 'fdr_bh'"):
        adjust_pvalues([0.1], method="bh")
    with pytest.raises(ValueError, match="`pvalues`"):
        adjust_pvalues([0.1, 1.2])
    with pytest.raises(ValueError, match="`pvalues`"):
        adjust_pvalues([0.1, np.inf])
    with pytest.raises(ValueError, match="`pvalues`"):
        adjust_pvalues([])
    with pytest.raises(TypeError, match="`pvalues`"):
        adjust_pvalues(["a"])
    with pytest.raises(ValueError, match="`alpha`"):
        adjust_pvalues([0.1], alpha=0)
    assert set(CORRECTIONS) >= {"fdr_bh", "fdr_by", "holm"}


@pytest.fixture(scope="module")
def layers():
    rng = np.random.default_rng(3)
    out = {}
    for i, theta in enumerate([0.0, 2.5, 0.0, 1.4, 0.0]):
        lam = null_eigenvalues(400, 200, theta=theta, rng=rng)
        out[f"block{i}.weight"] = bf.Spectrum(lam, n=400, m=200)
    return out


def test_spike_tests_equals_the_loop_and_statsmodels(layers):
    batch = spike_tests(layers, correction="holm")
    assert batch.names == tuple(layers) and len(batch) == 5
    for name, res in zip(batch.names, batch.results, strict=True):
        one = spike_test(layers[name])
        np.testing.assert_array_equal(res.pvalues, one.pvalues)
        assert res.name == name and batch[name] is res
    raw = [spike_test(x).pvalue for x in layers.values()]
    rej, adj, _, _ = multipletests(raw, alpha=0.05, method="holm")
    np.testing.assert_allclose(batch.pvalues_adjusted, adj)
    np.testing.assert_array_equal(batch.adjusted.rejected, rej)
    assert batch.adjusted.rejected.tolist() == [False, True, False, True, False]
    # family-wise correction: spikes re-counted at alpha / L inside selected layers
    expected = [sum(1 for p in r.pvalues[: r.n_spikes] if p <= 0.05 / 5) if rej[i] else 0
                for i, r in enumerate(batch.results)]
    assert batch.n_spikes_adjusted.tolist() == expected


def test_spike_tests_frame_summary_and_names(layers):
    batch = spike_tests(list(layers.values()), correction="fdr_by")
    assert batch.names == ("0", "1", "2", "3", "4")
    frame = batch.to_frame()
    assert list(frame["layer"]) == list(batch.names) and len(frame) == 5
    assert {"pvalue", "pvalue_adjusted", "n_spikes", "n_spikes_adjusted"} <= set(frame)
    text = batch.summary()
    assert "fdr_by" in text and text.count("\n") == 7
    assert "SpikeTestBatch(5 layers" in repr(batch) and batch.to_dict()["correction"] == "fdr_by"
    named = spike_tests([bf.Spectrum(x.eigenvalues, n=400, m=200, name=k)
                         for k, x in layers.items()])
    assert named.names == tuple(layers)


def test_spike_tests_bad_input(layers):
    with pytest.raises(ValueError, match="unknown correction"):
        spike_tests(layers, correction="BH")
    with pytest.raises(ValueError, match="`xs` is empty"):
        spike_tests({})
    with pytest.raises(ValueError, match="`alpha`"):
        spike_tests(layers, alpha=2)
