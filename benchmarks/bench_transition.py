"""Speed of ``bbpfit.transition_time`` on a store of 12 layers x 200 steps x 768 ranks.

The store is built in memory in the store schema (``eigenvalues(layer, step, rank)``, coords
``n``, ``m``): four simulated layer histories of a 2304 x 768 matrix (no spike, one spike
crossing at step 60, one crossing at 120, two spikes), each repeated at three noise scales.
The first call compiles the Numba kernels (cached on disk after the first run) and simulates the
exact null samples of the MP test (cached in memory per shape); the timed calls come after it.
BLAS is limited to one thread.

Run: ``python benchmarks/bench_transition.py`` (generation about a minute, then the timings).
"""

from __future__ import annotations

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


if __name__ == "__main__":
    main()
