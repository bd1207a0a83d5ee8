"""Shipped exact null samples: simulated Monte Carlo nulls of common layer shapes, stored bit for bit.

Owns :func:`shipped_sample`, the reader of ``data/exact_null_samples.npz`` (made by
``scripts/make_null_samples.py``), and the lossless codec of its entries (:func:`encode`,
:func:`decode`). The exact spike tests and the MP goodness of fit compare a statistic with a
sorted Monte Carlo sample of it under a Gaussian null of the layer's shape; each sample is a
deterministic function of its key ``(kind, n, m, B)`` (it is drawn from a seed derived from the
key), so it can be simulated once and shipped. The table (2 MB) holds those samples for the
shapes common transformer checkpoints request: the 384/1536 family (all-MiniLM-L6-v2,
e5/bge-small, ViT-S) with the deflated shapes of its sequential test and goodness of fit, and the
goodness-of-fit samples of BERT-base (768/3072), the costliest to simulate
(``scripts/make_null_samples.py`` lists them). An
entry is exactly the float64 array the simulator returns, so p-values from it are bit-identical to
p-values from a simulation.

Each kind of sample has a version string, owned by the module that simulates it
(:data:`bbpfit.inference.null_cache.NULL_VERSION`, :data:`bbpfit.fit.gof.GOF_NULL_VERSION`)
and stored in the table when it was made. An entry is used only when the caller's version equals
the table's, so a change of a null's definition or seed, with its version bumped, can never read a
stale entry; ``tests/test_null_samples.py`` re-simulates entries and fails if the table and the
simulators drift apart without a version bump. Shapes not in the table are simulated as before.

Codec: the sorted float64 values are read as unsigned 64-bit integers; the first is kept and the
rest as differences modulo 2^64 (small: neighbours in a sorted sample share their leading bits),
laid out as eight byte planes; the file is zlib-compressed by :func:`numpy.savez_compressed`.
About 5 bytes a value instead of 8, and exact for any float64 values (NaN and inf included).
"""

from __future__ import annotations

import functools

import numpy as np

from .._data import load_npz

__all__ = ["decode", "encode", "shipped_sample", "shipped_keys"]

TABLE = "exact_null_samples.npz"
SCRIPT = "scripts/make_null_samples.py"


def encode(values: np.ndarray) -> np.ndarray:
    """The byte planes (uint8, ``8 * values.size``) of a float64 array's successive differences.

    ``decode(encode(x))`` is ``x`` bit for bit.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    delta = np.diff(bits, prepend=np.uint64(0))  # modulo 2^64: exact for any bit patterns
    return np.ascontiguousarray(delta.view(np.uint8).reshape(-1, 8).T).reshape(-1)


def decode(planes: np.ndarray) -> np.ndarray:
    """The float64 array whose :func:`encode` is ``planes``."""
    planes = np.asarray(planes, dtype=np.uint8)
    if planes.size % 8:
        raise ValueError(f"`planes` must hold 8 bytes per value, got {planes.size} bytes")
    delta = np.ascontiguousarray(planes.reshape(8, -1).T).view(np.uint64).reshape(-1)
    return np.cumsum(delta, dtype=np.uint64).view(np.float64)


@functools.cache
def _index() -> tuple[dict, dict, np.ndarray, np.ndarray]:
    """``({key: entry}, {kind: version}, offsets, planes)``; empty when the table is missing."""
    try:
        table = load_npz(TABLE, "exact null sample", SCRIPT)
    except FileNotFoundError:  # a source tree without its data: every null is simulated
        return {}, {}, np.zeros(1, np.int64), np.zeros(0, np.uint8)
    kinds = [str(k) for k in table["kinds"]]
    versions = dict(zip(kinds, (str(v) for v in table["versions"]), strict=True))
    keys = {(kinds[int(c)], int(n), int(m), int(b)): i for i, (c, n, m, b) in enumerate(table["keys"])}
    return keys, versions, table["offsets"], table["planes"]


def shipped_keys() -> list[tuple[str, int, int, int]]:
    """The keys ``(kind, n, m, B)`` of the table's entries."""
    return list(_index()[0])


def table_version(kind: str) -> str | None:
    """The version string the table's samples of ``kind`` were made with (None: no such kind)."""
    return _index()[1].get(kind)


@functools.lru_cache(maxsize=64)
def _entry(i: int) -> np.ndarray:
    _, _, offsets, planes = _index()
    out = decode(planes[offsets[i]:offsets[i + 1]])
    out.setflags(write=False)
    return out


def shipped_sample(key: tuple, version: str) -> np.ndarray | None:
    """The shipped null sample of ``key = (kind, n, m, B)``, or None when it must be simulated.

    Parameters
    ----------
    key : tuple
        ``(kind, n, m, n_draws)`` as the null caches key their samples.
    version : str
        The caller's current version of the ``kind`` null; an entry made with another version is
        never returned.

    Returns
    -------
    numpy.ndarray or None
        Read-only, ascending, float64, shape ``(n_draws,)``: the simulator's sample bit for bit.

    Examples
    --------
    >>> from bbpfit.inference.null_cache import NULL_VERSION, simulate_null
    >>> t = shipped_sample(("kn", 1536, 383, 1999), NULL_VERSION)
    >>> bool((t == simulate_null("kn", 1536, 383, 1999)).all())
    True
    >>> shipped_sample(("kn", 1536, 383, 1999), "another version") is None
    True
    """
    keys, versions, _, _ = _index()
    kind, n, m, b = key
    i = keys.get((kind, int(n), int(m), int(b)))
    if i is None or versions.get(kind) != version:
        return None
    return _entry(i)
