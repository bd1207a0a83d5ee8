"""bf.alignment on a real torch run: an MLP 64-256-256-10 on scikit-learn's digits (no download),
plain SGD lr 0.05, batch 32, 300 steps, recorded every 10 steps with ``top_k_vectors=3`` and
``vectors_every=10`` (vectors on their own ``vector_step`` dimension).

Measured on this run (seed 0): in ``2.weight`` the top eigenvalue leaves the bulk at step ~90
(theta-hat / theta_c 1.08, then up to 2.9); the top right vector's persistence against the last
record is 0.00 for steps 0-70 and 0.6-1.0 once theta-hat > 2 theta_c; ``2.weight``'s top left
vector and ``4.weight``'s top right vector (both length 256) go from overlap 0.00 to 0.92.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import bbpfit as bf  # noqa: E402


@pytest.fixture(scope="module")
def digits_store(tmp_path_factory):
    from sklearn.datasets import load_digits
    from torch import nn

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(0)
    path = os.path.join(tmp_path_factory.mktemp("digits"), "run.bbp")
    try:
        with bf.SpectrumRecorder(model, path, every=10, optimizer=opt, top_k_vectors=3, vectors_every=10,
                                 background=False) as rec:
            for _ in range(300):
                idx = torch.randint(0, len(x), (32,), generator=g)
                loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
                rec.log(loss=loss)
                opt.zero_grad()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    return path


def test_persistence_rises_as_the_spike_detaches(digits_store):
    al = bf.alignment(digits_store, interval=False)
    w = al.sel(layer="2.weight", rank=0)
    ratio = w["ratio"].values
    last = w["persistence_right_last"].values[:-1]  # the last record is 1 by definition
    ratio = ratio[:-1]
    inside, detached = ratio <= 1.0 + 1e-9, ratio > 2.0
    assert inside.sum() >= 5 and detached.sum() >= 5
    assert last[inside].mean() < 0.1
    assert last[detached].mean() > 0.6
    # the BBP prediction is 0 while the eigenvalue is in the bulk and grows after
    pred = w["predicted_right"].values[:-1]
    assert np.all(pred[inside] == 0.0) and np.all(pred[detached] > 0.5)
    # and the rise in persistence follows theta-hat: rank correlation over the run
    from scipy.stats import spearmanr

    assert spearmanr(ratio, last).statistic > 0.9


def test_consecutive_layers_align_during_training(digits_store):
    al = bf.alignment(digits_store, predict=False)
    assert al["next_layer"].sel(layer="2.weight").item() == "4.weight"
    ov = al["next_layer_overlap"].sel(layer="2.weight", rank=0).values
    chance = 1.0 / 256
    assert ov[0] < 20 * chance and ov[-1] > 0.7
    # the first layer (256 x 64) chains into 2.weight (256 x 256): left length 256 = cols
    assert al["next_layer"].sel(layer="0.weight").item() == "2.weight"
    # user directions: the recorded top left vector of 4.weight at the end, as a direction
    ds = bf.open_spectra(digits_store)
    u_end = ds["left_vectors"].sel(layer="4.weight").isel(vector_step=-1, k=0).values[:10]
    d = bf.alignment(ds, layer="4.weight", predict=False, directions={"4.weight": u_end})
    ov_end = d["direction_overlap"].sel(layer="4.weight").isel(step=-1, rank=0, direction=0)
    assert float(ov_end) == pytest.approx(1.0, abs=1e-5)
