"""Modules, state dicts and torch files: selection by module type, tied weights, safe loading, errors."""

import numpy as np
import pytest

import bbpfit as bf
from bbpfit.sources import iter_layers, list_layers, load_spectra, read_layers

torch = pytest.importorskip("torch")
nn = torch.nn


class Config:  # a custom class in a checkpoint: needs full unpickling
    def __init__(self):
        self.width = 16


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.fc = nn.Linear(16, 32)
        self.conv = nn.Conv2d(3, 8, 3)
        self.norm = nn.LayerNorm(16)
        self.gate = nn.Linear(16, 1)  # weight (1, 16): too small to be a layer
        self.head = nn.Linear(16, 50, bias=False)
        self.head.weight = self.emb.weight  # tied to the embedding
        self.twin_a = nn.Linear(12, 12, bias=False)
        self.twin_b = nn.Linear(12, 12, bias=False)
        self.twin_b.weight = self.twin_a.weight  # tied, not an embedding
        self.register_buffer("mixer", torch.randn(8, 8))  # root-level, so named "mixer" in files
        self.register_buffer("position_ids", torch.arange(10)[None])


@pytest.fixture
def model():
    torch.manual_seed(0)
    return TinyLM()


def names(source, **kw):
    return [n for n, _ in iter_layers(source, **kw)]


def test_module_selection_and_tied_weights(model):
    assert names(model) == ["fc.weight", "conv.weight", "twin_a.weight"]
    assert names(model, embeddings=True) == ["emb.weight", "fc.weight", "conv.weight", "twin_a.weight"]
    assert names(model, others=True) == ["fc.weight", "conv.weight", "twin_a.weight", "mixer"]
    assert names(model, min_side=1) == ["fc.weight", "conv.weight", "gate.weight", "twin_a.weight"]
    info = {t.name: t for t in list_layers(model, embeddings=True)}
    assert info["emb.weight"].aliases == ("head.weight",) and info["emb.weight"].embedding
    assert info["twin_a.weight"].aliases == ("twin_b.weight",)
    w = dict(iter_layers(model))
    assert w["conv.weight"].shape == (8, 3, 3, 3) and not w["fc.weight"].requires_grad
    assert w["fc.weight"].data_ptr() == model.fc.weight.data_ptr()  # no copy


def test_state_dicts_torch_and_numpy(model):
    sd = model.state_dict()  # lists tied tensors under both names
    assert names(sd) == ["fc.weight", "conv.weight", "twin_a.weight"]
    assert names(sd, embeddings=True)[0] == "emb.weight"
    arrays = {k: v.numpy() for k, v in sd.items()}
    assert names(arrays) == ["fc.weight", "conv.weight", "twin_a.weight"]
    shared = np.ones((6, 4))
    tied = {"a.weight": shared, "b.weight": shared, "c.weight": shared.copy()}
    assert names(tied) == ["a.weight", "c.weight"]
    assert names({"module.fc.weight": np.eye(3), "module.fc.bias": np.ones(3)}) == ["fc.weight"]
    wrapped = {"step": 7, "model_state": sd, "optimizer": {"state": {0: {"m": torch.ones(3, 3)}}}}
    assert names(wrapped) == ["fc.weight", "conv.weight", "twin_a.weight"]


@pytest.mark.parametrize("legacy", [False, True])
def test_torch_files_zip_and_legacy(tmp_path, model, legacy):
    path = tmp_path / "ckpt.pt"
    torch.save({"epoch": 3, "state_dict": model.state_dict()}, path,
               _use_new_zipfile_serialization=not legacy)
    got = read_layers(path, embeddings=True)
    assert list(got) == ["emb.weight", "fc.weight", "conv.weight", "twin_a.weight"]  # ties kept on disk
    for name, w in got.items():
        torch.testing.assert_close(w, model.state_dict()[name], rtol=0, atol=0)
    assert bf.sources.detect_format(path) == "torch"


def test_unsafe_pickle_is_refused_unless_allowed(tmp_path, model):
    path = tmp_path / "with_config.pth"
    torch.save({"config": Config(), "fc.weight": model.fc.weight.detach()}, path)
    with pytest.raises(ValueError, match=r"allow_unsafe_pickle=True") as err:
        list(iter_layers(path))
    assert "Config" in str(err.value) and "with_config.pth" in str(err.value)
    assert names(path, allow_unsafe_pickle=True) == ["fc.weight"]
    whole = tmp_path / "whole_model.pt"
    torch.save(model, whole)  # a pickled nn.Module
    with pytest.raises(ValueError, match="allow_unsafe_pickle"):
        list(iter_layers(whole))
    assert names(whole, allow_unsafe_pickle=True) == ["fc.weight", "conv.weight", "twin_a.weight"]


def test_corrupt_torch_files(tmp_path, model):
    good = tmp_path / "good.pt"
    torch.save(model.state_dict(), good)
    legacy = tmp_path / "legacy.pt"
    torch.save(model.state_dict(), legacy, _use_new_zipfile_serialization=False)
    cases = {
        "garbage.pt": (b"this is not a checkpoint " * 20, "not a readable PyTorch checkpoint"),
        "empty.bin": (b"", "is empty"),
        "truncated.pt": (good.read_bytes()[:300], "not a readable PyTorch checkpoint"),
        "truncated_legacy.pt": (legacy.read_bytes()[:200], "truncated or corrupt"),
        "cut_legacy.pt": (legacy.read_bytes()[:-50], "not a readable PyTorch checkpoint: .*EOF"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=message) as err:
            list(iter_layers(tmp_path / name))
        assert name in str(err.value)
    (tmp_path / "nothing.pt").write_bytes(b"")
    torch.save({"step": 1, "note": "no tensors"}, tmp_path / "notensors.pt")
    with pytest.raises(ValueError, match="holds no tensors"):
        list(iter_layers(tmp_path / "notensors.pt"))


def test_load_spectra_matches_spectrum_and_names_bad_layers(model):
    spectra = load_spectra(model)
    assert list(spectra) == ["fc.weight", "conv.weight", "twin_a.weight"]
    ref = bf.spectrum(model.conv.weight.detach().numpy())
    np.testing.assert_allclose(spectra["conv.weight"].eigenvalues, ref.eigenvalues, rtol=1e-10)
    assert spectra["conv.weight"].name == "conv.weight" and spectra["conv.weight"].m == 8
    bad = {"ok.weight": np.eye(4), "bad.weight": np.full((4, 4), np.nan)}
    with pytest.raises(ValueError, match="layer 'bad.weight'"):
        load_spectra(bad)


def test_bad_sources():
    with pytest.raises(TypeError, match="`source` must be a path, an nn.Module or a state dict"):
        iter_layers(42)
    with pytest.raises(ValueError, match="`format` applies to paths only"):
        iter_layers({"w": np.eye(2)}, format="torch")
    with pytest.raises(ValueError, match="holds no tensors"):
        list(iter_layers({}))
