"""`bbpfit demo`: the embedded teacher-student run end to end (short), its tables and figures."""

import pandas as pd
import pytest
from click.testing import CliRunner

from bbpfit.cli.main import cli
from bbpfit.demo import transition_table
from bbpfit.zoo.nulls import CACHE_ENV

pytest.importorskip("torch")


def test_demo_end_to_end(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    out = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", "--out", str(out), "--steps", "400", "--every", "20"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "layers.csv").set_index("layer")
    assert table.loc["signal.weight", "n_spikes"] == 3  # the rank-3 teacher
    assert table.loc["control.weight", "n_spikes"] == 0  # noise-only labels: no false spike
    assert "BBP transition steps" in res.stdout and "signal.weight" in res.stdout
    for name in ("spectrum_signal.weight.png", "spectrogram_signal.weight.png",
                 "spectrum_control.weight.png", "spectrogram_control.weight.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    import bbpfit.store as store

    ds = store.open_spectra(out / "spectra.bbp")
    assert ds.sizes["step"] == 21 and set(ds["layer"].values) == {"signal.weight", "control.weight"}


def test_transition_table_adapts_to_result_shapes():
    from types import SimpleNamespace

    one = SimpleNamespace(step=[12.0, 30.0], ci_low=[10.0, 25.0], ci_high=[14.0, 40.0],
                          detected=[True, False])
    rows = transition_table({"a": one}, ["a"])
    assert rows[["layer", "rank", "step", "detected"]].values.tolist() == [
        ["a", 0, 12.0, True], ["a", 1, 30.0, False]]
    both = SimpleNamespace(step=[[1.0], [2.0]], ci_low=[[0.0], [1.0]], ci_high=[[2.0], [3.0]],
                           detected=[[True], [True]])
    assert transition_table(both, ["a", "b"])["layer"].tolist() == ["a", "b"]
