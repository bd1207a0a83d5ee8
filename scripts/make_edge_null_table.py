"""Regenerate the edge-statistic null table of ``bbpfit.transition.edge_null`` and print it.

Usage::

    python scripts/make_edge_null_table.py [--draws 200000] [--airy-draws 20000]

The recipe of the module docstring: ``--draws`` edge statistics ``T`` (rank 0, ``K = 16``) of
2000 x 1000 Gaussian matrices in 40 chunks seeded ``[2, i]``, i < 40, by
:func:`bbpfit.transition.edge_null.simulate_edge_null`; ``_T`` are the quantiles of ``T`` at the
shipped log-survival grid ``_LOG_SF``; ``_TAIL`` is the least-squares slope of ``-log P(T > t)``
on ``log t`` for p in [1e-4, 3e-3]; ``AIRY_MEANS`` are the means of the top 24 eigenvalues of
100 000 x 50 000 matrices in Tracy-Widom units (``--airy-draws`` draws, seed 12345). The full
run takes about 15 minutes (3 ms per edge draw); the printed arrays are pasted into the module,
and ``tests/test_tuned_constants.py`` pins them and checks a reduced regeneration.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bbpfit.laws.wishart import top_eigenvalues  # noqa: E402
from bbpfit.transition import edge_null  # noqa: E402


def edge_table(draws: int, chunks: int = 40):
    """``(_T, tail exponent)`` from ``draws`` simulated statistics at 2000 x 1000."""
    per = draws // chunks
    t = np.concatenate([edge_null.simulate_edge_null(per, rng=np.random.default_rng([2, i]))
                        for i in range(chunks)])
    t = np.sort(t[np.isfinite(t)])
    p = np.exp(edge_null._LOG_SF)
    q = np.quantile(t, 1.0 - p)
    sf = 1.0 - np.arange(1, t.size + 1) / t.size
    tail = (sf >= 1e-4) & (sf <= 3e-3)
    slope = -np.polyfit(np.log(t[tail]), np.log(sf[tail]), 1)[0] if tail.sum() > 5 else np.nan
    return q, slope


def airy_means(draws: int, n: int = 100_000, m: int = 50_000, k: int = 24) -> np.ndarray:
    """Means of the top ``k`` eigenvalues in TW units (Johnstone's centring and scaling)."""
    top = top_eigenvalues(n, m, draws, k=k, rng=np.random.default_rng(12345))
    mu = (np.sqrt(n - 0.5) + np.sqrt(m - 0.5)) ** 2 / n
    sigma = (np.sqrt(n - 0.5) + np.sqrt(m - 0.5)) * (1 / np.sqrt(n - 0.5) + 1 / np.sqrt(m - 0.5)) ** (
        1 / 3) / n
    return ((top - mu) / sigma).mean(axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200_000)
    parser.add_argument("--airy-draws", type=int, default=20_000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    q, slope = edge_table(args.draws)
    np.set_printoptions(precision=4, floatmode="fixed", linewidth=100)
    print("_T =", repr(q))
    print(f"max |_T - shipped| = {np.max(np.abs(q - edge_null._T)):.4f}")
    print(f"_TAIL = {slope:.2f} (shipped {edge_null._TAIL})")
    if args.airy_draws:
        means = airy_means(args.airy_draws)
        print("AIRY_MEANS =", repr(means))
        print(f"max |AIRY_MEANS - shipped| = {np.max(np.abs(means - edge_null.AIRY_MEANS)):.4f}")
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
