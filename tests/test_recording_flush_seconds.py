"""The wall-clock flush bound: a slow run killed with SIGKILL loses seconds, not ``flush_every`` records."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from bbpfit.store import LayerInfo, SpectraWriter, open_spectra

# Records one step every 0.1 s with a count bound that is never reached (flush_every=1000):
# only the 0.5 s wall-clock bound publishes fragments.
CHILD = r"""
import sys, time
import torch
from bbpfit.recording import SpectrumRecorder

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))
rec = SpectrumRecorder(model, sys.argv[1], flush_every=1000, flush_seconds=0.5, background=False)
step = 0
while True:
    with torch.no_grad():
        model[0].weight.add_(0.01 * torch.randn_like(model[0].weight))
    rec.record(step)
    print("recorded", step, time.time(), flush=True)
    step += 1
    time.sleep(0.1)
"""


@pytest.mark.slow
def test_sigkill_of_a_slow_run_loses_at_most_the_last_seconds(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "slow.bbp"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    recorded = {}
    try:
        first = None
        while True:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"child died: {proc.stderr.read()}")
            _, step, when = line.split()
            recorded[int(step)] = float(when)
            first = first if first is not None else float(when)
            if float(when) - first > 3.0:
                break
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.time()
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    steps = open_spectra(path).step.values.tolist()
    # everything recorded more than the bound (0.5 s) plus a margin for a loaded machine
    # (1.5 s) before the kill is on disk; with only flush_every=1000 nothing would be
    old = [s for s, t in recorded.items() if t < killed - 2.0]
    assert len(old) >= 10
    assert set(old) <= set(steps)
    assert steps == list(range(len(steps)))  # a prefix: nothing lost between, nothing twice
    assert set(steps) <= set(recorded)


def test_writer_publishes_on_the_wall_clock_bound(tmp_path):
    path = tmp_path / "w.bbp"
    layers = [LayerInfo("fc.weight", (3, 2), 3, 2)]
    w = SpectraWriter(path, layers, flush_every=100, flush_seconds=0.2)
    try:
        w.append(0, [np.array([2.0, 1.0])])
        w.append(1, [np.array([3.0, 1.0])])
        assert open_spectra(path).sizes["step"] == 0  # still buffered
        deadline = time.time() + 10.0
        while open_spectra(path).sizes["step"] < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert open_spectra(path).step.values.tolist() == [0, 1]
        w.append(2, [np.array([4.0, 1.0])])  # a new timer for the next batch
        w.flush()  # an explicit flush cancels it; nothing is written twice
        time.sleep(0.4)
        assert open_spectra(path).step.values.tolist() == [0, 1, 2]
    finally:
        w.close()
    assert open_spectra(path).step.values.tolist() == [0, 1, 2]


def test_flush_seconds_is_checked(tmp_path):
    layers = [LayerInfo("fc.weight", (3, 2), 3, 2)]
    with pytest.raises(ValueError, match="flush_seconds"):
        SpectraWriter(tmp_path / "a", layers, flush_seconds=0)
    with pytest.raises(TypeError, match="flush_seconds"):
        SpectraWriter(tmp_path / "b", layers, flush_seconds="60")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
