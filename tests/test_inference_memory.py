"""Memory of one layer's analysis: bounded by a small multiple of the layer's float32 size.

Large layers are processed by blocks of rows (:data:`bbpfit.spectrum.fast.BLOCK_ENTRIES`, 16 MiB of
float64): no float64 copy of a float32 layer, of its residual or of its winsorised matrix is made.
Here the block is shrunk so that a small layer behaves as an LLM-sized one does (many blocks), and
(1) the analysis gives the same result as with the whole matrix as one block, (2) the peak of the
numpy allocations (tracemalloc) stays below a stated multiple of the layer's size.
"""

import importlib
import tracemalloc

import numpy as np
import pytest

from bbpfit.inference import NullCache, spike_test
from bbpfit.inference.rank_gauss import rank_order
from bbpfit.zoo.layer import analyze_layer

FAST = importlib.import_module("bbpfit.spectrum.fast")


def spiked(rows, cols, *, seed=0, df=5, thetas=(3.0, 2.0), scales=None):
    """float32 Student-t noise (sd 0.02) plus rank-one spikes of the given strengths."""
    rng = np.random.default_rng(seed)
    n = max(rows, cols)
    w = rng.standard_t(df, (rows, cols)) * (0.02 / np.sqrt(df / (df - 2)))
    if scales is not None:
        w *= scales[:, None]
    for theta in thetas:
        u, v = rng.standard_normal(rows), rng.standard_normal(cols)
        w += theta * 0.02 * np.sqrt(n) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    return w.astype(np.float32)


def same_result(a, b):
    assert a.n_spikes == b.n_spikes
    assert a.path == b.path
    np.testing.assert_allclose(a.pvalues, b.pvalues, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(a.statistics, b.statistics, rtol=1e-9)
    np.testing.assert_allclose(a.strengths, b.strengths, rtol=1e-9)
    for x, y in zip(a.diagnostics.to_dict().values(), b.diagnostics.to_dict().values(),
                    strict=True):
        if isinstance(x, float):
            assert x == pytest.approx(y, rel=1e-7, abs=1e-300, nan_ok=True)
        else:
            assert x == y


@pytest.mark.parametrize("case", ["heavy-tails", "biwhiten", "gaussian", "bfloat16-ties"])
def test_blocks_give_the_whole_matrix_result(case, monkeypatch):
    rows, cols = 500, 240
    if case == "biwhiten":
        scales = np.exp(np.random.default_rng(3).normal(0, 0.6, rows))
        w = spiked(rows, cols, seed=1, scales=scales)
    elif case == "gaussian":
        w = spiked(rows, cols, seed=2, df=1000)
    else:
        w = spiked(rows, cols, seed=3)
    if case == "bfloat16-ties":  # 8 mantissa bits: many tied entries (the shuffled-rank path)
        w = (w.view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
    cache = NullCache()
    whole = spike_test(w, rng=5, null_cache=cache)
    monkeypatch.setattr(FAST, "BLOCK_ENTRIES", 7000)  # 18 blocks of rows
    blocks = spike_test(w, rng=5, null_cache=cache)
    same_result(whole, blocks)
    assert whole.n_spikes == 2
    assert ("biwhiten" in whole.path) == (case == "biwhiten")
    assert ("rank-gaussianize" in whole.path) == (case != "gaussian")


def test_rank_order_by_blocks_equals_the_whole_order(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 70)).astype(np.float32)
    few = x.copy()
    few.flat[rng.choice(x.size, 40)] = 0.5  # a few ties: the in-place reordering path
    many = np.round(x * 4) / 4  # many ties: the shuffled path
    expected = {k: rank_order(v.T, 9) for k, v in (("x", x), ("few", few), ("many", many))}
    monkeypatch.setattr(FAST, "BLOCK_ENTRIES", 1000)
    for k, v in (("x", x), ("few", few), ("many", many)):
        got = rank_order(v.T, 9)
        np.testing.assert_array_equal(got, expected[k])
        flat = np.ascontiguousarray(v.T).ravel()
        assert np.all(np.diff(flat[got]) >= 0)
        np.testing.assert_array_equal(np.sort(got), np.arange(v.size))


def test_peak_memory_of_one_layer_is_a_small_multiple_of_its_size(monkeypatch):
    # 1200 x 400 float32 (1.8 MiB) in blocks of 8000 entries, as a 7B layer (0.17 GiB) is in
    # blocks of 2^21: the float64 Gram matrices (m^2 8 bytes = 0.67 S here, 0.75 S for an
    # 11008 x 4096 layer) and the rank keys and order (3.25 S) are the largest allocations.
    # Before the blocks (float64 copies of the entries, residual and winsorised matrix, the
    # scores' keys, order and tie flags side by side): 13 S.
    w = spiked(1200, 400, seed=4)
    size = w.nbytes
    monkeypatch.setattr(FAST, "BLOCK_ENTRIES", 8000)
    cache = NullCache()
    first = analyze_layer("layer", w, null_cache=cache, rng=0)  # nulls simulated and cached
    assert first.result.path == ("rank-gaussianize", "tw")
    tracemalloc.start()
    try:
        again = analyze_layer("layer", w, null_cache=cache, rng=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert again.result.n_spikes == first.result.n_spikes == 2
    assert peak < 5.0 * size, peak / size


def test_minilm_layers_by_blocks_equal_the_whole_matrix(monkeypatch):
    from test_sources_minilm import minilm_folder

    from bbpfit.sources import iter_layers

    folder = minilm_folder()
    if folder is None:
        pytest.skip("all-MiniLM-L6-v2 weights not installed (set BBPFIT_MINILM_DIR)")
    names = ("encoder.layer.0.intermediate.dense.weight",  # biwhiten + rank path
             "encoder.layer.1.attention.self.value.weight",  # biwhiten + tw (Gaussian)
             "encoder.layer.5.attention.output.dense.weight")  # one spike
    layers = {k: np.asarray(v) for k, v in iter_layers(folder / "model.safetensors")
              if k in names}
    cache = NullCache()
    whole = {k: analyze_layer(k, v, null_cache=cache, rng=0) for k, v in layers.items()}
    monkeypatch.setattr(FAST, "BLOCK_ENTRIES", 20000)
    for k, v in layers.items():
        blocks = analyze_layer(k, v, null_cache=cache, rng=0)
        same_result(whole[k].result, blocks.result)
        for col, x in whole[k].row().items():
            y = blocks.row()[col]
            if isinstance(x, float):
                assert y == pytest.approx(x, rel=1e-6, abs=1e-300, nan_ok=True), col
            else:
                assert y == x, col
