"""bf.alignment over stores with vectors: planted spikes, swaps, chained layers, bad input."""

from __future__ import annotations

import os

import numpy as np
import pytest

import bbpfit as bf
from bbpfit.laws.overlap import predicted_overlaps
from bbpfit.store import LayerInfo, SpectraWriter


def _write(path, mats_per_step, names, top_k=3):
    """A store from a list (per step) of lists (per layer) of matrices, vectors by LAPACK SVD."""
    shapes = [m.shape for m in mats_per_step[0]]
    layers = [LayerInfo(nm, s, s[0], s[1]) for nm, s in zip(names, shapes, strict=True)]
    with SpectraWriter(path, layers, top_k=top_k) as wr:
        for t, mats in enumerate(mats_per_step):
            lam, left, right = [], [], []
            for W in mats:
                U, s, Vt = np.linalg.svd(W, full_matrices=False)
                lam.append(s**2 / max(W.shape))
                left.append(U[:, :top_k].T)
                right.append(Vt[:top_k])
            wr.append(t, lam, left_vectors=left, right_vectors=right)
    return path


def _unit(rng, d):
    x = rng.standard_normal(d)
    return x / np.linalg.norm(x)


def test_planted_spike_measured_overlap_matches_prediction(tmp_path):
    # A spike of 400 x 200 grows from 0.5 to 3 theta_c with fresh noise at every record: the
    # measured overlap with the planted u (left) and v (right) follows the BBP prediction from
    # theta-hat. Tolerance 0.05 on the mean over the 8 records at >= 1.5 theta_c (one draw per
    # record: sd of an overlap about 0.03-0.06 there, so the mean's se is about 0.02).
    rng = np.random.default_rng(7)
    rows, cols = 400, 200
    tc = (cols / rows) ** 0.25
    ratios = np.linspace(0.5, 3.0, 12)
    u, v = _unit(rng, rows), _unit(rng, cols)
    mats = [[rng.standard_normal((rows, cols)) / np.sqrt(rows) + r * tc * np.outer(u, v)]
            for r in ratios]
    path = _write(os.path.join(tmp_path, "s.bbp"), mats, ["w"])
    al = bf.alignment(path, directions={"w": u}, n_draws=100).sel(layer="w")
    al_v = bf.alignment(path, directions={"w": v}, predict=False).sel(layer="w")
    meas_u = al["direction_overlap"].sel(rank=0, direction=0).values
    meas_v = al_v["direction_overlap"].sel(rank=0, direction=0).values
    pred_u, pred_v = al["predicted_left"].sel(rank=0).values, al["predicted_right"].sel(rank=0).values
    strong = ratios >= 1.5
    assert abs(meas_u[strong].mean() - pred_u[strong].mean()) < 0.05
    assert abs(meas_v[strong].mean() - pred_v[strong].mean()) < 0.05
    # the prediction is built from theta-hat, which is near the truth: compare with the truth too
    truth = predicted_overlaps(ratios * tc, rows, cols)
    assert np.max(np.abs(pred_u[strong] - truth.left[strong])) < 0.05
    assert pred_u[0] == 0.0 and meas_u[0] < 0.1  # below threshold: predicted 0, measured ~ 1/rows
    lo, hi = al["predicted_left_low"].sel(rank=0).values, al["predicted_left_high"].sel(rank=0).values
    ok = np.isfinite(lo)
    assert ok[strong].all() and np.all(lo[ok] <= pred_u[ok] + 1e-12) and np.all(pred_u[ok] <= hi[ok] + 1e-12)
    # persistence against the last record: with independent noise E = ov(t) ov(last)
    pers = al["persistence_right_last"].sel(rank=0).values
    assert abs(pers[strong][:-1].mean() - (pred_v[strong][:-1] * pred_v[-1]).mean()) < 0.07
    assert pers[0] < 0.1 < 0.5 < pers[-2]  # persistence rises as the spike detaches


def test_swap_of_two_close_spikes_is_not_lost_alignment(tmp_path):
    # Two spikes of nearly equal strength (singular values 3 and 2.95: eigenvalues 3.3% apart)
    # exchange order between records 1 and 2: the rank-wise persistence drops to ~0 while the
    # subspace (principal-angle) persistence stays ~1. The noise is projected off the spikes'
    # directions so that the planted pairs are exact singular pairs and the swap is clean.
    rng = np.random.default_rng(3)
    rows, cols = 300, 150
    U0, _ = np.linalg.qr(rng.standard_normal((rows, 2)))
    V0, _ = np.linalg.qr(rng.standard_normal((cols, 2)))
    (u1, u2), (v1, v2) = U0.T, V0.T
    Z = rng.standard_normal((rows, cols)) / np.sqrt(rows)
    Z = (Z - U0 @ (U0.T @ Z)) - ((Z - U0 @ (U0.T @ Z)) @ V0) @ V0.T
    mats = [[Z + a * np.outer(u1, v1) + b * np.outer(u2, v2)]
            for a, b in ((3.0, 2.95), (3.0, 2.95), (2.95, 3.0), (2.95, 3.0))]
    al = bf.alignment(_write(os.path.join(tmp_path, "s.bbp"), mats, ["w"]), predict=False)
    w = al.sel(layer="w")
    assert np.all(w["persistence_right"].sel(step=2, rank=[0, 1]).values < 0.05)
    assert np.all(w["subspace_right"].sel(step=2, rank=[0, 1]).values > 0.99)
    assert np.all(w["subspace_left_last"].sel(step=0, rank=[0, 1]).values > 0.99)
    # with degenerate_tol=0 the subspace reading is rank by rank, so it also drops
    w0 = bf.alignment(_write(os.path.join(tmp_path, "t.bbp"), mats, ["w"]), predict=False,
                      degenerate_tol=0).sel(layer="w")
    assert np.all(w0["subspace_right"].sel(step=2, rank=[0, 1]).values < 0.05)
    # a rank that genuinely rotates away is not rescued by the grouping
    mats2 = [[Z + 3.0 * np.outer(u1, v1)], [Z + 3.0 * np.outer(u2, v2)]]
    w2 = bf.alignment(_write(os.path.join(tmp_path, "u.bbp"), mats2, ["w"]), predict=False)
    assert float(w2["subspace_right"].sel(layer="w", step=1, rank=0)) < 0.05


def test_between_layers_chain_and_vector_step_dim(tmp_path):
    # layer a (rows 80, cols 40) and layer b (rows 30, cols 80) chain: a's left vectors (80) vs
    # b's right vectors (80). b's spike is planted along a's: overlap near 1, far above chance.
    rng = np.random.default_rng(5)
    h = _unit(rng, 80)
    mats = []
    for _ in range(3):
        A = rng.standard_normal((80, 40)) / np.sqrt(80) + 3.0 * np.outer(h, _unit(rng, 40))
        B = rng.standard_normal((30, 80)) / np.sqrt(80) + 3.0 * np.outer(_unit(rng, 30), h)
        C = rng.standard_normal((30, 20)) / np.sqrt(30)
        mats.append([A, B, C])
    path = _write(os.path.join(tmp_path, "s.bbp"), mats, ["a", "b", "c"])
    al = bf.alignment(path, predict=False)
    assert al["next_layer"].values.tolist() == ["b", "", ""]
    assert np.all(al["next_layer_overlap"].sel(layer="a", rank=0).values > 0.7)
    assert np.all(al["next_layer_captured"].sel(layer="a", rank=0).values > 0.7)
    assert np.all(np.isnan(al["next_layer_overlap"].sel(layer="b").values))
    # a store whose vectors use the new `vector_step` dimension reads the same
    ds = bf.open_spectra(path)
    for var in ("left_vectors", "right_vectors"):
        if "step" in ds[var].dims:  # stores from before the vector_step recorder
            ds[var] = ds[var].rename(step="vector_step")
    al2 = bf.alignment(ds, predict=False)
    np.testing.assert_allclose(al2["next_layer_overlap"].values, al["next_layer_overlap"].values)


def test_bad_input(tmp_path):
    rng = np.random.default_rng(0)
    mats = [[rng.standard_normal((20, 10)), rng.standard_normal((8, 8))] for _ in range(2)]
    path = _write(os.path.join(tmp_path, "s.bbp"), mats, ["a", "sq"], top_k=2)
    with pytest.raises(ValueError, match="layer"):
        bf.alignment(path, layer="nope")
    with pytest.raises(ValueError, match="length 7"):
        bf.alignment(path, directions={"a": np.ones(7)}, predict=False)
    with pytest.raises(ValueError, match="direction_side"):
        bf.alignment(path, directions={"sq": np.ones(8)}, predict=False)
    assert bf.alignment(path, directions={"sq": np.ones(8)}, direction_side="left",
                        predict=False)["direction_captured"].sel(layer="sq").notnull().all()
    with pytest.raises(ValueError, match="finite"):
        bf.alignment(path, directions={"a": np.full(20, np.nan)}, predict=False)
    with pytest.raises(ValueError, match="zero vector"):
        bf.alignment(path, directions={"a": np.zeros(20)}, predict=False)
    with pytest.raises(TypeError, match="directions"):
        bf.alignment(path, directions=[np.ones(20)], predict=False)
    with pytest.raises(TypeError, match="spectra"):
        bf.alignment(np.ones(3))
    ds = bf.open_spectra(path)
    bad = ds.copy(deep=True)
    bad["left_vectors"][0, 0, 0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN/Inf inside recorded vectors"):
        bf.alignment(bad, predict=False)
    with pytest.raises(ValueError, match="top_k_vectors"):
        bf.alignment(ds.drop_vars(["left_vectors", "right_vectors"]))


def test_pure_noise_predicts_zero_overlap(tmp_path):
    # No spike: theta-hat is read only where the sequential test is significant, so the BBP
    # prediction is exactly 0 at every step where the test does not reject (before the
    # significance gate a one-step 50 x 30 noise store predicted 0.41).
    rng = np.random.default_rng(11)
    mats = [[rng.standard_normal((200, 100))] for _ in range(4)]
    al = bf.alignment(_write(os.path.join(tmp_path, "n.bbp"), mats, ["w"]), n_draws=50)
    w = al.sel(layer="w", rank=0)
    quiet = w["pvalue"].values > 0.05
    assert quiet.sum() >= 3
    assert np.all(w["predicted_right"].values[quiet] == 0.0)
    assert np.all(w["ratio"].values[quiet] <= 1.0)


def test_vectors_on_their_own_vector_step_coordinate(tmp_path):
    # 15c's layout: vectors every few steps on `vector_step`, eigenvalues on `step`; a vector
    # step without an eigenvalue record gets NaN eigenvalues and no prediction.
    rng = np.random.default_rng(2)
    u, v = _unit(rng, 200), _unit(rng, 100)
    tc = 0.5**0.25
    mats = [[rng.standard_normal((200, 100)) / np.sqrt(200) + r * tc * np.outer(u, v)]
            for r in np.linspace(0.3, 3, 8)]
    ds = bf.open_spectra(_write(os.path.join(tmp_path, "a.bbp"), mats, ["w"]))
    vec = ds[["left_vectors", "right_vectors"]]
    if "step" in vec["left_vectors"].dims:  # stores from before the vector_step recorder
        vec = vec.rename(step="vector_step")
    vec = vec.isel(vector_step=[0, 3, 5, 7])
    vec = vec.assign_coords(vector_step=[0, 3, 5, 99])
    new = ds.drop_vars(["left_vectors", "right_vectors", "vector_step"], errors="ignore").assign(
        left_vectors=vec["left_vectors"], right_vectors=vec["right_vectors"])
    w = bf.alignment(new, n_draws=30, directions={"w": v}).sel(layer="w", rank=0)
    assert w["step"].values.tolist() == [0, 3, 5, 99]
    pred = w["predicted_right"].values
    assert pred[0] == 0.0 and 0.3 < pred[2] and np.isnan(pred[3])
    np.testing.assert_allclose(w["eigenvalues"].values[:3], ds["eigenvalues"].sel(
        layer="w", rank=0, step=[0, 3, 5]).values)
    assert float(w["direction_overlap"].sel(step=5, direction=0)) > 0.5


def test_chaining_follows_the_store_order_not_the_selection(tmp_path):
    # a (20 x 10) -> b (15 x 20) -> c (30 x 20): a's rows (20) equal c's cols (20), but a's next
    # layer is b; selecting [a, c] chained a with c before the fix. Selecting only a reaches b.
    rng = np.random.default_rng(4)
    mats = [[rng.standard_normal((20, 10)), rng.standard_normal((15, 20)),
             rng.standard_normal((30, 20))] for _ in range(2)]
    path = _write(os.path.join(tmp_path, "s.bbp"), mats, ["a", "b", "c"], top_k=2)
    only_a = bf.alignment(path, layer="a", predict=False)
    assert only_a["next_layer"].values.tolist() == ["b"]
    a_c = bf.alignment(path, layer=["a", "c"], predict=False)
    assert a_c["next_layer"].values.tolist() == ["b", ""]
    full = bf.alignment(path, predict=False)
    np.testing.assert_allclose(only_a["next_layer_overlap"].values[0],
                               full["next_layer_overlap"].sel(layer="a").values)
