"""Trainability phase diagram of the linear teacher-student model, and the tool against the truth.

A student ``W`` (n x m, entries N(0, sigma0^2 / m)) learns a rank-one teacher (singular value 2)
from noisy labels by online SGD (:func:`bbpfit.simulate.teacher_student`). Over a grid of
learning rate (in units of the mean-square stability limit ``lr_c``) x initial weight scale
``sigma0``, for two batch sizes, the example records the spectra and asks
:func:`bbpfit.transition_time` when the teacher's spike crossed the BBP threshold. The figure
(``docs/phase_diagram.png``) shows, per batch size:

* top: the phase diagram - the estimated transition step (colour), cells where training
  diverged (x), where no transition was detected (o), and where the bulk left the
  Marchenko-Pastur law for most steps (dot: small-batch SGD deforms it above
  ``lr_os = 2 / (1 + sqrt(m / B))^2``, dashed line);
* middle: the estimate with its 90% interval against the ground truth (the simulator's exact
  signal against the threshold of the bulk the layer has), and the simulator's MP-based crossing;
* bottom (alignment): the squared overlap of the student's top singular vectors with the
  teacher's over training, against the BBP prediction from the true theta(t)
  (:meth:`~bbpfit.simulate.result.TeacherStudentResult.predicted_overlaps`), for sigma0 = 1 at a
  small and a large learning rate: where small batches deform the bulk, the measured overlap
  lags the prediction just after the crossing.

Run: ``python examples/phase_diagram.py`` (a few minutes) or ``--quick`` (under a minute).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from bbpfit.simulate import critical_learning_rate, overshoot_learning_rate, teacher_student
from bbpfit.simulate._crossing import first_crossing
from bbpfit.transition import transition_time
from bbpfit.transition.dtransform import bulk_threshold
from bbpfit.transition.edge_null import AIRY_MEANS, EDGE_K


def bulk_truth(res) -> float:
    """First step at which the teacher's exact signal exceeds the bulk's own BBP threshold."""
    corr = 1.0 + 0.13 * res.m ** (-1.0 / 3.0)
    tc = np.array([bulk_threshold(lam, float(res.n), 1, EDGE_K, AIRY_MEANS)[2]
                   for lam in res.eigenvalues]) * corr
    return float(first_crossing(res.steps, res.signal[:, 0] / np.sqrt(res.n) / tc, 1.0))


def run_cell(n, m, lr, sigma0, batch, steps, every, seed):
    res = teacher_student(n, m, teacher_strengths=[2.0], sigma0=sigma0, lr=lr, batch=batch,
                          steps=steps, every=every, noise=1.0, rng=seed)
    pred = res.predicted_overlaps()
    cell = {"diverged": res.diverged, "t_sim": float(res.t_cross[0]), "t_bulk": np.nan,
            "step": np.nan, "lo": np.nan, "hi": np.nan, "detected": False, "deformed": 0.0,
            "steps": res.steps, "ov_left": res.overlap_left[:, 0], "ov_right": res.overlap_right[:, 0],
            "pred_left": pred.left[:, 0], "pred_right": pred.right[:, 0]}
    if res.diverged or res.steps.size < 5:
        cell["diverged"] = True
        return cell
    da = xr.DataArray(res.eigenvalues, dims=("step", "rank"), coords={"step": res.steps},
                      attrs={"n": n}, name="W")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = transition_time(da, n_boot=200)
    lead = est.transitions[0]
    cell.update(t_bulk=bulk_truth(res), step=lead.step, lo=lead.ci_low, hi=lead.ci_high,
                detected=lead.detected, bound=lead.bound,
                deformed=float(1 - est.diagnostics["mp_test"].sel(spike=0).mean()))
    return cell


def grid(quick):
    if quick:
        return dict(n=200, m=100, lrs=np.array([0.03, 0.1, 0.3, 0.7, 1.3]),
                    sigmas=np.array([0.5, 1.0, 2.0]), batches=(8, 64), steps=200, every=2)
    return dict(n=400, m=200, lrs=np.array([0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.3]),
                sigmas=np.array([0.5, 1.0, 1.5, 2.0]), batches=(8, 64), steps=300, every=2)


def plot(cfg, cells, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    lrs, sigmas, batches = cfg["lrs"], cfg["sigmas"], cfg["batches"]
    fig, axes = plt.subplots(3, len(batches), figsize=(5.2 * len(batches), 12.0),
                             layout="constrained")
    norm = LogNorm(vmin=1, vmax=cfg["steps"])
    for j, batch in enumerate(batches):
        ax = axes[0, j]
        img = np.full((sigmas.size, lrs.size), np.nan)
        for (b, i, k), c in cells.items():
            if b == batch and c["detected"] and np.isfinite(c["step"]):
                img[k, i] = max(c["step"], 1.0)
        x = np.arange(lrs.size)
        mesh = ax.pcolormesh(np.arange(lrs.size + 1) - 0.5, np.arange(sigmas.size + 1) - 0.5,
                             img, norm=norm, cmap="viridis")
        for (b, i, k), c in cells.items():
            if b != batch:
                continue
            if c["diverged"]:
                ax.plot(i, k, "x", color="C3", ms=12, mew=2.5)
            elif not c["detected"]:
                ax.plot(i, k, "o", mfc="none", color="0.3", ms=11, mew=1.5)
            if not c["diverged"] and c["deformed"] > 0.5:
                ax.plot(i + 0.32, k + 0.3, ".", color="w", ms=9, mec="k")
            if c["detected"] and np.isfinite(c["step"]):
                ax.text(i, k, f"{c['step']:.0f}\n({c['t_bulk']:.0f})", ha="center",
                        va="center", fontsize=8, color="w" if img[k, i] < 30 else "k")
        r_os = overshoot_learning_rate(cfg["m"], batch) / critical_learning_rate(cfg["m"], batch)
        ax.axvline(np.interp(np.log(r_os), np.log(lrs), x), color="k", ls="--", lw=1.2)
        ax.axvline(np.interp(0.0, np.log(lrs), x), color="C3", ls="-", lw=1.5)
        ax.set_xticks(x, [f"{v:g}" for v in lrs])
        ax.set_yticks(np.arange(sigmas.size), [f"{v:g}" for v in sigmas])
        ax.set_xlabel(r"learning rate / $lr_c$  (dashed: $lr_{os}$, red: divergence)")
        ax.set_ylabel(r"initial weight scale $\sigma_0$")
        ax.set_title(f"batch {batch}: estimated transition step (truth)\n"
                     "x diverged, o no transition, • bulk not MP on most steps", fontsize=10)
        fig.colorbar(mesh, ax=ax, label="transition step (bbp)")
        ax = axes[1, j]
        pts = [c for (b, _, _), c in cells.items() if b == batch and c["detected"]
               and np.isfinite(c["step"])]
        if pts:
            tb = np.array([c["t_bulk"] for c in pts])
            ts = np.array([c["t_sim"] for c in pts])
            st = np.array([c["step"] for c in pts])
            err = np.abs(np.array([[c["step"] - c["lo"], c["hi"] - c["step"]] for c in pts]).T)
            ax.errorbar(tb, st, yerr=err, fmt="o", color="C0", capsize=2,
                        label="estimate vs bulk-aware truth (90% CI)")
            ax.plot(ts, st, "s", mfc="none", color="C1", ms=5,
                    label="estimate vs simulator's MP crossing")
            hi = 1.1 * np.nanmax(np.r_[tb, ts, st, 2.0])
            ax.plot([0, hi], [0, hi], color="0.5", lw=1)
            ax.set_xlim(0, hi)
            ax.set_ylim(max(min(0.0, np.nanmin(st - err[0]) - 2), -0.3 * hi), hi)
        ax.set_xlabel("ground-truth crossing step")
        ax.set_ylabel("estimated crossing step")
        ax.legend(fontsize=8, frameon=False, loc="upper left")
        plot_alignment_panel(axes[2, j], cfg, cells, batch)
    fig.suptitle(f"Linear teacher-student, {cfg['n']}x{cfg['m']}, teacher 2, label noise 1",
                 fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_alignment_panel(ax, cfg, cells, batch):
    """Measured student-teacher overlaps against the BBP prediction from theta(t)."""
    k = int(np.argmin(np.abs(cfg["sigmas"] - 1.0)))
    lr_c = critical_learning_rate(cfg["m"], batch)
    picks = [0, len(cfg["lrs"]) // 2]
    for c_i, i in enumerate(picks):
        c = cells[(batch, i, k)]
        if c["diverged"]:
            continue
        col = f"C{c_i}"
        lab = f"lr {cfg['lrs'][i] * lr_c:.3g}"
        ax.plot(c["steps"], c["ov_right"], color=col, lw=1.6, label=f"{lab}: measured (input side)")
        ax.plot(c["steps"], c["ov_left"], color=col, lw=0.9, ls=":", label=f"{lab}: measured (output)")
        ax.plot(c["steps"], c["pred_right"], color=col, lw=1.2, ls="--", label=f"{lab}: BBP from theta(t)")
        if np.isfinite(c["t_sim"]):
            ax.axvline(c["t_sim"], color=col, lw=0.8, alpha=0.6)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step (vertical: theta crosses theta_c)")
    ax.set_ylabel("squared overlap with the teacher")
    ax.set_title(f"batch {batch}, sigma0 = {cfg['sigmas'][k]:g}: alignment with the teacher", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="lower right")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small matrices, coarse grid")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs",
                                                  "phase_diagram.png"))
    args = ap.parse_args()
    cfg = grid(args.quick)
    t0 = time.perf_counter()
    cells = {}
    with threadpool_limits(1):
        for batch in cfg["batches"]:
            lr_c = critical_learning_rate(cfg["m"], batch)
            for i, f in enumerate(cfg["lrs"]):
                for k, s0 in enumerate(cfg["sigmas"]):
                    c = run_cell(cfg["n"], cfg["m"], f * lr_c, s0, batch, cfg["steps"],
                                 cfg["every"], seed=0)
                    cells[(batch, i, k)] = c
                    state = ("diverged" if c["diverged"] else
                             f"step {c['bound']}" if c["detected"] else "no transition")
                    print(f"batch {batch:4d}  lr {f:5.2f} lr_c  sigma0 {s0:4.1f}: {state:28s} "
                          f"truth {c['t_bulk']:6.1f} (MP {c['t_sim']:6.1f})  "
                          f"deformed {c['deformed']:.0%}", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    plot(cfg, cells, args.out)
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
