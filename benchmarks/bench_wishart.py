"""Benchmarks of the exact bidiagonal Wishart samplers in :mod:`bbpfit.laws.wishart`.

Run with ``pytest benchmarks/bench_wishart.py --benchmark-enable -s`` (the project's pytest
options disable timing by default, so without ``--benchmark-enable`` each benchmark runs once as a
smoke test). A module fixture calls every sampler once first, so Numba compilation (or loading
the on-disk cache) is excluded from every number reported.

* one top-eigenvalue draw at ``n = m = 2000`` against the dense reference (Gaussian matrix,
  Gram product and ``np.linalg.eigvalsh``); ``test_speedup_over_dense`` asserts a ratio >= 1000
  and prints it;
* 10^4 draws of the top eigenvalue and the exact trace at ``n = m = 4096``;
* one full-spectrum draw (dqds on the bidiagonal) at ``n = m = 2000``.
"""

from __future__ import annotations

import time
import timeit

import numpy as np
import pytest

from bbpfit.laws.wishart import dense_eigenvalues, null_eigenvalues, top_eigenvalues

N_DENSE = 2000


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    top_eigenvalues(20, 10, 2, k=2, rng=0, return_trace=True)
    null_eigenvalues(20, 10, 2, rng=0)


def test_top_eigenvalue_one_draw(benchmark):
    rng = np.random.default_rng(0)
    out = benchmark(top_eigenvalues, N_DENSE, N_DENSE, rng=rng)
    assert out.shape == (1,)


def test_dense_one_draw(benchmark):
    rng = np.random.default_rng(0)
    out = benchmark.pedantic(dense_eigenvalues, args=(N_DENSE, N_DENSE), kwargs={"rng": rng},
                             rounds=3, iterations=1)
    assert out.shape == (N_DENSE,)


def test_null_eigenvalues_one_draw(benchmark):
    rng = np.random.default_rng(0)
    out = benchmark.pedantic(null_eigenvalues, args=(N_DENSE, N_DENSE), kwargs={"rng": rng},
                             rounds=5, iterations=1)
    assert out.shape == (N_DENSE,)


def test_top_with_trace_10k_draws(benchmark):
    rng = np.random.default_rng(0)
    top, trace = benchmark.pedantic(
        top_eigenvalues, args=(4096, 4096, 10_000), kwargs={"rng": rng, "return_trace": True},
        rounds=3, iterations=1,
    )
    assert top.shape == (10_000, 1) and trace.shape == (10_000,)


def test_speedup_over_dense():
    """One top-eigenvalue draw must be >= 1000x faster than the dense draw (best of repeats)."""
    rng = np.random.default_rng(1)
    fast = min(timeit.repeat(lambda: top_eigenvalues(N_DENSE, N_DENSE, rng=rng),
                             number=200, repeat=5)) / 200
    slow = np.inf
    for _ in range(2):
        start = time.perf_counter()
        dense_eigenvalues(N_DENSE, N_DENSE, rng=rng)
        slow = min(slow, time.perf_counter() - start)
    ratio = slow / fast
    print(f"\ntop draw {fast * 1e6:.1f} us, dense draw {slow:.2f} s, ratio {ratio:,.0f}x")
    assert ratio >= 1000
