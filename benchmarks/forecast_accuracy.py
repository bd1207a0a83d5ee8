"""Section 2 of docs/alignment.md: early warning (``bf.forecast_transition``) against ground truth.

1. Teacher-student runs (:func:`bbpfit.simulate.teacher_student`, label noise 1, batch 256 so the
   bulk stays Marchenko-Pastur) whose true crossing ``t*`` (planted strength through
   ``theta_c``) is known: the store is cut at 50%, 70% and 90% of ``t*`` and the forecast, with
   ``horizon = t*``, is scored: prediction-interval coverage of ``t*``, median relative error
   ``|step - t*| / t*`` (an infinite predicted step counts as infinite), the median crossing
   probability, warnings, and how often the spike was already significant at the cut.
2. Null records, no spike: pure-noise trajectories with independent steps, with slowly drifting
   noise (AR(1), ``drift = 0.05`` per record) and frozen weights (``lr = 0``: every step the
   same matrix); the false-warning rate against ``alpha = 0.05`` with its 95% Clopper-Pearson
   interval.

Run: ``python benchmarks/forecast_accuracy.py [--runs 20 --null-runs 200]`` (a few minutes on one
shared core); replaces section 2 of docs/alignment.md in place between its markers (creating
the file if needed; section 1 belongs to the alignment study).
"""

from __future__ import annotations

import argparse
import pathlib
import re
import time
import warnings

import numpy as np
import xarray as xr
from scipy.stats import beta
from threadpoolctl import threadpool_limits

from bbpfit.simulate import spike_trajectory, teacher_student
from bbpfit.transition.forecast import forecast_transition

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "alignment.md"
BEGIN, END = "<!-- forecast:begin -->", "<!-- forecast:end -->"
SHAPES = ((100, 50), (200, 100))
CUTS = (0.5, 0.7, 0.9)
ALPHA = 0.05
HEAD = ("| shape | cut | runs | crossed | PI coverage | median rel. error | prior only: coverage "
        "| prior only: rel. error | median P(cross) | warnings |",
        "|---|---|---|---|---|---|---|---|---|---|")
TS = {"teacher_strengths": [1.0], "lr": 0.01, "batch": 256, "noise": 1.0, "steps": 400,
      "every": 4}


def _store(steps, lam, n):
    return xr.DataArray(lam, dims=("step", "rank"), coords={"step": steps}, attrs={"n": n},
                        name="w")


def teacher_student_cells(runs, n_boot):
    rows = []
    for n, m in SHAPES:
        res = {c: [] for c in CUTS}
        for seed in range(runs):
            r = teacher_student(n, m, rng=seed, **TS)
            tc = float(r.t_cross[0])
            if not np.isfinite(tc) or tc < 10 * TS["every"]:
                continue
            for c in CUTS:
                keep = r.steps <= c * tc
                if keep.sum() < 5:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = forecast_transition(_store(r.steps[keep], r.eigenvalues[keep], n),
                                            horizon=tc, n_boot=n_boot, rng=seed)[0]
                res[c].append((f, tc))
        rows += [_score(f"{n}x{m}", c, res[c]) for c in CUTS]
    return rows


def independent_cells(runs, n_boot, n=100, m=50, t_star=150):
    """A straight rise of theta through theta_c at ``t_star`` on noise drawn afresh at every
    step (every step recorded): the per-step evidence adds up, unlike in the teacher-student
    runs whose noise renews slowly."""
    tc = (m / n) ** 0.25
    rows = []
    for c in CUTS:
        out = []
        for seed in range(runs):
            tr = spike_trajectory(n, m, int(c * t_star) + 1,
                                  lambda t: tc * np.asarray(t, float) / t_star, drift=None,
                                  rng=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = forecast_transition(_store(tr.steps, tr.eigenvalues, n), horizon=t_star,
                                        n_boot=n_boot, rng=seed)[0]
            out.append((f, float(t_star)))
        rows.append(_score(f"{n}x{m}, independent steps", c, out))
    return rows


def _score(shape, c, fs):
    fc = [(f, t) for f, t in fs if f.status == "forecast"]
    pr = [f.details["prior"] for f, _ in fc]
    return {"shape": shape, "cut": c, "runs": len(fs),
            "crossed": sum(f.status == "crossed" for f, _ in fs),
            "coverage": np.mean([f.pi_low <= t <= f.pi_high for f, t in fc]),
            "rel_err": np.median([abs(f.step - t) / t for f, t in fc]),
            "p_cov": np.mean([p[0] <= t <= p[2] for p, (_, t) in zip(pr, fc, strict=True)]),
            "p_rel": np.median([abs(p[1] - t) / t for p, (_, t) in zip(pr, fc, strict=True)]),
            "prob": np.median([f.probability for f, _ in fc]),
            "warn": np.mean([f.warning for f, _ in fc])}


def null_cells(runs, n_boot, steps=30):
    rows = []
    for n, m in SHAPES:
        for label, drift in (("independent steps", None), ("drifting noise (0.05)", 0.05),
                             ("frozen weights, lr = 0", 0.0)):
            warn = crossed = 0
            for seed in range(runs):
                tr = spike_trajectory(n, m, steps, np.zeros(steps), drift=drift, rng=seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = forecast_transition(_store(tr.steps, tr.eigenvalues, n), horizon=steps,
                                            n_boot=n_boot, rng=seed)[0]
                warn += f.warning
                crossed += f.status == "crossed"
            lo = beta.ppf(0.025, warn, runs - warn + 1) if warn else 0.0
            hi = beta.ppf(0.975, warn + 1, runs - warn) if warn < runs else 1.0
            rows.append({"shape": f"{n}x{m}", "null": label, "runs": runs, "warn": warn / runs,
                         "lo": lo, "hi": hi, "crossed": crossed / runs})
    return rows


def render(ts, ind, null, runs, null_runs, secs):
    lines = [BEGIN, "## 2. Forecast", "",
             f"`benchmarks/forecast_accuracy.py --runs {runs} --null-runs {null_runs}` "
             f"({secs / 60:.1f} min on one shared core). `bf.forecast_transition` with its "
             "defaults (80% prediction intervals, warning level 0.05, 400 bootstrap replicates "
             "unless stated).", "",
             "### 2a. Teacher-student runs cut before the crossing", "",
             f"Linear teacher-student ({TS}); `t*` is the step at which the planted strength "
             "crosses `theta_c`; the store is cut at `cut * t*`, `horizon = t*`. Coverage and "
             "error over the runs not yet significant at the cut (`crossed` counts the others: "
             "the finite-n top eigenvalue can be significant a little before `t*`). \"Prior "
             "only\": the same interval and median from the forecast's prior alone "
             "(`details['prior']`), i.e. what the forecast would say from the record's length "
             "without looking at its eigenvalues; the forecast is informative where it beats it.",
             "",
             *HEAD]
    for r in ts:
        lines.append(f"| {r['shape']} | {r['cut']:.0%} | {r['runs']} | {r['crossed']} | "
                     f"{r['coverage']:.2f} | {r['rel_err']:.2f} | {r['p_cov']:.2f} | "
                     f"{r['p_rel']:.2f} | "
                     f"{r['prob']:.2f} | {r['warn']:.2f} |")
    lines += ["", "### 2b. The same on noise drawn afresh at every step", "",
              "A straight rise of `theta` through `theta_c` at step 150, 100 x 50, every step "
              "recorded, noise independent between steps (`spike_trajectory(drift=None)`): "
              "where the per-step evidence adds up. (In 8 records cut at step 135 the forecast "
              "gave a median step of 145 and a mean probability 0.78 where pure noise of the "
              "same length gave 213 and 0.62: `tests/test_forecast.py`. The rate prior was "
              "tuned on this cell, seeds 0-15: not held out.)", "", *HEAD]
    for r in ind:
        lines.append(f"| {r['shape']} | {r['cut']:.0%} | {r['runs']} | {r['crossed']} | "
                     f"{r['coverage']:.2f} | {r['rel_err']:.2f} | {r['p_cov']:.2f} | "
                     f"{r['p_rel']:.2f} | {r['prob']:.2f} | {r['warn']:.2f} |")
    lines += ["", "Coverage here is high because the intervals are wide; the record moves the "
              "median away from the prior's. In the run above compare the two error columns: "
              "where the forecast's is the smaller, the eigenvalues added information. More "
              "evidence per step (top-vector persistence, whole-spectrum likelihood ratios) is "
              "the next step.",
              "", "### 2c. False warnings on records without a spike", "",
              "30 steps of pure noise (`theta = 0`), horizon 30; a warning is a false one. "
              "`crossed` is the rate of a significant top eigenvalue at the last step (the "
              "per-step spike test at 0.05, not a warning).", "",
              "| shape | record | runs | false-warning rate | 95% CI | crossed at last step |",
              "|---|---|---|---|---|---|"]
    for r in null:
        lines.append(f"| {r['shape']} | {r['null']} | {r['runs']} | {r['warn']:.3f} | "
                     f"[{r['lo']:.3f}, {r['hi']:.3f}] | {r['crossed']:.3f} |")
    lines += ["", "{verdict}", END]
    return "\n".join(lines)


def verdict(ts, null):
    at70 = [r for r in ts if r["cut"] == 0.7]
    ok_cov = all(r["coverage"] >= 0.8 for r in at70)
    ok_err = all(r["rel_err"] <= 0.2 for r in at70)
    ok_null = all(r["warn"] <= ALPHA for r in null)
    beats = all(r["rel_err"] < r["p_rel"] for r in at70)
    say = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    out = ("**Must-show (issue 15), cut at 70%:** coverage >= 0.8 " + say(ok_cov)
           + "; median relative error <= 20% " + say(ok_err)
           + "; false-warning rate <= alpha on null records " + say(ok_null) + ".")
    if not beats:
        errs = ", ".join(f"{r['rel_err']:.2f} vs {r['p_rel']:.2f}" for r in at70)
        out += (" **But the first two are the prior's doing, not the eigenvalues':** at 70% the "
                "forecast is no better than the prior alone (median relative error " + errs
                + " for the prior only), whose median, about 1.4 window spans after the last "
                "step, happens to fall near `t*` for a cut at 70%; at 50% and 90% neither is "
                "within 20%. At 70% of the crossing a teacher-student spike sits at `theta = "
                "0.7 theta_c`, `w = -0.3 n^(1/3)` (-1.4 at 100 x 50, -1.8 at 200 x 100), where "
                "the top eigenvalue's law is within 0.1-0.2 TW units of Tracy-Widom "
                "(`critical_window_law(n, m).summary()`), and the teacher-student noise renews "
                "slowly (lr 0.01 per step: the record holds less than one renewal), so "
                "successive steps do not add evidence. The issue's 70% criterion is therefore "
                "not shown to be met by this estimator; what is shown is a calibrated warning "
                "and intervals that are honest about how little the record says.")
    return out


def write(text):
    DOC.parent.mkdir(exist_ok=True)
    old = DOC.read_text() if DOC.exists() else "# Alignment and early warning\n"
    if BEGIN in old:
        new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: text, old, flags=re.S)
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    DOC.write_text(new)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--null-runs", type=int, default=200)
    ap.add_argument("--n-boot", type=int, default=400)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.time()
    with threadpool_limits(1):
        ts = teacher_student_cells(a.runs, a.n_boot)
        ind = independent_cells(a.runs, a.n_boot)
        null = null_cells(a.null_runs, a.n_boot)
    text = render(ts, ind, null, a.runs, a.null_runs, time.time() - t0)
    text = text.replace("{verdict}", verdict(ts, null))
    print(text)
    if not a.no_write:
        write(text)


if __name__ == "__main__":
    main()
