"""`bf.analyze_zoo` and `bbpfit zoo`: finding checkpoints, error rows, resuming, a real LocalCluster."""

import os
import struct

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bbpfit.cli.main import cli
from bbpfit.sources.safetensors_file import save_safetensors
from bbpfit.zoo import ZOO_COLUMNS, analyze, analyze_zoo, find_checkpoints
from bbpfit.zoo.nulls import CACHE_ENV
from bbpfit.zoo.output import ZooOutput
from bbpfit.zoo.progress import ProgressBar

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def null_cache_dir_for_tests(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.getbasetemp() / "bbpfit-cache"))


def tiny_model(rng, spike=0.0):
    w1 = rng.standard_normal((64, 32))
    if spike:
        u, v = rng.standard_normal(64), rng.standard_normal(32)
        w1 += spike * 8.0 * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    return {"fc1.weight": w1.astype(np.float32), "fc1.bias": np.zeros(64, np.float32),
            "fc2.weight": rng.standard_normal((32, 64)).astype(np.float32),
            "head.weight": rng.standard_normal((4, 32)).astype(np.float32)}


def write(path, kind, tensors):
    """Write a checkpoint of one of the kinds the zoo test mixes."""
    as_torch = {k: torch.from_numpy(v) for k, v in tensors.items()}
    if kind == "pt":
        torch.save(as_torch, path)
    elif kind == "legacy":
        torch.save({"model_state": as_torch, "step": 3}, path, _use_new_zipfile_serialization=False)
    elif kind == "safetensors":
        save_safetensors(path, tensors)
    else:  # a Hugging Face folder
        os.makedirs(path)
        save_safetensors(os.path.join(path, "model.safetensors"), tensors)
        with open(os.path.join(path, "config.json"), "w") as f:
            f.write('{"model_type": "tiny"}')
    return str(path)


def make_zoo(folder, n_models, seed=0):
    """``n_models`` valid checkpoints in four formats plus empty, corrupt, NaN, unsafe files."""
    rng = np.random.default_rng(seed)
    ext = {"pt": ".pt", "legacy": ".pt", "safetensors": ".safetensors", "hf": ""}
    valid = []
    for i in range(n_models):
        kind = list(ext)[i % 4]
        valid.append(write(folder / f"m{i:02d}_{kind}{ext[kind]}", kind,
                           tiny_model(rng, spike=3.0 if i % 3 == 0 else 0.0)))
    (folder / "empty.pt").write_bytes(b"")
    (folder / "corrupt.safetensors").write_bytes(struct.pack("<Q", 64) + b'{"a": garbage')
    (folder / "garbage.bin").write_bytes(rng.bytes(300))
    nan = tiny_model(rng)
    nan["fc2.weight"][3, 4] = np.nan
    save_safetensors(folder / "nan.safetensors", nan)
    torch.save(torch.nn.Linear(32, 16), folder / "whole_module.pt")  # needs unsafe unpickling
    (folder / "README.txt").write_text("not a checkpoint")
    bad = {"empty.pt": "is empty", "corrupt.safetensors": "not a valid safetensors file",
           "garbage.bin": "not a readable PyTorch checkpoint", "nan.safetensors": "NaN",
           "whole_module.pt": "allow_unsafe_pickle"}
    return valid, {os.path.abspath(folder / k): v for k, v in bad.items()}


def test_find_checkpoints_rules(tmp_path):
    valid, bad = make_zoo(tmp_path, 4)
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    deep = tmp_path / "nested" / "deeper" / "x.safetensors"
    write(deep, "safetensors", tiny_model(np.random.default_rng(1)))
    found, ignored = find_checkpoints(tmp_path)
    assert set(found) == {os.path.abspath(p) for p in valid} | set(bad) | {
        str(tmp_path / "nested" / "deeper" / "x.safetensors")}
    assert ignored == [str(tmp_path / "README.txt")]
    hf = os.path.abspath(valid[3])
    assert find_checkpoints([hf, hf])[0] == [hf]  # a model folder is one checkpoint, listed once
    assert find_checkpoints(tmp_path / "README.txt")[0] == [str(tmp_path / "README.txt")]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_checkpoints([tmp_path / "nope.pt"])
    (tmp_path / "void").mkdir()
    with pytest.raises(ValueError, match="contains no checkpoints"):
        find_checkpoints(tmp_path / "void")


def test_error_rows_resume_and_refresh(tmp_path):
    folder = tmp_path / "zoo"
    folder.mkdir()
    valid, bad = make_zoo(folder, 4)
    out = tmp_path / "out.csv"
    first = analyze_zoo(folder, workers=0, out=out, method="tw")
    assert list(first.columns) == ZOO_COLUMNS and set(first["model"]) == set(find_checkpoints(folder)[0])
    errors = first[first["status"] == "error"].set_index("model")["error"]
    assert set(errors.index) == set(bad)
    for model, reason in bad.items():
        assert reason in errors[model]
    ok = first[first["status"] == "ok"]
    assert ok.groupby("model").size().eq(3).all() and len(ok["model"].unique()) == 4
    one = valid[1]
    expected = analyze(one, method="tw")
    got = ok[ok["model"] == os.path.abspath(one)][list(expected.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)  # batch == single analysis

    again = analyze_zoo(folder, workers=0, out=out, method="tw")
    assert again.attrs["analysed"] == [] and len(again.attrs["skipped"]) == 9
    pd.testing.assert_frame_equal(again, first)
    retried = analyze_zoo(folder, workers=0, out=out, method="tw", retry_errors=True)
    assert sorted(retried.attrs["analysed"]) == sorted(bad)

    write(valid[0], "pt", tiny_model(np.random.default_rng(9)))  # rewritten: analysed again
    os.utime(valid[0], ns=(1, 1))
    third = analyze_zoo(folder, workers=0, out=out, method="tw")
    assert third.attrs["analysed"] == [os.path.abspath(valid[0])]
    on_disk = ZooOutput(out).read()
    assert len(on_disk) == len(third) and on_disk["model"].value_counts().max() == 3
    other = analyze_zoo(folder, workers=0, out=out, method="tw", alpha=0.01)  # other options
    assert len(other.attrs["analysed"]) == 9 and len(ZooOutput(out).read()) == len(other)


def test_truncated_output_line_is_dropped(tmp_path):
    folder = tmp_path / "zoo"
    folder.mkdir()
    valid = [write(folder / f"m{i}.safetensors", "safetensors", tiny_model(np.random.default_rng(i)))
             for i in range(2)]
    out = tmp_path / "out.csv"
    analyze_zoo(valid, workers=0, out=out, method="tw")
    text = out.read_text()
    out.write_text(text[: text.rstrip("\n").rfind(",")])  # a crash in the middle of the last row
    output = ZooOutput(out)
    rows = output.read()  # the last model lost a row: it is not done
    assert len(rows) == 3 and (rows["model"] == os.path.abspath(valid[0])).all() and output.dropped == 3
    again = analyze_zoo(valid, workers=0, out=out, method="tw")
    assert again.attrs["analysed"] == [os.path.abspath(valid[1])] and len(again) == 6
    output = ZooOutput(out)
    assert len(output.read()) == 6 and output.dropped == 0  # the file was cleaned


def test_output_file_checks(tmp_path):
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        ZooOutput(tmp_path / "out.xlsx")
    from bbpfit.zoo.output import parquet_engine
    if parquet_engine() is None:
        with pytest.raises(ValueError, match="pyarrow or fastparquet"):
            ZooOutput(tmp_path / "out.parquet")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a bbpfit zoo table"):
        ZooOutput(tmp_path / "other.csv").read()


def test_progress_bar(capsys):
    import io

    stream = io.StringIO()
    bar = ProgressBar(4, enabled=True, stream=stream, min_interval=0)
    bar.update()
    bar.update(errors=1)
    bar.close()
    assert "2/4 checkpoints, 1 error" in stream.getvalue() and "left" in stream.getvalue()
    quiet = io.StringIO()
    ProgressBar(4, stream=quiet).update()  # not a terminal: off
    assert quiet.getvalue() == ""


def test_cli_zoo_bad_input(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["zoo", str(tmp_path / "missing"), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "does not exist" in res.output
    (tmp_path / "void").mkdir()
    res = runner.invoke(cli, ["zoo", str(tmp_path / "void"), "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "contains no checkpoints" in res.output
    res = runner.invoke(cli, ["zoo", str(tmp_path), "--out", str(tmp_path / "o.txt")])
    assert res.exit_code == 2 and ".csv or .parquet" in res.output


@pytest.mark.slow
def test_zoo_on_a_local_cluster(tmp_path):
    """20+ checkpoints in four formats plus bad files on a real 2-process LocalCluster."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    valid, bad = make_zoo(folder, 22)
    out = tmp_path / "zoo.csv"
    runner = CliRunner()
    args = ["zoo", str(folder), "--out", str(out), "--workers", "2", "--no-progress"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 3, res.output  # some checkpoints failed, the others are complete
    table = ZooOutput(out).read()
    ok = table[table["status"] == "ok"]
    assert set(ok["model"]) == {os.path.abspath(p) for p in valid}
    assert ok.groupby("model").size().eq(3).all()
    planted = ok[ok["model"].isin([os.path.abspath(p) for p in valid[::3]]) & (ok["layer"] == "fc1.weight")]
    assert (planted["n_spikes"] >= 1).all()
    errors = table[table["status"] == "error"].set_index("model")["error"]
    assert set(errors.index) == set(bad)
    for model, reason in bad.items():
        assert reason in errors[model]
    assert "--allow-unsafe-pickle" in res.output  # the CLI names the flag, not the keyword
    assert f"{len(valid) + len(bad)} checkpoint(s): {len(valid)} ok, {len(bad)} failed" in res.output

    again = runner.invoke(cli, args)  # everything is in the output already: nothing to run
    assert again.exit_code == 3 and f"({len(valid) + len(bad)} taken from the earlier run" in again.output
    assert ZooOutput(out).read().equals(table)

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        fresh = analyze_zoo(valid[:3], client=client, method="tw")
    assert (fresh["status"] == "ok").all() and len(fresh) == 9
