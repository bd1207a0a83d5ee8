"""benchmarks/bench_speed_floor.py times the stages the pipeline really calls.

The benchmark wraps functions where `analyze` looks them up; a refactor that moves a call
elsewhere would silently time nothing. Here every stage in the floor of `auto` must be entered on
a layer that takes the rank path with two planted spikes, the exclusive times must add up to no
more than the run, and the wrapped functions must be put back.
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))

import bench_speed_floor as floor  # noqa: E402

import bbpfit.zoo.layer as layer  # noqa: E402
from bbpfit.zoo import analyze  # noqa: E402


def _layer(seed=0, n=600, m=200):
    rng = np.random.default_rng(seed)
    w = rng.standard_t(4, size=(n, m)) / np.sqrt(2.0)  # heavy tails: the rank path
    for theta in (6.0, 4.0):
        u, v = rng.standard_normal(n), rng.standard_normal(m)
        w += theta * np.sqrt(n) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    return w


def test_every_floor_stage_of_auto_is_timed_and_the_wraps_come_off():
    original = layer.fast_spectrum
    timer = floor.instrument()
    try:
        c = time.process_time()
        table = analyze({"w.weight": _layer()}, method="auto")
        total = time.process_time() - c
    finally:
        timer.restore()
    assert layer.fast_spectrum is original
    assert "rank-gaussianize" in table["path"].iloc[0]
    assert int(table["n_spikes"].iloc[0]) >= 2
    for stage in floor.FLOOR["auto"]:
        assert timer.calls[stage] >= 1, stage
    assert all(v >= 0.0 for v in timer.totals.values())
    assert sum(timer.totals.values()) <= total * 1.05
