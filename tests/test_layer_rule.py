"""One rule for what a layer is: the recorder, `analyze`, `list_layers` and the CLI agree.

A model with ``nn.MultiheadAttention`` (``in_proj_weight`` plus an ``out_proj`` Linear), a language
model head tied to its embedding, a ``GRU`` and a ``Conv1d``: under the default selection the
recorder used to record only the ``Linear``/``Conv`` weights while ``analyze`` took the attention and
recurrent matrices too.
"""

import numpy as np
import pytest

import bbpfit as bf
from bbpfit.recording import select_layers
from bbpfit.sources import list_layers
from bbpfit.zoo.nulls import CACHE_ENV

torch = pytest.importorskip("torch")
nn = torch.nn


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(40, 16)
        self.attn = nn.MultiheadAttention(16, 2)
        self.gru = nn.GRU(16, 12)
        self.conv = nn.Conv1d(12, 8, 3)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(16, 40, bias=False)
        self.head.weight = self.embed.weight  # tied
        self.register_buffer("mask", torch.ones(16, 16))


EXPECTED = ["attn.in_proj_weight", "attn.out_proj.weight", "gru.weight_ih_l0",
            "gru.weight_hh_l0", "conv.weight"]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))


def test_recorder_and_analyze_take_the_same_layers(tmp_path):
    torch.manual_seed(0)
    model = Mixed()
    recorded = [info.name for info, _ in select_layers(model)]
    analysed = bf.analyze(model, method="tw")["layer"].tolist()
    listed = [info.name for info in list_layers(model)]
    assert recorded == analysed == listed == EXPECTED
    with bf.SpectrumRecorder(model, tmp_path / "r.bbp", background=False) as rec:
        rec.record(0)
    assert bf.open_spectra(tmp_path / "r.bbp").layer.values.tolist() == EXPECTED
    # state dict and checkpoint file: the same layers (the tied head is one tensor)
    torch.save(model.state_dict(), tmp_path / "m.pt")
    assert bf.analyze(str(tmp_path / "m.pt"), method="tw")["layer"].tolist() == EXPECTED


def test_one_selection_object_everywhere(tmp_path):
    torch.manual_seed(1)
    model = Mixed()
    sel = bf.LayerSelection(embeddings=True, exclude="gru.*")
    want = ["embed.weight", "attn.in_proj_weight", "attn.out_proj.weight", "conv.weight"]
    assert [i.name for i, _ in select_layers(model, selection=sel)] == want
    assert bf.analyze(model, method="tw", selection=sel)["layer"].tolist() == want
    with bf.SpectrumRecorder(model, tmp_path / "r.bbp", selection=sel, background=False) as rec:
        rec.record(0)
    assert bf.open_spectra(tmp_path / "r.bbp").layer.values.tolist() == want
    torch.save(model.state_dict(), tmp_path / "m.pt")
    table = bf.analyze_zoo([str(tmp_path / "m.pt")], workers=0, method="tw", selection=sel)
    assert table["layer"].tolist() == want
    # the old keywords still work and mean the same
    assert bf.analyze(model, method="tw", embeddings=True, exclude="gru.*")["layer"].tolist() == want
    assert [i.name for i, _ in select_layers(model, embeddings=True, layers="conv*")] == [
        "conv.weight"]
    with pytest.raises(TypeError, match="not both"):
        bf.analyze(model, selection=sel, embeddings=True)
    with pytest.raises(TypeError, match="LayerSelection"):
        bf.analyze_zoo([str(tmp_path / "m.pt")], workers=0, selection={"embeddings": True})


def test_cli_flags_build_the_same_selection(tmp_path):
    from click.testing import CliRunner

    from bbpfit.cli.main import cli

    torch.manual_seed(2)
    torch.save(Mixed().state_dict(), tmp_path / "m.pt")
    res = CliRunner().invoke(cli, ["check", str(tmp_path / "m.pt"), "--method", "tw", "--format",
                                   "csv", "--embeddings", "--exclude", "gru.*"])
    assert res.exit_code == 0, res.output
    first = [line.split(",")[0] for line in res.stdout.splitlines()[1:]]
    assert first == ["embed.weight", "attn.in_proj_weight", "attn.out_proj.weight", "conv.weight"]


def test_recorder_follows_a_replaced_parameter(tmp_path):
    model = nn.Sequential(nn.Linear(6, 4))
    with bf.SpectrumRecorder(model, tmp_path / "r.bbp", background=False) as rec:
        rec.record(0)
        model[0].weight = nn.Parameter(torch.zeros(4, 6))
        rec.record(1)
    eig = bf.open_spectra(tmp_path / "r.bbp").eigenvalues.values[0]
    assert np.all(eig[0] > 0) and np.all(eig[1] == 0)
