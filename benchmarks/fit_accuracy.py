"""Accuracy study of the Marchenko-Pastur bulk estimators (`bbpfit.fit_mp`).

Simulates n x m weight matrices ``W = sigma (Z + sqrt(n) sum_i theta_i u_i v_i^T)`` with random
orthonormal u, v, entries Z Gaussian, Rademacher, uniform or Student-t(5) (unit variance) and
``sigma2`` log-uniform in [1e-3, 10]; 0, 1 (theta = 3) or 5 (theta = 3, 2, 1.5, 1.2, 1.0) spikes
share the same Z in each draw, so the spike effect is measured paired. Writes the markdown
report ``docs/fit_accuracy.md``.

Usage: ``python benchmarks/fit_accuracy.py [--reps 200] [--n 2000] [--m 1000] [--out PATH]
[--spectra CACHE.npz] [--blas-threads 1]``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from bbpfit.fit import FIT_METHODS, fit_mp_array

THETAS = np.array([3.0, 2.0, 1.5, 1.2, 1.0])
NOISES = ("gaussian", "rademacher", "uniform", "student-t5")
SPIKES = (0, 1, 5)
FITS = [(meth, None) for meth in FIT_METHODS] + [(meth, "fit") for meth in FIT_METHODS]


NOTES = """\
- `kn` (the default) is the most precise estimator under pure noise (its sd is that of the
  trace, the Gaussian MLE) and the only one the planted spikes do not move: KN's correction gives
  back to the bulk the noise energy each outlier took. It is exact for Rademacher entries (the
  trace of a +-1 matrix is fixed) and keeps its accuracy for uniform and Student-t(5) entries.
- `median` (Gavish-Donoho) keeps the outliers in the rank count: each spike moves the median up by
  about 0.6/m (+0.3% for five spikes at m = 1000), and its sd is about twice KN's.
- `ks` and `cvm` fit the trimmed bulk against the MP law of an (n - k) x (m - k) noise matrix
  (what a strong rank-k signal leaves); weak spikes deform the bulk less than that, so five
  spikes move them by about -0.1%. They are 30-100x slower than KN.
- `n_excluded = spikes` is the share of draws in which exactly the planted number of outliers was
  trimmed. The weakest spike (theta = 1.0) sits about 6 Tracy-Widom units above the edge at
  this size (4 above the trimming threshold) and is sometimes kept in the bulk. With Student-t(5)
  entries the top noise eigenvalue fluctuates more than Tracy-Widom predicts (4th moment barely
  finite) and is trimmed in ~14% of null draws, which costs KN nothing measurable.
- `ratio="fit"` costs nothing in accuracy when the bulk is MP(m/n) and recovers q_eff to
  +-0.001 (sd) when it is not. KN and median take q_eff from the quartile ratio of the spectrum,
  the distance fits estimate it jointly with sigma2.
- Times are per spectrum on a shared 2-core machine under heavy load; see
  `benchmarks/bench_fit.py` for clean timings.
"""


def noise(kind: str, rng, n: int, m: int) -> np.ndarray:
    """Unit-variance iid n x m noise of the named kind."""
    if kind == "gaussian":
        return rng.standard_normal((n, m))
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(n, m))
    if kind == "uniform":
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size=(n, m))
    if kind == "student-t5":
        return rng.standard_t(5, size=(n, m)) * np.sqrt(3.0 / 5.0)
    raise ValueError(kind)


def spiked_spectra(z: np.ndarray, rng) -> dict[int, np.ndarray]:
    """Eigenvalues s^2/n (ascending) of Z and of Z + sqrt(n) sum theta u v^T for 1 and 5 spikes."""
    n, m = z.shape
    u = np.linalg.qr(rng.standard_normal((n, 5)))[0]
    v = np.linalg.qr(rng.standard_normal((m, 5)))[0]
    gram = z.T @ z
    ztu = z.T @ u
    out = {0: np.linalg.eigvalsh(gram) / n}
    for k in SPIKES[1:]:
        a = np.sqrt(n) * (ztu[:, :k] * THETAS[:k]) @ v[:, :k].T
        g = gram + a + a.T + n * (v[:, :k] * THETAS[:k] ** 2) @ v[:, :k].T
        out[k] = np.linalg.eigvalsh(g) / n
    return out


def simulate(reps: int, n: int, m: int, seed: int):
    """Spectra[noise][spikes] of shape (reps, m), scaled by sigma2 (reps,)."""
    rng = np.random.default_rng(seed)
    sigma2 = np.exp(rng.uniform(np.log(1e-3), np.log(10.0), size=reps))
    spectra = {kind: {k: np.empty((reps, m)) for k in SPIKES} for kind in NOISES}
    for r in range(reps):
        for kind in NOISES:
            for k, lam in spiked_spectra(noise(kind, rng, n, m), rng).items():
                spectra[kind][k][r] = sigma2[r] * lam
        if (r + 1) % 10 == 0:
            print(f"simulated {r + 1}/{reps} draws", file=sys.stderr, flush=True)
    return spectra, sigma2


def wrong_ratio_spectra(reps: int, m: int, q_true: float, seed: int) -> np.ndarray:
    """Null spectra from MP(q_true): Gaussian n' x m with n' = m / q_true (exact sampler if any)."""
    n_true = int(round(m / q_true))
    try:
        from bbpfit.laws.wishart import null_eigenvalues

        return null_eigenvalues(n_true, m, reps, rng=seed)
    except ImportError:
        rng = np.random.default_rng(seed)
        return np.stack([np.linalg.eigvalsh((z := rng.standard_normal((n_true, m))).T @ z)
                         for _ in range(reps)]) / n_true


def stats(rel: np.ndarray) -> tuple[float, float, float, float]:
    """(median |rel err|, median rel err, mean rel err, sd) in percent."""
    return (100 * np.median(np.abs(rel)), 100 * np.median(rel), 100 * rel.mean(),
            100 * rel.std(ddof=1))


def label(meth, ratio) -> str:
    return meth + (" (ratio=fit)" if ratio == "fit" else "")


def cached_simulate(reps: int, n: int, m: int, seed: int, path: Path | None, blas_threads=None):
    """:func:`simulate`, reusing the spectra saved in ``path`` (npz) by an identical earlier run."""
    key = np.array([reps, n, m, seed])
    if path is not None and path.exists():
        with np.load(path) as z:
            if np.array_equal(z["key"], key):
                spectra = {kd: {k: z[f"{kd}_{k}"] for k in SPIKES} for kd in NOISES}
                return spectra, z["sigma2"], float(z["t_sim"])
    t0 = time.perf_counter()
    with threadpool_limits(blas_threads):
        spectra, sigma2 = simulate(reps, n, m, seed)
    t_sim = time.perf_counter() - t0
    if path is not None:
        np.savez(path, key=key, sigma2=sigma2, t_sim=t_sim,
                 **{f"{kd}_{k}": spectra[kd][k] for kd in NOISES for k in SPIKES})
    return spectra, sigma2, t_sim


def run(reps: int, n: int, m: int, seed: int, cache: Path | None = None, blas_threads=None):
    spectra, sigma2, t_sim = cached_simulate(reps, n, m, seed, cache, blas_threads)
    fits, t_fit = {}, {}
    for meth, ratio in FITS:
        fit_mp_array(spectra["gaussian"][0][:2], n, method=meth, ratio=ratio)  # compile/warm
        t1 = time.perf_counter()
        for kind in NOISES:
            for k in SPIKES:
                fits[meth, ratio, kind, k] = fit_mp_array(spectra[kind][k], n, method=meth,
                                                          ratio=ratio)
        t_fit[meth, ratio] = (time.perf_counter() - t1) / (reps * len(NOISES) * len(SPIKES))
    q_true = 0.3
    wrong = wrong_ratio_spectra(reps, m, q_true, seed + 1)
    qfits = {meth: fit_mp_array(wrong, n, method=meth, ratio="fit") for meth in FIT_METHODS}
    return spectra, sigma2, fits, t_fit, t_sim, qfits, q_true


def report(reps, n, m, seed, sigma2, fits, t_fit, t_sim, qfits, q_true) -> str:
    q = m / n
    L = ["# Accuracy of the Marchenko-Pastur bulk fits (`bf.fit_mp`)\n",
         f"Generated by `python benchmarks/fit_accuracy.py --reps {reps} --n {n} --m {m} "
         f"--seed {seed}` ({platform.machine()}, simulation {t_sim:.0f} s).\n",
         f"n = {n}, m = {m} (q = {q:g}); sigma2 log-uniform in [1e-3, 10]; {reps} draws per "
         "scenario. Spikes: `W = sigma (Z + sqrt(n) sum theta_i u_i v_i^T)`, 1 spike theta = 3, "
         f"5 spikes theta = {tuple(THETAS.tolist())} (BBP threshold q^(1/4) = {q ** 0.25:.3f}); the "
         "spiked and the null spectrum of a draw share the same noise Z. Noise entries have unit "
         "variance. Relative error = sigma2_hat / sigma2 - 1, in percent.\n"]
    L += ["## Median |relative error| (%) by method and scenario\n"]
    cols = [(kind, k) for kind in NOISES for k in SPIKES]
    L.append("| method | " + " | ".join(f"{kd} {k}sp" for kd, k in cols) + " |")
    L.append("|---|" + "---:|" * len(cols))
    for meth, ratio in FITS:
        cells = [stats(fits[meth, ratio, kd, k].sigma2 / sigma2 - 1)[0] for kd, k in cols]
        L.append(f"| {label(meth, ratio)} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    L += ["\n## Spike shift: median over draws of sigma2_hat(spiked) / sigma2_hat(null) - 1 (%)\n",
          "| method | " + " | ".join(f"{kd} {k}sp" for kd in NOISES for k in SPIKES[1:]) + " |",
          "|---|" + "---:|" * (len(NOISES) * 2)]
    for meth, ratio in FITS:
        cells = [100 * np.median(fits[meth, ratio, kd, k].sigma2 / fits[meth, ratio, kd, 0].sigma2
                                 - 1) for kd in NOISES for k in SPIKES[1:]]
        L.append(f"| {label(meth, ratio)} | " + " | ".join(f"{c:+.3f}" for c in cells) + " |")
    L += ["\n## Full table: relative error of sigma2 (%), outliers excluded, fitted ratio, time\n",
          "| noise | spikes | method | median abs | median | bias (mean) | sd | "
          "n_excluded = spikes | ratio (median) | ms / fit |",
          "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kd in NOISES:
        for k in SPIKES:
            for meth, ratio in FITS:
                f = fits[meth, ratio, kd, k]
                a, b, c, d = stats(f.sigma2 / sigma2 - 1)
                L.append(f"| {kd} | {k} | {label(meth, ratio)} | {a:.3f} | {b:+.3f} | {c:+.3f} | "
                         f"{d:.3f} | {np.mean(f.n_excluded == k):.0%} | "
                         f"{np.median(f.ratio):.4f} | {1e3 * t_fit[meth, ratio]:.2f} |")
    L += ["\n## ratio=\"fit\" on a bulk that is not MP(m/n)\n",
          f"Null Gaussian spectra from MP(q = {q_true}) (n' = {round(m / q_true)}, m = {m}, "
          f"sigma2 = 1), fitted as if n = {n} (m/n = {q:g}) with `ratio=\"fit\"`.\n",
          "| method | q_eff median | q_eff sd | sigma2 median rel err (%) | sigma2 sd (%) |",
          "|---|---:|---:|---:|---:|"]
    for meth, f in qfits.items():
        L.append(f"| {meth} | {np.median(f.ratio):.4f} | {np.std(f.ratio, ddof=1):.4f} | "
                 f"{100 * np.median(f.sigma2 - 1):+.3f} | {100 * np.std(f.sigma2, ddof=1):.3f} |")
    L += ["\n## Reading the tables\n", NOTES]
    g0 = fits["kn", None, "gaussian", 0].sigma2 / sigma2 - 1
    shift5 = fits["kn", None, "gaussian", 5].sigma2 / fits["kn", None, "gaussian", 0].sigma2 - 1
    L += ["\n## Acceptance (default method `kn`, Gaussian noise)\n",
          f"- median |relative error| without spikes: {100 * np.median(np.abs(g0)):.3f}% "
          f"(target <= 0.3%)",
          f"- median shift from adding 5 spikes: {100 * np.median(shift5):+.3f}% "
          f"(target < 0.3% in absolute value)"]
    return "\n".join(L) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--m", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20260518)
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parents[1] / "docs" / "fit_accuracy.md")
    ap.add_argument("--spectra", type=Path, default=None,
                    help="npz file caching the simulated spectra between runs")
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="BLAS threads for the simulation (1 is faster on a loaded machine)")
    a = ap.parse_args(argv)
    _, sigma2, fits, t_fit, t_sim, qfits, q_true = run(a.reps, a.n, a.m, a.seed, a.spectra,
                                                        a.blas_threads)
    text = report(a.reps, a.n, a.m, a.seed, sigma2, fits, t_fit, t_sim, qfits, q_true)
    a.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
