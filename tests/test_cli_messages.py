"""What a newcomer sees (issue #14 items 3-6): one-line messages with what to do, exit codes that
say what happened, tables without misleading cells."""

import io
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import bbpfit as bf
from bbpfit.cli.main import cli
from bbpfit.sources.safetensors_file import save_safetensors
from bbpfit.zoo.nulls import CACHE_ENV
from bbpfit.zoo.table import summary_line, to_text


@pytest.fixture(autouse=True)
def null_cache_dir_for_tests(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.getbasetemp() / "bbpfit-cache"))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _cli_subprocess(*args, cwd=None):
    """The real console entry point: what a user sees, traceback or not."""
    return subprocess.run([sys.executable, "-m", "bbpfit", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def test_nan_layer_is_an_error_row_and_exit_3(tmp_path):
    rng = np.random.default_rng(0)
    bad = rng.standard_normal((64, 32))
    bad[3, 4] = np.nan
    path = save_safetensors(tmp_path / "nan.safetensors",
                            {"a.weight": rng.standard_normal((64, 32)), "b.weight": bad,
                             "c.weight": rng.standard_normal((48, 40))})
    res = run("check", path, "--method", "tw", "--format", "csv")
    assert res.exit_code == 3, res.output
    table = pd.read_csv(io.StringIO(res.stdout), keep_default_na=False)
    assert list(table["layer"]) == ["a.weight", "b.weight", "c.weight"]
    row = table.set_index("layer").loc["b.weight"]
    assert row["notes"].startswith("error: `W` contains 1 NaN or infinite value(s)")
    assert row["significant"] == ""  # no answer, not False
    assert set(table.set_index("layer").loc[["a.weight", "c.weight"], "significant"]) == {"False"}
    assert "1 layer(s) could not be analysed (b.weight)" in res.stderr
    assert "1 could not be analysed" in res.stderr


def test_tiny_matrix_gets_a_row_and_fit_mp_warns(tmp_path):
    path = save_safetensors(tmp_path / "tiny.safetensors",
                            {"tiny.weight": np.random.default_rng(0).standard_normal((3, 3))})
    res = run("check", path, "--include", "tiny*")
    assert res.exit_code == 0, res.output
    assert "too small to test (m = 3 < 10)" in res.output
    assert "1 layer, 0 tested" in res.output  # grammar: was "1 layers"
    with pytest.warns(bf.FitWarning, match="only m = 3 eigenvalues"):
        bf.fit_mp(np.array([3.0, 2.0, 1.0]), n=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bf.fit_mp(np.random.default_rng(1).standard_normal((40, 10)))  # m = 10: no warning
    with pytest.raises(ValueError, match="at least 3 are needed"):
        bf.fit_mp(np.array([2.0, 1.0]), n=5)


def test_nothing_selected_says_why_for_each_matrix(tmp_path):
    path = save_safetensors(tmp_path / "m.safetensors",
                            {"tok_embeddings.weight": np.ones((50, 8)), "mask": np.eye(4),
                             "fc.weight": np.eye(6)})
    res = run("check", path, "--include", "fc.*", "--exclude", "fc.*")
    assert res.exit_code == 2
    assert "'tok_embeddings.weight' (50x8): an embedding (see --embeddings)" in res.output
    assert "'mask' (4x4): not named like a weight" in res.output
    assert "'fc.weight' (6x6): not matched by --include/--exclude" in res.output


def test_pvalues_below_the_floor_print_as_a_bound():
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(400), rng.standard_normal(200)
    w = rng.standard_normal((400, 200)) + 60 * np.sqrt(400) * np.outer(
        u / np.linalg.norm(u), v / np.linalg.norm(v))
    table = bf.analyze({"big.weight": w, "small.weight": rng.standard_normal((300, 100))},
                       method="tw-asymptotic")
    p = table.set_index("layer").loc["big.weight", "pvalue"]
    assert p < 1e-300  # the tail underflows: 0 or subnormal
    text = to_text(table)
    line = next(ln for ln in text.splitlines() if ln.startswith("big.weight"))
    assert "< 1e-300" in line and " 0 " not in line
    assert "(1 spike in all)" in summary_line(table)


def test_untested_rows_have_no_blank_cells(tmp_path):
    path = save_safetensors(tmp_path / "m.safetensors",
                            {"a.weight": np.random.default_rng(0).standard_normal((8, 4))})
    res = run("check", path)
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("a.weight"))
    heads = res.stdout.splitlines()[0].split()
    assert len(line.split()) == len(heads)  # every column has a value or '-'


def test_safetensors_layers_in_model_order(tmp_path):
    from safetensors.numpy import save_file  # the library sorts names alphabetically

    rng = np.random.default_rng(0)
    names = [f"layer.{i}.weight" for i in (0, 1, 2, 10, 11)]
    save_file({n: rng.standard_normal((20, 12)).astype(np.float32) for n in names},
              str(tmp_path / "m.safetensors"))
    assert [i.name for i in bf.list_layers(tmp_path / "m.safetensors")] == names


def test_zoo_csv_in_input_order_and_error_rows_blank(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for name in ("c_big", "a_small", "b_broken"):
        path = tmp_path / f"{name}.safetensors"
        if name == "b_broken":
            path.write_bytes(b"not a checkpoint at all")
        else:
            side = 300 if name == "c_big" else 40
            save_safetensors(path, {"fc.weight": rng.standard_normal((side, side // 2))})
        paths.append(path)
    out = tmp_path / "zoo.csv"
    res = run("zoo", *paths, "--out", out, "--workers", "0", "--method", "tw")
    assert res.exit_code == 3, res.output
    table = pd.read_csv(out, keep_default_na=False)
    assert [m.split("/")[-1] for m in table["model"]] == [p.name for p in paths]
    broken = table[table["status"] == "error"].iloc[0]
    assert broken["significant"] == "" and "not" in broken["error"]


def test_cli_bad_input_is_one_line_without_traceback(tmp_path):
    text = tmp_path / "model.pt"
    text.write_text("these are my notes, not weights\n")
    for args in ([text], [tmp_path / "missing.safetensors"], [tmp_path], [text, "--alpha", "7"]):
        proc = _cli_subprocess("check", *args)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        error = [ln for ln in proc.stderr.splitlines() if ln.startswith("Error")]
        assert len(error) == 1, proc.stderr
    proc = _cli_subprocess("check", text)
    assert "is not a readable PyTorch checkpoint: it is text" in proc.stderr


def test_transition_warning_is_one_line_and_help_matches_left_censored_rows(tmp_path):
    from bbpfit.simulate import spike_trajectory
    from bbpfit.store import LayerInfo, SpectraWriter

    rng = np.random.default_rng(3)
    early = spike_trajectory(400, 200, 40, np.full(40, 3.0), drift=0.3, rng=rng)  # out from step 0
    small = spike_trajectory(60, 10, 40, np.zeros(40), drift=0.3, rng=rng)
    path = tmp_path / "run.bbp"
    layers = [LayerInfo("early.weight", (200, 400), 200, 400),
              LayerInfo("small.weight", (10, 60), 10, 60)]
    with SpectraWriter(path, layers, flush_every=16) as w:
        for i in range(40):
            w.append(10 * i, [early.eigenvalues[i], small.eigenvalues[i]], loss=1.0, lr=0.1)
    proc = _cli_subprocess("transition", path, "--max-spikes", "1", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [  # was a Python warning with a source line
        "warning: layer 'small.weight': m = 10 < 24: exact MP test and 'detect' only; too few "
        "eigenvalues to fit a soft edge or measure strengths, so a deformed bulk cannot be told "
        "from spikes"]
    row = pd.read_csv(io.StringIO(proc.stdout)).iloc[0]
    assert row["censored"] == "left" and bool(row["detected"])
    help_text = " ".join(run("transition", "--help").output.split())
    assert "step is the first recorded step, or '-' when the spike was already out" in help_text
    assert (np.isnan(row["step"]) or row["step"] == 0.0) and row["ci_high"] >= 0.0
    table = run("transition", path, "--max-spikes", "1").output
    line = next(ln for ln in table.splitlines() if ln.startswith("early.weight"))
    assert line.split()[3] in ("-", "0.0")  # the printed step, as the help says


def test_unwritable_outputs_are_one_line_errors(tmp_path):
    path = save_safetensors(tmp_path / "m.safetensors",
                            {"a.weight": np.random.default_rng(0).standard_normal((30, 12))})
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for args in (["check", path, "--out", blocker / "t.csv"],
                 ["check", path, "--method", "tw", "--plot", blocker / "figs"],
                 ["zoo", path, "--workers", "0", "--out", blocker / "z.csv"],
                 ["demo", "--out", blocker / "demo", "--steps", "20", "--no-figures"]):
        proc = _cli_subprocess(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert f"'{blocker}" in proc.stderr and ("is a file, not a folder" in proc.stderr
                                                 or "in the way of a folder" in proc.stderr)
        assert len(proc.stderr.strip().splitlines()[-1:]) == 1 and proc.stderr.count("Error") == 1


def test_analyze_can_report_a_nan_layer_as_a_row():
    rng = np.random.default_rng(0)
    bad = rng.standard_normal((64, 32))
    bad[0, 0] = np.inf
    state = {"a.weight": rng.standard_normal((64, 32)), "b.weight": bad}
    with pytest.raises(ValueError, match="layer 'b.weight'"):
        bf.analyze(state, method="tw")
    table = bf.analyze(state, method="tw", errors="report").set_index("layer")
    assert table.loc["b.weight", "notes"].startswith("error: ")
    assert table["significant"].isna().tolist() == [False, True]
    assert table.loc["a.weight", "pvalue"] > 0


def test_spike_test_summary_prints_the_pvalue_bound():
    W = bf.simulate.spiked_matrix(1000, 500, thetas=(2.0,), rng=np.random.default_rng(0))
    res = bf.spike_test(W, alpha=0.05)
    assert res.pvalues[0] < 1e-300  # the README tour's case: the fitted TW tail underflows
    row = next(ln for ln in res.summary().splitlines() if ln.strip().startswith("1 "))
    assert "< 1e-300" in row and " 0 " not in row
