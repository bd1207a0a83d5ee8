"""SpectrumRecorder on real torch training: values, schema, layer selection, resume, errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from bbpfit import eigenvalues  # noqa: E402
from bbpfit.recording import RecordingWarning, SpectrumRecorder, select_layers  # noqa: E402
from bbpfit.store import open_spectra  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny models train fastest on one thread, and oversubscribed CI machines make torch's
    # spinning OpenMP workers very slow; restored after each test (the setting is global).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3)  # (6, 1, 3, 3) read as 6 x 9
        self.fc1 = nn.Linear(6 * 6 * 6, 32)
        self.fc2 = nn.Linear(32, 10)
        self.norm = nn.LayerNorm(32)

    def forward(self, x):
        h = torch.relu(self.conv(x)).flatten(1)
        return self.fc2(self.norm(torch.relu(self.fc1(h))))


def _data(seed=0, n=64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def _train(model, opt, steps, rec=None, copies=None, every=10):
    x, y = _data()
    count = 0
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        if rec is not None:
            rec.log(loss=loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        count += 1
        if copies is not None and count % every == 0:
            copies[count] = ({k: v.detach().clone() for k, v in model.state_dict().items()},
                             loss.item())
    return count


@pytest.mark.parametrize("background", [True, False])
def test_training_run_is_recorded_exactly(tmp_path, background):
    torch.manual_seed(0)
    model = ConvNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    copies = {0: ({k: v.detach().clone() for k, v in model.state_dict().items()}, np.nan)}
    path = tmp_path / "run.bbp"
    with SpectrumRecorder(model, path, every=10, optimizer=opt, flush_every=4,
                          background=background) as rec:
        _train(model, opt, 200, rec, copies)
    ds = open_spectra(path)
    assert ds.layer.values.tolist() == ["conv.weight", "fc1.weight", "fc2.weight"]
    assert ds.step.values.tolist() == list(range(0, 201, 10)) == sorted(copies)
    assert ds.n.values.tolist() == [9, 216, 32] and ds.m.values.tolist() == [6, 32, 10]
    assert ds.shape.values.tolist() == ["6x1x3x3", "32x216", "10x32"]
    assert ds.sizes["rank"] == 32
    for step, (state, loss) in copies.items():
        for name in ds.layer.values:
            want = eigenvalues(state[str(name)])
            got = ds.eigenvalues.sel(layer=name, step=step).values
            m = want.size
            np.testing.assert_allclose(got[:m], want, rtol=2e-6, atol=1e-7 * want[0])
            assert np.isnan(got[m:]).all()
        if step:
            assert ds.loss.sel(step=step).item() == pytest.approx(loss, rel=1e-6)
    assert np.isnan(ds.loss.sel(step=0).item())
    np.testing.assert_allclose(ds.lr.values, 0.05)
    assert np.all(np.diff(ds.wall_time.values) >= 0)
    assert ds.attrs["optimizer_class"] == "torch.optim.sgd.SGD"
    assert ds.attrs["model_class"].endswith("ConvNet")
    assert '"every": 10' in ds.attrs["bbpfit_recorder"]


def test_manual_mode_and_resume(tmp_path):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(20, 30), nn.Tanh(), nn.Linear(30, 5))
    path = tmp_path / "run.bbp"
    with SpectrumRecorder(model, path) as rec:
        assert rec.record(0, loss=torch.tensor(2.5), lr=0.1)
        rec.log(loss=1.5)
        assert rec.record(7)
        with pytest.warns(RecordingWarning, match="step 7 is not after"):
            assert not rec.record(7)
        with pytest.warns(RecordingWarning, match="step 3 is not after"):
            assert not rec.record(3)
    first = open_spectra(path)
    assert first.step.values.tolist() == [0, 7]
    assert first.loss.values.tolist() == [2.5, 1.5] and first.lr.values[0] == 0.1
    with torch.no_grad():
        model[0].weight.mul_(2.0)
    with SpectrumRecorder(model, path) as rec:
        assert rec.last_step == 7
        with pytest.warns(RecordingWarning):
            rec.record(7)
        rec.record(8)
    ds = open_spectra(path)
    assert ds.step.values.tolist() == [0, 7, 8]
    xr.testing.assert_identical(ds.sel(step=[0, 7]), first)
    np.testing.assert_allclose(ds.eigenvalues.sel(layer="0.weight", step=8),
                               4 * ds.eigenvalues.sel(layer="0.weight", step=7), rtol=1e-5)


def test_hook_mode_resume_continues_after_last_step(tmp_path):
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(10, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    path = tmp_path / "run.bbp"
    with SpectrumRecorder(model, path, every=3, optimizer=opt):
        _train_linear(model, opt, 10)
    with SpectrumRecorder(model, path, every=3, optimizer=opt) as rec:
        with pytest.raises(RuntimeError, match="records on `optimizer` steps"):
            rec.record(100)
        _train_linear(model, opt, 7)
    assert open_spectra(path).step.values.tolist() == [0, 3, 6, 9, 12, 15]


def test_step_fn_drives_the_hook(tmp_path):
    model = nn.Sequential(nn.Linear(6, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    clock = {"step": 100}
    with SpectrumRecorder(model, tmp_path / "r", every=5, optimizer=opt,
                          step_fn=lambda: clock["step"]):
        for _ in range(12):
            clock["step"] += 1
            _train_linear(model, opt, 1)
    assert open_spectra(tmp_path / "r").step.values.tolist() == [105, 110]


def _train_linear(model, opt, steps):
    x = torch.randn(16, model[0].in_features)
    for _ in range(steps):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()


def test_layer_selection_patterns_types_and_tied_weights():
    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(50, 16)
            self.block = nn.Sequential(nn.Linear(16, 16), nn.Conv1d(16, 8, 3))
            self.head = nn.Linear(16, 50, bias=False)
            self.head.weight = self.embed.weight  # tied
            self.alias = self.block[0]  # the same module twice

    model = LM()
    names = [info.name for info, _ in select_layers(model)]
    assert names == ["block.0.weight", "block.1.weight"]  # embedding and tied head excluded
    names = [info.name for info, _ in select_layers(model, embeddings=True)]
    assert names == ["embed.weight", "block.0.weight", "block.1.weight"]
    infos = {i.name: i for i, _ in select_layers(model, layers="block.1")}
    assert list(infos) == ["block.1.weight"] and (infos["block.1.weight"].rows,
                                                  infos["block.1.weight"].cols) == (8, 48)
    names = [i.name for i, _ in select_layers(model, layers=[re.compile(r"0\.w"), "*.1.*"])]
    assert names == ["block.0.weight", "block.1.weight"]
    names = [i.name for i, _ in select_layers(model, module_types=nn.Conv1d)]
    assert names == ["block.1.weight"]
    with pytest.raises(ValueError, match="'decoder.*' matches no layer; available: block.0"):
        select_layers(model, layers=["block.*", "decoder.*"])
    with pytest.raises(TypeError, match="module_types"):
        select_layers(model, module_types=[int])


def test_bad_inputs_create_nothing(tmp_path):
    path = tmp_path / "new.bbp"
    no_matrices = nn.Sequential(nn.LayerNorm(4), nn.ReLU())
    with pytest.raises(ValueError, match="no weight matrices to record"):
        SpectrumRecorder(no_matrices, path)
    model = nn.Sequential(nn.Linear(4, 4))
    with pytest.raises(ValueError, match="`every` must be >= 1"):
        SpectrumRecorder(model, path, every=0)
    with pytest.raises(ValueError, match="matches no layer"):
        SpectrumRecorder(model, path, layers="fc*")
    with pytest.raises(TypeError, match="`model` must be a torch.nn.Module"):
        SpectrumRecorder(object(), path)
    with pytest.raises(TypeError, match="`optimizer` must be"):
        SpectrumRecorder(model, path, optimizer="sgd")
    assert not path.exists()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    with pytest.raises(ValueError, match="is not a bbpfit store"):
        SpectrumRecorder(model, a_file)
    assert a_file.read_text() == "keep me"


def test_errors_after_recording_lose_nothing(tmp_path):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 3))
    path = tmp_path / "run.bbp"
    with SpectrumRecorder(model, path) as rec:
        rec.record(0)
        rec.record(1)
    before = open_spectra(path)
    with pytest.raises(ValueError, match="layers differ"):
        SpectrumRecorder(model, path, layers="0")
    with pytest.raises(ValueError, match="top_k"):
        SpectrumRecorder(model, path, top_k_vectors=2)
    rec = SpectrumRecorder(model, path, flush_every=1)
    rec.record(2)
    with torch.no_grad():
        model[1].weight[0, 0] = float("nan")
    rec.record(3)  # computed in the background: the failure surfaces at the next call
    with pytest.raises(RuntimeError, match="background thread: ValueError: `W` contains 1 NaN"):
        rec.close()
    ds = open_spectra(path)
    assert ds.step.values.tolist() == [0, 1, 2]
    xr.testing.assert_identical(ds.sel(step=[0, 1]), before)


def test_top_k_vectors_match_svd(tmp_path):
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(12, 20), nn.Linear(20, 7))
    with SpectrumRecorder(model, tmp_path / "r", top_k_vectors=3) as rec:
        rec.record(0)
    ds = open_spectra(tmp_path / "r")
    for i, name in enumerate(["0.weight", "1.weight"]):
        w = model[i].weight.detach().double()
        u, s, vh = torch.linalg.svd(w, full_matrices=False)
        left = ds.left_vectors.sel(layer=name, vector_step=0).values
        right = ds.right_vectors.sel(layer=name, vector_step=0).values
        rows, cols = w.shape
        assert np.isnan(left[:, rows:]).all() and np.isnan(right[:, cols:]).all()
        for j in range(3):
            sign = np.sign(right[j, :cols] @ vh[j].numpy())
            np.testing.assert_allclose(left[j, :rows], sign * u[:, j].numpy(), atol=1e-5)
            np.testing.assert_allclose(right[j, :cols], sign * vh[j].numpy(), atol=1e-5)
            assert np.argmax(np.abs(right[j, :cols])) == np.argmax(right[j, :cols])


def test_recorder_left_open_is_closed_at_exit(tmp_path):
    code = ("import torch, sys; from bbpfit.recording import SpectrumRecorder\n"
            "rec = SpectrumRecorder(torch.nn.Linear(5, 3), sys.argv[1], flush_every=100)\n"
            "rec.record(0); rec.record(1)\n")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "r")], check=True)
    assert open_spectra(tmp_path / "r").step.values.tolist() == [0, 1]  # flushed at exit


def test_import_does_not_load_torch():
    code = "import sys, bbpfit.recording, bbpfit.store; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_recording_matches_cpu(tmp_path):
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    copies = {}
    x = torch.randn(32, 64, device="cuda")
    with SpectrumRecorder(model, tmp_path / "r", every=5, optimizer=opt) as rec:
        for step in range(1, 31):
            loss = model(x).pow(2).mean()
            rec.log(loss=loss)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 5 == 0:
                copies[step] = model[0].weight.detach().cpu().clone()
    ds = open_spectra(tmp_path / "r")
    assert ds.step.values.tolist() == list(range(0, 31, 5))
    assert np.isfinite(ds.loss.sel(step=slice(5, None))).all()
    for step, w in copies.items():
        np.testing.assert_allclose(ds.eigenvalues.sel(layer="0.weight", step=step)[:64],
                                   eigenvalues(w), rtol=1e-5)


def test_recorder_repr(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3))
    rec = SpectrumRecorder(model, os.fspath(tmp_path / "r"), every=7)
    assert "layers=1, every=7, manual, last_step=None" in repr(rec)
    rec.close()
    assert "closed" in repr(rec)
