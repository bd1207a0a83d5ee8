"""Speed of `bbpfit.spike_test` on a 4096 x 4096 layer, against its eigenvalue computation.

Run with ``pytest benchmarks/bench_spike_test.py --benchmark-enable -s`` (without
``--benchmark-enable`` each benchmark runs once as a smoke test). The module fixture computes the
spectrum once and calls ``spike_test`` once, so Numba compilation (or the on-disk cache load) and
the simulation of the per-shape nulls are excluded from every number reported: the claim is
about a test after its nulls are cached, as when a model's layers share shapes or a null cache
directory is reused.

``test_cost_ratio`` times both in one run (best of 3 eigenvalue computations, best of 20 tests)
and asserts that the test costs < 5% of the eigenvalue computation; it prints the ratio.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import bbpfit as bf
from bbpfit.inference import spike_test

N = 4096


@pytest.fixture(scope="module")
def layer():
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(N), rng.standard_normal(N)
    w = 0.02 * (rng.standard_normal((N, N))
                + 2.0 * np.sqrt(N) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v)))
    spec = bf.spectrum(w)
    res = spike_test(spec, method="tw")  # simulates and caches the nulls of every step
    assert res.n_spikes == 1
    return w, spec


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def test_eigenvalues_4096(benchmark, layer):
    w, _ = layer
    lam = benchmark.pedantic(bf.eigenvalues, args=(w,), rounds=3, iterations=1)
    assert lam.shape == (N,)


def test_spike_test_tw_4096_cached(benchmark, layer):
    _, spec = layer
    res = benchmark(spike_test, spec, method="tw")
    assert res.n_spikes == 1


def test_cost_ratio(layer):
    w, spec = layer
    t_eig = _best(lambda: bf.eigenvalues(w), 3)
    t_test = _best(lambda: spike_test(spec, method="tw"), 20)
    ratio = t_test / t_eig
    print(f"\neigenvalues of {N}x{N}: {t_eig:.3f} s; spike_test(method='tw') on its spectrum "
          f"(nulls cached): {1e3 * t_test:.2f} ms; ratio {100 * ratio:.3f}%")
    assert ratio < 0.05
