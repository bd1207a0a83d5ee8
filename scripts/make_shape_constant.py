"""Re-measure ``_SHAPE`` of ``bbpfit.transition.growth`` (the spread of the inverted outlier).

Usage::

    python scripts/make_shape_constant.py [--reps 2000] [--sizes 400 1000]

``fit_growth``'s noise model is ``u-hat = g + kappa s(g) e`` with
``s(u)^2 = 1 + _SHAPE / (u^4 - 1)`` (``kappa`` is fitted per trajectory, so only the shape
matters). The recipe of the module's comment: with the exact spiked sampler
(:func:`bbpfit.laws.wishart.null_eigenvalues` with ``theta``, an additive rank-one spike, unit
noise variance), aspect ratio ``m / n = 1/2``, ``n = 400`` and ``1000``, the planted ratio
``u = theta / theta_c`` at 1.3, 1.6, 2 and 2.5; ``u-hat`` is the exact MP inverse of the top
eigenvalue (:func:`bbpfit.laws.spike_strength`) over ``theta_c = (m/n)^(1/4)``. (The ratio that
``layer_diagnostics`` reports has the same spread to 2%: it uses the MP inverse with a fitted
``sigma2`` on these bulks.) The shipped comment lists sd 0.102, 0.078, 0.070, 0.066 at n = 400.

The script fits ``var(u-hat) = k_n^2 (1 + S / (u^4 - 1))`` by weighted least squares with one
``S`` and one ``k_n`` per size (weights: the Monte-Carlo variance of a sample variance,
``2 sd^4 / (N - 1)``) and prints ``S`` with its standard error from the fit's covariance.
Last runs: 2.93 +- 0.16 (default, 2000 draws per point), 2.82 +- 0.08 (``--reps 8000``;
sd at n = 400: 0.102, 0.078, 0.069, 0.065); pinned 2.7. The default takes
about a minute and a half on one core; ``tests/test_tuned_constants.py`` pins ``_SHAPE``
and runs a reduced :func:`measure_shape`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import curve_fit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bbpfit.laws import spike_strength  # noqa: E402
from bbpfit.laws.wishart import null_eigenvalues  # noqa: E402
from bbpfit.transition import growth  # noqa: E402

U_GRID = (1.3, 1.6, 2.0, 2.5)


def u_hat(n: int, m: int, u: float, draws: int, rng) -> np.ndarray:
    """MP-inverted ratio ``theta-hat / theta_c`` of the top eigenvalue, spike planted at ``u``."""
    q = m / n
    tc = q**0.25
    lam = null_eigenvalues(n, m, draws, theta=u * tc, rng=rng)[:, 0]
    return np.atleast_1d(spike_strength(np.maximum(lam, (1.0 + q**0.5) ** 2), q)) / tc


def measure_shape(sizes=(400, 1000), reps=2000, ratio=0.5, us=U_GRID, seed=0):
    """``(S, se, table)``; ``table`` rows ``(n, u, mean u-hat, sd u-hat)``."""
    rows = []
    for i, n in enumerate(sizes):
        m = int(round(n * ratio))
        for j, u in enumerate(us):
            x = u_hat(n, m, u, reps, np.random.default_rng([seed, i, j]))
            rows.append((i, n, u, x.mean(), x.std(ddof=1), x.size))
    idx = np.array([r[0] for r in rows])
    uu = np.array([r[2] for r in rows])
    var = np.array([r[4] ** 2 for r in rows])
    se_var = var * np.sqrt(2.0 / (np.array([r[5] for r in rows]) - 1.0))

    def model(_, s, *k):
        return np.asarray(k)[idx] ** 2 * (1.0 + s / (uu**4 - 1.0))

    p0 = [2.0] + [float(np.sqrt(var[idx == i][-1])) for i in range(len(sizes))]
    par, cov = curve_fit(model, uu, var, p0=p0, sigma=se_var, absolute_sigma=True)
    table = [(n, u, mu, sd) for _, n, u, mu, sd, _ in rows]
    return float(par[0]), float(np.sqrt(cov[0, 0])), table


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=2000, help="draws per (size, u)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[400, 1000], help="n (m = n / 2)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    s, se, table = measure_shape(tuple(args.sizes), args.reps, seed=args.seed)
    for n, u, mu, sd in table:
        print(f"n = {n:5d}, u = {u:.1f}: mean u-hat {mu:.4f}, sd {sd:.4f}")
    print(f"_SHAPE measured = {s:.3f} +- {se:.3f} (Monte-Carlo SE); pinned = {growth._SHAPE}; "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
