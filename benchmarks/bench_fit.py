"""Speed of the Marchenko-Pastur bulk fits (:func:`bbpfit.fit.fit_mp`).

Run with ``pytest benchmarks/bench_fit.py --benchmark-enable -s`` (the project's pytest options
disable timing by default, so without ``--benchmark-enable`` each benchmark runs once as a smoke
test), or ``python benchmarks/bench_fit.py`` for a plain printout. A module fixture calls every
estimator once first, so Numba compilation (or loading the on-disk cache) is excluded.

* ``fit_mp`` on 4096 eigenvalues (n = 8192) for every method and ratio option (target for the
  default: < 1 ms);
* a 2048 x 2048 matrix: time of ``bf.eigenvalues`` and of the default fit, measured in the same
  run; ``test_fit_vs_eigenvalues_2048`` asserts the fit costs < 5% of the eigenvalues and prints
  the ratio;
* ``fit_mp_array`` over 1000 spectra of 512 eigenvalues (a layer over training steps).
"""

from __future__ import annotations

import timeit

import numpy as np
import pytest

from bbpfit.fit import FIT_METHODS, fit_mp, fit_mp_array
from bbpfit.spectrum import eigenvalues


def _spectrum(n, m, seed=0):
    return eigenvalues(np.random.default_rng(seed).standard_normal((n, m)))


@pytest.fixture(scope="module")
def lam4096():
    lam = _spectrum(8192, 4096)
    for method in FIT_METHODS:
        for ratio in (None, "fit"):
            fit_mp(lam, n=8192, method=method, ratio=ratio)  # compile or load the cache
    return lam


@pytest.mark.parametrize("ratio", [None, "fit"])
@pytest.mark.parametrize("method", list(FIT_METHODS))
def test_fit_4096(benchmark, lam4096, method, ratio):
    fit = benchmark(fit_mp, lam4096, n=8192, method=method, ratio=ratio)
    assert fit.n_excluded == 0


def _best(fn, number, repeat=5):
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def eig_vs_fit(side=2048, seed=0):
    """(seconds for eigenvalues, seconds for the default fit) of one side x side matrix."""
    W = np.random.default_rng(seed).standard_normal((side, side))
    lam = eigenvalues(W)
    fit_mp(lam, n=side)
    return _best(lambda: eigenvalues(W), 1, 3), _best(lambda: fit_mp(lam, n=side), 50)


def test_fit_vs_eigenvalues_2048(benchmark, lam4096):
    t_eig, t_fit = eig_vs_fit()
    W = np.random.default_rng(1).standard_normal((2048, 2048))
    benchmark.pedantic(lambda: fit_mp(W), rounds=3, iterations=1)
    benchmark.extra_info.update(eigenvalues_s=t_eig, fit_s=t_fit, ratio=t_fit / t_eig)
    print(f"\n2048 x 2048: eigenvalues {1e3 * t_eig:.1f} ms, fit {1e3 * t_fit:.3f} ms, "
          f"fit / eigenvalues = {100 * t_fit / t_eig:.3f}%")
    assert t_fit < 0.05 * t_eig


def test_fit_array_1000_steps(benchmark):
    rng = np.random.default_rng(2)
    lam = np.stack([_spectrum(1024, 512, s) for s in range(20)])
    lam = lam[rng.integers(0, 20, 1000)] * rng.uniform(0.5, 2, (1000, 1))
    fit_mp_array(lam[:2], 1024)
    res = benchmark(fit_mp_array, lam, 1024)
    assert res.sigma2.shape == (1000,)


def main():
    lam = _spectrum(8192, 4096)
    print("fit_mp on 4096 eigenvalues (n = 8192), best of 5 x 20 calls, compile excluded:")
    for method in FIT_METHODS:
        for ratio in (None, "fit"):
            fit_mp(lam, n=8192, method=method, ratio=ratio)
            t = _best(lambda m=method, r=ratio: fit_mp(lam, n=8192, method=m, ratio=r), 20)
            print(f"  {method:6s} ratio={ratio!s:4s} {1e3 * t:8.3f} ms")
    t_eig, t_fit = eig_vs_fit()
    print(f"2048 x 2048: eigenvalues {1e3 * t_eig:.1f} ms, default fit {1e3 * t_fit:.3f} ms, "
          f"ratio {100 * t_fit / t_eig:.3f}%")


if __name__ == "__main__":
    main()
