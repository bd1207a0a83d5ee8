"""Tracy-Widom kernels (pytest-benchmark).

Run with ``pytest benchmarks/bench_tracy_widom.py --benchmark-enable``. Every benchmark first
calls the kernel once on a small array, so Numba compilation (or loading its cache) and the table
load are excluded from the timings. Reference (2-core Xeon VM shared with other jobs, best of
many rounds): 10^6 ``cdf`` 17-42 ms, ``logsf`` 5-11 ms, ``ppf`` 0.9 s; one direct determinant
1-3 ms (TW2) and 3-8 ms (TW1, whose 80 x 80 Airy matrix dominates).
"""

import numpy as np
import pytest

from bbpfit.laws.tracy_widom import fredholm, tracy_widom

N = 10**6


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(0)
    return rng.uniform(-10.0, 12.0, N), rng.random(N)


@pytest.mark.parametrize("beta", [1, 2])
@pytest.mark.parametrize("method", ["cdf", "sf", "pdf", "logsf"])
def test_bench_tw_dist_1e6(benchmark, points, beta, method):
    f = getattr(tracy_widom(beta), method)
    f(points[0][:10])  # compile / load cache outside the timing
    out = benchmark(f, points[0])
    assert out.shape == (N,)


@pytest.mark.parametrize("beta", [1, 2])
def test_bench_tw_ppf_1e6(benchmark, points, beta):
    tw = tracy_widom(beta)
    tw.ppf(points[1][:10])
    out = benchmark(tw.ppf, points[1])
    assert np.isfinite(out).all()


def test_bench_tw_rvs_1e5(benchmark):
    tw = tracy_widom(1)
    tw.rvs(10, rng=0)
    benchmark(tw.rvs, 10**5, rng=0)


@pytest.mark.parametrize("beta", [1, 2])
def test_bench_fredholm_one_point(benchmark, beta):
    # one 80 x 80 eigenproblem: BLAS threads only add contention, so limit them when possible
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        benchmark(fredholm, 1.5, beta)
        return
    with threadpool_limits(1):
        benchmark(fredholm, 1.5, beta)
