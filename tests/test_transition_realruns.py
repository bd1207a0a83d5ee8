"""Transition times on recorded real training runs: the four failures of issue #11 and the
properties that rule them out (one dropped record, a longer store, rank order, left-censoring).

The stores under ``tests/data`` are the top of real recordings (``SpectrumRecorder``), made by
``benchmarks/transition_realruns.py``'s recipe: an MLP 64-256-256-10 on scikit-learn's digits
with plain SGD (``digits_sgd005_b32_seed0``: lr 0.05, batch 32, seed 0, every 5 steps;
``digits_sgd02_b256_seed1``: lr 0.2, batch 256, seed 1; ``digits_shuffled_sgd02_6000``: shuffled
labels, lr 0.2, batch 32, 6000 steps, every 50) and a tiny ``BertForSequenceClassification``
(hidden 64, 2 layers, AdamW, 400 steps through the Hugging Face callback, every 10). Each of
the failure tests failed on the code before the fix (values in the comments).
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest
import xarray as xr

from bbpfit import BBPFitWarning
from bbpfit.transition import transition_time

DATA = os.path.join(os.path.dirname(__file__), "data")


def _load(name):
    z = np.load(os.path.join(DATA, name + ".npz"))
    out = {}
    for i, layer in enumerate(z["layers"]):
        out[str(layer)] = xr.DataArray(z[f"eig{i}"].astype(np.float64), dims=("step", "rank"),
                                       coords={"step": z["steps"]}, attrs={"n": int(z[f"n{i}"])},
                                       name=str(layer))
    return out


def _run(da, method, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BBPFitWarning)
        return transition_time(da, method=method, n_boot=100, **kw)


@pytest.fixture(scope="module")
def digits():
    return _load("digits_sgd005_b32_seed0")


def test_one_reclassified_step_does_not_reset_the_answer(digits):
    # before: detect 210 for all ranks; without step 205: 110 / 125 / 140 (bbp 51 -> 102)
    da = digits["2.weight"]
    full = _run(da, "detect")
    dropped = _run(da.drop_sel(step=205), "detect")
    for a, b in zip(full, dropped, strict=True):
        assert abs(a.step - b.step) <= 10, (a.bound, b.bound)
    assert full.transitions[0].step < 150
    d = full.diagnostics.sel(layer="2.weight", step=205)
    assert str(d["null"].values) == "mp" and float(d["pvalue"].isel(spike=0)) < 1e-50


@pytest.mark.slow
def test_dropping_any_one_record_moves_a_crossing_by_at_most_two_intervals(digits):
    da = digits["2.weight"]
    base = _run(da, "detect")
    for s in range(60, 260, 5):
        other = _run(da.drop_sel(step=s), "detect")
        for a, b in zip(base, other, strict=True):
            assert abs(a.step - b.step) <= 10, (s, a.rank, a.step, b.step)


def test_the_null_does_not_flip_at_single_records(digits):
    res = _run(digits["2.weight"], "detect")
    null = res.diagnostics.sel(layer="2.weight")["null"].values.astype(str)
    change = np.flatnonzero(null[1:] != null[:-1])
    assert np.all(np.diff(change) >= 3) if change.size > 1 else True


def test_long_runs_keep_their_transitions():
    # before: "> 6000" for detect and bbp on the whole store (the first 1000 steps: ~400, ~245)
    da = _load("digits_shuffled_sgd02_6000")["2.weight"]
    short = da.sel(step=slice(0, 1000))
    a, b = _run(short, "detect").transitions[0], _run(da, "detect").transitions[0]
    assert a.detected and a.ci_low <= b.step <= a.ci_high, (a.bound, b.bound)
    assert b.step - a.step <= 50  # one recording interval
    # bbp: never erased, and inside the short store's interval (its growth-law window ends on
    # the records up to it and a bounded look-ahead, not on the whole store)
    a, b = _run(short, "bbp").transitions[0], _run(da, "bbp").transitions[0]
    assert a.detected and b.detected and a.censored is None and b.censored is None
    assert a.ci_low <= b.step <= a.ci_high, (a.bound, b.bound)
    diag = _run(da, "detect").diagnostics.sel(layer="2.weight")
    # the bulk below ~50 class-free spikes is still MP: the MP fit may trim that many now
    assert np.all(diag["pvalue_seq"].values[-20:, :] < 1e-10)
    assert diag["n_spikes"].values[-1] >= 40  # not capped at max_spikes = 3


def test_recording_longer_does_not_move_the_bbp_crossing():
    # digits MLP lr 0.05, batch 32, seed 0, layer 0.weight: every 5 steps to 1000, every 25 to
    # 5000. Before: the growth-law window ended where the rise stalled *and never resumed in
    # the whole store*, so 4000 more steps moved it (ranks 0-2: window to 470 / 465 / 435 on
    # 1000 steps, 480 / 835 / 1410 on 5000; bbp 108.2 / 108.2 / 170.5 -> 107.2 / 107.2 / 148.3)
    da = _load("digits_sgd005_b32_seed0_5000")["0.weight"]
    short, long_ = (_run(x, "bbp", rng=0) for x in (da.sel(step=slice(0, 1000)), da))
    assert len(short.transitions) == len(long_.transitions) == 3
    for a, b in zip(short, long_, strict=True):
        assert a.detected and b.detected and a.censored is None
        assert a.details["window"] == b.details["window"], (a.rank, a.details, b.details)
        assert a.ci_low <= b.step <= a.ci_high
        np.testing.assert_allclose([b.step, b.ci_low, b.ci_high], [a.step, a.ci_low, a.ci_high])
        assert 60 < a.step < 250  # detect: 165 [120, 165] for rank 0


def test_left_censored_only_with_evidence_at_the_first_step():
    # before: "<= 0.0 [0.0, 0.0]" for rank 0 of intermediate.dense and query, p >= 0.35 at step 0
    runs = _load("tinybert_adamw_400")
    seen = 0
    for da in runs.values():
        for method in ("bbp", "changepoint", "detect"):
            res = _run(da, method)
            p0 = res.diagnostics["pvalue_seq"].isel(layer=0, step=0).values
            for t in res:
                seen += t.detected
                if t.censored == "left" or (t.detected and t.step <= 0.0):
                    assert p0[t.rank] <= 0.05, (da.name, method, t.rank, t.bound)
                assert not (t.ci_low == t.ci_high == 0.0), (da.name, method, t.bound)
    assert seen >= 20


def test_crossings_are_ordered_by_rank():
    # before: bbp 26.3 / 5.9 / 4.8 for ranks 0 / 1 / 2 of 2.weight
    runs = _load("digits_sgd02_b256_seed1")
    runs["bert"] = _load("tinybert_adamw_400")["bert.encoder.layer.0.attention.self.key.weight"]
    for name, da in runs.items():
        for method in ("bbp", "detect", "changepoint"):
            rows = [t for t in _run(da, method) if t.detected and math.isfinite(t.step)]
            steps = [t.step for t in rows]
            assert steps == sorted(steps), (name, method, [t.bound for t in rows])


def test_the_readout_layer_is_analysed_with_the_mp_test(digits):
    # before: "layer skipped: m = 10 < 24" (and a ValueError when it was the only layer)
    da = digits["4.weight"]
    with pytest.warns(BBPFitWarning, match="m = 10 < 24: exact MP test"):
        res = transition_time(da, n_boot=100)
    lead = res.transitions[0]
    assert lead.detected and 20 < lead.step < 400 and lead.details["small_layer"]
    # its N(0, 1/256)-like start is not a spike; near the end 8 ranks (= m - 2, the most
    # that can be counted) are out for the 10 classes
    n_sp = res.diagnostics["n_spikes"].isel(layer=0).values
    assert n_sp[0] == 0 and n_sp[-1] >= 6


@pytest.mark.slow
def test_lr_zero_on_real_torch_weights_gives_no_crossing(tmp_path):
    torch = pytest.importorskip("torch")
    from bbpfit.recording import SpectrumRecorder
    from bbpfit.store import open_spectra

    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    x = torch.randn(512, 64)
    y = torch.randint(0, 10, (512,))
    with SpectrumRecorder(model, tmp_path / "lr0.bbp", every=5, optimizer=opt):
        for i in range(200):
            idx = slice((i * 32) % 512, (i * 32) % 512 + 32)
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BBPFitWarning)
        res = transition_time(open_spectra(tmp_path / "lr0.bbp"), n_boot=50)
    assert res.layers == ("0.weight", "2.weight")
    assert not any(t.detected for t in res)


def test_the_figure_draws_the_edge_the_test_used_and_the_spike_count(digits):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from bbpfit.cli.transition import plot_layer

    da = digits["2.weight"]
    ds = xr.Dataset({"eigenvalues": da.expand_dims(layer=["2.weight"])},
                    coords={"n": ("layer", [256]), "m": ("layer", [256])})
    res = _run(ds, "bbp")
    diag = res.diagnostics.sel(layer="2.weight")
    lam1, crit = da.values[:, 0], diag["test_crit"].values
    above = lam1 > crit
    # lambda_1 above the drawn critical value <=> rank 0 significant <=> a spike is counted
    assert np.mean(above == (diag["pvalue"].values[:, 0] <= 0.05)) >= 0.98
    assert np.all(diag["n_spikes"].values[above] >= 1)
    assert np.all(diag["test_edge"].values <= crit)
    fig = plot_layer(ds, res, "2.weight")
    top, bottom = fig.axes
    edge_line = [ln for ln in top.lines if ln.get_label() == "edge of the test's null"][0]
    np.testing.assert_allclose(edge_line.get_ydata(), diag["test_edge"].values)
    np.testing.assert_array_equal(bottom.lines[0].get_ydata(), diag["n_spikes"].values)
    assert diag["n_spikes"].values.max() >= 8  # ten classes: more than max_spikes = 3
