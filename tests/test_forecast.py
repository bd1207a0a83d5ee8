"""Early warning (bf.forecast_transition): calibration on records without a spike (seeded,
binomial tolerance), prediction intervals on records with a known crossing, frozen weights,
real torch records at lr = 0, result objects and bad input. The full study is
benchmarks/forecast_accuracy.py (docs/alignment.md, section 2)."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest
import xarray as xr
from scipy.stats import binom

import bbpfit as bf
from bbpfit.simulate import spike_trajectory

DATA = os.path.join(os.path.dirname(__file__), "data")


def _da(lam, steps, n=100, name="w"):
    return xr.DataArray(lam, dims=("step", "rank"), coords={"step": np.asarray(steps)},
                        attrs={"n": n}, name=name)


def _null(seed, drift, n=100, m=50, steps=30):
    tr = spike_trajectory(n, m, steps, np.zeros(steps), drift=drift, rng=seed)
    return _da(tr.eigenvalues, tr.steps, n)


def _forecast(da, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bf.forecast_transition(da, **{"horizon": 30, "n_boot": 200, **kw})


@pytest.mark.slow
def test_false_warnings_at_most_alpha_on_slowly_drifting_noise():
    # 60 pure-noise records of 30 steps whose entries renew by 5% per record (the hard null:
    # the top eigenvalue wanders like a random walk over the record), alpha = 0.05: warnings are
    # Binomial(60, <= 0.05), P(X >= 8) = 0.016 at 0.05. Measured: 2/60. It fails when the trend
    # test's null misjudges the autocorrelation (a null of nearly frozen series, rho = 0.99, whose
    # slopes hardly vary: 13/60).
    warn = sum(_forecast(_null(s, 0.05), rng=s).warning for s in range(60))
    assert binom.sf(7, 60, 0.05) < 0.02
    assert warn <= 7


@pytest.mark.slow
def test_a_rising_spike_moves_the_forecast_away_from_pure_noise():
    # a straight rise of theta through theta_c at step 150 on noise drawn afresh each step,
    # 100 x 50, recorded to step 135 (90%), against pure noise of the same length, 8 seeds each:
    # the rise gets the earlier predicted crossing and the higher probability. Measured: median
    # step 145 vs 213, mean probability 0.78 vs 0.62. It fails when the posterior reads the law
    # the wrong way round (w -> -w - 4 in the likelihood: 142 vs 145, 0.98 vs 0.99).
    tc = 0.5**0.25
    out = {}
    for label, rate in (("rise", tc / 150.0), ("null", 0.0)):
        steps, probs = [], []
        for seed in range(8):
            tr = spike_trajectory(100, 50, 136, lambda t, r=rate: r * np.asarray(t, float),
                                  drift=None, rng=seed)
            f = _forecast(_da(tr.eigenvalues, tr.steps), horizon=150, n_boot=100, rng=seed)[0]
            if f.status == "forecast":
                steps.append(f.step)
                probs.append(f.probability)
        out[label] = (np.median(steps), np.mean(probs))
    assert out["rise"][0] < out["null"][0] - 50
    assert out["rise"][1] > out["null"][1] + 0.08


def test_frozen_weights_never_warn_and_fall_back_to_the_prior():
    lam = np.tile(_null(3, None)[0].values, (25, 1))  # lr = 0: the same spectrum every step
    res = _forecast(_da(lam, np.arange(25) * 10, 100), horizon=100)
    f = res["w", 0]
    assert not f.warning and f.pvalue == 1.0 and f.details["rho"] == 1.0
    assert f.details["ess"] == 0.0
    assert (f.pi_low, f.step, f.pi_high) == pytest.approx(f.details["prior"])
    assert f.details["information"] == pytest.approx(0.0, abs=1e-9)  # the record added nothing


def test_information_is_the_divergence_of_the_forecast_from_its_prior():
    # details["information"] = KL(posterior || prior) on the crossing grid, in nats, checked
    # against scipy's rel_entr (no shared code): 0 at the prior, -log(prior_i) for a point mass,
    # positive for any other weights. It fails if the divergence is taken the wrong way round
    # (sum p log(prior / p) <= 0, clipped to 0) or from the other side (KL(prior || p)).
    from scipy.special import rel_entr

    from bbpfit.transition.forecast_posterior import D_GRID, prior_weights
    from bbpfit.transition.forecast_trend import kl_from_prior

    prior = prior_weights()
    assert prior.size == D_GRID.size and prior.sum() == pytest.approx(1.0)
    assert kl_from_prior(prior) == pytest.approx(0.0, abs=1e-12)
    point = np.zeros(prior.size)
    point[40] = 1.0
    assert kl_from_prior(point) == pytest.approx(-math.log(prior[40]), rel=1e-12)
    rng = np.random.default_rng(7)
    for conc in (0.05, 1.0, 20.0):
        p = rng.dirichlet(np.full(prior.size, conc))
        assert kl_from_prior(p) == pytest.approx(float(rel_entr(p, prior).sum()), rel=1e-10)
        assert kl_from_prior(p) > 0.0


def test_a_spike_already_out_is_reported_as_crossed():
    tr = spike_trajectory(100, 50, 20, np.full(20, 2.0), drift=None, rng=0)
    f = _forecast(_da(tr.eigenvalues, tr.steps))[0]
    assert f.status == "crossed" and f.probability == 1.0 and not f.warning
    assert math.isnan(f.step)


def test_several_ranks_the_crossed_ones_then_the_next():
    tr = spike_trajectory(100, 50, 20, np.full(20, 2.0), drift=None, rng=1)
    res = _forecast(_da(tr.eigenvalues, tr.steps), max_spikes=3)
    assert [f.status for f in res] == ["crossed", "forecast"]
    assert [f.rank for f in res] == [0, 1]


def test_result_objects():
    res = _forecast(_null(0, None))
    df = res.to_dataframe()
    assert list(df.columns[:5]) == ["layer", "rank", "status", "warning", "probability"]
    d = res.to_dict()
    assert d["horizon"] == 30 and d["last_step"] == 29 and len(d["forecasts"]) == 1
    assert "P(cross)" in res.summary() and "ForecastResult(" in repr(res)
    f = res[0]
    assert f.pi_low <= f.step <= f.pi_high and 0.0 <= f.probability <= 1.0
    with pytest.raises(KeyError):
        res["nope", 0]


def test_bad_input():
    da = _null(0, None)
    with pytest.raises(ValueError, match="at least 5"):
        bf.forecast_transition(da.isel(step=slice(0, 4)), horizon=10)
    with pytest.raises(ValueError, match=r"layer\(s\) \['nope'\]"):
        bf.forecast_transition(da, horizon=10, layer="nope")
    for h in (0, -5, math.nan, math.inf):
        with pytest.raises(ValueError, match="`horizon`"):
            bf.forecast_transition(da, horizon=h)
    with pytest.raises(TypeError, match="`horizon`"):
        bf.forecast_transition(da, horizon="10")
    bad = da.copy(data=da.values.copy())
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite top eigenvalues"):
        bf.forecast_transition(bad, horizon=10)
    small = da.isel(rank=slice(0, 5))
    with pytest.raises(ValueError, match="m = 5 < 10"):
        bf.forecast_transition(small, horizon=10, layer="w")
    with pytest.warns(bf.BBPFitWarning, match="skipped"), pytest.raises(ValueError, match="no layer"):
        bf.forecast_transition(small, horizon=10)
    with pytest.raises(TypeError, match="`spectra`"):
        bf.forecast_transition(np.zeros((10, 5)), horizon=10)
    with pytest.raises(ValueError, match="`alpha`"):
        bf.forecast_transition(da, horizon=10, alpha=1.5)


@pytest.mark.slow
def test_lr_zero_on_a_real_digits_mlp_store_gives_no_warning(tmp_path):
    torch = pytest.importorskip("torch")
    datasets = pytest.importorskip("sklearn.datasets")
    from bbpfit.recording import SpectrumRecorder

    digits = datasets.load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with SpectrumRecorder(model, tmp_path / "lr0.bbp", every=5, optimizer=opt):
        for i in range(100):
            idx = slice((i * 32) % 1760, (i * 32) % 1760 + 32)
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    res = _forecast(bf.open_spectra(tmp_path / "lr0.bbp"), horizon=200, max_spikes=2)
    assert {f.layer for f in res} == {"0.weight", "2.weight", "4.weight"}
    assert not res.warning
    assert all(f.pvalue == 1.0 for f in res if f.status == "forecast")


def test_a_real_store_cut_before_its_crossing():
    # the digits MLP (lr 0.05, batch 32): transition_time puts its hidden layer's first crossing
    # at step 84.5 [13.5, 117.1] on the whole store; cut at step 40 the forecast does not call
    # the spike crossed and its interval (measured [40.7, 888.5], median 63.2) holds 84.5.
    z = np.load(os.path.join(DATA, "digits_sgd005_b32_seed0.npz"))
    steps = z["steps"]
    keep = steps <= 40
    da = _da(z["eig0"][keep].astype(np.float64), steps[keep], int(z["n0"]), "2.weight")
    f = _forecast(da, horizon=100)[0]
    assert f.status == "forecast"
    assert 40 <= f.pi_low <= f.step <= f.pi_high
    assert f.pi_low <= 84.5 <= f.pi_high
