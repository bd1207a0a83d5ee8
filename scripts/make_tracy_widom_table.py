"""Regenerate ``data/tracy_widom.npz``, the Tracy-Widom table, from scratch (about a minute).

Usage::

    python scripts/make_tracy_widom_table.py [--out data/tracy_widom.npz] [--mp]

For beta = 1 and 2 and every grid point ``s = -10, -9.99, ..., 12`` the table holds ``log F``,
``log sf`` and their first two derivatives (shape (2201, 3) each):

* ``s >= -6.5``: Bornemann's (2010) Fredholm determinant with 80 mapped Gauss-Legendre nodes
  (:func:`bbpfit.laws.tracy_widom.fredholm`): ``log F`` from the eigenvalues of the kernel
  matrix, ``d/ds log F`` by the exact trace formula, the second derivative by 8th-order central
  differences of the first (on a grid extended by 4 steps past each end);
* ``s < -6.5``: the left-tail series :func:`bbpfit.laws.tracy_widom.left_series`, with exact
  derivatives (double precision cannot resolve ``1 - mu_i`` there; at -6.5 both agree to 1e-9).

The script then checks itself and prints: 40 against 80 nodes, the interpolated table against the
direct determinant at 400 random off-grid points per law, the right-tail series against the
determinant, and with ``--mp`` the left tail against 30-digit mpmath determinants (slow, ~2 min).
These checks share the (0, inf) mapping with the table; the independent reference (mpmath alone,
L2(s, inf) truncated far enough: for TW1 ``(U + s) / 2`` must be large, not ``U``) is
``tests/reference/tracy_widom_mpmath.py``, checked by ``tests/test_tracy_widom_reference.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bbpfit.laws import tracy_widom as tw  # noqa: E402
from bbpfit.laws._tw_kernels import LOGCDF, LOGSF, PDF, dist_kernel, ppf_kernel  # noqa: E402

S0, S_END, H = -10.0, 12.0, 0.01
LEFT_SWITCH = -6.5
NODES = 80
# 8th-order central difference of a first derivative, offsets -4..4
FD8 = np.array([1 / 280, -4 / 105, 1 / 5, -4 / 5, 0.0, 4 / 5, -1 / 5, 4 / 105, -1 / 280])


def left_series_derivs(s: np.ndarray, beta: int) -> np.ndarray:
    """``log F`` and its first two s-derivatives from the left-tail series, shape (len(s), 3)."""
    c0, clog, pw, cf = tw.left_series(beta)
    t = -s[:, None]
    terms = cf * t**pw
    f = c0 + clog * np.log(t[:, 0]) + terms.sum(1)
    d1 = -(clog / t[:, 0] + (terms * pw / t).sum(1))
    d2 = -clog / t[:, 0] ** 2 + (terms * pw * (pw - 1) / t**2).sum(1)
    return np.stack([f, d1, d2], 1)


def build(beta: int, n_nodes: int = NODES) -> tuple[np.ndarray, np.ndarray]:
    """``(logcdf, logsf)`` tables of shape (n, 3): value, first and second s-derivative."""
    n = int(round((S_END - S0) / H)) + 1
    s = S0 + H * np.arange(n)
    i_sw = int(round((LEFT_SWITCH - S0) / H))
    ext = S0 + H * np.arange(i_sw - 4, n + 4)  # Fredholm part, 4 extra steps each side
    fr = np.array([tw.fredholm(x, beta, n_nodes) for x in ext])
    lf, ls, dlf = fr[:, 0], fr[:, 1], fr[:, 2]
    dls = -np.exp(lf - ls) * dlf  # d/ds log sf = -pdf / sf, pdf = F d/ds log F
    d2 = np.stack([np.convolve(d, FD8[::-1], "valid") / H for d in (dlf, dls)])
    core = slice(4, -4)
    logcdf = np.empty((n, 3))
    logsf = np.empty((n, 3))
    logcdf[i_sw:] = np.stack([lf[core], dlf[core], d2[0]], 1)
    logsf[i_sw:] = np.stack([ls[core], dls[core], d2[1]], 1)
    # left of the switch: the series, log sf = log1p(-F) and its derivatives by the chain rule
    ser = left_series_derivs(s[:i_sw], beta)
    logcdf[:i_sw] = ser
    f = np.exp(ser[:, 0])
    sf = -np.expm1(ser[:, 0])
    g1 = -f * ser[:, 1] / sf
    g2 = -f * (ser[:, 1] ** 2 + ser[:, 2]) / sf - g1**2
    logsf[:i_sw] = np.stack([np.log1p(-f), g1, g2], 1)
    return logcdf, logsf


def check(table: dict, beta: int, rng: np.random.Generator) -> None:
    """Print the table's errors against the direct determinant (and the tail series)."""
    law = tw.build_law(table, beta)
    x = np.sort(rng.uniform(S0, S_END, 400))
    ref = np.array([tw.fredholm(v, beta) for v in x])
    lf, ls = dist_kernel(x, LOGCDF, law), dist_kernel(x, LOGSF, law)
    f_ref, sf_ref = np.exp(ref[:, 0]), np.exp(ref[:, 1])
    pdf_ref = f_ref * ref[:, 2]
    print(f"  TW{beta} vs direct Fredholm at 400 random points in [{S0}, {S_END}]:")
    print(f"    cdf  max abs {np.max(np.abs(np.exp(lf) - f_ref)):.1e}")
    print(f"    sf   max abs {np.max(np.abs(np.exp(ls) - sf_ref)):.1e}")
    print(f"    pdf  max abs {np.max(np.abs(dist_kernel(x, PDF, law) - pdf_ref)):.1e}")
    right = x > 0
    print(f"    sf   max rel (s > 0) {np.max(np.abs(np.expm1(ls - ref[:, 1]))[right]):.1e}")
    # quantiles: ppf(F(x)) and isf(sf(x)) against x, with F and sf from the determinant
    left = (x > -6.0) & (x < 2.0)
    err = np.abs(ppf_kernel(f_ref[left], False, law) - x[left]).max()
    err2 = np.abs(ppf_kernel(sf_ref[right], True, law) - x[right]).max()
    print(f"    ppf  max abs (-6 < s < 2) {err:.1e}, isf max abs (s > 0) {err2:.1e}")
    ok = x >= -6.0  # where the determinant itself is accurate in log F
    print(f"    logcdf max abs (s >= -6) {np.max(np.abs(lf - ref[:, 0])[ok]):.1e}")
    s_out = np.array([12.0, 12.5, 13.0, 14.0, 16.0])
    ref_out = np.array([tw.fredholm(v, beta)[1] for v in s_out])
    rel = np.expm1(dist_kernel(s_out, LOGSF, law) - ref_out)
    print(f"    right-tail series vs Fredholm at {s_out.tolist()}: rel {np.abs(rel).max():.1e}")


def mp_check(table: dict, beta: int) -> None:
    """Left tail against 30-digit mpmath determinants (Ai(x + y + s) form, 96 nodes)."""
    import mpmath as mp

    mp.mp.dps = 30
    gl = mp.calculus.quadrature.GaussLegendre(mp.mp)
    nodes = gl.calc_nodes(6, mp.mp.prec)  # 3 * 2**5 = 96 nodes on [-1, 1]
    xs, sw = [], []
    for t, w in nodes:
        a = mp.pi * (t + 1) / 4
        xs.append(10 * mp.tan(a))
        sw.append(mp.sqrt(w * 10 * mp.pi / 4 / mp.cos(a) ** 2))
    law = tw.build_law(table, beta)
    for s in (-10.0, -9.0, -8.0, -7.0, -6.75, -6.5, -6.25, -6.0, -5.5):
        m = len(xs)
        a = mp.matrix(m, m)
        for i in range(m):
            for j in range(i, m):
                a[i, j] = a[j, i] = sw[i] * sw[j] * mp.airyai(xs[i] + xs[j] + s)
        d1 = mp.det(mp.eye(m) - a)  # F1 = det(I - A_s), F2 = det(I - A_s^2)
        ref = mp.log(d1) if beta == 1 else mp.log(d1) + mp.log(mp.det(mp.eye(m) + a))
        got = dist_kernel(np.array([s]), LOGCDF, law)[0]
        print(
            f"    TW{beta} logcdf({s}) = {got:.15f}, mpmath {mp.nstr(ref, 16)}, diff {float(got - ref):.1e}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / tw.TABLE_NAME)
    parser.add_argument("--mp", action="store_true", help="also check the left tail with mpmath")
    args = parser.parse_args()
    try:  # small matrices: BLAS threads only contend
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    t0 = time.perf_counter()
    pts = [-6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 8.0, 12.0]
    for beta in (1, 2):
        a = np.array([tw.fredholm(s, beta, 40) for s in pts])
        b = np.array([tw.fredholm(s, beta, 80) for s in pts])
        print(
            f"TW{beta}, 40 vs 80 nodes at {pts}: log F {np.abs(a[:, 0] - b[:, 0]).max():.1e}, "
            f"log sf {np.abs(a[:, 1] - b[:, 1]).max():.1e}, "
            f"d log F {np.abs(a[:, 2] - b[:, 2]).max():.1e}"
        )
    table = {
        "s0": np.float64(S0),
        "h": np.float64(H),
        "nodes": np.int64(NODES),
        "left_switch": np.float64(LEFT_SWITCH),
    }
    for beta in (1, 2):
        table[f"logcdf{beta}"], table[f"logsf{beta}"] = build(beta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **table)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB) in {time.perf_counter() - t0:.0f} s")
    rng = np.random.default_rng(20100407)
    for beta in (1, 2):
        check(table, beta, rng)
    if args.mp:
        for beta in (1, 2):
            mp_check(table, beta)


if __name__ == "__main__":
    main()
