"""One name per option across the package (`embeddings`, `rng`, `confidence_level`); old names work.

An old name gives the same result with a DeprecationWarning; giving both names is a TypeError.
"""

import pytest

import bbpfit as bf
from bbpfit.inference.strengths import strength_interval


def test_marchenko_pastur_interval_confidence_level():
    mp = bf.marchenko_pastur(0.5)
    want = mp.interval(0.9)
    assert mp.interval(confidence_level=0.9) == want
    with pytest.warns(DeprecationWarning, match="renamed `confidence_level`"):
        assert mp.interval(confidence=0.9) == want
    with pytest.raises(TypeError, match="pass `confidence_level` only"):
        mp.interval(0.9, confidence=0.9)
    with pytest.raises(ValueError, match="confidence_level"):
        mp.interval(1.5)


def test_strength_interval_rng():
    y = bf.spike_eigenvalue(2.0, 0.5)
    new = strength_interval(y, 400, 200, n_draws=200, rng=3)
    with pytest.warns(DeprecationWarning, match="`seed` is renamed `rng`"):
        assert strength_interval(y, 400, 200, n_draws=200, seed=3) == new
    with pytest.raises(TypeError, match="pass `rng` only"):
        strength_interval(y, 400, 200, n_draws=200, seed=3, rng=3)


def test_recorder_embeddings(tmp_path):
    torch = pytest.importorskip("torch")
    from bbpfit.recording import select_layers

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(20, 8)
            self.fc = torch.nn.Linear(8, 6)

    model = M()
    names = [i.name for i, _ in select_layers(model, embeddings=True)]
    assert names == ["embed.weight", "fc.weight"]
    with pytest.warns(DeprecationWarning, match="`include_embeddings` is renamed `embeddings`"):
        assert [i.name for i, _ in select_layers(model, include_embeddings=True)] == names
    with bf.SpectrumRecorder(model, tmp_path / "r.bbp", embeddings=True, background=False) as rec:
        rec.record(0)
    assert bf.open_spectra(tmp_path / "r.bbp").layer.values.tolist() == names
    # the same word as analyze's
    assert bf.analyze(model, method="tw", embeddings=True)["layer"].tolist() == names


def test_demo_train_rng_signature():
    import inspect

    from bbpfit.demo.run import run_demo
    from bbpfit.demo.task import train

    for f in (run_demo, train):
        params = inspect.signature(f).parameters
        assert "rng" in params and params["rng"].kind is inspect.Parameter.KEYWORD_ONLY
