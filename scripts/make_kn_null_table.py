"""Make ``data/kn_null_quantiles.npz``: the finite-n null of the KN spike statistic over shapes.

The exact test of :mod:`bbpfit.inference` compares ``T = l_1 / sigma2_KN(1)`` of a layer with a
Monte Carlo sample of the same statistic for an ``(n, m)`` Gaussian bulk, simulated per shape
(:func:`bbpfit.inference.null_cache.simulate_null`, Dumitriu-Edelman sampler). A transition
analysis needs one such sample per layer shape and tested rank (``(n, m - k)``), so a first call
in a fresh process spends most of its time simulating them. This table replaces those
simulations: for a grid of shapes it keeps the quantiles of the Ma-standardised statistic
``Z = (n T - mu) / sigma`` (``mu, sigma`` = :func:`bbpfit.inference.statistics.ma_constants`
of ``(n, m)``), which varies slowly and smoothly with ``m`` and ``q = m / n`` (it tends to TW1).
:mod:`bbpfit.transition.null_table` interpolates it (bilinear in ``log m`` and ``q``) and turns
it back into a sorted null sample.

Grid: ``m`` in :data:`M_GRID` (20 ... 4096), ``q`` in :data:`Q_GRID` (0.02 ... 1), ``n =
round(m / q)``; per cell ``--draws`` draws (default 50 000), seeded by
``SeedSequence([20261203, m, n])``. Quantiles at the probabilities :data:`PROBS` (logit-spaced
from 5e-4 to 1 - 5e-4).

Usage: ``python scripts/make_kn_null_table.py [--draws 50000] [--out data/kn_null_quantiles.npz]``.
Runtime about 5-10 minutes on one core for the default draws.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bbpfit.inference.null_cache import simulate_null
from bbpfit.inference.statistics import ma_constants

M_GRID = np.array([20, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048, 4096])
Q_GRID = np.array([0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0])
#: Cumulative probabilities of the stored quantiles: logit-uniform on [5e-4, 1 - 5e-4].
PROBS = 1.0 / (1.0 + np.exp(-np.linspace(np.log(5e-4 / (1 - 5e-4)), np.log((1 - 5e-4) / 5e-4),
                                         241)))
SEED_TAG = 20261203


def cell(m: int, q: float, draws: int) -> tuple[int, np.ndarray]:
    """``(n, quantiles of Z)`` of one grid cell."""
    n = max(m, int(round(m / q)))
    rng = np.random.default_rng(np.random.SeedSequence([SEED_TAG, m, n]))
    t = simulate_null("kn", n, m, draws, rng=rng)
    mu, sd = ma_constants(n, m)
    return n, np.quantile((n * t - mu) / sd, PROBS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data"
                        / "kn_null_quantiles.npz")
    args = parser.parse_args()
    t0 = time.perf_counter()
    z = np.empty((M_GRID.size, Q_GRID.size, PROBS.size))
    n = np.empty((M_GRID.size, Q_GRID.size), np.int64)
    for i, m in enumerate(M_GRID):
        for j, q in enumerate(Q_GRID):
            n[i, j], z[i, j] = cell(int(m), float(q), args.draws)
        print(f"m={m:5d} done ({time.perf_counter() - t0:.0f} s); median Z at q=1: "
              f"{z[i, -1, PROBS.size // 2]:.3f}", flush=True)
    np.savez_compressed(args.out, m=M_GRID, q=Q_GRID, n=n, probs=PROBS, z=z,
                        draws=np.int64(args.draws), seed_tag=np.int64(SEED_TAG))
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
