"""``bbpfit cache info|warm|clear`` (issue #14 item 2): where the caches are, how big, fill, clear."""

import os
import subprocess
import sys

import numpy as np
from click.testing import CliRunner

from bbpfit.cli.main import cli
from bbpfit.inference import NullCache, null_distribution
from bbpfit.zoo.nulls import CACHE_ENV


def test_info_warm_clear_nulls(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    runner = CliRunner()
    res = runner.invoke(cli, ["cache", "info"])
    assert res.exit_code == 0, res.output
    assert f"null samples:     {tmp_path / 'c' / 'nulls'}: 0 file(s), 0 B" in res.output
    assert "compiled kernels:" in res.output
    res = runner.invoke(cli, ["cache", "warm", "--no-default-shapes", "--shape", "40x25"])
    assert res.exit_code == 0, res.output
    files = list((tmp_path / "c" / "nulls").glob("*.npy"))
    assert [f.name for f in files] == ["bbpfit_null_v1_kn_n40_m25_B9999.npy"]
    # the file holds exactly the null a fresh in-memory simulation gives
    np.testing.assert_array_equal(np.load(files[0]), null_distribution(40, 25, cache=NullCache()))
    res = runner.invoke(cli, ["cache", "info"])
    assert ": 1 file(s), 80.1 kB" in res.output
    res = runner.invoke(cli, ["cache", "clear", "--nulls-only"])
    assert res.exit_code == 0 and "removed 1 null sample(s) and 0 compiled-kernel file(s)" in res.output
    assert not (tmp_path / "c" / "nulls").exists()
    res = runner.invoke(cli, ["cache", "warm", "--shape", "3x"])
    assert res.exit_code == 2 and "is not NxM" in res.output


def test_clear_removes_the_compiled_kernels(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), BBPFIT_CACHE_DIR="none")
    run = [sys.executable, "-m", "bbpfit", "cache"]
    # importing the kernel modules compiles nothing (no kernel runs at import: cold start)
    subprocess.run(run + ["info"], env=env, capture_output=True, text=True, check=True)
    assert not [p for p in (tmp_path / "numba").rglob("*") if p.suffix in (".nbi", ".nbc")]
    # a TW cdf of 50 values runs (and caches) the Numba kernel
    code = "import numpy as np, bbpfit as bf; bf.tracy_widom(1).cdf(np.linspace(-3, 3, 50))"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    info = subprocess.run(run + ["info"], env=env, capture_output=True, text=True, check=True)
    assert "null samples:     off" in info.stdout
    compiled = [p for p in (tmp_path / "numba").rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert compiled and f"{len(compiled)} file(s)" in info.stdout
    assert str(tmp_path / "numba") in info.stdout
    out = subprocess.run(run + ["clear"], env=env, capture_output=True, text=True, check=True)
    assert "compiled-kernel file(s)" in out.stdout
    left = [p for p in (tmp_path / "numba").rglob("*") if p.suffix in (".nbi", ".nbc")]
    # clear imports the kernel modules (none compiles at import) before removing them all
    assert int(out.stdout.split(" and ")[1].split()[0]) >= len(compiled) and not left
