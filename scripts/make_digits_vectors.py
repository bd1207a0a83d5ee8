"""Record the small real store with singular vectors kept in ``tests/data/digits_vectors.npz``.

An MLP 64-256-256-10 on scikit-learn's digits (``load_digits``, no download), plain SGD with
lr 0.2, batch 256, seed 1 (the recipe of ``benchmarks/transition_realruns.py``), 400 steps,
recorded by :class:`bbpfit.SpectrumRecorder` every 5 steps with ``top_k_vectors=4``,
``vectors_every=10`` and ``vectors_dtype="float16"``. The store is then saved as one compressed
``.npz`` holding exactly the arrays of :func:`bbpfit.open_spectra`'s Dataset (vectors kept as
float16, as on disk); ``tests/recorded_data.py`` (``load_npz_store``) turns it back into that
Dataset.

Run ``python scripts/make_digits_vectors.py [--out tests/data/digits_vectors.npz]`` (about 7 s of CPU).
Last run: 81 steps, 41 vector steps, 3 layers, 0.44 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def record(path, *, steps=400, every=5, lr=0.2, batch=256, seed=1, k=4, vectors_every=10):
    """Train and record the run into the store ``path``."""
    import torch
    from sklearn.datasets import load_digits
    from torch import nn

    from bbpfit.recording import SpectrumRecorder

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    with SpectrumRecorder(model, path, every=every, optimizer=opt, top_k_vectors=k,
                          vectors_every=vectors_every, vectors_dtype="float16",
                          background=False) as rec:
        for _ in range(steps):
            idx = torch.randint(0, len(x), (batch,), generator=g)
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            rec.log(loss=loss)
            opt.zero_grad()
            loss.backward()
            opt.step()


def save_npz(ds, out) -> None:
    """The Dataset's arrays (vectors as float16) and layer table in one compressed npz."""
    np.savez_compressed(
        out,
        layer=ds.layer.values.astype(str), shape=ds.shape.values.astype(str),
        rows=ds.rows.values, cols=ds.cols.values,
        step=ds.step.values, vector_step=ds.vector_step.values,
        eigenvalues=ds.eigenvalues.values, wall_time=ds.wall_time.values, loss=ds.loss.values,
        lr=ds.lr.values,
        left_vectors=ds.left_vectors.values.astype(np.float16),
        right_vectors=ds.right_vectors.values.astype(np.float16),
        attrs=np.array(json.dumps(dict(ds.attrs))),
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "digits_vectors.npz"))
    args = parser.parse_args(argv)
    from bbpfit.store import open_spectra

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "digits.bbp")
        record(path)
        ds = open_spectra(path)
    save_npz(ds, args.out)
    print(f"{ds.sizes['step']} steps, {ds.sizes['vector_step']} vector steps, "
          f"{ds.sizes['layer']} layers, {os.path.getsize(args.out) / 1e6:.2f} MB -> {args.out}")


if __name__ == "__main__":
    main()
