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
3. Held out (2d): teacher-student runs of other geometries (:data:`HELD_OUT`: later recording
   start, other learning rate, teacher, label noise, cadence and shapes; seeds from
   :data:`HELD_OUT_SEED`), so that a cut at 70% of ``t*`` sits at another number of window spans
   before ``t*`` than in 1, where the prior's median happens to land near ``t*``: does the
   forecast beat its prior alone there?
4. Top-vector persistence (2e) in stores cut at 70% of ``t*``, with the teacher and without:
   can it tell a coming crossing from slowly renewing noise?

Run: ``python benchmarks/forecast_accuracy.py [--runs 20 --null-runs 200]`` (a few minutes on one
shared core); replaces section 2 of docs/alignment.md in place between its markers (creating
the file if needed; section 1 belongs to the alignment study).
"""

from __future__ import annotations

import argparse
import pathlib
import time
import warnings

import numpy as np
import xarray as xr
from _doc_section import put_section
from scipy.stats import beta
from threadpoolctl import threadpool_limits

from bbpfit.simulate import spike_trajectory, teacher_student
from bbpfit.transition.forecast import forecast_transition
from bbpfit.transition.forecast_posterior import D_GRID, prior_weights

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "alignment.md"
BEGIN, END = "<!-- forecast:begin -->", "<!-- forecast:end -->"
SHAPES = ((100, 50), (200, 100))
CUTS = (0.5, 0.7, 0.9)
ALPHA = 0.05
HEAD = ("| shape | cut | runs | crossed | PI coverage | median rel. error | prior only: coverage "
        "| prior only: rel. error | median P(cross) | warnings | median information |",
        "|---|---|---|---|---|---|---|---|---|---|---|")
TS = {"teacher_strengths": [1.0], "lr": 0.01, "batch": 256, "noise": 1.0, "steps": 400,
      "every": 4}
#: Held-out geometries (section 2d): label, teacher-student options, recording start (fraction
#: of ``t*``). The forecast's window is the last half of the record, so the start sets how many
#: window spans separate the cut from ``t*`` (0.86 at a 70% cut from step 0, as in 2a).
HELD_OUT = (
    ("late start (0.6 t*), lr 0.005, teacher 1.5, every step",
     {"teacher_strengths": [1.5], "lr": 0.005, "batch": 256, "noise": 1.0, "steps": 400,
      "every": 1}, 0.6),
    ("start 0.25 t*, label noise 10, lr 0.005, every 2",
     {"teacher_strengths": [1.0], "lr": 0.005, "batch": 256, "noise": 10.0, "steps": 500,
      "every": 2}, 0.25),
)
HELD_OUT_SHAPES = ((150, 50), (120, 90))
#: Seeds of the held-out runs: distinct from 2a's (0, 1, ...) and from those any tuning used.
HELD_OUT_SEED = 100


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


def held_out_cells(runs, n_boot):
    """Section 2d: teacher-student runs of other geometries (:data:`HELD_OUT`), seeds from
    :data:`HELD_OUT_SEED`; besides the scores, the window spans from the cut to ``t*``, the
    planted ``theta / theta_c`` at the cut and the interval's upper end over ``t*``."""
    rows = []
    for label, opts, start in HELD_OUT:
        for n, m in HELD_OUT_SHAPES:
            res = {c: [] for c in CUTS}
            for seed in range(HELD_OUT_SEED, HELD_OUT_SEED + runs):
                r = teacher_student(n, m, rng=seed, **opts)
                tc = float(r.t_cross[0])
                if not np.isfinite(tc):
                    continue
                ratio = r.theta[:, 0] / r.theta_c
                for c in CUTS:
                    keep = (r.steps <= c * tc) & (r.steps >= start * tc)
                    if keep.sum() < 5:
                        continue
                    st = r.steps[keep]
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        f = forecast_transition(_store(st, r.eigenvalues[keep], n), horizon=tc,
                                                n_boot=n_boot, rng=seed)[0]
                    span = st[-1] - st[len(st) - max(5, len(st) // 2)]
                    res[c].append((f, tc, {"spans": (tc - st[-1]) / span,
                                           "ratio": float(np.interp(st[-1], r.steps, ratio))}))
            for c in CUTS:
                row = _score(f"{n}x{m}", c, [(f, t) for f, t, _ in res[c]])
                fc = [(f, t, g) for f, t, g in res[c] if f.status == "forecast"]
                row.update(geometry=label, spans=_med([g["spans"] for _, _, g in fc]),
                           ratio=_med([g["ratio"] for _, _, g in fc]),
                           upper=_med([f.pi_high / t for f, t, _ in fc]))
                rows.append(row)
    return rows


def _prior_median_spans():
    """The prior's median crossing, in window spans after the last step."""
    cdf = np.cumsum(prior_weights())
    return float(max(D_GRID[int(np.searchsorted(cdf, 0.5))], 0.0))


def _med(v):
    return float(np.median(v)) if len(v) else float("nan")


def _sgd_top_vectors(n, m, strength, steps, every, seed, lr, batch, noise):
    """Top right singular vector of a linear student every ``every`` steps of online SGD on a
    rank-one teacher of ``strength`` (0: no teacher), written out here (explicit batches), so it
    shares no code with :func:`bbpfit.simulate.teacher_student`."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    b = rng.standard_normal(m)
    Ws = strength * np.outer(a / np.linalg.norm(a), b / np.linalg.norm(b))
    W = rng.standard_normal((n, m)) / np.sqrt(m)
    out = []
    for t in range(steps + 1):
        if t % every == 0:
            out.append(np.linalg.svd(W, full_matrices=False)[2][0])
        X = rng.standard_normal((m, batch))
        W -= (lr / batch) * ((W - Ws) @ X - noise * rng.standard_normal((n, batch))) @ X.T
    return np.array(out)


def persistence_cells(runs, n=100, m=50):
    """Section 2e: is the top vectors' persistence within a store cut at 70% of ``t*`` different
    from that of the same training without a teacher? (2a's settings, seeds 200-.)"""
    stats = {"teacher 1.0": [], "no teacher": []}
    for seed in range(200, 200 + runs):
        tc = float(teacher_student(n, m, rng=seed, **{**TS, "steps": 200}).t_cross[0])
        if not np.isfinite(tc):
            continue
        for label, s in (("teacher 1.0", 1.0), ("no teacher", 0.0)):
            V = _sgd_top_vectors(n, m, s, 200, TS["every"], seed, TS["lr"], TS["batch"],
                                 TS["noise"])
            V = V[np.arange(V.shape[0]) * TS["every"] <= 0.7 * tc]
            N = V.shape[0]
            w0 = N - max(5, N // 2)
            last = (V @ V[-1]) ** 2
            cons = np.sum(V[1:] * V[:-1], axis=1) ** 2
            stats[label].append((last[w0:].mean(), cons[w0 - 1:].mean(), last[:N // 2].mean()))
    a, b = (np.array(stats[k]) for k in ("teacher 1.0", "no teacher"))
    auc = [float(np.mean(a[:, j][:, None] > b[:, j][None, :])
                 + 0.5 * np.mean(a[:, j][:, None] == b[:, j][None, :])) for j in range(3)]
    return {"runs": len(a), "teacher": np.median(a, axis=0), "null": np.median(b, axis=0),
            "auc": auc}


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
    if not fc:
        nan = float("nan")
        return {"shape": shape, "cut": c, "runs": len(fs), "crossed": len(fs), "coverage": nan,
                "rel_err": nan, "p_cov": nan, "p_rel": nan, "prob": nan, "warn": nan, "info": nan}
    return {"shape": shape, "cut": c, "runs": len(fs),
            "crossed": sum(f.status == "crossed" for f, _ in fs),
            "coverage": np.mean([f.pi_low <= t <= f.pi_high for f, t in fc]),
            "rel_err": np.median([abs(f.step - t) / t for f, t in fc]),
            "p_cov": np.mean([p[0] <= t <= p[2] for p, (_, t) in zip(pr, fc, strict=True)]),
            "p_rel": np.median([abs(p[1] - t) / t for p, (_, t) in zip(pr, fc, strict=True)]),
            "prob": np.median([f.probability for f, _ in fc]),
            "warn": np.mean([f.warning for f, _ in fc]),
            "info": np.median([f.details["information"] for f, _ in fc])}


def null_cells(runs, n_boot, steps=30):
    rows = []
    for n, m in SHAPES:
        for label, drift in (("independent steps", None), ("drifting noise (0.05)", 0.05),
                             ("frozen weights, lr = 0", 0.0)):
            warn = crossed = 0
            info = []
            for seed in range(runs):
                tr = spike_trajectory(n, m, steps, np.zeros(steps), drift=drift, rng=seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = forecast_transition(_store(tr.steps, tr.eigenvalues, n), horizon=steps,
                                            n_boot=n_boot, rng=seed)[0]
                warn += f.warning
                crossed += f.status == "crossed"
                if f.status == "forecast":
                    info.append(f.details["information"])
            lo = beta.ppf(0.025, warn, runs - warn + 1) if warn else 0.0
            hi = beta.ppf(0.975, warn + 1, runs - warn) if warn < runs else 1.0
            rows.append({"shape": f"{n}x{m}", "null": label, "runs": runs, "warn": warn / runs,
                         "lo": lo, "hi": hi, "crossed": crossed / runs, "info": _med(info)})
    return rows


HEAD_HO = ("| geometry | shape | cut | runs | crossed | spans to t* | theta/theta_c at cut | PI coverage "
           "| PI upper end / t* | median rel. error | prior only: coverage | prior only: rel. error "
           "| median P(cross) | median information |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def render_held_out(ho, runs):
    """Section 2d's lines (the table and what it says)."""
    lines = ["", "### 2d. Held out: other geometries", "",
             "Is 2a's 70% row the record's doing or the prior's? The forecast's prior is "
             "log-uniform in *window spans* after the last step (median "
             f"{_prior_median_spans():.2f} spans, the window being the last half of the record), "
             "so its median lands near `t*` whenever "
             "the cut sits about one span before it: for a record from step 0 a 70% cut is 0.86 "
             "spans before `t*`. Here the record starts later (a resumed or fine-tuning run), so "
             "the same cut sits at another number of spans; other learning rate, teacher "
             "strength, label noise, cadence and shapes; seeds "
             f"{HELD_OUT_SEED}-{HELD_OUT_SEED + runs - 1}, none used to tune anything. `spans to "
             "t*` (median) is `(t* - last step) / window span`; `theta/theta_c at cut` the planted "
             "strength at the last step; `PI upper end / t*` how far the 80% interval reaches. "
             "Rows without runs (a cut before the record starts) are left out.", "", *HEAD_HO]
    for r in ho:
        if not r["runs"]:
            continue
        lines.append(f"| {r['geometry']} | {r['shape']} | {r['cut']:.0%} | {r['runs']} | "
                     f"{r['crossed']} | {r['spans']:.2f} | {r['ratio']:.2f} | {r['coverage']:.2f} | "
                     f"{r['upper']:.1f} | {r['rel_err']:.2f} | {r['p_cov']:.2f} | "
                     f"{r['p_rel']:.2f} | {r['prob']:.2f} | {r['info']:.2f} |")
    return lines


def render_persistence(pe):
    """Section 2e's lines."""
    names = ("window vs last record", "consecutive records (window)",
             "first half of the record vs last")
    lines = ["", "### 2e. Top-vector persistence before the crossing", "",
             f"2a's 100 x 50 teacher-student settings, {pe['runs']} runs (seeds 200-), SGD written "
             "out in the benchmark (explicit batches), top right singular vector at every "
             "record, the store cut at 70% of the teacher run's `t*`; the same seeds trained "
             "without a teacher. Squared overlaps |<v(t), v(t')>|^2 (medians over runs) and the "
             "probability that a teacher run's value exceeds a run without teacher (AUC; 0.5: "
             "the statistic cannot tell them apart).", "",
             "| persistence | teacher 1.0 | no teacher | AUC |", "|---|---|---|---|"]
    for j, name in enumerate(names):
        lines.append(f"| {name} | {pe['teacher'][j]:.3f} | {pe['null'][j]:.3f} | "
                     f"{pe['auc'][j]:.2f} |")
    return lines


def render(ts, ind, null, runs, null_runs, secs, ho=(), pe=None):
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
             "without looking at its eigenvalues; the forecast is informative where it beats it. "
             "`median information`: `details['information']`, the Kullback-Leibler divergence "
             "(nats) of the forecast's crossing distribution from the prior's, which a user "
             "without `t*` can read; 2c gives what records without a spike reach (a flat "
             "record also moves it: the crossing is then not near).",
             "",
             *HEAD]
    for r in ts:
        lines.append(f"| {r['shape']} | {r['cut']:.0%} | {r['runs']} | {r['crossed']} | "
                     f"{r['coverage']:.2f} | {r['rel_err']:.2f} | {r['p_cov']:.2f} | "
                     f"{r['p_rel']:.2f} | "
                     f"{r['prob']:.2f} | {r['warn']:.2f} | {r['info']:.2f} |")
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
                     f"{r['p_rel']:.2f} | {r['prob']:.2f} | {r['warn']:.2f} | {r['info']:.2f} |")
    lines += ["", "Coverage here is high because the intervals are wide; the record moves the "
              "median away from the prior's. In the run above compare the two error columns: "
              "where the forecast's is the smaller, the eigenvalues added information. More "
              "evidence per step (whole-spectrum likelihood ratios; top-vector persistence: 2e) "
              "is the next step.",
              "", "### 2c. False warnings on records without a spike", "",
              "30 steps of pure noise (`theta = 0`), horizon 30; a warning is a false one. "
              "`crossed` is the rate of a significant top eigenvalue at the last step (the "
              "per-step spike test at 0.05, not a warning).", "",
              "| shape | record | runs | false-warning rate | 95% CI | crossed at last step "
              "| median information |",
              "|---|---|---|---|---|---|---|"]
    for r in null:
        lines.append(f"| {r['shape']} | {r['null']} | {r['runs']} | {r['warn']:.3f} | "
                     f"[{r['lo']:.3f}, {r['hi']:.3f}] | {r['crossed']:.3f} | "
                     f"{r['info']:.2f} |")
    if ho:
        lines += render_held_out(ho, runs)
    if pe is not None:
        lines += render_persistence(pe)
    lines += ["", "{verdict}", END]
    return "\n".join(lines)


def _others(ts):
    """What the 50% and 90% rows of 2a say (median relative errors within 20% or not)."""
    rows = [r for r in ts if r["cut"] != 0.7]
    fine = [r for r in rows if r["rel_err"] <= 0.2 or r["p_rel"] <= 0.2]
    if not fine:
        return "; at 50% and 90% neither is within 20%"
    return ("; at 50% and 90% the median relative errors are "
            + ", ".join(f"{r['rel_err']:.2f} (prior {r['p_rel']:.2f})" for r in rows))


def verdict(ts, null, ho=(), pe=None):
    at70 = [r for r in ts if r["cut"] == 0.7]
    ok_cov = all(r["coverage"] >= 0.8 for r in at70)
    ok_err = all(r["rel_err"] <= 0.2 for r in at70)
    ok_null = all(r["warn"] <= ALPHA for r in null)
    beats = all(r["rel_err"] < r["p_rel"] for r in at70)
    say = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    out = ("**Must-show (issue 15), cut at 70%:** on 2a's runs coverage >= 0.8 " + say(ok_cov)
           + "; median relative error <= 20% " + say(ok_err)
           + "; false-warning rate <= alpha on null records " + say(ok_null) + ".")
    if not beats:
        errs = ", ".join(f"{r['rel_err']:.2f} vs {r['p_rel']:.2f}" for r in at70)
        out += (" **But the first two are the prior's doing, not the eigenvalues':** at 70% the "
                "forecast is no better than the prior alone (median relative error " + errs
                + " for the prior only), whose median, "
                f"{_prior_median_spans():.2f} window spans after the last step, happens to fall "
                "near `t*` for a cut at 70%" + _others(ts)
                + ". At 70% of the crossing a teacher-student spike sits at `theta = "
                "0.7 theta_c`, `w = -0.3 n^(1/3)` (-1.4 at 100 x 50, -1.8 at 200 x 100), where "
                "the top eigenvalue's law is within 0.1-0.2 TW units of Tracy-Widom "
                "(`critical_window_law(n, m).summary()`), and the teacher-student noise renews "
                "slowly (lr 0.01 per step: the record holds less than one renewal), so "
                "successive steps do not add evidence. The issue's 70% criterion is therefore "
                "not shown to be met by this estimator; what is shown is a calibrated warning "
                "and intervals that are honest about how little the record says.")
    h70 = [r for r in ho if r["cut"] == 0.7 and r["runs"] and r["runs"] > r["crossed"]]
    if h70:
        met = [r for r in h70 if r["coverage"] >= 0.8 and r["rel_err"] <= 0.2]
        better = [r for r in h70 if r["rel_err"] < r["p_rel"] - 0.02]
        errs = ", ".join(f"{r['rel_err']:.2f} (prior {r['p_rel']:.2f}, {r['spans']:.1f} spans)"
                         for r in h70)
        out += ("\n\n**Held out (2d), cut at 70%:** both criteria met in " + f"{len(met)} of "
                f"{len(h70)} cells; median relative errors " + errs + "; the forecast beats "
                f"the prior alone by more than 0.02 in {len(better)} of {len(h70)}. ")
        if len(met) < len(h70) or len(better) < len(h70):
            out += ("**The 70% must-show does not hold once the geometry changes:** where the "
                    "cut sits several window spans before `t*` (a late-starting record) the "
                    "forecast's median follows the prior's and misses by about as much; its "
                    "coverage stays high with intervals whose upper end reaches "
                    f"{min(r['upper'] for r in h70):.1f}-{max(r['upper'] for r in h70):.1f} "
                    "`t*` (median per cell). "
                    "The issue's criterion is not shown on teacher-student runs; "
                    "2a's figures are the prior's luck.")
        else:
            out += "The 70% criteria hold on the held-out geometries too."
        tsi = [r["info"] for r in (*ts, *ho) if r["runs"] and r["runs"] > r["crossed"]]
        noise = _med([r["info"] for r in null if r["null"] == "independent steps"])
        out += (f" On the teacher-student rows (2a, 2d) the forecast's median divergence from "
                f"its prior is {min(tsi):.2f}-{max(tsi):.2f} nats (`details['information']`); "
                f"records of pure noise with independent steps reach {noise:.2f}"
                + (": the teacher-student records did not move the forecast." if max(tsi) < noise
                   else "."))
    out += ("\n\nTried and not adopted: the steps' dependence as an AR(1) Gaussian copula of "
            "their scores (the critical-window law is simulated with common random numbers, so "
            "a rise under slowly renewing noise moves `x` at a nearly constant score, and the "
            "increments, not the level, would be the evidence), `rho` averaged over a grid up "
            "to 0.98 or 0.995, in place of the tempering. On tuning seeds (1000-1023 and "
            "1100-1111, none reported above; 8-15 runs a cell) it was not reliably better: "
            "median relative error at 50/70/90% 0.27/0.06/0.37 -> 0.25/0.23/0.30 on 2a's "
            "100 x 50 geometry (grid to 0.98; 0.34/0.22/0.10 to 0.995), 0.39/0.11/0.23 -> "
            "0.29/0.15/0.08 at 120 x 90 from 0.3 `t*` (0.16/0.22/0.68 to 0.995), and on the "
            "late-start geometry 0.25/0.06 -> 0.25/0.08 at 70/90%. A guess, not verified: the "
            "teacher-student noise drifts as it relaxes from its initialisation, which such a "
            "model reads as part of the rise.")
    if pe is not None:
        out += (" The top vectors' persistence (2e) was measured, not used: in a store cut at 70% "
                "the top vector persists about as much with the teacher as without it (AUC "
                + ", ".join(f"{v:.2f}" for v in pe["auc"]) + " for the three statistics; "
                "persistence of the noise's own top vector dominates, as the noise renews "
                "slowly), so it cannot date the crossing there either.")
    return out


def write(text):
    put_section(DOC, text, BEGIN, END, title="# Alignment and early warning\n")


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
        ho = held_out_cells(a.runs, a.n_boot)
        pe = persistence_cells(a.runs)
        null = null_cells(a.null_runs, a.n_boot)
    text = render(ts, ind, null, a.runs, a.null_runs, time.time() - t0, ho, pe)
    text = text.replace("{verdict}", verdict(ts, null, ho, pe))
    print(text)
    if not a.no_write:
        write(text)


if __name__ == "__main__":
    main()
