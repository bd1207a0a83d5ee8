"""``transition_time`` over several runs: per-run table, pooled crossings, time axes, CLI.

Synthetic runs with known crossings (``spike_trajectory``) check the pooling and the time axis
against values computed here by hand (Student t quantiles from a printed table); real runs
(an MLP on scikit-learn's digits at two learning rates, recorded by ``SpectrumRecorder``)
check that the several-runs path works on what the recorder writes and that the learning-rate
axis lines up runs at different rates.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from threadpoolctl import threadpool_limits

import bbpfit as bf
from bbpfit.cli.main import cli
from bbpfit.simulate import spike_trajectory
from bbpfit.transition.runs import pool_crossings
from bbpfit.transition.runs_result import RunsTransitionResult

N, M, S, EVERY = 400, 200, 60, 10


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _store(theta, *, seed, lr=0.1, steps=None, name="fc.weight"):
    """A store-schema Dataset of one simulated layer (steps EVERY * i)."""
    tr = spike_trajectory(N, M, S, theta, drift=0.3, rng=np.random.default_rng(seed))
    steps = EVERY * np.arange(S) if steps is None else steps
    ds = xr.Dataset(
        {"eigenvalues": (("layer", "step", "rank"), tr.eigenvalues[None].astype(np.float32)),
         "wall_time": ("step", 1000.0 + 2.0 * np.arange(S)), "loss": ("step", np.ones(S)),
         "lr": ("step", np.full(S, lr))},
        coords={"layer": [name], "step": steps.astype(np.int64), "rank": np.arange(M),
                "n": ("layer", [N]), "m": ("layer", [M])})
    return ds, EVERY * tr.t_cross


def _linear(t):
    return 0.03 * np.asarray(t, dtype=float)


@pytest.fixture(scope="module")
def seeds():
    """Three seeds of one setting (crossing at the same step) and their true crossings."""
    return [_store(_linear, seed=s) for s in (11, 12, 13)]


def test_runs_match_each_store_alone_and_pool_by_hand(seeds):
    stores = [ds for ds, _ in seeds]
    res = bf.transition_time(stores, runs=["a", "b", "c"], n_boot=100)
    assert isinstance(res, RunsTransitionResult) and res.runs == ("a", "b", "c")
    for ds, run in zip(stores, res.runs, strict=True):  # each run exactly as alone
        alone = bf.transition_time(ds, n_boot=100)
        assert res[run].to_dict() == alone.to_dict()
    assert len(res.pooled) == len({(t.layer, t.rank) for r in res.results for t in r})
    rank0 = [r for r in res.rows if r.transition.rank == 0]
    times = np.array([r.time for r in rank0])
    np.testing.assert_array_equal(times, [r.transition.step for r in rank0])  # time axis "step"
    p = res.pooled_for("fc.weight", 0)
    assert (p.n_runs, p.n_pooled, p.group) == (3, 3, "all")
    # t_{0.95, 2} = 2.919986 (Student t table); 90% interval of the mean of 3
    mean, sd = times.mean(), times.std(ddof=1)
    half = 2.919986 * sd / math.sqrt(3)
    assert p.time == pytest.approx(mean) and p.sd == pytest.approx(sd)
    within_lo = np.sqrt(np.mean([(r.time - r.time_low) ** 2 for r in rank0]) / 3)
    within_hi = np.sqrt(np.mean([(r.time_high - r.time) ** 2 for r in rank0]) / 3)
    lo, hi = min(mean - half, mean - within_lo), max(mean + half, mean + within_hi)
    assert (p.ci_low, p.ci_high) == pytest.approx((lo, hi), rel=1e-6)
    # the three seeds share the true crossing: the pooled interval holds it
    truth = seeds[0][1]
    assert all(t == truth for _, t in seeds)
    assert p.ci_low <= truth <= p.ci_high
    frame = res.to_dataframe()
    assert list(frame["run"].unique()) == ["a", "b", "c"] and "time" in frame
    assert res.pooled_dataframe().loc[0, "n_pooled"] == 3
    json.dumps(res.to_dict())  # plain Python
    assert "Pooled over the runs" in res.summary() and "3/3" in res.summary()


def test_pool_crossings_reference_values():
    # t_{0.95, 1} = 6.313752 (Student t table): two runs, 90%
    mean, lo, hi, sd = pool_crossings([100.0, 120.0], [0, 0], [0, 0])
    assert (mean, sd) == pytest.approx((110.0, math.sqrt(200.0)))
    assert hi - mean == pytest.approx(6.313752 * math.sqrt(200.0) / math.sqrt(2), rel=1e-6)
    assert lo == pytest.approx(2 * mean - hi)
    assert pool_crossings([50.0], [40.0], [60.0]) == (50.0, 40.0, 60.0, pytest.approx(math.nan,
                                                                                      nan_ok=True))
    assert all(math.isnan(v) for v in pool_crossings([], [], []))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_pooled_interval_covers_the_mean_over_seeds(k):
    # runs' crossings drawn around a common expected crossing (seed-to-seed spread 12 steps):
    # the 90% interval of the mean must cover it in 90% of 2000 sets; binomial sd 0.0067,
    # tolerance 3 sd
    rng = np.random.default_rng(20261203 + k)
    hits = 0
    for _ in range(2000):
        x = 200.0 + 12.0 * rng.standard_normal(k)
        _, lo, hi, _ = pool_crossings(x, x, x)
        hits += lo <= 200.0 <= hi
    assert abs(hits / 2000 - 0.9) < 3 * math.sqrt(0.09 / 2000)


def test_lr_step_axis_lines_up_runs_at_different_learning_rates():
    # the spike grows with lr * step (theta = 0.015 lr * step; the trajectories are indexed
    # by record): 4x the rate, recorded 4x as often, crosses at a quarter of the steps
    a, _ = _store(lambda i: 0.015 * 0.05 * 40 * np.asarray(i, float), seed=21, lr=0.05,
                  steps=40 * np.arange(S))
    b, _ = _store(lambda i: 0.015 * 0.2 * 10 * np.asarray(i, float), seed=22, lr=0.2)
    res = bf.transition_time([a, b], runs=["slow", "fast"], group=["x", "x"], time="lr*step",
                             method="detect")
    slow, fast = (res[r]["fc.weight", 0] for r in ("slow", "fast"))
    assert 2.5 < slow.step / fast.step < 6  # about 4x later in steps
    rows = {r.run: r for r in res.rows if r.transition.rank == 0}
    assert rows["slow"].time == pytest.approx(0.05 * slow.step)  # constant lr: lr * step
    assert rows["fast"].time == pytest.approx(0.2 * fast.step)
    assert rows["slow"].time_low == pytest.approx(0.05 * slow.ci_low)
    assert abs(rows["slow"].time - rows["fast"].time) < 0.35 * rows["fast"].time
    by_step = bf.transition_time([a, b], group="lr", method="detect")
    assert {p.group for p in by_step.pooled} == {"lr=0.05", "lr=0.2"}


def test_other_time_axes():
    a, _ = _store(_linear, seed=31)
    b, _ = _store(_linear, seed=32)
    for ds in (a, b):
        ds["samples"] = ds["step"] * 32
    res = bf.transition_time([a, b], time="samples", method="detect")
    for r in res.rows:
        assert r.time == pytest.approx(32 * r.transition.step)
    res = bf.transition_time([a, b], time=lambda ds: ds["step"].values / 100.0, method="detect")
    assert res.time == "custom"
    assert res.rows[0].time == pytest.approx(res.rows[0].transition.step / 100.0)
    res = bf.transition_time([a, b], time="elapsed", method="detect")  # wall 2 s per record
    assert res.rows[0].time == pytest.approx(2.0 * res.rows[0].transition.step / EVERY)


def test_integrated_lr_follows_a_schedule():
    from bbpfit.transition.timeaxis import time_axis

    steps = np.array([0, 10, 20, 30])
    ds = xr.Dataset({"lr": ("step", [0.0, 0.1, 0.1, 0.05])}, coords={"step": steps})
    # trapezoid: 0.5, then 1.0, then 0.75 (a linear warm-up, a plateau, a linear decay)
    np.testing.assert_allclose(time_axis(ds, "lr*step", "r"), [0.0, 0.5, 1.5, 2.25])


def test_bad_input(seeds):
    a, b = seeds[0][0], seeds[1][0]
    other = a.assign_coords(layer=["other.weight"])
    with pytest.raises(ValueError, match="different layers.*lacks"):
        bf.transition_time([a, other])
    wide = a.assign_coords(n=("layer", [N + 1]))
    with pytest.raises(ValueError, match=r"\(n, m\)"):
        bf.transition_time([a, wide])
    no_lr = b.assign(lr=("step", np.full(S, np.nan)))
    with pytest.raises(ValueError, match="run 'run1'.*'lr'.*not finite"):
        bf.transition_time([a, no_lr], time="lr*step")
    with pytest.raises(ValueError, match="no per-step variable 'epoch'"):
        bf.transition_time([a, b], time="epoch")
    with pytest.raises(ValueError, match="decreases"):
        bf.transition_time([a, b], time=lambda ds: -ds["step"].values)
    with pytest.raises(ValueError, match="one value per recorded step"):
        bf.transition_time([a, b], time=lambda ds: np.zeros(3))
    with pytest.raises(TypeError, match="`time` must be"):
        bf.transition_time([a, b], time=3)
    with pytest.raises(ValueError, match="`runs` must name each"):
        bf.transition_time([a, b], runs=["x"])
    with pytest.raises(ValueError, match="duplicate"):
        bf.transition_time([a, b], runs=["x", "x"])
    with pytest.raises(ValueError, match="`group` must give one label"):
        bf.transition_time([a, b], group=["g"])
    with pytest.raises(ValueError, match="`group` must be None, 'lr'"):
        bf.transition_time([a, b], group="seed")
    with pytest.raises(ValueError, match="empty list"):
        bf.transition_time([])
    with pytest.raises(TypeError, match=r"`spectra\[1\]`"):
        bf.transition_time([a, 3])
    with pytest.raises(ValueError, match="apply to several runs"):
        bf.transition_time(a, time="lr*step")


# -- real runs: an MLP on digits, two seeds at each of two learning rates ----------------------

def _train(path, *, seed, lr, steps=400, every=10, batch=32):
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits
    from torch import nn

    torch.manual_seed(seed)
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    with bf.SpectrumRecorder(model, path, every=every, optimizer=opt, background=False) as rec:
        for _ in range(steps):
            idx = torch.randint(0, len(x), (batch,), generator=gen)
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            rec.log(loss=loss)
            opt.zero_grad()
            loss.backward()
            opt.step()


@pytest.fixture(scope="module")
def digits_runs(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    folder = tmp_path_factory.mktemp("digits")
    paths = []
    for lr in (0.05, 0.2):
        for seed in (0, 1):
            path = folder / f"s{seed}_lr{lr}.bbp"
            _train(path, seed=seed, lr=lr)
            paths.append(str(path))
    return paths


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:layer '4.weight' skipped")
def test_real_runs_pooled_per_learning_rate(digits_runs):
    res = bf.transition_time(digits_runs, group="lr", method="detect", layer="2.weight")
    assert res.runs == ("s0_lr0.05", "s1_lr0.05", "s0_lr0.2", "s1_lr0.2")
    assert res.groups == ("lr=0.05", "lr=0.05", "lr=0.2", "lr=0.2")
    slow = res.pooled_for("2.weight", 0, "lr=0.05")
    fast = res.pooled_for("2.weight", 0, "lr=0.2")
    assert slow.n_pooled == slow.n_runs == 2 and fast.n_pooled == 2
    assert slow.ci_low <= slow.time <= slow.ci_high
    assert 1.5 < slow.time / fast.time < 8  # a faster rate crosses earlier (about 4x)
    # on the integrated learning rate the two rates are within a factor 2.5 of each other
    lrt = bf.transition_time(digits_runs, group="lr", method="detect", layer="2.weight",
                             time="lr*step")
    a, b = (lrt.pooled_for("2.weight", 0, g).time for g in ("lr=0.05", "lr=0.2"))
    assert 0.4 < a / b < 2.5
    for r in lrt.rows:  # the recorder stores the constant rate: lr * step exactly
        lr = 0.05 if r.group == "lr=0.05" else 0.2
        assert r.time == pytest.approx(lr * r.transition.step)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:layer '4.weight' skipped")
def test_cli_several_stores(digits_runs):
    one = CliRunner().invoke(cli, ["transition", digits_runs[0], "--method", "detect",
                                   "--layer", "2.weight"])
    assert one.exit_code == 0, one.output
    assert one.output.splitlines()[0].split()[0] == "layer"  # a single store: unchanged table
    run = CliRunner().invoke(cli, ["transition", *digits_runs, "--method", "detect", "--layer",
                                   "2.weight", "--group", "lr", "--time", "lr*step"])
    assert run.exit_code == 0, run.output
    out = run.output
    assert "per run (time axis: lr*step)" in out and "pooled per group" in out
    pooled = out.split("pooled per group")[1].splitlines()
    assert any(line.startswith("lr=0.05") and " 2.weight " in line for line in pooled)
    assert any(line.startswith("lr=0.2") for line in pooled)
    assert sum(line.startswith("s0_lr0.05") for line in out.splitlines()) >= 1
    doc = json.loads(CliRunner().invoke(cli, ["transition", *digits_runs[:2], "--method",
                                              "detect", "--layer", "2.weight", "--format",
                                              "json"]).output)
    assert doc["runs"] == ["s0_lr0.05", "s1_lr0.05"] and doc["pooled"][0]["n_runs"] == 2
    csv = CliRunner().invoke(cli, ["transition", *digits_runs[:2], "--method", "detect",
                                   "--layer", "2.weight", "--format", "csv", "--run", "a",
                                   "--run", "b", "--group", "g1", "--group", "g2"])
    assert csv.exit_code == 0, csv.output
    runs_csv, pooled_csv = csv.output.split("\n\n")
    assert runs_csv.splitlines()[0].startswith("run,group,layer,rank")
    assert {line.split(",")[0] for line in runs_csv.splitlines()[1:]} == {"a", "b"}
    assert {line.split(",")[0] for line in pooled_csv.splitlines()[1:]} == {"g1", "g2"}
    bad = CliRunner().invoke(cli, ["transition", *digits_runs[:2], "--time", "epoch"])
    assert bad.exit_code != 0 and "no per-step variable 'epoch'" in bad.output


def test_runs_that_agree_exactly_keep_their_own_error():
    a, _ = _store(_linear, seed=41)
    res = bf.transition_time([a, a], runs=["x", "y"])  # the same run twice: sd = 0
    p = res.pooled_for("fc.weight", 0)
    one = res["x"]["fc.weight", 0]
    assert p.sd == 0.0 and p.time == one.step
    # the t-interval has zero width; the runs' own error over sqrt(2) remains
    assert p.ci_low == pytest.approx(one.step - (one.step - one.ci_low) / math.sqrt(2))
    assert p.ci_high == pytest.approx(one.step + (one.ci_high - one.step) / math.sqrt(2))
