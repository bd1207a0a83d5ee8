"""The xarray schema of recorded spectra: dimensions, coordinates, variables and attributes.

A spectra Dataset has

- ``eigenvalues(layer, step, rank)`` float32, descending ``s_i**2 / n``, NaN beyond a layer's m;
- coordinates ``layer`` (parameter names), ``step`` (int64, unique, increasing), ``rank`` (0..);
  per layer ``n``, ``m``, ``rows``, ``cols`` (int64) and ``shape`` (the parameter's shape as
  ``"64x3x3x3"``); per step ``wall_time`` (seconds since the epoch), ``loss`` and ``lr``
  (float64, NaN when not known);
- optionally ``left_vectors(layer, vector_step, k, row)`` and ``right_vectors(layer,
  vector_step, k, col)``: the top-k singular vectors at the steps ``vector_step`` (int64, unique,
  increasing; a subset of ``step``) where they were recorded, in descending singular value order,
  NaN-padded beyond a layer's rows/cols and beyond its ``min(rows, cols)`` vectors; float32 in
  memory, kept on disk as the attribute ``vectors_dtype`` says (``"float16"`` or ``"float32"``).
  Sign convention: each pair is flipped so that the largest-magnitude entry of the right vector is
  positive. Stores written before ``vector_step`` existed (vectors on the ``step`` dimension) are
  presented the same way, with ``vector_step`` equal to their steps;
- attributes ``bbpfit_convention`` (:data:`CONVENTION`), ``bbpfit_version``, ``model_class``,
  ``optimizer_class``, ``bbpfit_recorder`` (the recorder's settings as a JSON string) and, with
  vectors, ``vectors_dtype``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The eigenvalue convention every store is written in; stores with another one are refused.
CONVENTION = "bbpfit-v1: lambda=s^2/n, n=max(rows,cols), descending"
#: Per-step variables and their fill value.
STEP_VARIABLES = ("wall_time", "loss", "lr")
VECTOR_VARIABLES = ("left_vectors", "right_vectors")
#: On-disk dtypes the singular vectors may be kept in.
VECTOR_DTYPES = ("float16", "float32")


def check_vectors_dtype(value) -> str:
    """``vectors_dtype`` as one of :data:`VECTOR_DTYPES` (``ValueError``/``TypeError`` otherwise)."""
    if not isinstance(value, str):
        raise TypeError(f"`vectors_dtype` must be one of {list(VECTOR_DTYPES)} (a string), got "
                        f"{type(value).__name__}")
    if value not in VECTOR_DTYPES:
        raise ValueError(f"`vectors_dtype` must be one of {list(VECTOR_DTYPES)}, got {value!r}")
    return value


@dataclass(frozen=True)
class LayerInfo:
    """One recorded weight matrix: its name, its parameter shape and its matrix reading.

    Attributes
    ----------
    name : str
        Parameter name, e.g. ``"encoder.0.weight"``.
    shape : tuple of int
        The parameter's shape (a conv kernel keeps its kernel axes here).
    rows, cols : int
        The matrix it is read as (conv kernels as (out, in * prod(k))).
    """

    name: str
    shape: tuple[int, ...]
    rows: int
    cols: int

    @property
    def n(self) -> int:
        """``max(rows, cols)``."""
        return max(self.rows, self.cols)

    @property
    def m(self) -> int:
        """``min(rows, cols)``: the number of eigenvalues."""
        return min(self.rows, self.cols)

    def to_dict(self) -> dict:
        """JSON-ready representation (as kept in the store marker)."""
        return {"name": self.name, "shape": list(self.shape), "rows": self.rows, "cols": self.cols}

    @classmethod
    def from_dict(cls, d: dict) -> LayerInfo:
        """Inverse of :meth:`to_dict`."""
        return cls(str(d["name"]), tuple(int(s) for s in d["shape"]), int(d["rows"]), int(d["cols"]))


def check_convention(found, where: str) -> None:
    """Raise ``ValueError`` unless ``found`` is :data:`CONVENTION`."""
    if found != CONVENTION:
        raise ValueError(
            f"{where} was written with eigenvalue convention {found!r}, but this bbpfit uses "
            f"{CONVENTION!r}; convert it or open it with the bbpfit version that wrote it"
        )


def empty_arrays(layers: list[LayerInfo], top_k: int) -> dict[str, np.ndarray]:
    """Step-indexed arrays with zero steps, in the shapes :func:`build_dataset` expects."""
    n_layers, rank = len(layers), max(lay.m for lay in layers)
    out: dict[str, np.ndarray] = {
        "step": np.zeros(0, np.int64),
        "eigenvalues": np.zeros((n_layers, 0, rank), np.float32),
        **{v: np.zeros(0, np.float64) for v in STEP_VARIABLES},
    }
    if top_k:
        out["vector_step"] = np.zeros(0, np.int64)
        out["left_vectors"] = np.zeros((n_layers, 0, top_k, max(x.rows for x in layers)), np.float32)
        out["right_vectors"] = np.zeros((n_layers, 0, top_k, max(x.cols for x in layers)), np.float32)
    return out


def build_dataset(layers: list[LayerInfo], arrays: dict[str, np.ndarray], attrs: dict):
    """Assemble the spectra Dataset from the layer table and step-indexed arrays.

    ``arrays`` holds ``step`` (S,), ``eigenvalues`` (L, S, R), ``wall_time``/``loss``/``lr`` (S,)
    and optionally ``vector_step`` (V,), ``left_vectors`` (L, V, K, rows) and ``right_vectors``
    (L, V, K, cols) (read as float32).
    """
    import xarray as xr

    step = np.asarray(arrays["step"], dtype=np.int64)
    eig = np.asarray(arrays["eigenvalues"], dtype=np.float32)
    data = {
        "eigenvalues": (("layer", "step", "rank"), eig, {
            "long_name": "eigenvalues s_i**2 / n of the weight matrix, descending", "units": "1"}),
        "wall_time": ("step", np.asarray(arrays["wall_time"], np.float64),
                      {"long_name": "Unix time the weights were snapshotted (s after 1970-01-01 UTC)",
                       "units": "s"}),
        "loss": ("step", np.asarray(arrays["loss"], np.float64), {"long_name": "training loss"}),
        "lr": ("step", np.asarray(arrays["lr"], np.float64),
               {"long_name": "learning rate of the optimizer's first parameter group"}),
    }
    coords = {}
    if "left_vectors" in arrays:
        dims = ("layer", "vector_step", "k")
        data["left_vectors"] = ((*dims, "row"), np.asarray(arrays["left_vectors"], np.float32), {
            "long_name": "top-k left singular vectors (length rows), NaN-padded"})
        data["right_vectors"] = ((*dims, "col"), np.asarray(arrays["right_vectors"], np.float32), {
            "long_name": "top-k right singular vectors (length cols), NaN-padded; the largest-"
                         "magnitude entry of each is positive"})
        coords["vector_step"] = ("vector_step", np.asarray(arrays["vector_step"], np.int64))
    coords.update({
        "layer": ("layer", np.array([x.name for x in layers], dtype=str)),
        "step": ("step", step),
        "rank": ("rank", np.arange(eig.shape[-1], dtype=np.int64)),
        "n": ("layer", np.array([x.n for x in layers], np.int64)),
        "m": ("layer", np.array([x.m for x in layers], np.int64)),
        "rows": ("layer", np.array([x.rows for x in layers], np.int64)),
        "cols": ("layer", np.array([x.cols for x in layers], np.int64)),
        "shape": ("layer", np.array(["x".join(map(str, x.shape)) for x in layers], dtype=str)),
    })
    return xr.Dataset(data, coords=coords, attrs=dict(attrs))


def layers_from_dataset(ds) -> list[LayerInfo]:
    """Recover the layer table from a spectra Dataset (e.g. a netCDF export)."""
    return [
        LayerInfo(str(name), tuple(int(s) for s in str(shape).split("x")), int(r), int(c))
        for name, shape, r, c in zip(ds["layer"].values, ds["shape"].values,
                                     ds["rows"].values, ds["cols"].values, strict=True)
    ]


def sort_unique_steps(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Order step-indexed arrays by step and keep the first occurrence of each step."""
    out = dict(arrays)
    for index, keys in (("step", ("eigenvalues", *STEP_VARIABLES)), ("vector_step", VECTOR_VARIABLES)):
        step = arrays.get(index)
        if step is None or step.size == 0 or bool(np.all(np.diff(step) > 0)):
            continue
        _, first = np.unique(step, return_index=True)  # sorted unique steps, first occurrences
        out[index] = step[first]
        for key in keys:
            out[key] = arrays[key][first] if key in STEP_VARIABLES else arrays[key][:, first]
    return out


def step_axis(key: str) -> int:
    """The axis of a step-indexed array that runs over steps (``step`` or ``vector_step``)."""
    return 0 if key in ("step", "vector_step") or key in STEP_VARIABLES else 1


def vectors_on_step_dim(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Arrays of the old schema (vectors on the ``step`` dimension): add ``vector_step = step``."""
    if "left_vectors" in arrays and "vector_step" not in arrays:
        arrays = {**arrays, "vector_step": np.asarray(arrays["step"], np.int64)}
    return arrays
