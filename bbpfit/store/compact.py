"""Compaction: merging a store's fragments into one zarr part, crash-safely.

Order of operations (each step leaves a readable store if the process dies right after it):

1. write the merged Dataset to a temporary directory, fsync it, rename it to ``data-<hex>.zarr``;
2. atomically replace the marker so that it names the new data part and the fragments merged
   into it (readers skip those from now on);
3. only then delete the merged fragments and the previous data part.

A crash before step 2 leaves an unreferenced directory that the next writer or compaction deletes;
a crash after it leaves merged fragments that readers ignore and the next compaction deletes.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from . import layout
from .reader import dataset_attrs, read_store, vectors_dtype_of
from .schema import build_dataset

#: Steps per zarr chunk along ``step`` in the compacted part.
STEP_CHUNK = 256


@dataclass(frozen=True)
class CompactResult:
    """What a compaction did.

    Attributes
    ----------
    path : str
        The store.
    n_steps, n_layers : int
        Size of the compacted store.
    n_fragments : int
        Fragments merged by this compaction (0: it was already compact).
    data : str or None
        Name of the compacted zarr part inside the store.
    """

    path: str
    n_steps: int
    n_layers: int
    n_fragments: int
    data: str | None

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return asdict(self)


def compact(path) -> CompactResult:
    """Merge the fragments of a store into its compacted zarr part.

    Safe to run on a store left by a killed recorder; it refuses (``RuntimeError``) while another
    process is writing the store. Killing a compaction at any moment loses nothing.

    Parameters
    ----------
    path : str or os.PathLike
        A store directory.

    Returns
    -------
    CompactResult

    Raises
    ------
    ValueError
        ``path`` is not a bbpfit store or has another convention.
    RuntimeError
        The store's lock is held by a recorder or another compaction.
    """
    path = os.fspath(path)
    if not layout.is_store(path):
        raise ValueError(f"`path` {path!r} is not a bbpfit store (no {layout.MARKER})")
    with layout.StoreLock(path):
        return compact_locked(path)


def compact_locked(path: str) -> CompactResult:
    """:func:`compact` for a caller that already holds the store lock."""
    meta = layout.read_marker(path)
    layout.collect_garbage(path, meta)
    compacted = meta.get("compacted") or {}
    merged = set(compacted.get("fragments", []))
    pending = [f for f in layout.list_fragments(path) if f not in merged]
    meta, layers, arrays = read_store(path)
    n_steps = int(arrays["step"].size)
    if not pending or n_steps == 0:
        return CompactResult(path, n_steps, len(layers), 0, compacted.get("data"))
    ds = build_dataset(layers, arrays, dataset_attrs(meta))
    for name in ("layer", "shape"):  # zarr v3 stores variable-length strings from object arrays
        ds[name] = ds[name].astype(object)
    chunk = min(n_steps, STEP_CHUNK)
    encoding: dict[str, dict] = {"eigenvalues": {"chunks": (1, chunk, ds.sizes["rank"])}}
    n_vec = int(arrays["vector_step"].size) if "vector_step" in arrays else 0
    for key in ("left_vectors", "right_vectors"):
        if key in ds:
            encoding[key] = {"chunks": (1, max(1, min(n_vec, STEP_CHUNK)), *ds[key].shape[2:]),
                             "dtype": vectors_dtype_of(meta)}
    name = layout.new_data_name()
    final = os.path.join(path, name)
    tmp = layout.tmp_name(final)
    ds.to_zarr(tmp, mode="w-", consolidated=False, zarr_format=3, encoding=encoding)
    layout.publish_dir(tmp, final)
    meta = dict(meta)
    meta["compacted"] = {"data": name, "fragments": pending, "n_steps": n_steps,
                         "last_step": int(np.max(arrays["step"]))}
    if "vector_step" in arrays:
        vs = arrays["vector_step"]
        meta["compacted"]["last_vector_step"] = int(vs.max()) if vs.size else None
    layout.write_marker(path, meta)
    layout.collect_garbage(path, meta)
    return CompactResult(path, n_steps, len(layers), len(pending), name)
