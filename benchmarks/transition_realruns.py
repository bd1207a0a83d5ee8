"""Transition times on real training runs; writes docs/transition_realruns.md and its figures.

MLPs 64-256-256-10 on scikit-learn's digits (``load_digits``, no download; the recipe of
``examples/record_digits.py`` with plain SGD and no momentum), recorded with
``SpectrumRecorder(every=5)``:

* learning rate 0.05 and 0.2 x batch 32 and 256 x seeds 0-2, 1000 steps;
* controls: learning rate 0 (3 seeds) and shuffled labels (lr 0.2, batch 32, 3 seeds);
* a long run (lr 0.05, batch 32, seed 0, 5000 steps) against its first 1000 steps;
* a tiny ``BertForSequenceClassification`` (``BertConfig``: hidden 64, 2 layers, 2 heads; no
  download) trained with AdamW for 400 steps on a synthetic token task through the Hugging Face
  callback (``bbpfit.recording.hf.SpectrumCallback``, every 10).

For each store ``transition_time`` (``"bbp"`` and ``"detect"``) gives the crossing steps; the
properties of issue #11 are measured on the hidden layers: how far dropping one record (each of
the 12 records around the crossing in turn) moves a crossing, short against long store, rank
order, left-censoring only with a significant first step, and the false crossings in the
controls. Costs are wall-clock seconds on a shared machine (2 cores, other jobs running; one
torch thread): compare them as ratios within this run only.

Run: ``python benchmarks/transition_realruns.py [--quick]`` (about 10 minutes; ``--quick``: one
seed per setting, does not overwrite the docs).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import bbpfit as bf  # noqa: E402
from bbpfit.store import open_spectra  # noqa: E402

HIDDEN = ("0.weight", "2.weight")
FIG = os.path.join(ROOT, "docs", "figures")


def train_digits(path, *, lr, batch, seed, steps=1000, every=5, shuffle=False):
    """Record a plain-SGD MLP 64-256-256-10 on digits (``examples/record_digits.py``'s recipe)."""
    import torch
    from sklearn.datasets import load_digits
    from torch import nn

    from bbpfit.recording import SpectrumRecorder

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    if shuffle:
        y = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(1000 + seed))]
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    with SpectrumRecorder(model, path, every=every, optimizer=opt) as rec:
        for _ in range(steps):
            idx = torch.randint(0, len(x), (batch,), generator=g)
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            rec.log(loss=loss)
            opt.zero_grad()
            loss.backward()
            opt.step()


def train_bert(path, *, steps=400, every=10, seed=0):
    """A tiny BERT classifier from a config, AdamW through the Hugging Face callback."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

    from bbpfit.recording.hf import SpectrumCallback

    torch.set_num_threads(1)
    g = np.random.default_rng(seed)
    x = g.integers(5, 200, size=(4096, 16))
    x[:, 0] = 2
    y = (x[:, 1:].max(axis=1) > 160).astype(int) ^ (x[:, 1] % 2)

    class Data(torch.utils.data.Dataset):
        def __len__(self):
            return len(y)

        def __getitem__(self, i):
            return {"input_ids": torch.tensor(x[i]), "attention_mask": torch.ones(16, dtype=int),
                    "labels": torch.tensor(int(y[i]))}

    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=200, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=256, max_position_embeddings=32, num_labels=2)
    args = TrainingArguments(output_dir=path + ".out", max_steps=steps, seed=seed,
                             per_device_train_batch_size=32, learning_rate=1e-3, report_to=[],
                             save_strategy="no", logging_steps=50, disable_tqdm=True,
                             use_cpu=True, dataloader_num_workers=0)
    Trainer(model=BertForSequenceClassification(cfg), args=args, train_dataset=Data(),
            callbacks=[SpectrumCallback(path, every=every)]).train()


def analyse(ds, method, layer=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bf.transition_time(ds, method=method, layer=layer)


def _fmt(t):
    return t.bound if t is not None else "-"


def drop_one(ds, layer, res_step, method):
    """Largest move of rank 0's crossing over dropping each of 12 records around it."""
    steps = ds.step.values
    if not math.isfinite(res_step):
        return math.nan
    i = int(np.searchsorted(steps, res_step))
    worst = 0.0
    for j in range(max(1, i - 6), min(steps.size - 1, i + 6)):
        t = analyse(ds.isel(step=[k for k in range(steps.size) if k != j]), method, layer)[layer, 0]
        worst = max(worst, abs(t.step - res_step) if math.isfinite(t.step) else math.inf)
    return worst


def checks(res, ds_steps):
    """(ordered by rank, left-censored only with evidence) over a result's rows."""
    ordered, honest = True, True
    for name in res.layers:
        rows = [t for t in res[name] if t.detected and math.isfinite(t.step)]
        ordered &= all(b.step >= a.step for a, b in zip(rows, rows[1:], strict=False))
        p0 = res.diagnostics["pvalue_seq"].sel(layer=name).isel(step=0).values
        for t in res[name]:
            if t.censored == "left":
                honest &= bool(p0[t.rank] <= res.alpha)
    return ordered, honest


def figure(ds, res, layer, name):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bbpfit.cli.transition import plot_layer

    fig = plot_layer(ds, res, layer)
    os.makedirs(FIG, exist_ok=True)
    path = os.path.join(FIG, f"realruns_{name}.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return os.path.relpath(path, os.path.join(ROOT, "docs"))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    opts = ap.parse_args(argv)
    seeds = (0,) if opts.quick else (0, 1, 2)
    tmp = tempfile.mkdtemp(prefix="bbp-realruns-")
    lines, figs = [], []
    cost = []
    crossings = {}  # (lr, batch, layer, method) -> list of rank-0 steps

    def run(name, fn, **kw):
        path = os.path.join(tmp, name + ".bbp")
        t0 = time.perf_counter()
        fn(path, **kw)
        t1 = time.perf_counter()
        ds = open_spectra(path)
        res = {m: analyse(ds, m) for m in ("bbp", "detect")}
        t2 = time.perf_counter()
        cost.append((name, ds.sizes["step"], t1 - t0, t2 - t1))
        print(f"{name}: train {t1 - t0:.1f} s, analyse {t2 - t1:.1f} s", flush=True)
        return ds, res

    # 1. learning rate x batch x seed
    table = []
    for lr in (0.05, 0.2):
        for batch in (32, 256):
            for seed in seeds:
                name = f"lr{lr}_b{batch}_s{seed}"
                ds, res = run(name, train_digits, lr=lr, batch=batch, seed=seed)
                for layer in HIDDEN:
                    for m in ("bbp", "detect"):
                        t = res[m][layer, 0]
                        crossings.setdefault((lr, batch, layer, m), []).append(t.step)
                row = {"name": name, "lr": lr, "batch": batch, "seed": seed, "res": res, "ds": ds}
                row["ordered"], row["honest"] = zip(*(checks(res[m], ds.step.values)
                                                      for m in ("bbp", "detect")), strict=True)
                row["n_end"] = {la: int(res["bbp"].diagnostics["n_spikes"].sel(layer=la).values[-1])
                                for la in ds.layer.values.tolist()}
                if seed == 0:
                    row["drop"] = {m: drop_one(ds, "2.weight", res[m]["2.weight", 0].step, m)
                                   for m in ("bbp", "detect")}
                table.append(row)
                if seed == 0 and batch == 32:
                    figs.append((f"lr {lr}, batch 32, seed 0, layer 2.weight",
                                 figure(ds, res["bbp"], "2.weight", f"lr{lr}_b32")))
    fine = []
    for seed in seeds:
        ds, res = run(f"lr0.2_b32_s{seed}_every1", train_digits, lr=0.2, batch=32, seed=seed,
                      steps=300, every=1)
        fine.append((seed, res))
    # 2. controls
    controls = []
    for seed in seeds:
        ds, res = run(f"lr0_s{seed}", train_digits, lr=0.0, batch=32, seed=seed)
        controls.append(("lr = 0", seed, res))
        if seed == 0:
            figs.append(("lr = 0 (control), layer 2.weight", figure(ds, res["bbp"], "2.weight", "lr0")))
    for seed in seeds:
        ds, res = run(f"shuffled_s{seed}", train_digits, lr=0.2, batch=32, seed=seed, shuffle=True)
        controls.append(("shuffled labels, lr 0.2", seed, res))
    # 3. long run
    ds_long, res_long = run("long", train_digits, lr=0.05, batch=32, seed=0, steps=5000)
    short = ds_long.sel(step=slice(0, 1000))
    res_short = {m: analyse(short, m) for m in ("bbp", "detect")}
    figs.append(("long run (5000 steps), lr 0.05, batch 32, layer 2.weight",
                 figure(ds_long, res_long["bbp"], "2.weight", "long")))
    # 4. tiny BERT
    ds_bert, res_bert = run("bert", train_bert)
    blayer = "bert.encoder.layer.1.intermediate.dense.weight"
    figs.append(("tiny BERT, " + blayer, figure(ds_bert, res_bert["bbp"], blayer, "bert")))

    # ---- report
    out = ["# Transition times on real training runs", "",
           "Generated by `benchmarks/transition_realruns.py`"
           + (" (quick)" if opts.quick else "") + ". MLP 64-256-256-10 on scikit-learn's digits, "
           "plain SGD, 1000 steps recorded every 5 (`SpectrumRecorder(every=5)`), seeds 0-2; "
           "`transition_time` defaults (alpha 0.05 over the steps, 90% intervals). The read-out "
           "layer `4.weight` (10 x 256, m = 10) gets the exact MP test and `detect` only.", "",
           "## 1. Rank-0 crossing per seed (hidden layers)", "",
           "| lr | batch | seed | layer | bbp | detect | spikes at the end (0 / 2 / 4.weight) |",
           "|---|---|---|---|---|---|---|"]
    for row in table:
        for layer in HIDDEN:
            b, d = row["res"]["bbp"][layer, 0], row["res"]["detect"][layer, 0]
            ends = " / ".join(str(v) for v in row["n_end"].values())
            out.append(f"| {row['lr']} | {row['batch']} | {row['seed']} | {layer} | {_fmt(b)} | "
                       f"{_fmt(d)} | {ends} |")
    out += ["", "Seed spread of the rank-0 crossing: (max - min) / median over the seeds "
            "(must be within 25%), and the learning-rate ratio (median at lr 0.05 / median at "
            "lr 0.2, a 4x change: must be within 2.5-6).", "",
            "| batch | layer | method | lr 0.05: median, spread | lr 0.2: median, spread | ratio |",
            "|---|---|---|---|---|---|"]
    verdict = {"bbp": [], "detect": []}
    for batch in (32, 256):
        for layer in HIDDEN:
            for m in ("bbp", "detect"):
                cells = []
                meds = []
                for lr in (0.05, 0.2):
                    v = np.array(crossings[(lr, batch, layer, m)], dtype=float)
                    med = float(np.median(v))
                    spread = float(np.ptp(v) / med) if np.all(np.isfinite(v)) else math.nan
                    meds.append(med)
                    cells.append(f"{med:.0f}, {spread:.0%}")
                    verdict[m].append(spread <= 0.25)
                ratio = meds[0] / meds[1]
                verdict[m].append(2.5 <= ratio <= 6)
                out.append(f"| {batch} | {layer} | {m} | {cells[0]} | {cells[1]} | {ratio:.2f} |")
    out += [""] + [f"`{m}`: all spreads within 25% and all ratios within 2.5-6: "
                   f"**{all(v)}** ({sum(v)} of {len(v)} checks)." for m, v in verdict.items()]
    out += ["", "At learning rate 0.2 the crossing falls 1-3 records (every 5 steps) after the "
            "start. `\"bbp\"`'s window then reaches `U_MAX` (2.2) within a few records and is "
            "given 6 observed records at least (the most parameters of a law + the noise scale + "
            "2), not 8: the records past `U_MAX` describe the bend towards saturation, and with "
            "8 the laws' backward extrapolations spread over 10 steps (linear ~18, saturating "
            "26-29 on `2.weight`) while their weights, flattened by the misfit's "
            "autocorrelation, picked one or the other from seed to seed (spreads 37-62%). "
            "Recorded at every step (lr 0.2, batch 32, 300 steps):", "",
            "| lr 0.2, batch 32, every=1 | 0.weight bbp | 0.weight detect | 2.weight bbp | "
            "2.weight detect |", "|---|---|---|---|---|"]
    for seed, res in fine:
        out.append(f"| seed {seed} | " + " | ".join(_fmt(res[m][la, 0]) for la in HIDDEN
                                                     for m in ("bbp", "detect")) + " |")
    out += ["",
            "## 2. Properties of issue #11", "",
            "Dropping one record: the largest move of `2.weight`'s rank-0 crossing over dropping "
            "each of the 12 records around it in turn (seed 0; recording interval 5 steps).", "",
            "| run | bbp: largest move | detect: largest move |", "|---|---|---|"]
    for row in table:
        if "drop" in row:
            out.append(f"| {row['name']} | {row['drop']['bbp']:.1f} | {row['drop']['detect']:.1f} |")
    n_ord = sum(all(r["ordered"]) for r in table)
    n_hon = sum(all(r["honest"]) for r in table)
    out += ["", f"Crossings ordered by rank in {n_ord} of {len(table)} runs (bbp and detect); "
            f"left-censored only with a significant first step in {n_hon} of {len(table)}.", "",
            "Short against long store (lr 0.05, batch 32, seed 0; the first 1000 steps of a "
            "5000-step run against the whole run):", "",
            "`detect` stays inside its short-store interval (a longer store lowers only the "
            "Bonferroni half of its levels; the interval ends at the detection by the other "
            "half, which does not depend on later records). "
            "`bbp`'s growth-law window ends where the ratio reaches `U_MAX` or its rise stalls, "
            "judged on the records up to there and a look-ahead of 1.5 times the time since the "
            "spike was first seen, never on the whole store: once a store holds that look-ahead, "
            "more records change nothing (before, a stall that resumed thousands of steps later "
            "moved the window: 0.weight rank 1 to step 465 on 1000 steps, to 835 on 5000).", "",
            "| layer | rank | bbp, 1000 steps | bbp, 5000 steps | detect, 1000 | detect, 5000 |",
            "|---|---|---|---|---|---|"]
    for layer in HIDDEN:
        for k in range(3):
            try:
                cells = [_fmt(r[m][layer, k]) for m in ("bbp", "detect") for r in (res_short, res_long)]
            except KeyError:
                continue
            out.append(f"| {layer} | {k} | " + " | ".join(cells) + " |")
    out += ["", "## 3. Controls", "",
            "| control | seed | rows detected (bbp) | rank-0 crossings (bbp) |", "|---|---|---|---|"]
    for what, seed, res in controls:
        det = [t for t in res["bbp"] if t.detected]
        lead = ", ".join(f"{la}: {_fmt(res['bbp'][la, 0])}" for la in res["bbp"].layers)
        out.append(f"| {what} | {seed} | {len(det)} | {lead} |")
    out += ["", "lr = 0 must give no crossing (the weights never change); shuffled labels are "
            "not a null: the network memorises and its layers grow spikes (reported, not false).",
            "", "## 4. Tiny BERT (Hugging Face callback)", "",
            "| layer | rank | bbp | detect | p at step 0 |", "|---|---|---|---|---|"]
    for name in res_bert["bbp"].layers:
        p0 = res_bert["bbp"].diagnostics["pvalue_seq"].sel(layer=name).isel(step=0).values
        for t in res_bert["bbp"][name]:
            try:
                d = res_bert["detect"][name, t.rank]
            except KeyError:
                d = None
            out.append(f"| {name} | {t.rank} | {_fmt(t)} | {_fmt(d)} | {p0[t.rank]:.2g} |")
    out += ["", "## 5. Cost per run", "",
            "Wall-clock seconds on a shared 2-core machine (noisy; compare within the table).", "",
            "| run | records | training + recording | transition_time (bbp + detect) |",
            "|---|---|---|---|"]
    for name, n_rec, tr, an in cost:
        out.append(f"| {name} | {n_rec} | {tr:.1f} | {an:.1f} |")
    out += ["", "## 6. Figures", "",
            "Top eigenvalues, the edge of the null each step's test used (MP edge, or the soft "
            "edge where the bulk is deformed) with the band up to the eigenvalue rank 0 must "
            "exceed, the crossing of rank 0 with its interval, and the spike count per step "
            "(not capped at `max_spikes`).", ""]
    for title, path in figs:
        out += [f"**{title}**", "", f"![{title}]({path})", ""]
    text = "\n".join(out + lines) + "\n"
    print(text)
    if not opts.quick:
        with open(os.path.join(ROOT, "docs", "transition_realruns.md"), "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
