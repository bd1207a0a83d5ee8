"""Speed of ``bbpfit.transition_time`` on a store of 12 layers x 200 steps x 768 ranks.

The store is built in memory in the store schema (``eigenvalues(layer, step, rank)``, coords
``n``, ``m``): four simulated layer histories of a 2304 x 768 matrix (no spike, one spike
crossing at step 60, one crossing at 120, two spikes), each repeated at three noise scales.
The first call compiles the Numba kernels (cached on disk after the first run) and simulates the
exact null samples of the MP test (cached in memory per shape); the timed calls come after it.
BLAS is limited to one thread.

Run: ``python benchmarks/bench_transition.py`` (generation about a minute, then the timings).

Cold start (``--cold``): what the first ``transition_time`` call of a fresh process spends, on a
store shaped like the scikit-learn digits MLP (a 256 x 64 and a 256 x 256 layer, 201 records;
simulated so the benchmark needs no torch). Each line runs a new Python process that imports
bbpfit, opens the store and times two calls, with

- ``cold``: an empty ``NUMBA_CACHE_DIR`` and ``BBPFIT_CACHE_DIR`` (a fresh install: every Numba
  kernel compiles);
- ``warm numba``: the Numba cache the cold run wrote (any later process of that install);
- ``simulated nulls``: the same with ``null_cache=NullCache()``, i.e. the null samples
  simulated per shape as before the shipped table (``bbpfit.transition.null_table``); the first
  such process also compiles the sampler's kernels, the next (``warm numba, simulated nulls``)
  is what every new process paid before the table.

Figures are ratios first call / second call of the same process; on a shared machine absolute
times are noisy. Run: ``python benchmarks/bench_transition.py --cold``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

N, M, STEPS, LAYERS = 2304, 768, 200, 12


def build_store(rng=0) -> xr.Dataset:
    """The benchmark store (module docstring)."""
    from bbpfit.simulate import spike_trajectory

    rng = np.random.default_rng(rng)
    tc = (M / N) ** 0.25
    histories = [
        lambda t: 0.0 * t,
        lambda t: tc * t / 60.0,
        lambda t: tc * np.exp((t - 120.0) / 40.0),
        lambda t: 2.5 * tc + 0.0 * t,
    ]
    lams = []
    for f in histories:
        tr = spike_trajectory(N, M, STEPS, f, drift=0.0, rng=rng)
        lams.append(tr.eigenvalues)
    eig = np.stack([lams[i % 4] * (0.5 + 0.5 * (i // 4)) for i in range(LAYERS)])
    names = [f"blocks.{i // 2}.mlp.fc{i % 2 + 1}.weight" for i in range(LAYERS)]
    steps = np.arange(STEPS, dtype=np.int64) * 50
    return xr.Dataset(
        {"eigenvalues": (("layer", "step", "rank"), eig.astype(np.float32)),
         "wall_time": ("step", np.zeros(STEPS)), "loss": ("step", np.full(STEPS, np.nan)),
         "lr": ("step", np.full(STEPS, np.nan))},
        coords={"layer": names, "step": steps, "rank": np.arange(M),
                "n": ("layer", np.full(LAYERS, N)), "m": ("layer", np.full(LAYERS, M))})


def main():
    import bbpfit.transition as tr

    with threadpool_limits(1):
        t0 = time.perf_counter()
        ds = build_store()
        print(f"store: {LAYERS} layers x {STEPS} steps x {M} ranks, built in "
              f"{time.perf_counter() - t0:.0f} s")
        for label in ("first call (compile + null simulation)", "second call", "third call"):
            t0 = time.perf_counter()
            res = tr.transition_time(ds)
            print(f"{label:42s} {time.perf_counter() - t0:6.2f} s")
        for method in ("detect", "changepoint"):
            t0 = time.perf_counter()
            tr.transition_time(ds, method=method)
            print(f"method={method:34s} {time.perf_counter() - t0:6.2f} s")
    print(res.summary())


_CHILD = r"""
import sys, time
t0 = time.perf_counter()
import bbpfit as bf
from bbpfit.inference import NullCache
t1 = time.perf_counter()
ds = bf.open_spectra(sys.argv[1])
kw = {"null_cache": NullCache()} if sys.argv[2] == "simulated" else {}
t2 = time.perf_counter()
bf.transition_time(ds, **kw)
t3 = time.perf_counter()
bf.transition_time(ds, **kw)
t4 = time.perf_counter()
print(f"{t1 - t0:.3f} {t3 - t2:.3f} {t4 - t3:.3f}")
"""


def digits_like_store(path, rng=0):
    """A store with the digits MLP's two analysable layers (256 x 64, 256 x 256), 201 records."""
    from bbpfit.simulate import spike_trajectory
    from bbpfit.store import LayerInfo, SpectraWriter

    rng = np.random.default_rng(rng)
    a = spike_trajectory(256, 64, 201, lambda t: 0.012 * np.asarray(t, float), drift=0.3, rng=rng)
    b = spike_trajectory(256, 256, 201, lambda t: 0.015 * np.asarray(t, float), drift=0.3,
                         rng=rng)
    layers = [LayerInfo("0.weight", (256, 64), 256, 64), LayerInfo("2.weight", (256, 256), 256, 256)]
    with SpectraWriter(path, layers, flush_every=50) as w:
        for i in range(201):
            w.append(5 * i, [a.eigenvalues[i], b.eigenvalues[i]], lr=0.05)
    return path


def cold_start(repeats=2):
    """Time the first and second call in fresh processes (module docstring); print a table."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        store = digits_like_store(os.path.join(tmp, "digits-like.bbp"))
        print("cold start: 256x64 + 256x256 layers, 201 records; seconds "
              "(import, first call, second call, first / second)")
        for rep in range(repeats):
            numba_dir = os.path.join(tmp, f"numba{rep}")
            for label, nulls in (("cold", "table"), ("warm numba", "table"),
                                 ("simulated nulls (compiles the sampler)", "simulated"),
                                 ("warm numba, simulated nulls", "simulated")):
                env = dict(os.environ, NUMBA_CACHE_DIR=numba_dir,
                           BBPFIT_CACHE_DIR=os.path.join(tmp, f"bbpfit{rep}-{label[:4]}"),
                           PYTHONPATH=root, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                           MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1", PYTHONWARNINGS="ignore")
                out = subprocess.run([sys.executable, "-c", _CHILD, store, nulls], env=env,
                                     capture_output=True, text=True, check=True, cwd=tmp)
                imp, first, second = (float(x) for x in out.stdout.split())
                print(f"  {label:40s} import {imp:6.2f}  first {first:6.2f}  second "
                      f"{second:6.2f}  ratio {first / second:5.2f}")


if __name__ == "__main__":
    if "--cold" in sys.argv:
        cold_start()
    else:
        main()
