"""``bbpfit transition STORE`` on a store written by bbpfit.store's writer."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from threadpoolctl import threadpool_limits

from bbpfit.cli.main import cli
from bbpfit.simulate import spike_trajectory
from bbpfit.store import LayerInfo, SpectraWriter


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Dense linear algebra on one thread: the machine is shared."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "spectra"
    a = spike_trajectory(400, 200, 60, lambda t: 0.04 * np.asarray(t, float), drift=0.3,
                         rng=np.random.default_rng(1))
    b = spike_trajectory(300, 100, 60, np.zeros(60), drift=0.3, rng=np.random.default_rng(2))
    layers = [LayerInfo("fc1.weight", (200, 400), 200, 400),
              LayerInfo("fc2.weight", (100, 300), 100, 300)]
    with SpectraWriter(path, layers, flush_every=16) as w:
        for i in range(60):
            w.append(10 * i, [a.eigenvalues[i], b.eigenvalues[i]], loss=1.0 / (i + 1), lr=0.1)
    return str(path), 10 * a.t_cross


def test_table_csv_json(store_path):
    path, t_star = store_path
    run = CliRunner().invoke(cli, ["transition", path])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0].split() == ["layer", "rank", "detected", "step", "ci_low", "ci_high",
                                "censored", "method"]
    row = dict(zip(lines[0].split(), lines[2].split(), strict=True))
    assert row["layer"] == "fc1.weight" and row["detected"] == "yes"
    assert abs(float(row["step"]) - t_star) < 40
    assert lines[3].split()[:4] == ["fc2.weight", "0", "no", "-"]
    assert row["censored"] == "-" and lines[3].split()[6] == "right"
    run = CliRunner().invoke(cli, ["transition", path, "--format", "csv", "--method", "detect",
                                   "--layer", "fc1.weight"])
    assert run.exit_code == 0 and run.output.splitlines()[0].startswith("layer,rank,detected")
    assert run.output.splitlines()[1].endswith(",detect")
    run = CliRunner().invoke(cli, ["transition", path, "--format", "json", "--alpha", "0.01"])
    doc = json.loads(run.output)
    assert doc["alpha"] == 0.01 and doc["transitions"][1]["step"] is None


def test_plot_writes_pngs(store_path, tmp_path):
    path, _ = store_path
    out = tmp_path / "figs"
    run = CliRunner().invoke(cli, ["transition", path, "--plot", str(out)])
    assert run.exit_code == 0, run.output
    files = sorted(p.name for p in out.iterdir())
    assert files == ["spectrogram_fc1.weight.png", "spectrogram_fc2.weight.png"]  # as the demo
    assert all((out / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in files)


def test_bad_layer_and_bad_store(store_path, tmp_path):
    path, _ = store_path
    run = CliRunner().invoke(cli, ["transition", path, "--layer", "nope"])
    assert run.exit_code != 0 and "not in `spectra`" in run.output
    (tmp_path / "empty").mkdir()
    run = CliRunner().invoke(cli, ["transition", str(tmp_path / "empty")])
    assert run.exit_code != 0 and "Error" in run.output
