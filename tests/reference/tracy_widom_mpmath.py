"""Regenerate ``tracy_widom_mpmath.csv``: TW1 and TW2 distribution functions from mpmath alone.

Usage (from the repository root; about an hour on one busy core, most of it for s = -20)::

    python tests/reference/tracy_widom_mpmath.py [--quick]

An implementation that shares no code with :mod:`bbpfit.laws.tracy_widom` (which maps (0, inf)
by ``x = 10 tan(.)``, solves a double-precision eigenproblem and interpolates a table): Bornemann's
(2010) Nystrom discretisation of the Fredholm determinants on L2(s, inf), truncated to (s, U),
with ``m`` Gauss-Legendre nodes, mpmath's Airy function and an LU determinant in ``dps`` digits:

* TW1: ``F1(s) = det(I - K1)``, ``K1(x, y) = Ai((x + y) / 2) / 2`` (Ferrari & Spohn 2005;
  Bornemann 2010, eq. (3.7)). The kernel decays only when ``(x + y) / 2`` is large, and ``y``
  can be as low as ``s``, so ``U = max(2 h - s, s + 2 g)`` with ``h = 14`` (then
  ``Ai((U + s) / 2)^2 ~ 1e-34``) and ``g = 6`` (the cut-off part is relatively small, < 1e-20,
  even where ``1 - F1`` is).
* TW2: ``F2(s) = det(I - K_Airy)``, ``K_Airy(x, y) = (Ai(x) Ai'(y) - Ai'(x) Ai(y)) / (x - y)``
  (Tracy & Widom 1994), ``U = max(h + 2, s + g)``.

``dps`` grows with ``-log10 F`` in the left tail (the LU loses about that many digits) and with
``-log10 (1 - F)`` in the right tail (``sf = 1 - F`` is then formed exactly in ``dps`` digits), and
``m`` with the length of the oscillatory part of the interval. Every point is computed twice, the
second time with more nodes, more digits and a larger ``U``; ``delta`` and ``delta_sf`` are the
relative differences of the two ``F`` and ``1 - F`` values (error estimates; the file stores the
second values).

References
----------
F. Bornemann, "On the numerical evaluation of Fredholm determinants", Math. Comp. 79:871-915
(2010). doi:10.1090/S0025-5718-09-02280-7

P. L. Ferrari and H. Spohn, "A determinantal formula for the GOE Tracy-Widom distribution",
J. Phys. A 38:L557 (2005). doi:10.1088/0305-4470/38/33/L02
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import mpmath as mp

OUT = Path(__file__).with_suffix(".csv")
# [-8, 6] off the table's 0.01 grid (steps of 0.47 from -7.993), 6 itself, then the left tail
# down to s = -20 (F1 ~ 8e-155, F2 ~ 1e-290). TW1 at -25.3 (F1 ~ 1e-293) needs about 380 digits
# and 216 nodes: hours in mpmath, so it is left out (the left-tail series only improves there).
GRID = [round(-7.993 + 0.47 * k, 3) for k in range(30)] + [6.0]
TAIL = {1: [-9.5, -12.0, -16.0, -20.0], 2: [-9.5, -12.0, -16.0, -20.0]}
RIGHT = [8.0, 10.0, 12.0, 14.0]  # sf relatively, into the right-tail series (s > 12)


def determinant(s: float, beta: int, m: int, dps: int, h: float, g: float = 6.0) -> mp.mpf:
    """``det(I - K)`` on (s, U) with ``m`` Gauss-Legendre nodes in ``dps`` digits."""
    with mp.workdps(dps):
        s = mp.mpf(s)
        top = max(2 * h - s, s + 2 * g) if beta == 1 else max(mp.mpf(h + 2), s + g)
        t, w = mp.gauss_quadrature(m, "legendre")
        x = [s + (top - s) * (ti + 1) / 2 for ti in t]
        sw = [mp.sqrt(wi * (top - s) / 2) for wi in w]
        a = mp.matrix(m, m)
        if beta == 1:
            for i in range(m):
                for j in range(i, m):
                    a[i, j] = a[j, i] = -sw[i] * sw[j] * mp.airyai((x[i] + x[j]) / 2) / 2
        else:
            ai = [mp.airyai(v) for v in x]
            aip = [mp.airyai(v, derivative=1) for v in x]
            for i in range(m):
                for j in range(i, m):
                    if i == j:
                        k = aip[i] ** 2 - x[i] * ai[i] ** 2
                    else:
                        k = (ai[i] * aip[j] - aip[i] * ai[j]) / (x[i] - x[j])
                    a[i, j] = a[j, i] = -sw[i] * sw[j] * k
        for i in range(m):
            a[i, i] += 1
        return mp.det(a)


def settings(s: float, beta: int) -> tuple[int, int]:
    """Nodes and digits for ``s``: more of both as ``s`` goes left."""
    left = max(0.0, -s - 6.0)
    m = 48 + int(8 * left) if beta == 1 else 48 + int(5 * left)
    lost = abs(s) ** 3 / (24 if beta == 1 else 12) if s < 0 else beta * 2 / 3 * s**1.5
    return m, 30 + int(1.2 * lost / math.log(10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 4 points per law (a smoke run)")
    parser.add_argument("--beta", type=int, choices=(1, 2), action="append",
                        help="only this law (repeatable; default both)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = []
    for beta in args.beta or (1, 2):
        points = GRID + TAIL[beta] + RIGHT
        if args.quick:
            points = [-6.0, -2.0, 0.0, 3.0]
        for s in points:
            t0 = time.perf_counter()
            m, dps = settings(s, beta)
            f1 = determinant(s, beta, m, dps, 14.0)
            f2 = determinant(s, beta, m + 16, dps + 10, 15.0, 7.0)
            with mp.workdps(dps + 10):
                delta, delta_sf = abs(f1 / f2 - 1), abs((1 - f1) / (1 - f2) - 1)
                row = (beta, s, m + 16, dps + 10, mp.nstr(f2, 25), mp.nstr(mp.log(f2), 25),
                       mp.nstr(1 - f2, 25), mp.nstr(delta, 3), mp.nstr(delta_sf, 3))
            rows.append(row)
            print(*row, f"{time.perf_counter() - t0:.0f} s", flush=True)
    with open(args.out, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["beta", "s", "nodes", "dps", "cdf", "logcdf", "sf", "delta", "delta_sf"])
        out.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
