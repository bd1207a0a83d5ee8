"""Section 1b of docs/alignment.md: alignment on training runs (teacher-student, digits MLP).

* Linear teacher-student (400 x 200, teacher singular values 3 and 1.5, lr 0.01, 250 steps,
  recorded every 5; 5 seeds per batch size): the student's top singular vectors against the
  teacher's, binned by the true ``theta / theta_c``, beside the BBP prediction from theta(t)
  (:meth:`bbpfit.simulate.result.TeacherStudentResult.predicted_overlaps`). Batch 1000 keeps
  the bulk Marchenko-Pastur, batch 32 deforms it.
* MLP 64-256-256-10 on scikit-learn's digits (plain SGD lr 0.05, batch 32, 300 steps, every 10,
  ``top_k_vectors=3``; 3 seeds): :func:`bbpfit.alignment` per layer.

Run: ``python benchmarks/alignment_runs.py`` (about 2 minutes on one shared core); rewrites the
block between its markers in docs/alignment.md (appended if absent).
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings

import numpy as np
from _doc_section import put_section
from threadpoolctl import threadpool_limits

import bbpfit as bf
from bbpfit.simulate import teacher_student

DOC = os.path.join(os.path.dirname(__file__), "..", "docs", "alignment.md")
BEGIN, END = "<!-- runs:begin -->", "<!-- runs:end -->"
BINS = (1.1, 1.3, 1.5, 2.0, 3.0, np.inf)


def teacher_table(seeds=5):
    lines = ["| batch | theta/theta_c | records | input side: measured / BBP | output side: "
             "measured / BBP |", "|---|---|---|---|---|"]
    for batch in (1000, 32):
        rows = []
        for seed in range(seeds):
            res = teacher_student(400, 200, teacher_strengths=[3.0, 1.5], lr=0.01, batch=batch,
                                  steps=250, every=5, rng=seed)
            p = res.predicted_overlaps()
            r = res.theta / res.theta_c
            rows.append(np.stack([r, res.overlap_right, p.right, res.overlap_left, p.left]))
        a = np.concatenate([x.reshape(5, -1) for x in rows], axis=1)
        for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
            sel = (a[0] >= lo) & (a[0] < hi)
            if sel.any():
                m = a[:, sel].mean(axis=1)
                lines.append(f"| {batch} | [{lo:g}, {hi:g}) | {sel.sum()} | {m[1]:.3f} / {m[2]:.3f} "
                             f"| {m[3]:.3f} / {m[4]:.3f} |")
    return lines


def digits_store(path, seed):
    import torch
    from sklearn.datasets import load_digits
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(seed)
    with bf.SpectrumRecorder(model, path, every=10, optimizer=opt, top_k_vectors=3,
                             background=False):
        for _ in range(300):
            idx = torch.randint(0, len(x), (32,), generator=g)
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return path


def _mean(x):
    return f"{x.mean():.2f}" if x.size else "-"


def digits_table(seeds=3):
    lines = ["| seed | layer | theta-hat/theta_c at end | persistence vs last, in bulk / "
             "theta-hat > 2 theta_c | BBP predicted at end | next layer | next-layer overlap "
             "start -> end |", "|---|---|---|---|---|---|---|"]
    for seed in range(seeds):
        path = digits_store(os.path.join(tempfile.mkdtemp(), "d.bbp"), seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            al = bf.alignment(path, interval=False)
        for name in al["layer"].values:
            w = al.sel(layer=name, rank=0)
            ratio = w["ratio"].values[:-1]
            pers = w["persistence_right_last"].values[:-1]
            inside, out = ratio <= 1 + 1e-9, ratio > 2
            nxt = str(w["next_layer"].values)
            ov = w["next_layer_overlap"].values
            lines.append(f"| {seed} | {name} | {ratio[-1]:.2f} | {_mean(pers[inside])} / {_mean(pers[out])} "
                         f"| {float(w['predicted_right'][-1]):.2f} | {nxt or '-'} | "
                         + (f"{ov[0]:.3f} -> {ov[-1]:.3f} |" if nxt else "- |"))
    return lines


def main():
    t0 = time.time()
    with threadpool_limits(1):
        teach = teacher_table()
        dig = digits_table()
    body = "\n".join([
        "### 1b. Alignment on training runs", "",
        "Linear teacher-student (400 x 200, teacher 3 and 1.5, lr 0.01, 5 seeds): the squared overlap",
        "of the student's top singular vectors with the teacher's (rank-matched), binned by the true",
        "theta/theta_c, against the BBP prediction from theta(t). Batch 1000 keeps the bulk MP;",
        "batch 32 deforms it (eigenvalues with no teacher behind them rise above the MP edge), and",
        "there the measured overlap lags the prediction until the spike is well clear of the bulk.", "",
        *teach, "",
        "Digits MLP 64-256-256-10 (SGD lr 0.05, batch 32, 300 steps, every 10, `top_k_vectors=3`),",
        "`bf.alignment` rank 0, right vectors: persistence against the last record while theta-hat",
        "is at the threshold and once it is above 2 theta_c; the overlap of a layer's left vectors",
        "with the next layer's right vectors (chance 1/256) at the first and last record.", "",
        *dig, "",
        "The output layer (10 x 256: m = 10 < 24) has no bulk to measure a strength against, so no",
        "prediction. Layers 2 -> 4 align in every seed; 0 -> 2 in two of three at rank 0 (seed 1's",
        "rank-0 vectors do not chain). Persistence is read against the last record: with lr 0.05",
        "and a record every 10 steps, consecutive records overlap at ~1 throughout.", "",
        f"Generated by `python benchmarks/alignment_runs.py` ({time.time() - t0:.0f} s, one thread, "
        "shared machine).",
    ])
    put_section(DOC, f"{BEGIN}\n{body}\n{END}", BEGIN, END, after="<!-- overlap:end -->",
                title="# Alignment and early warning\n\n")
    print(body)


if __name__ == "__main__":
    main()
