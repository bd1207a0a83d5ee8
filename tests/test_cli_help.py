"""``bbpfit --help`` and every ``bbpfit <cmd> --help`` import nothing heavy (issue #14 item 2).

Time is not asserted (a busy machine makes any bound flaky); what makes help slow is importing
numpy/scipy/numba/pandas/torch, and that is asserted from ``python -X importtime``.
"""

import importlib
import subprocess
import sys

import pytest

main_module = importlib.import_module("bbpfit.cli.main")

HEAVY = ("numpy", "scipy", "numba", "pandas", "torch", "xarray", "dask", "matplotlib", "zarr",
         "statsmodels")
COMMANDS = sorted(main_module.COMMANDS)


def _imported(args):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "bbpfit", *args, "--help"],
                          capture_output=True, text=True, check=True)
    names = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
             if line.startswith("import time:")}
    return proc.stdout, names


@pytest.mark.parametrize("args", [[]] + [[c] for c in COMMANDS] + [["cache", "warm"]])
def test_help_imports_nothing_heavy(args):
    out, names = _imported(args)
    assert "Usage: bbpfit" in out
    heavy = sorted(n for n in names if n.split(".")[0] in HEAVY)
    assert not heavy, f"'bbpfit {' '.join(args)} --help' imported {heavy[:5]}"
    assert not any(n.startswith("bbpfit.") and n.split(".")[1] not in ("cli", "_version")
                   for n in names)


def test_group_help_lists_each_commands_own_short_help():
    from click.testing import CliRunner

    out = CliRunner().invoke(main_module.cli, ["--help"]).output
    for name, (module, attr, short) in main_module.COMMANDS.items():
        command = getattr(importlib.import_module(f"bbpfit.cli.{module}"), attr)
        assert command.short_help == short
        assert name in out and short.split()[0] in out
    assert "Exit codes" in out


def test_option_literals_equal_the_library_tables():
    from bbpfit.cli.options import CORRECTION_NAMES, FORMAT_NAMES, METHOD_NAMES
    from bbpfit.inference import CORRECTIONS, METHODS
    from bbpfit.sources import FORMATS

    assert METHOD_NAMES == tuple(METHODS)
    assert CORRECTION_NAMES == tuple(CORRECTIONS)
    assert FORMAT_NAMES == tuple(sorted(FORMATS))


def test_lazy_package_keeps_the_public_names():
    code = ("import bbpfit as bf, sys; assert 'numpy' not in sys.modules; import bbpfit.zoo;"
            "assert callable(bf.spectrum) and callable(bf.eigenvalues), bf.spectrum;"
            "assert set(bf.__all__) <= set(dir(bf)); ns = {}; exec('from bbpfit import *', ns);"
            "assert set(bf.__all__) <= set(ns); print(bf.simulate.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "bbpfit.simulate"
