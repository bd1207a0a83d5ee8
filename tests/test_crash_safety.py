"""SIGKILL a recording process at random moments: the store must always open, complete and sane.

The child trains a small model and records every 2 optimizer steps with a fragment every 2
records and top-2 singular vectors every 4 steps (float16); every 20 steps it closes the recorder
(which compacts the store) and resumes it, so the kills land in training, in fragment writes, in
compactions and in resumptions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("torch")

from bbpfit.store import compact, open_spectra  # noqa: E402

# A "zygote" imports torch, xarray and zarr once (single-threaded, so forking is safe) and forks
# one recording child per request: each child starts in milliseconds instead of seconds.
ZYGOTE = r"""
import os, sys, traceback
import torch
import xarray, zarr  # imported up front: kills should land in the work, not in imports
from torch import nn
from bbpfit.recording import SpectrumRecorder

torch.set_num_threads(1)
path = sys.argv[1]


def run(total):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 48), nn.ReLU(),
                          nn.Linear(48, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(64, 32), torch.randint(0, 10, (64,))
    done, ready = 0, False
    while total == 0 or done < total:
        with SpectrumRecorder(model, path, every=2, optimizer=opt, flush_every=2, top_k_vectors=2,
                              vectors_every=4, vectors_dtype="float16") as rec:
            if not ready:
                print("ready", os.getpid(), rec.last_step, flush=True)
                ready = True
            for _ in range(20 if total == 0 else total - done):
                loss = nn.functional.cross_entropy(model(x), y)
                rec.log(loss=loss)
                opt.zero_grad()
                loss.backward()
                opt.step()
                done += 1
    print("done", rec.last_step, flush=True)


# Warm torch up (its first model and optimizer step import more modules, taking seconds) but
# not zarr, whose I/O thread would not survive a fork.
_m = nn.Linear(4, 4)
_o = torch.optim.SGD(_m.parameters(), lr=0.1)
_m(torch.randn(2, 4)).sum().backward()
_o.step()
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            run(int(line))
            os._exit(0)
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    print("exit", status, flush=True)
"""


class Zygote:
    def __init__(self, path):
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def start(self, total: int) -> int:
        """Fork a recording child (``total`` steps, 0: until killed); return its pid when ready."""
        self.proc.stdin.write(f"{total}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.proc.stdin.close()
            raise AssertionError(f"child failed: {line}{self.proc.stderr.read()}")
        return int(line.split()[1])

    def wait(self) -> list[str]:
        """Lines the child printed until it exited, then the exit line."""
        lines = [self.proc.stdout.readline()]
        while not lines[-1].startswith("exit"):
            lines.append(self.proc.stdout.readline())
        return lines

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _check(path):
    ds = open_spectra(path)
    steps = ds.step.values
    assert steps.dtype == np.int64
    assert np.all(np.diff(steps) > 0), "steps must be unique and increasing"
    assert steps.size == 0 or steps[0] == 0
    for name, m in zip(ds.layer.values, ds.m.values, strict=True):
        block = ds.eigenvalues.sel(layer=name).values
        assert not np.isnan(block[:, :m]).any(), f"NaN eigenvalues inside m for {name}"
        assert np.isnan(block[:, m:]).all()
    # vectors: exactly at the recorded multiples of vectors_every, finite inside each layer
    assert ds.vector_step.values.tolist() == [s for s in steps.tolist() if s % 4 == 0]
    for name, rows, cols in zip(ds.layer.values, ds.rows.values, ds.cols.values, strict=True):
        left = ds.left_vectors.sel(layer=name).values
        right = ds.right_vectors.sel(layer=name).values
        assert np.isfinite(left[..., :rows]).all() and np.isnan(left[..., rows:]).all()
        assert np.isfinite(right[..., :cols]).all() and np.isnan(right[..., cols:]).all()
    return ds


@pytest.mark.slow
def test_sigkill_at_random_moments_never_corrupts_the_store(tmp_path):
    rng = np.random.default_rng(20260601)
    path = tmp_path / "run.bbp"
    zygote = Zygote(path)
    previous = None
    kills = 7
    try:
        for _ in range(kills):
            pid = zygote.start(0)
            time.sleep(float(rng.uniform(0.05, 2.0)))
            os.kill(pid, signal.SIGKILL)
            assert zygote.wait()[-1].split() == ["exit", str(signal.SIGKILL)]
            ds = _check(path)
            if previous is not None:  # nothing that was flushed is ever lost
                assert set(previous.step.values) <= set(ds.step.values)
                xr.testing.assert_identical(ds.eigenvalues.sel(step=previous.step),
                                            previous.eigenvalues)
                for v in ("left_vectors", "right_vectors"):
                    xr.testing.assert_identical(ds[v].sel(vector_step=previous.vector_step),
                                                previous[v])
            previous = ds
        assert previous.sizes["step"] > kills  # the runs made progress between kills
        last = int(previous.step.values[-1])
        zygote.start(6)
        assert zygote.wait()[-1].split() == ["exit", "0"]
    finally:
        zygote.close()
    ds = _check(path)
    new = ds.step.values[ds.step.values > last]
    assert new.tolist() == [last + 2, last + 4, last + 6]  # resumed right after the last step
    xr.testing.assert_identical(ds.sel(step=previous.step, vector_step=previous.vector_step),
                                previous)
    compact(path)
    xr.testing.assert_identical(open_spectra(path), ds)
