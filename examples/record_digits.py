"""Record weight spectra while training a small MLP on scikit-learn's digits (no download).

Run ``python examples/record_digits.py [STORE]`` (default: a temporary directory). It trains for
400 optimizer steps with a :class:`bbpfit.SpectrumRecorder` hooked on the optimizer (every 10
steps), then prints per layer the top eigenvalues at the first and last recorded step and, as a
rough indication only, the first step at which each of the top three eigenvalues lies above the
Marchenko-Pastur upper edge of a bulk fitted at that step. This is not a test: the calibrated
spike test is ``bbpfit.spike_test`` and transition times come from ``bbpfit.transition_time``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

import bbpfit as bf
from bbpfit.recording import SpectrumRecorder
from bbpfit.store import open_spectra


def mp_upper_edge(lam: np.ndarray, n: int) -> float:
    """Upper bulk edge: ``bf.fit_mp`` when available, else median matching (Gavish-Donoho)."""
    if hasattr(bf, "fit_mp"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bf.BBPFitWarning)
            return bf.fit_mp(lam, n=n).upper_edge
    law = bf.marchenko_pastur(lam.size / n)
    sigma2 = float(np.median(lam)) / law.median()
    return sigma2 * (1 + np.sqrt(lam.size / n)) ** 2


def train(path: str, steps: int = 400, every: int = 10, seed: int = 0) -> None:
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # a model this small trains fastest on one thread
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    with SpectrumRecorder(model, path, every=every, optimizer=opt) as rec:
        for _ in range(steps):
            idx = torch.randint(0, len(x), (64,), generator=g)
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            rec.log(loss=loss)  # before step(): stored with the step the hook records
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    print(f"trained {steps} steps: final loss {loss.item():.3f}, train accuracy {acc:.3f}")


def report(path: str) -> None:
    ds = open_spectra(path)
    steps = ds.step.values
    print(f"store {path}: {ds.sizes['layer']} layers x {ds.sizes['step']} steps "
          f"({steps[0]}..{steps[-1]})")
    for name in ds.layer.values:
        lay = ds.sel(layer=name)
        n, m = int(lay.n), int(lay.m)
        lam = lay.eigenvalues.values[:, :m]  # (step, m), descending
        edges = np.array([mp_upper_edge(row, n) for row in lam])
        first_above = []
        for r in range(3):
            above = steps[lam[:, r] > edges]
            first_above.append(str(above[0]) if above.size else "never")
        print(f"\n{name}: {lay.shape.item()} (n={n}, m={m}, q={m / n:.3f})")
        print(f"  top eigenvalues at step {steps[0]:>4}: " + np.array2string(lam[0, :3], precision=4))
        print(f"  top eigenvalues at step {steps[-1]:>4}: " + np.array2string(lam[-1, :3], precision=4))
        print("  first step above the fitted MP edge (ranks 0, 1, 2): " + ", ".join(first_above))


def main(argv: list[str]) -> None:
    path = argv[0] if argv else os.path.join(tempfile.mkdtemp(prefix="bbpfit-"), "digits.bbp")
    t0 = time.perf_counter()
    train(path)
    t1 = time.perf_counter()
    report(path)
    print(f"\ntraining {t1 - t0:.1f} s, report {time.perf_counter() - t1:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
