"""Make ``data/edge_depth_null.npz``: the null of the soft-edge test fitted at several depths.

The soft-edge test of :mod:`bbpfit.transition.edge` judges rank ``k`` against the edge fitted
on the ``K = 16`` eigenvalues right below it; other spikes among those mask it. The step-down
test of :mod:`bbpfit.transition.edge_depth` also fits the edge ``d`` ranks deeper (ranks
``k + d + 1 .. k + d + K`` at Airy positions ``xi_(d+2) .. xi_(d+K+1)``) for ``d`` in
:data:`DEPTHS`, and combines the depths by the smallest p-value. This script tabulates, from
Gaussian bulks (the Airy-1 edge every soft-edged bulk shares):

* per depth ``d > 0``: the quantiles ``t`` of ``T_d = (lambda_0 - b_d) / s_d`` at the
  log-survival grid ``log_sf`` (the grid of :mod:`bbpfit.transition.edge_null`, down to
  ``p = 1e-3``) and the power-law exponent of its tail (least squares of ``-log P(T > t)`` on
  ``log t`` for ``p`` in [1e-3, 1e-2]); depth 0 is the shipped table of
  :mod:`bbpfit.transition.edge_null`;
* per number ``j`` of depths available (the first ``j`` of :data:`DEPTHS`: a rank near the
  bottom of a layer has no room for the deeper fits): the quantiles of the smallest marginal
  p-value ``U_j = min_(i < j) p_(d_i)(T_(d_i))`` at the same probability grid (``log_u``).

Draws: ``--draws`` per shape in :data:`SHAPES`, seeded ``[20261203, 11, n, m]``, top
``max(DEPTHS) + K + 1`` eigenvalues by the Dumitriu-Edelman sampler. The statistics are free of
location and scale, but the deeper fits reach beyond the edge's Airy regime in small bulks, so
their null drifts with the size (the 5% point of ``T_7``: about 11 at 96 x 48, 17 at 2000 x
1000). The tables are therefore envelopes over the shapes, conservative at each: a marginal
quantile is the largest over the shapes (its tail exponent the smallest), and a quantile of
``U`` (computed per shape with those marginals) the smallest. Default 8 000 draws per shape:
about 3 minutes on one core.

Usage: ``python scripts/make_edge_depth_table.py [--draws 8000] [--out data/edge_depth_null.npz]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bbpfit.laws.wishart import top_eigenvalues  # noqa: E402
from bbpfit.transition.edge import edge_statistics  # noqa: E402
from bbpfit.transition.edge_null import _LOG_SF, AIRY_MEANS, EDGE_K, edge_pvalue  # noqa: E402

#: Depths of the edge fit (ranks skipped below the tested one); the deepest uses ``xi_24``.
DEPTHS = (0, 1, 3, 7)
#: ``(n, m)`` of the simulated bulks (the tables are envelopes over them).
SHAPES = ((2000, 1000), (400, 200), (256, 256), (256, 64), (128, 64), (96, 48))
SEED_TAG = 20261203


def statistics(n: int, m: int, draws: int) -> np.ndarray:
    """``T_d`` of rank 0 at each depth, shape (draws, len(DEPTHS)), for ``n x m`` Gaussian bulks."""
    top = top_eigenvalues(n, m, draws, k=max(DEPTHS) + EDGE_K + 1,
                          rng=np.random.default_rng([SEED_TAG, 11, n, m]))
    top = np.ascontiguousarray(top, dtype=np.float64)
    return np.stack([edge_statistics(top, EDGE_K, 1, AIRY_MEANS, d)[:, 0] for d in DEPTHS], axis=1)


def _tail_slope(x: np.ndarray) -> float:
    x = np.sort(x[np.isfinite(x)])
    sf = 1.0 - np.arange(1, x.size + 1) / x.size
    sel = (sf >= 1e-3) & (sf <= 1e-2) & (x > 0)
    return float(-np.polyfit(np.log(x[sel]), np.log(sf[sel]), 1)[0])


def marginal_tables(T: np.ndarray):
    """``(t, tail)``: quantiles (len(DEPTHS), grid) of each ``T_d`` at ``exp(_LOG_SF)`` and tail exponents.

    NaN statistics (a degenerate fit) count as ``-inf`` (they never reject).
    """
    p = np.exp(_LOG_SF)
    filled = np.where(np.isfinite(T), T, -np.inf)
    with np.errstate(invalid="ignore"):  # quantiles between two -inf
        t = np.stack([np.quantile(filled[:, i], 1.0 - p) for i in range(T.shape[1])])
    tail = np.array([_tail_slope(filled[:, i]) for i in range(T.shape[1])])
    return t, tail


def envelope(tables):
    """The conservative envelope of per-shape ``(t, tail)``: largest quantiles, smallest exponents."""
    return np.max([t for t, _ in tables], axis=0), np.min([tail for _, tail in tables], axis=0)


def _marginal_p(T, t, tail):
    """Marginal p-values with the tables just made (depth 0: the shipped edge null)."""
    from bbpfit.transition.edge_depth import marginal_pvalue

    return np.stack([edge_pvalue(T[:, 0])] + [marginal_pvalue(T[:, i], t[i], tail[i])
                                               for i in range(1, T.shape[1])], axis=1)


def minp_tables(P: np.ndarray) -> np.ndarray:
    """``log u`` (len(DEPTHS), grid): quantiles of ``log min_(i < j) p_i`` at ``exp(_LOG_SF)``."""
    prob = np.exp(_LOG_SF)
    return np.stack([np.quantile(np.log(P[:, :j].min(axis=1)), prob) for j in range(1, P.shape[1] + 1)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=8_000)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[1] / "data" / "edge_depth_null.npz")
    args = parser.parse_args()
    t0 = time.perf_counter()
    per_shape = [statistics(n, m, args.draws) for n, m in SHAPES]
    print(f"simulated {args.draws} x {len(SHAPES)} draws in {time.perf_counter() - t0:.0f} s", flush=True)
    t, tail = envelope([marginal_tables(T) for T in per_shape])
    logu = np.min([minp_tables(_marginal_p(T, t, tail)) for T in per_shape], axis=0)
    np.savez_compressed(args.out, depths=np.array(DEPTHS), shapes=np.array(SHAPES), log_sf=_LOG_SF,
                        t=t, tail=tail, log_u=logu, draws=np.int64(args.draws),
                        seed_tag=np.int64(SEED_TAG))
    np.set_printoptions(precision=3, linewidth=110)
    print("tail exponents", tail)
    at = [np.interp(-np.log([0.05, 0.01, 0.002]), -_LOG_SF, row) for row in t]
    print("T_d at p = 0.05, 0.01, 0.002:", np.round(at, 2))
    u05 = [float(np.exp(np.interp(np.log(0.05), _LOG_SF[::-1], lu[::-1]))) for lu in logu]
    print("smallest marginal p significant at 5%, per number of depths:", np.round(u05, 4))
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
