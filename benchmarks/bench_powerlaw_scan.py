"""The x_min scan of the power-law fit with and without the probe: same results, how much faster.

`bbpfit.fit._powerlaw_kernels.scan_xmin` tries each candidate of its full pass first at the
point where the previous candidate exceeded the bound (`tail_ks_probed`). This script runs the
power-law bootstrap as `fit_powerlaw` does on every layer of all-MiniLM-L6-v2 (`--boot`
nonparametric resamples and `--gof` semiparametric samples per layer, seeded) with the package's
kernels and with the previous scan (copied below: the same pruning, no probe), asserts that the
refitted alphas and distances are bit-identical, and reports CPU seconds of each (one thread;
Numba compilation excluded by a warm-up).

Run: ``python benchmarks/bench_powerlaw_scan.py [--boot 200] [--gof 100]`` (about a minute).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

import bbpfit as bf
from bbpfit.fit._powerlaw_kernels import bootstrap_alpha, gof_distances, tail_ks

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_sources_minilm import minilm_folder  # noqa: E402


@njit(cache=False)
def previous_scan(logx):
    """`scan_xmin` before the probe (the pruning by the first-pass bound only)."""
    nn = logx.shape[0]
    suffix = np.empty(nn + 1)
    suffix[nn] = 0.0
    for j in range(nn - 1, -1, -1):
        suffix[j] = suffix[j + 1] + logx[j]
    last = logx[nn - 1]
    bound = np.inf
    stride = max(1, int(math.sqrt(nn)))
    for i in range(0, nn, stride):
        if logx[i] == last:
            break
        if i > 0 and logx[i] == logx[i - 1]:
            continue
        n = nn - i
        s = suffix[i] - n * logx[i]
        if s > 0.0:
            bound = min(bound, tail_ks(logx, i, 1.0 + n / s, bound))
    best_i, best_a, best_d = -1, np.nan, np.inf
    for i in range(nn):
        if logx[i] == last:
            break
        if i > 0 and logx[i] == logx[i - 1]:
            continue
        n = nn - i
        s = suffix[i] - n * logx[i]
        if not s > 0.0:
            continue
        alpha = 1.0 + n / s
        d = tail_ks(logx, i, alpha, min(bound, best_d))
        if d < best_d:
            best_i, best_a, best_d = i, alpha, d
    return best_i, best_a, best_d


@njit(cache=False)
def previous_bootstrap(logx, idx):
    b_count, nn = idx.shape
    out = np.empty(b_count)
    buf = np.empty(nn)
    for b in range(b_count):
        for j in range(nn):
            buf[j] = logx[idx[b, j]]
        buf.sort()
        out[b] = previous_scan(buf)[1]
    return out


@njit(cache=False)
def previous_gof(logx, i_min, alpha, u_pick, u_draw, idx_body):
    b_count, nn = u_pick.shape
    p_tail = (nn - i_min) / nn
    l0 = logx[i_min]
    out = np.empty(b_count)
    buf = np.empty(nn)
    for b in range(b_count):
        for j in range(nn):
            if i_min == 0 or u_pick[b, j] < p_tail:
                buf[j] = l0 - math.log1p(-u_draw[b, j]) / (alpha - 1.0)
            else:
                buf[j] = logx[idx_body[b, j]]
        buf.sort()
        out[b] = previous_scan(buf)[2]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--gof", type=int, default=100)
    args = ap.parse_args()
    folder = minilm_folder()
    if folder is None:
        raise SystemExit("all-MiniLM-L6-v2 weights not found (BBPFIT_MINILM_DIR)")
    from bbpfit.sources import iter_layers

    layers = [(name, bf.eigenvalues(w)) for name, w in iter_layers(folder / "model.safetensors")]
    rng = np.random.default_rng(0)
    cpu = {"previous": 0.0, "probed": 0.0}
    for name, lam in layers:
        logx = np.log(np.sort(lam[lam > 0]))
        nn = logx.size
        i_min, alpha, _ = previous_scan(logx)
        idx = rng.integers(0, nn, size=(args.boot, nn))
        u_pick, u_draw = rng.random((args.gof, nn)), rng.random((args.gof, nn))
        body = rng.integers(0, max(i_min, 1), size=(args.gof, nn))
        if name == layers[0][0]:  # compile both outside the timings
            previous_bootstrap(logx, idx[:1]), bootstrap_alpha(logx, idx[:1])
            previous_gof(logx, i_min, alpha, u_pick[:1], u_draw[:1], body[:1])
            gof_distances(logx, i_min, alpha, u_pick[:1], u_draw[:1], body[:1])
        t0 = time.process_time()
        old = (previous_bootstrap(logx, idx), previous_gof(logx, i_min, alpha, u_pick, u_draw, body))
        t1 = time.process_time()
        new = (bootstrap_alpha(logx, idx), gof_distances(logx, i_min, alpha, u_pick, u_draw, body))
        t2 = time.process_time()
        cpu["previous"] += t1 - t0
        cpu["probed"] += t2 - t1
        for a, b in zip(old, new, strict=True):
            if not np.array_equal(a.view(np.uint64), b.view(np.uint64)):
                raise AssertionError(f"{name}: the probed scan differs from the previous one")
    print(f"{len(layers)} layers x ({args.boot} bootstrap + {args.gof} GoF) refits: bit-identical "
          f"alphas and distances; CPU s previous {cpu['previous']:.3f}, probed {cpu['probed']:.3f} "
          f"({cpu['probed'] / cpu['previous']:.2f}x); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
