"""Packaging: every subpackage is listed in pyproject, and `import bbpfit` stays light."""

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bbpfit").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "bbpfit.data" in listed


def test_import_does_not_pull_heavy_dependencies():
    code = ("import sys, bbpfit; "
            "print(' '.join(m for m in ('torch', 'matplotlib', 'dask', 'distributed', 'zarr') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_do_not_start_with_test():
    import bbpfit

    assert not [n for n in bbpfit.__all__ if n.lower().startswith("test")]


def test_cli_version():
    out = subprocess.run([sys.executable, "-m", "bbpfit", "--version"], capture_output=True,
                         text=True, check=True)
    import bbpfit

    assert bbpfit.__version__ in out.stdout


def test_a_missing_data_table_names_the_script_that_rebuilds_it(monkeypatch, tmp_path):
    from bbpfit import _data

    monkeypatch.setattr(_data, "_SOURCE_DATA", tmp_path)
    with pytest.raises(FileNotFoundError, match="scripts/make_it.py"):
        _data.load_npz.__wrapped__("no_such_table.npz", "test", "scripts/make_it.py")
    np.savez(tmp_path / "only_here.npz", a=np.arange(3))
    assert _data.load_npz.__wrapped__("only_here.npz", "test", "s")["a"].tolist() == [0, 1, 2]


def test_py_typed_ships_and_doctests_run():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert (ROOT / "bbpfit" / "py.typed").is_file()
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["bbpfit"]
    pytest_cfg = config["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in pytest_cfg["addopts"].split() and "bbpfit" in pytest_cfg["testpaths"]
    assert "mypy" in (ROOT / ".ci" / "run").read_text().split()
