"""Accuracy, coverage and false alarms of ``bbpfit.transition_time``; writes docs/transition.md.

1. Spike trajectories with a known crossing ``t*`` (``bbpfit.simulate.spike_trajectory``):
   ``theta(t)`` grows from about zero through ``theta_c``, linearly or exponentially, at rates
   that put ``t*`` anywhere in the window (12-68% of it), on slowly evolving noise (``drift``:
   each step renews that fraction of the noise, lag-one entry correlation ``sqrt(1 - drift)``).
   Reported per method: median ``|step - t*| / t*``, median signed error, coverage of the 90%
   interval, and the lag of ``"detect"``.
1b. ``"bbp"`` across growth laws (linear, exponential, logistic, power), AR(1) bulk noise and
   recording intervals, with held-out laws and bulk dynamics (``benchmarks/transition_laws.py``,
   which can also regenerate that section alone).
2. False alarms of the detection rule on null trajectories (no spike).
3. The linear teacher-student model (``bbpfit.simulate.teacher_student``) over a grid of learning
   rate, initial variance and batch size: the estimate against the ground-truth crossing, and
   what an MP-only test reports.

Run: ``python benchmarks/transition_accuracy.py`` (about 30 minutes on one core, plus about 80
for section 1b at 300 runs per cell) or ``--quick`` (a few minutes, fewer runs; does not
overwrite the docs).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from bbpfit import Spectrum, spike_test
from bbpfit.simulate import (
    critical_learning_rate,
    overshoot_learning_rate,
    spike_trajectory,
    teacher_student,
)
from bbpfit.simulate._crossing import first_crossing
from bbpfit.transition import transition_time
from bbpfit.transition.diagnostics import layer_diagnostics
from bbpfit.transition.dtransform import bulk_threshold
from bbpfit.transition.edge_null import AIRY_MEANS, EDGE_K
from bbpfit.transition.methods import LayerData
from bbpfit.transition.methods.detect import first_detection

try:
    from transition_laws import section as laws_section
except ImportError:  # run from the repository root as a module path
    from benchmarks.transition_laws import section as laws_section

METHODS = ("bbp", "detect", "changepoint")

INTRO = """# When did a spike detach? `bbpfit.transition_time`

`bf.transition_time(spectra, layer=None, alpha=0.05, method="bbp")` answers, for each layer of
a store (`bf.open_spectra`) and each spike rank, the training step at which the eigenvalue
crossed the BBP threshold, with a confidence interval (`step`, `ci_low`, `ci_high`,
`detected`), plus per-step diagnostics (`result.diagnostics`, an xarray Dataset over layer x step
x spike: MP fit `sigma2`, `mp_edge`; soft edge of the actual bulk `edge`, `edge_scale`; the
TW-scaled `gap`; `pvalue`; `theta_hat`, `theta_c` and their ratio; the spacing ratio `<r>`
(GOE 0.5307, Poisson 0.3863) and the step-to-step `fluctuation` (DBM temperature, ~ lr/batch)).
Command line: `bbpfit transition STORE [--method] [--alpha] [--layer] [--format] [--plot DIR]`.

## How

1. **Per step, the test valid for the bulk the layer has.** While the `K = 16` eigenvalues
   below a candidate sit where the Marchenko-Pastur law fitted to the whole spectrum puts
   them (mean offset < 3 TW units), the exact finite-n MP test of `bbpfit.inference`
   (`l_(k+1) / sigma2_KN(k+1)` against its Monte Carlo null). Otherwise - small-batch SGD
   deforms the bulk, and an MP test would call its top "spikes" - a soft-edge test: fit
   `lambda_j = b + s xi_j + c xi_j^2` to the `K` eigenvalues below the candidate at the mean
   positions `xi_j` of the Airy-1 process, and refer `T = (lambda - b) / s` to its universal
   null (tabulated once; free of location, scale and, through the quadratic term, of the edge's
   finite-size curvature: calibrated from 100 x 50 to 768 x 768). Ranks are tested in order
   (fixed sequence).
2. **Strength against the bulk's own threshold.** `u = theta-hat / theta_c`: from the MP
   inverse while the edge is MP; otherwise from the empirical D-transform of the bulk
   (Benaych-Georges & Nadakuditi 2012; OptShrink, Nadakuditi 2014), `theta_c = D(b+)^(-1/2)`,
   `theta-hat = D(lambda)^(-1/2)`, with `b+` from the soft-edge fit and the top of the bulk
   replaced by its fitted square-root density (D is singular at the edge).
3. **`"detect"`**: first step with `p <= alpha / S` (`S` steps; Bonferroni spending) from which
   the spike stays significant at `alpha`. False detection over the whole sequence `<= alpha`
   under any dependence between steps (verified below).
4. **`"bbp"`** (default): for ranks that `"detect"` finds, fit `u(t)` by censored maximum
   likelihood: steps where the spike is significant contribute the density of `u-hat`, the
   others `P(u-hat < c(t))` with `c(t)` the ratio at which the test would have seen it (brief
   section 8). The fit is local: it ends where `u-hat` reaches 2.2 (6 significant steps at
   least) or the rise stalls, judged on the steps up to there and a look-ahead of 1.5 times the
   time since the spike was first seen, so a longer store does not move it. Laws: linear,
   exponential, saturating (`a - b e^(-rt)`, only if it levels off within the data)
   and rise-then-plateau (`a + b min(t, k)`, the kink profiled), each solved for
   `g(t*) = 1` with `t*` constrained to the recorded steps; the estimate is the weighted median
   of the laws' crossings, with Akaike weights (log-likelihoods scaled by the effective sample
   size under AR(1) errors, tempered by 2; no prior odds for any law). Chance hits are set
   aside: a significant step before the first run of 3 significant steps where the best law
   fitted to all the steps is below half the threshold counts as censored at its own value (the
   test's 5% false alarms had pulled slow, flat-then-steep rises 4-7% early). 90% interval: the parametric
   bootstraps (AR(1) errors: successive spectra share their noise) of every law of weight
   >= 0.02, pooled with the laws' weights (model averaging, Buckland et al. 1997), so it carries
   the uncertainty of the law's choice; each replicate's `t*` is constrained likewise.
   `details["weights"]` lists the weights.
5. **`"changepoint"`**: one-break continuous hinge on `sqrt(max(lambda - b, 0) / b)` (linear in
   `theta - theta_c`), found exactly by profiling (own code: `ruptures` is not a dependency and
   statsmodels has no segmented regression; one break is what a crossing needs). 90% interval:
   AR(1) bootstrap from the fitted hinge, the flat and the rising part with their own error scale
   and autocorrelation (moment-matched to the fitted segment's residuals), widened 2.5-fold about
   the estimate for the curvature of the rise that a straight hinge cannot see (measured below).

Every `step`, `ci_low` and `ci_high` lies within the recorded steps, and `censored` (a column
of `to_dataframe()`, a key of `to_dict()`, a column of `summary()`) says when the crossing is
only bounded:

* A layer that never crosses: `detected=False`, `step` NaN, `ci_low` = last step (a lower
  bound), `censored="right"`.
* A spike out from the first step (significant there): `step` NaN, `ci_high` = first step (an
  upper bound), `censored="left"`.
* `"bbp"` whose growth law is already above the threshold at the first step: `step` = `ci_low`
  = the first step, `ci_high` the bootstrap's upper limit, `censored="left"`: the crossing is
  at or before the first step (`details["t_unbounded"]` keeps the law's own root, for
  reference). For a rising law the constraint `t* >= first step` is `g(first) <= 1`, linear in
  the coefficients, so the constrained maximum of the (concave) censored likelihood is exactly
  this bounded root; bootstrap replicates before the first step count at it.
  `SpikeTransition.bound` writes the estimate as `<= 0.0 [0.0, 1.1]`.
"""


def _law(kind, tc, steps, rng):
    end = rng.uniform(1.8, 3.0)
    if kind == "linear":
        a = end * tc / (steps - 1)
        return lambda t: a * np.asarray(t, float)
    th0 = rng.uniform(0.05, 0.3)
    k = np.log(end / th0) / (steps - 1)
    return lambda t: th0 * tc * np.exp(k * np.asarray(t, float))


REAL_RUN = """## A real training run

`python examples/record_digits.py STORE` (a 64-256-256-10 MLP on scikit-learn's digits, 400
steps, recorded every 10), then `bbpfit transition STORE --plot DIR`; the 10 x 256 readout
(m = 10 < 24) is skipped with a warning:

| layer | rank | detected | step | ci_low | ci_high | censored | method |
|---|---|---|---|---|---|---|---|
| 0.weight (64 x 256) | 0 | yes | 16.4 | 12.2 | 32.4 | | bbp |
| 0.weight | 1 | yes | 13.6 | 5.7 | 25.9 | | bbp |
| 0.weight | 2 | yes | 0.0 | 0.0 | 12.1 | left | bbp |
| 2.weight (256 x 256) | 0 | yes | 15.7 | 13.7 | 39.8 | | bbp |
| 2.weight | 1 | yes | 0.0 | 0.0 | 7.2 | left | bbp |
| 2.weight | 2 | yes | 17.1 | 15.2 | 41.4 | | bbp |

About ten class directions leave an MP bulk between steps 10 and 30 together (the bulk below
them stays MP, so the exact MP test applies); the crossings fall between two records, so the
growth laws have only a few rising points. For `0.weight` rank 2 and `2.weight` rank 1 the
fitted line is already above the threshold at step 0 (its root: steps -1.2 and -5.2; before
the crossing was constrained to the recorded steps these rows read -1.2 [-37.8, 12.1] and
-5.2 [-43.3, 7.2]): they are reported as at or before step 0 (`censored = left`), with upper
limits 12.1 and 7.2. Given that they are first significant at steps 30 and 20, a crossing
between two records is the likelier reading; the interval's upper limit is the useful number.
"""

LIMITS = """## Phase diagram and speed

`examples/phase_diagram.py` (`--quick` for a coarse grid) draws `docs/phase_diagram.png`: the
estimated transition step over learning rate x `sigma0` for batch 8 and 64, where training
diverges (above `lr_c`), where the bulk is deformed (above `lr_os`), and the estimate against
the ground truth.

![phase diagram](phase_diagram.png)

`benchmarks/bench_transition.py`: 12 layers x 200 steps x 768 ranks (2304 x 768 matrices), one
BLAS thread, shared 2-core machine: first call 2.9 s (Numba compile from cache and the exact MP
nulls of three shapes), then 1.5 s (`"bbp"`), 0.6 s (`"detect"`), 0.9 s (`"changepoint"`).

## Limitations (measured, not fixed)

* **Frozen noise.** The interval assumes the step-to-step noise decorrelates (AR(1)); with
  noise that never changes (`drift = 0`) the error of `theta-hat` is a constant offset the
  residuals cannot show, and only the floor on the noise scale (its known MP value) keeps the
  interval honest: in the 2304 x 768 store of `benchmarks/bench_transition.py` the crossings at
  3000 and 6000 are estimated 2826 [2516, 3028] and 5906 [5634, 5972] (the second just outside).
* **Strongly deformed bulks have little power.** Where the edge is not MP the soft-edge test
  (heavy-tailed null, `p < 1e-3` needs `T > 12`) is what keeps the deformed bulk from being
  called a spike; a spike near the deformed threshold is then not detected (the phase diagram's
  `lr = 0.7 lr_c` column).
* **Several comparable spikes on a deformed bulk.** On an MP bulk many spikes are fine (the
  regime is decided below the outliers the MP fit trims: the digits run above); on a deformed
  bulk a cluster of similar spikes with no gap looks like the deformed edge to the `K = 16`
  local fit and is not detected.
* **Teacher-student ground truth.** At small `sigma0` the outlier is seen before the simulator's
  `signal / sqrt(n sigma2_noise)` reaches `theta_c` (e.g. p = 2e-4 at `theta / theta_c = 1.03`),
  so the estimates there are earlier than `t_sim` and `t_bulk`: the student's noise part is not
  independent of the teacher directions during the transient.
* **Fast crossings** (within a few records) are resolution-limited: the growth law may be
  above the threshold at the first step already. The crossing is then reported as at or before
  the first step (`censored="left"`, `<=` in the table above) rather than extrapolated before
  it, but the true crossing can lie later (batch 32, `lr = 0.4 lr_c`, `sigma0 = 0.5`: `<= 0`
  against `t_bulk = 5.2`).
* Calibrations made on MP bulks only: the finite-size factor of the empirical threshold
  (`1 + 0.13 m^(-1/3)`), the spread shape `1 + 2.7 / (u^4 - 1)` and `kappa = 1.05 q^-0.27 /
  sqrt(n)` (q = 0.25-1).
* **Growth laws other than the five fitted** (section 1b). Averaging the laws and pooling
  their bootstraps fixed most of the misspecified cells, measured on the same runs against the
  single-law fit it replaced (median error / coverage): logistic, `phi = 0`, every 2: 9.0% /
  0.63 before, 4.4% / 0.83 now; power, `phi = 0`, every 2: 5.9% / 0.37 before, 4.4% / 0.73
  now; rise-then-plateau: 12.1% / 0.80 before, 6.8% / 0.93 now; every 8: 8.1% / 0.57 before,
  7.1% / 1.00 now. It left logistic rises 4-7% early: the test's 5% false alarms before a
  flat-then-steep rise were fitted as observations of the law, which the Gaussian noise model
  explains only by a law near the threshold. Setting those chance hits aside (and tempering the
  weights by 2, no prior for the line) brought the tuning cells passing from 14 to 20 of 24 on the
  benchmark's seeds at 30 runs per cell (tuning seeds, 48 runs: 11 to 17) and the held-out
  Gompertz rise from 8.9% / 0.67 to 6.9% / 0.87. The table above has 300 runs per cell (30
  runs leave the coverage uncertain by about +-0.1: a calibrated cell fails the [0.85, 0.97]
  band with probability 0.17-0.22; at 100 runs, 4 cells - linear 0/4, linear 0.5/2, power 0/4,
  power 0.5/4 - read 0.98 and failed, and their runs 101-300 read 0.92-0.965): every tuning
  cell has a median |error| <= 4.7% and coverage 0.87-0.97, all 24 pass, the widest ones at
  the band's upper end (linear and power rises recorded every 4: the tempered weights pool laws
  that fit worse); the held-out Gompertz and plateau rises are at 7.0% / 0.87 and 8.5% / 0.94,
  the coarse cell at 5.2% / 0.93. No law has a sigmoid's inflection: logistic cells recorded
  every 2 covered 0.75-0.88 on the tuning seeds. The rule costs a little spread in section 1:
  on the first 40 runs of the 400 x 200, drift 0.1 row it alone moved `bbp` from 3.6% / -1.3% / 0.97 to 4.6% /
  -0.2% / 1.00 (median |error| / median error / coverage); over the 100 runs the row
  reads 5.1% / +0.4% / 0.94 (4.5% / -1.1% / 0.96 in the table before the soft-edge depths
  and this rule): less bias, a median error just over 5%.
* `"changepoint"` intervals rest on a measured widening factor (2.5, for the curvature of the
  rise: concave for a linear `theta(t)`, convex for an exponential one) calibrated on the
  400 x 200 trajectories of section 1 (coverage 0.90-0.92 there); on the held-out 1000 x 500
  row the coverage is 0.83 (the 1000 x 500 changepoint row of section 1 was computed separately,
  with the benchmark's seeds, after the factor was set). The intervals are about three times as
  wide as `"bbp"`'s. Use it as a cross-check of `"bbp"`.
"""


def trajectories(n, m, runs, steps, drift, seed):
    """Rows (law, t*, {method: SpikeTransition})."""
    rng = np.random.default_rng(seed)
    tc = (m / n) ** 0.25
    rows = []
    for r in range(runs):
        kind = ("linear", "exponential")[r % 2]
        tr = spike_trajectory(n, m, steps, _law(kind, tc, steps, rng), drift=drift, rng=rng)
        da = xr.DataArray(tr.eigenvalues, dims=("step", "rank"), coords={"step": tr.steps},
                          attrs={"n": n}, name="w")
        res = {meth: transition_time(da, method=meth, rng=r).transitions[0] for meth in METHODS}
        rows.append((kind, tr.t_cross, res))
    return rows


def summarise(rows):
    out = {}
    for meth in METHODS:
        est = np.array([res[meth].step for _, _, res in rows])
        ts = np.array([t for _, t, _ in rows])
        err = (est - ts) / ts
        cover = np.mean([res[meth].ci_low <= t <= res[meth].ci_high for _, t, res in rows])
        out[meth] = (np.nanmedian(np.abs(err)), np.nanmedian(err), cover,
                     int(np.sum([not res[meth].detected for _, _, res in rows])))
    lag = np.array([(res["bbp"].first_detected - t) for _, t, res in rows])
    rel = lag / np.array([t for _, t, _ in rows])
    return out, np.nanmedian(lag), np.nanmedian(rel)


def false_alarms(n, m, runs, steps, drift, seed):
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(runs):
        tr = spike_trajectory(n, m, steps, np.zeros(steps), drift=drift, rng=rng)
        d = layer_diagnostics(tr.eigenvalues, tr.steps, n)
        data = LayerData("x", n, m, tr.steps.astype(float), d, 0.05, 0.9, 0.05, 50, rng)
        hits += first_detection(data, 0) is not None
    return hits / runs


def bulk_truth(res):
    """Oracle signal of the teacher direction against the empirical threshold of the bulk."""
    n, m = res.n, res.m
    corr = 1.0 + 0.13 * m ** (-1.0 / 3.0)
    tc = np.array([bulk_threshold(lam, float(n), 1, EDGE_K, AIRY_MEANS)[2]
                   for lam in res.eigenvalues]) * corr
    return float(first_crossing(res.steps, res.signal[:, 0] / np.sqrt(n) / tc, 1.0))


def teacher_grid(n, m, lrs, sigmas, batches, steps, every):
    rows = []
    for batch in batches:
        for f in lrs:
            lr = f * critical_learning_rate(m, batch)
            for s0 in sigmas:
                res = teacher_student(n, m, teacher_strengths=[2.0], sigma0=s0, lr=lr,
                                      batch=batch, steps=steps, every=every, noise=1.0, rng=0)
                row = {"batch": batch, "lr": lr, "lr_c": f, "lr_os": lr / overshoot_learning_rate(
                    m, batch), "sigma0": s0, "diverged": res.diverged,
                    "t_sim": float(res.t_cross[0]), "t_theory": float(res.t_cross_theory[0])}
                if res.steps.size < 5:
                    rows.append(row)
                    continue
                row["t_bulk"] = bulk_truth(res)
                da = xr.DataArray(res.eigenvalues, dims=("step", "rank"),
                                  coords={"step": res.steps}, attrs={"n": n}, name="W")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = transition_time(da)
                    det = transition_time(da, method="detect")
                row["bbp"] = est.transitions[0]
                row["detect"] = det.transitions[0]
                row["extra"] = sum(t.detected for t in est.transitions[1:])
                diag = est.diagnostics.sel(layer="W")
                row["deformed"] = float(1.0 - diag["mp_test"].sel(spike=0).mean())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row["mp_only"] = spike_test(Spectrum(res.eigenvalues[-1], n=n, m=m),
                                                method="tw").n_spikes
                rows.append(row)
    return rows


def _f(x, spec=".1f"):
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    q = args.quick
    runs = 10 if q else 100
    lines = [INTRO, "## Results", "",
             "Generated by `benchmarks/transition_accuracy.py` (seeded; one BLAS thread). "
             "Defaults of `bbpfit.transition_time`: `alpha=0.05`, `confidence_level=0.9`, "
             "`n_boot=400`.", ""]
    t0 = time.perf_counter()
    with threadpool_limits(1):
        lines += ["## 1. Spike trajectories with a known crossing step", "",
                  "`theta(t)` grows from about 0 (linear from 0, or exponential from 5-30% of "
                  "`theta_c`; half the runs each) to 1.8-3 `theta_c` at the last of 120 steps, so "
                  "`t*` falls between 12% and 68% of the window; the noise evolves slowly "
                  "(`drift` = 0.1: lag-one entry correlation 0.95 per step, or 0.3: 0.84). "
                  f"{runs} runs per row. Error = `(step - t*) / t*`; coverage of the 90% interval.",
                  "",
                  "| shape | drift | method | median abs error | median error | 90% coverage "
                  "| not detected |", "|---|---|---|---|---|---|---|"]
        lags = []
        for (n, m, drift, seed) in ((400, 200, 0.1, 1), (1000, 500, 0.1, 2), (400, 200, 0.3, 3)):
            if q and n > 400:
                continue
            rows = trajectories(n, m, runs, 120, drift, seed)
            summ, lag, rel = summarise(rows)
            for meth in METHODS:
                a, b, c, nd = summ[meth]
                lines.append(f"| {n}x{m} | {drift} | {meth} | {a:.1%} | {b:+.1%} | {c:.2f} | "
                             f"{nd} |")
            lags.append(f"| {n}x{m} | {drift} | {lag:.1f} steps | {rel:.0%} |")
            print(lines[-3:], f"{time.perf_counter() - t0:.0f} s", flush=True)
        lines += ["", "Lag of `\"detect\"` (first step at which the Bonferroni rule sees the "
                  "spike, minus `t*`); `\"bbp\"` removes it:", "",
                  "| shape | drift | median lag | median lag / t* |", "|---|---|---|---|", *lags,
                  ""]
        lines += [laws_section(10 if q else 300, log=lambda *a: print(*a, flush=True)), ""]
        lines += ["## 2. False alarms of the detection rule (no spike)", "",
                  "A detection needs `p <= alpha / S` at one of the `S` steps, so the "
                  "probability of a false detection over the whole sequence is at most `alpha` "
                  "(union bound). Measured at `alpha = 0.05`, 60 steps:", "",
                  "| shape | drift | runs | false-alarm rate | bound alpha + 3 SE |",
                  "|---|---|---|---|---|"]
        fa_runs = 60 if q else 400
        for drift in (None, 0.3):
            rate = false_alarms(200, 100, fa_runs, 60, drift, 7)
            se = np.sqrt(0.05 * 0.95 / fa_runs)
            lines.append(f"| 200x100 | {drift if drift is not None else 'independent'} | "
                         f"{fa_runs} | {rate:.3f} | {0.05 + 3 * se:.3f} |")
            print(lines[-1], flush=True)
        lines += ["", "## 3. The linear teacher-student model", ""]
        grid = teacher_grid(400, 200, (0.05, 0.15, 0.4, 0.7, 1.2) if not q else (0.05, 0.4),
                            (0.5, 1.0, 2.0) if not q else (1.0,), (8, 32, 256) if not q else (8,),
                            300, 2)
        lines += [
            "400 x 200 student, teacher singular value 2, label noise 1, 300 steps recorded every "
            "2, seed 0. `t_sim`: the simulator's crossing (exact signal over the noise part's "
            "entry variance, against the MP threshold); `t_bulk`: the exact signal against the "
            "threshold of the bulk the layer has (empirical D-transform); `bbp` [90% CI] and "
            "`detect`: the estimates (`<=`: at or before that step, `censored = left`: the "
            "growth law is above the threshold at the first record; `-` [a, b]: the law puts "
            "the crossing at or before the first record but the spike is not significant there, "
            "so only the interval is given; intervals are constrained "
            "to the recorded steps); `deformed`: fraction of steps whose bulk edge is not MP; "
            "`spurious`: ranks beyond the teacher's reported as crossing; `MP-only`: spikes an "
            "MP test (`spike_test(method='tw')`) counts at the last step (1 is right).", "",
            "| batch | lr (/lr_c, /lr_os) | sigma0 | t_sim | t_bulk | bbp [90% CI] | detect | "
            "deformed | spurious | MP-only |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in grid:
            lr = f"{r['lr']:.3g} ({r['lr_c']:.2f}, {r['lr_os']:.2f})"
            if r["diverged"]:
                lines.append(f"| {r['batch']} | {lr} | {r['sigma0']} | diverged | | | | | | |")
                continue
            b, d = r["bbp"], r["detect"]
            est = b.bound if b.detected else "not detected"
            lines.append(f"| {r['batch']} | {lr} | {r['sigma0']} | {_f(r['t_sim'])} | "
                         f"{_f(r['t_bulk'])} | {est} | {_f(d.step, '.0f')} | "
                         f"{r['deformed']:.0%} | {r['extra']} | {r['mp_only']} |")
        print("\n".join(lines[-len(grid):]), flush=True)
    lines += ["", f"Total time {time.perf_counter() - t0:.0f} s.", "", REAL_RUN, LIMITS]
    text = "\n".join(lines)
    if q:
        print(text)
    else:
        with open("docs/transition.md", "w") as fh:
            fh.write(text)
        print("wrote docs/transition.md")


if __name__ == "__main__":
    main()
