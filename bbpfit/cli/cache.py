"""``bbpfit cache info|warm|clear``: where bbpfit keeps its caches, how big they are, and filling
or emptying them.

Two caches make later runs faster than the first:

- **null samples**: one simulated null distribution per matrix shape tested (0.3-0.7 s each), as
  ``.npy`` files in ``$BBPFIT_CACHE_DIR/nulls``, else ``$XDG_CACHE_HOME/bbpfit/nulls``, else
  ``~/.cache/bbpfit/nulls`` (:func:`bbpfit.zoo.nulls.null_cache_dir`); 80 kB a shape;
- **compiled kernels**: Numba's machine code for bbpfit's kernels (``.nbi``/``.nbc`` files), in
  the ``__pycache__`` folders of the installed package, or under ``$NUMBA_CACHE_DIR`` when set;
  compiling them all takes tens of seconds, once per installation.
"""

from __future__ import annotations

import importlib
import os
import shutil
import time
from pathlib import Path

import click


def kernel_modules() -> list[str]:
    """Names of bbpfit's modules with cached Numba kernels (every file that asks for
    ``cache=True``), found in the installed package so a new kernel file is never missed."""
    root = Path(__file__).resolve().parents[1]
    return sorted(
        ".".join(("bbpfit", *p.relative_to(root).with_suffix("").parts))
        for p in root.rglob("*.py") if "cache=True" in p.read_text(encoding="utf-8")
        and p.parent.name != "cli")


#: Shapes (n, m) whose first-step null ``bbpfit cache warm`` simulates by default: the square
#: and 4x MLP layers of common transformer widths.
WARM_SHAPES = ((384, 384), (1536, 384), (768, 768), (3072, 768), (1024, 1024), (4096, 1024))


def _size(nbytes: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if nbytes < 1000 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    return ""


def _null_dir():
    from ..zoo.nulls import null_cache_dir

    return null_cache_dir()


def _null_files(directory) -> list[Path]:
    if directory is None or not Path(directory).is_dir():
        return []
    return sorted(Path(directory).glob("bbpfit_null_*.npy"))


def kernel_cache_files() -> list[Path]:
    """Numba's cache files of bbpfit's kernels (wherever Numba put them)."""
    from numba.core.dispatcher import Dispatcher

    files: set[Path] = set()
    # import them all first: importing one may compile another module's kernels
    modules = [importlib.import_module(name) for name in kernel_modules()]
    for module in modules:
        stem = Path(module.__file__).stem
        folders = {Path(obj._cache._cache_path) for obj in vars(module).values()
                   if isinstance(obj, Dispatcher) and hasattr(obj._cache, "_cache_path")}
        for folder in folders:
            if folder.is_dir():
                files.update(p for p in folder.glob(f"{stem}.*") if p.suffix in (".nbi", ".nbc"))
    return sorted(files)


def _total(files) -> int:
    return sum(p.stat().st_size for p in files if p.exists())


@click.group("cache", short_help="Show, fill or clear the caches (null samples, kernels).")
def cache():
    """Where bbpfit keeps its caches, how big they are; fill or clear them.

    The first run of a command is slower than later ones: it compiles bbpfit's kernels (Numba,
    once per installation) and simulates a null distribution per matrix shape (kept as files).
    'bbpfit cache warm' pays both costs ahead, 'info' shows where and how big, 'clear' removes them.
    Set BBPFIT_CACHE_DIR to move the null samples (or to 'none' to keep them in memory only) and
    NUMBA_CACHE_DIR to move the compiled kernels.
    """


@cache.command("info")
def info():
    """Where the caches are and how big they are."""
    directory = _null_dir()
    nulls = _null_files(directory)
    where = "off (BBPFIT_CACHE_DIR is set to turn it off)" if directory is None else str(directory)
    click.echo(f"null samples:     {where}: {len(nulls)} file(s), {_size(_total(nulls))}")
    kernels = kernel_cache_files()
    folders = sorted({str(p.parent) for p in kernels})
    place = (os.path.commonpath(folders) if len(folders) > 1 else folders[0] if folders
             else "(not compiled yet: run 'bbpfit cache warm')")
    click.echo(f"compiled kernels: {len(kernels)} file(s), {_size(_total(kernels))} in {place}")


def _compile_kernels():
    """Run the public entry points once on small inputs, so Numba compiles (and caches) them."""
    import numpy as np
    import xarray as xr

    import bbpfit as bf

    from ..inference import NullCache
    from ..simulate import spike_trajectory

    rng = np.random.default_rng(0)
    W = rng.standard_normal((60, 30))
    memory = NullCache(maxsize=8)  # the compile runs' tiny nulls are not worth keeping
    bf.fit_mp(bf.spectrum(W))
    bf.fit_mp(bf.spectrum(W), ratio="fit")
    for method in ("auto", "tw", "rank", "biwhiten", "ratio"):
        bf.spike_test(W, method=method, null_cache=memory)
    bf.spike_test(rng.standard_t(2, (60, 30)), null_cache=memory)
    tw = bf.tracy_widom(beta=1)
    tw.cdf(np.linspace(-8, 6, 5)), tw.ppf(0.95), tw.logsf(3.0)
    bf.marchenko_pastur(0.5).cdf(1.0)
    tr = spike_trajectory(60, 30, 20, lambda t: 0.15 * np.asarray(t, float), drift=0.3, rng=rng)
    da = xr.DataArray(tr.eigenvalues, dims=("step", "rank"), coords={"step": tr.steps},
                      attrs={"n": tr.n}, name="w")
    for method in ("bbp", "detect", "changepoint"):
        bf.transition_time(da, method=method, n_boot=20, rng=rng)


@cache.command("warm")
@click.option("--shape", "shapes", multiple=True, metavar="NxM",
              help="Also simulate the null of this matrix shape (repeatable), e.g. 3072x768 "
                   "[default: common transformer shapes: "
                   + ", ".join(f"{n}x{m}" for n, m in WARM_SHAPES) + "].")
@click.option("--no-default-shapes", is_flag=True, help="Only the shapes given with --shape.")
def warm(shapes, no_default_shapes):
    """Compile bbpfit's kernels and simulate the nulls of common layer shapes now.

    Later 'check', 'zoo', 'transition' and 'demo' runs then start at full speed.
    """
    import warnings

    parsed = []
    for text in shapes:
        try:
            n, m = (int(v) for v in text.lower().split("x"))
            if min(n, m) < 10:
                raise ValueError
        except ValueError:
            raise click.BadParameter(f"{text!r} is not NxM with both sides >= 10, e.g. 3072x768",
                                     param_hint="--shape") from None
        parsed.append((max(n, m), min(n, m)))
    todo = list(dict.fromkeys(parsed + ([] if no_default_shapes else list(WARM_SHAPES))))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _compile_kernels()
    click.echo(f"compiled the kernels in {time.perf_counter() - start:.1f} s", err=True)
    from ..inference import null_distribution
    from ..zoo.nulls import default_null_cache

    store = default_null_cache()
    start = time.perf_counter()
    for n, m in todo:
        null_distribution(n, m, cache=store)
    where = store.directory if store.directory is not None else "memory only (cache off)"
    click.echo(f"null samples for {len(todo)} shape(s) in {time.perf_counter() - start:.1f} s: "
               f"{where}", err=True)


@cache.command("clear")
@click.option("--nulls-only", is_flag=True, help="Keep the compiled kernels.")
def clear(nulls_only):
    """Remove the null samples and the compiled kernels (they are rebuilt when needed)."""
    directory = _null_dir()
    nulls = _null_files(directory)
    freed = _total(nulls)
    for path in nulls:
        path.unlink(missing_ok=True)
    if directory is not None and Path(directory).is_dir() and not any(Path(directory).iterdir()):
        shutil.rmtree(directory, ignore_errors=True)
    kernels = [] if nulls_only else kernel_cache_files()
    freed += _total(kernels)
    for path in kernels:
        try:
            os.unlink(path)
        except OSError:
            pass
    click.echo(f"removed {len(nulls)} null sample(s) and {len(kernels)} compiled-kernel file(s) "
               f"({_size(freed)})")
