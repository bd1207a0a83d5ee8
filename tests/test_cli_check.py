"""`bbpfit check PATH`: formats, --out, --plot, --fail-on-spikes exit code, bad input (exit 2)."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bbpfit.cli.main import cli
from bbpfit.sources.safetensors_file import save_safetensors
from bbpfit.zoo.nulls import CACHE_ENV


@pytest.fixture(autouse=True)
def null_cache_dir_for_tests(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.getbasetemp() / "bbpfit-cache"))


def model(spike: float):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((120, 60))
    u, v = rng.standard_normal(120), rng.standard_normal(60)
    w += spike * np.sqrt(120) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    return {"encoder.fc.weight": w, "encoder.fc.bias": np.zeros(120),
            "head.weight": rng.standard_normal((60, 120))}


@pytest.fixture
def spiked(tmp_path):
    path = tmp_path / "spiked.safetensors"
    save_safetensors(path, model(4.0))
    return path


@pytest.fixture
def clean(tmp_path):
    path = tmp_path / "clean.safetensors"
    save_safetensors(path, model(0.0))
    return path


def run(*args):
    return CliRunner().invoke(cli, ["check", *map(str, args)])


def test_table_to_the_terminal(spiked):
    res = run(spiked, "--method", "tw")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["layer", "shape", "sigma2"]
    assert lines[2].startswith("encoder.fc.weight") and lines[3].startswith("head.weight")
    assert "2 layers, 2 tested: 1 with a significant spike" in res.stdout
    assert "analysed in" in res.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown"])
def test_machine_formats(spiked, fmt):
    res = run(spiked, "--format", fmt, "--method", "tw")
    assert res.exit_code == 0
    if fmt == "csv":
        from io import StringIO

        table = pd.read_csv(StringIO(res.stdout))
        assert table["n_spikes"].tolist() == [1, 0] and "pvalue_adjusted" in table
    elif fmt == "json":
        data = json.loads(res.stdout)
        assert data["alpha"] == 0.05 and data["correction"] == "fdr_bh" and data["method"] == "tw"
        assert [row["significant"] for row in data["layers"]] == [True, False]
    else:
        assert res.stdout.startswith("| layer | shape |")


def test_out_file_format_from_extension(spiked, tmp_path):
    for name, check in [("t.csv", lambda t: t.startswith("layer,shape,n,m")),
                        ("t.json", lambda t: json.loads(t)["layers"][0]["n_spikes"] == 1),
                        ("t.md", lambda t: t.startswith("| layer |")),
                        ("t.txt", lambda t: t.startswith("layer"))]:
        res = run(spiked, "--out", tmp_path / name, "--method", "tw", "-q")
        assert res.exit_code == 0 and res.stdout == ""
        assert check((tmp_path / name).read_text())


def test_fail_on_spikes_exit_code(spiked, clean):
    res = run(spiked, "--fail-on-spikes", "--method", "tw")
    assert res.exit_code == 1 and "significant spikes in 1 layer(s) (encoder.fc.weight)" in res.stderr
    assert run(clean, "--fail-on-spikes", "--method", "tw").exit_code == 0
    assert run(spiked, "--method", "tw").exit_code == 0  # without the flag: 0


def test_plots(spiked, tmp_path):
    pytest.importorskip("matplotlib")
    res = run(spiked, "--plot", tmp_path / "figs", "--method", "tw", "-q", "--out", tmp_path / "t.csv")
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert files == ["spectrum_encoder.fc.weight.png", "spectrum_head.weight.png"]  # as the demo
    assert (tmp_path / "figs" / files[0]).read_bytes()[:4] == b"\x89PNG"


def test_selection_options(spiked):
    res = run(spiked, "--include", "head.*", "--method", "tw", "--format", "csv")
    assert res.exit_code == 0 and res.stdout.count("\n") == 2
    res = run(spiked, "--exclude", "*", "--method", "tw")
    assert res.exit_code == 2 and "no layer selected" in res.output


def test_bad_input_exit_2_with_a_message(tmp_path):
    res = run(tmp_path / "missing.pt")
    assert res.exit_code == 2 and "does not exist" in res.output
    (tmp_path / "empty_folder").mkdir()
    res = run(tmp_path / "empty_folder")
    assert res.exit_code == 2 and "contains no checkpoint" in res.output
    (tmp_path / "weights.xyz").write_bytes(b"hello world, not weights")
    res = run(tmp_path / "weights.xyz")
    assert res.exit_code == 2 and "not in a known checkpoint format" in res.output
    assert "valid formats" in res.output
    (tmp_path / "empty.safetensors").write_bytes(b"")
    res = run(tmp_path / "empty.safetensors")
    assert res.exit_code == 2 and "empty" in res.output
    res = run(tmp_path / "weights.xyz", "--alpha", "2")
    assert res.exit_code == 2 and "--alpha" in res.output
    res = run(tmp_path / "weights.xyz", "--method", "magic")
    assert res.exit_code == 2 and "--method" in res.output


def test_nan_weights_and_unsafe_pickle(tmp_path):
    torch = pytest.importorskip("torch")
    bad = model(0.0)
    bad["head.weight"][0, 0] = np.inf
    save_safetensors(tmp_path / "nan.safetensors", bad)
    res = run(tmp_path / "nan.safetensors", "--method", "tw")
    # an error row for that layer, the others analysed, exit code 3 (was: abort with exit 2)
    assert res.exit_code == 3 and "head.weight: error:" in res.output and "NaN or infinite" in res.output
    assert "encoder.fc.weight" in res.stdout and "1 layer(s) could not be analysed" in res.stderr
    torch.manual_seed(0)
    torch.save(torch.nn.Sequential(torch.nn.Linear(60, 30)), tmp_path / "pickled.pt")
    res = run(tmp_path / "pickled.pt")
    assert res.exit_code == 2 and "--allow-unsafe-pickle" in res.output
    assert "allow_unsafe_pickle=True" not in res.output
    res = run(tmp_path / "pickled.pt", "--allow-unsafe-pickle", "--method", "tw")
    assert res.exit_code == 0 and "0.weight" in res.stdout


def test_law_column_and_powerlaw_plot(tmp_path):
    # a layer with Student-t(1.5) entries (infinite variance): its ESD has a power-law tail
    # (density exponent 1 + 1.5/2 in the limit); a Gaussian layer stays MP
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    path = tmp_path / "ht.safetensors"
    save_safetensors(path, {"heavy.weight": rng.standard_t(1.5, (240, 120)),
                            "gauss.weight": rng.standard_normal((240, 120))})
    res = run(path, "--method", "tw", "--plot", tmp_path / "figs")
    assert res.exit_code == 0, res.output
    head = res.stdout.splitlines()[0].split()
    assert "law" in head and "alpha" in head
    rows = {line.split()[0]: line for line in res.stdout.splitlines()[2:4]}
    assert "power-law tail" in rows["heavy.weight"] and rows["gauss.weight"].split()[-2] == "MP"
    assert "not interpretable" in res.stdout  # the heavy layer's spike count is flagged
    files = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert files == ["powerlaw_heavy.weight.png", "spectrum_gauss.weight.png", "spectrum_heavy.weight.png"]
    assert (tmp_path / "figs" / files[1]).read_bytes()[:4] == b"\x89PNG"


def test_workers_option_gives_the_same_table(spiked):
    one, two = run(spiked, "--format", "csv"), run(spiked, "--format", "csv", "--workers", "2")
    assert one.exit_code == two.exit_code == 0, two.output
    assert one.stdout == two.stdout
    assert run(spiked, "--workers", "0").exit_code == 2
