"""Reading spectra: :func:`open_spectra` over a live or finished store, and netCDF export.

A store is read as its compacted zarr part (if any) followed by every fragment not yet merged
into it; the result is one in-memory :class:`xarray.Dataset` in the schema of
:mod:`bbpfit.store.schema`, with unique, increasing steps. Readers take no lock and never write,
so a store can be read while it is being recorded or compacted.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .._files import atomic_path
from . import layout
from .schema import (
    CONVENTION,
    STEP_VARIABLES,
    VECTOR_VARIABLES,
    LayerInfo,
    build_dataset,
    check_convention,
    empty_arrays,
    layers_from_dataset,
    sort_unique_steps,
    step_axis,
    vectors_on_step_dim,
)

_RETRIES = 5


def _zarr_arrays(folder: str) -> dict[str, np.ndarray]:
    import xarray as xr

    with xr.open_zarr(folder, consolidated=False, zarr_format=3) as ds:
        return _dataset_arrays(ds)


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    out = {}
    for key in parts[0]:
        out[key] = np.concatenate([p[key] for p in parts], axis=step_axis(key))
    return out


def _read_once(path: str, meta: dict) -> tuple[list[LayerInfo], dict[str, np.ndarray]]:
    check_convention(meta.get("convention"), f"the store {path!r}")
    layers = [LayerInfo.from_dict(d) for d in meta["layers"]]
    names = [x.name for x in layers]
    compacted = meta.get("compacted") or {}
    merged = set(compacted.get("fragments", []))
    parts = [empty_arrays(layers, int(meta.get("top_k", 0)))]
    if compacted.get("data"):
        parts.append(_zarr_arrays(os.path.join(path, compacted["data"])))
    for name in layout.list_fragments(path):
        if name in merged:
            continue
        frag = vectors_on_step_dim(layout.read_fragment(path, name))
        if list(frag.pop("layer")) != names:
            raise ValueError(f"the store {path!r} is inconsistent: fragment {name} has other "
                             "layers than its marker")
        parts.append(frag)
    return layers, sort_unique_steps(_concat(parts))


def read_store(path: str):
    """Read a store directory into ``(marker, layers, step arrays)``.

    Files are deleted only after the marker stops referring to them, so when reading fails and
    the marker has changed meanwhile (a concurrent compaction), the read is retried.
    """
    for attempt in range(_RETRIES):
        meta = layout.read_marker(path)
        try:
            return (meta, *_read_once(path, meta))
        except Exception:
            if attempt == _RETRIES - 1 or layout.read_marker(path) == meta:
                raise
    raise AssertionError("unreachable")


def last_step_of(path: str, meta: dict) -> int | None:
    """The largest step held by the store at ``path`` (``None`` if it holds none)."""
    compacted = meta.get("compacted") or {}
    merged = set(compacted.get("fragments", []))
    last = compacted.get("last_step")
    for name in reversed(layout.list_fragments(path)):
        if name not in merged:
            with np.load(os.path.join(path, layout.FRAGMENT_DIR, name)) as z:
                step = int(z["step"].max())
            return step if last is None else max(step, int(last))
    return None if last is None else int(last)


def last_vector_step_of(path: str, meta: dict) -> int | None:
    """The largest step with singular vectors in the store at ``path`` (``None`` if none)."""
    if not int(meta.get("top_k", 0)):
        return None
    compacted = meta.get("compacted") or {}
    merged = set(compacted.get("fragments", []))
    # Compacted by a bbpfit that kept vectors at every step: its last step has them.
    last = compacted.get("last_vector_step", compacted.get("last_step"))
    for name in reversed(layout.list_fragments(path)):
        if name not in merged:
            with np.load(os.path.join(path, layout.FRAGMENT_DIR, name)) as z:
                steps = z["vector_step"] if "vector_step" in z.files else z["step"]
                if steps.size:
                    step = int(steps.max())
                    return step if last is None else max(step, int(last))
    return None if last is None else int(last)


def vectors_dtype_of(meta: dict) -> str:
    """The on-disk dtype of a store's singular vectors (stores older than the option: float32)."""
    return str(meta.get("vectors_dtype", "float32"))


def dataset_attrs(meta: dict) -> dict:
    """Dataset attributes from a store marker."""
    out = {"bbpfit_convention": meta["convention"], "bbpfit_version": meta["bbpfit_version"],
           **meta.get("attrs", {})}
    if int(meta.get("top_k", 0)):
        out["vectors_dtype"] = vectors_dtype_of(meta)
    return out


def open_spectra(path):
    """Open recorded spectra as an :class:`xarray.Dataset` (loaded into memory).

    Parameters
    ----------
    path : str or os.PathLike
        A store directory written by :class:`bbpfit.SpectrumRecorder` (live, killed or
        compacted), a netCDF file written by :func:`to_netcdf`, or a zarr store of the same
        schema.

    Returns
    -------
    xarray.Dataset
        ``eigenvalues(layer, step, rank)`` float32, NaN beyond each layer's ``m``; coords
        ``layer``, ``step`` (int64, unique and increasing), ``rank``, ``n``, ``m``, ``rows``,
        ``cols``, ``shape``; ``wall_time``, ``loss``, ``lr`` per step; optional
        ``left_vectors(layer, vector_step, k, row)``/``right_vectors(layer, vector_step, k, col)``
        (float32, at the steps ``vector_step`` that kept vectors; old stores with vectors on
        ``step`` are presented this way too); attrs ``bbpfit_convention``, ``bbpfit_version``,
        ``model_class``, ``optimizer_class``, ``bbpfit_recorder`` (JSON). See
        :mod:`bbpfit.store.schema`.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is not a bbpfit store, or was written with another eigenvalue convention.

    Examples
    --------
    >>> import numpy as np, bbpfit as bf, tempfile, os
    >>> from bbpfit.store import LayerInfo, SpectraWriter
    >>> path = os.path.join(tempfile.mkdtemp(), "run.bbp")
    >>> with SpectraWriter(path, [LayerInfo("fc.weight", (3, 2), 3, 2)]) as w:
    ...     w.append(0, [np.array([2.0, 1.0])])
    >>> ds = bf.open_spectra(path)
    >>> ds.eigenvalues.sel(layer="fc.weight").values.tolist()
    [[2.0, 1.0]]
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"`path` {path!r} does not exist")
    if layout.is_store(path):
        meta, layers, arrays = read_store(path)
        return build_dataset(layers, arrays, dataset_attrs(meta))
    import xarray as xr

    if os.path.isdir(path) and os.path.isfile(os.path.join(path, "zarr.json")):
        ds = xr.open_zarr(path, consolidated=False, zarr_format=3).load()
    elif os.path.isfile(path):
        try:
            ds = xr.open_dataset(path, engine="h5netcdf").load()
        except Exception as exc:  # noqa: BLE001 - any reader failure means "not ours"
            raise ValueError(f"`path` {path!r} is not a bbpfit store or netCDF export: "
                             f"{type(exc).__name__}: {exc}") from None
    else:
        raise ValueError(f"`path` {path!r} is not a bbpfit store (no {layout.MARKER})")
    if "bbpfit_convention" not in ds.attrs or "eigenvalues" not in ds:
        raise ValueError(f"`path` {path!r} is not a bbpfit spectra dataset")
    check_convention(ds.attrs["bbpfit_convention"], f"`path` {path!r}")
    # Normalise string dtypes (zarr v3 reads them as StringDType) to the in-memory schema.
    return build_dataset(layers_from_dataset(ds), _dataset_arrays(ds), ds.attrs)


def _dataset_arrays(ds) -> dict[str, np.ndarray]:
    names = ("eigenvalues", *STEP_VARIABLES, *(v for v in VECTOR_VARIABLES if v in ds))
    out = {"step": ds["step"].values.astype(np.int64), **{k: ds[k].values for k in names}}
    if "vector_step" in ds.coords:
        out["vector_step"] = ds["vector_step"].values.astype(np.int64)
    return vectors_on_step_dim(out)


def to_netcdf(spectra, path) -> str:
    """Export spectra (a Dataset, or a store path) to one compressed netCDF-4 file.

    Parameters
    ----------
    spectra : xarray.Dataset or str or os.PathLike
        A Dataset from :func:`open_spectra`, or a path to open with it.
    path : str or os.PathLike
        The netCDF file to write (replaced atomically if it exists).

    Returns
    -------
    str
        ``path``; :func:`open_spectra` reads it back to an identical Dataset.
    """
    import xarray as xr

    ds = spectra if isinstance(spectra, xr.Dataset) else open_spectra(spectra)
    check_convention(ds.attrs.get("bbpfit_convention"), "`spectra`")
    path = os.fspath(path)
    encoding = {k: {"zlib": True, "complevel": 4} for k in ds.data_vars}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding, unlimited_dims=["step"])
    return path


def recorder_settings(ds) -> dict:
    """The recorder settings kept in a spectra Dataset's ``bbpfit_recorder`` attribute."""
    return json.loads(ds.attrs.get("bbpfit_recorder", "{}"))


__all__ = ["CONVENTION", "open_spectra", "recorder_settings", "to_netcdf"]
