"""Numba caches cannot go stale when a kernel's callee in another file changes."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bbpfit

#: The bbpfit under test (a worktree may shadow an installed one): the subprocesses import it.
SRC = str(Path(bbpfit.__file__).resolve().parents[1])

RUN = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tmp!r})
    if {register}:
        from bbpfit._numba_cache import register
        register({pkg!r})
    from pkgx.a import outer
    print(outer(1.0))
""")


def _write(pkg, value):
    (pkg / "b.py").write_text(
        "from numba import njit\n\n\n@njit(cache=True)\ndef inner(x):\n"
        f"    return x + {value}\n")


def _run(tmp, pkg, register):
    code = RUN.format(tmp=str(tmp), pkg=str(pkg), register=register)
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp, env=env)
    return float(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("register", [True, False])
def test_a_cached_kernel_sees_its_callee_change_in_another_file(tmp_path, register):
    # a.outer (cached) calls b.inner (cached, another file). Edit b.py, run again in a new
    # process: with the package stamp, outer is rebuilt (1 + 2); Numba's own per-file stamp
    # keeps the stale outer (1 + 1) - the defect the package stamp removes.
    pkg = tmp_path / "pkgx"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from numba import njit\n\nfrom .b import inner\n\n\n@njit(cache=True)\n"
        "def outer(x):\n    return inner(x)\n")
    _write(pkg, 1)
    assert _run(tmp_path, pkg, register) == 2.0
    assert list((pkg / "__pycache__").glob("a.outer-*.nbi"))  # it was cached on disk
    _write(pkg, 2)
    assert _run(tmp_path, pkg, register) == (3.0 if register else 2.0)


def test_bbpfit_kernels_are_stamped_with_the_package():
    from numba.core import caching

    import bbpfit.laws._tw_kernels  # noqa: F401
    from bbpfit._numba_cache import package_stamp

    names = [k.__name__ for k in caching.CacheImpl._locator_classes]
    assert names[:3] == ["PackageUserProvidedCacheLocator", "PackageInTreeCacheLocator",
                         "PackageUserWideCacheLocator"]
    assert len(package_stamp(str(Path(bbpfit.__file__).parent))) == 64
