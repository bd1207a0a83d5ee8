"""Make ``data/exact_null_samples.npz``: the exact null samples of common transformer shapes.

A first ``bbpfit check`` in a fresh environment spent most of its time beyond compilation
simulating the exact nulls its tests request (all-MiniLM-L6-v2: 141 KN samples and 31 MP
goodness-of-fit samples, 11-13 s of CPU). Every sample is a deterministic function of its key
(seeded by it), so this script simulates them once, with the simulators the tests call
(:func:`bbpfit.inference.null_cache.simulate_null`, :func:`bbpfit.fit.gof._simulate`), and stores
them losslessly (:func:`bbpfit.laws.null_samples.encode`); :mod:`bbpfit.laws.null_samples` reads
them back bit for bit.

Shapes (``n x m`` layers, spikes ``k``), as a check requests them:

- ``"kn"``, ``B = 9999`` (the first step of the sequential test): ``(n, m)`` of the 384/1536
  family (MiniLM, e5/bge-small, ViT-S);
- ``"kn"``, ``B = 1999`` (the deflation steps ``k >= 1``): ``(n, m - k)`` for ``k`` up to
  :data:`K_KN` (all-MiniLM-L6-v2 reaches k = 79), 384/1536 family only: 10 kB an entry for 40
  ms of simulation, so they take most of the size budget (2 MB);
- ``"mpgof"``, ``B = 99`` (the goodness of fit after ``k`` spikes): ``(n - k, m - k)`` for ``k``
  up to :data:`K_GOF` of each shape, the family's and BERT-base's (768/3072): 0.6 kB an entry
  for 0.2-1.3 s of simulation.

Each kind's version string (:data:`bbpfit.inference.null_cache.NULL_VERSION`,
:data:`bbpfit.fit.gof.GOF_NULL_VERSION`) is stored with the table; rerun this script whenever
one is bumped (``tests/test_null_samples.py`` fails while the table and the simulators disagree).

Usage: ``python scripts/make_null_samples.py [--out data/exact_null_samples.npz]``; about 10
minutes of one core (mostly the BERT-base GoF samples).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bbpfit.fit import gof
from bbpfit.fit.gof import GOF_NULL_VERSION, default_draws
from bbpfit.inference.null_cache import N_NULL, N_NULL_DEFLATION, NULL_VERSION, simulate_null
from bbpfit.laws.null_samples import decode, encode

#: Layer shapes ``(n, m)``: the 384/1536 family (MiniLM, e5/bge-small, ViT-S) and BERT-base.
FAMILY = [(384, 384), (1536, 384)]
BASE = [(768, 768), (3072, 768)]
#: Deepest deflation step kept for the KN samples (family shapes) and the GoF samples.
K_KN = 80
K_GOF = {384: 96, 768: 128}
KINDS = ("kn", "mpgof")


def keys() -> list[tuple[str, int, int, int]]:
    """Every ``(kind, n, m, B)`` of the table."""
    out = [("kn", n, m, N_NULL) for n, m in FAMILY]
    out += [("kn", n, m - k, N_NULL_DEFLATION) for n, m in FAMILY for k in range(1, K_KN + 1)]
    for n, m in FAMILY + BASE:
        out += [("mpgof", n - k, m - k, default_draws(m - k)) for k in range(K_GOF[m] + 1)]
    return out


def simulate(key: tuple[str, int, int, int]) -> np.ndarray:
    """The sample of ``key`` as the tests simulate it."""
    kind, n, m, b = key
    if kind == "mpgof":
        return gof._simulate(n, m, b)
    return simulate_null(kind, n, m, b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data"
                        / "exact_null_samples.npz")
    args = parser.parse_args()
    t0 = time.perf_counter()
    todo = keys()
    samples = []
    for i, key in enumerate(todo):
        samples.append(simulate(key))
        if i % 50 == 0:
            print(f"{i}/{len(todo)} {key} ({time.perf_counter() - t0:.0f} s)", flush=True)
    write(args.out, todo, samples)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(todo)} samples) in "
          f"{time.perf_counter() - t0:.0f} s")


def write(out: Path, todo: list, samples: list) -> None:
    """Store ``samples`` (one per key of ``todo``) as the table reads them."""
    rows, blobs = [], []
    for key, sample in zip(todo, samples, strict=True):
        planes = encode(sample)
        if not np.array_equal(decode(planes).view(np.uint64), sample.view(np.uint64)):
            raise AssertionError(f"the codec is not lossless on {key}")
        rows.append((KINDS.index(key[0]), *key[1:]))
        blobs.append(planes)
    offsets = np.cumsum([0] + [b.size for b in blobs]).astype(np.int64)
    versions = {"kn": NULL_VERSION, "mpgof": GOF_NULL_VERSION}
    np.savez_compressed(out, kinds=np.array(KINDS), versions=np.array([versions[k] for k in KINDS]),
                        keys=np.array(rows, dtype=np.int64), offsets=offsets,
                        planes=np.concatenate(blobs))


if __name__ == "__main__":
    main()
