"""Appending recorded steps to a store: creation, resumption and crash-safe flushes.

Owns :class:`SpectraWriter`, the one object that writes a store. It buffers steps in memory and
publishes each flush as one immutable fragment (see :mod:`bbpfit.store.layout`), so a SIGKILL at
any moment loses at most the steps since the last flush and never leaves a half-written step.
Flushes happen every ``flush_every`` steps and, with ``flush_seconds``, also once the oldest
buffered step is that old (a timer thread), so a slow run loses at most that much wall time.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from .._validation import check_int
from .._version import __version__
from . import layout
from .compact import compact_locked
from .reader import last_step_of, last_vector_step_of, vectors_dtype_of
from .schema import CONVENTION, LayerInfo, check_convention, check_vectors_dtype


def _prepare_path(path: str) -> dict | None:
    """Return the marker of an existing store, ``None`` for a new one; refuse anything else.

    Nothing is created or modified here, so a refused path is left exactly as it was.
    """
    if not os.path.lexists(path):
        return None
    if not os.path.isdir(path):
        raise ValueError(f"`path` {path!r} exists and is not a bbpfit store (it is a file)")
    if layout.is_store(path):
        return layout.read_marker(path)
    if any(not layout.is_creation_leftover(name) for name in os.listdir(path)):
        raise ValueError(
            f"`path` {path!r} is a non-empty directory that is not a bbpfit store (no "
            f"{layout.MARKER}); choose a new path or an empty directory"
        )
    return None


def _check_same_layers(path: str, stored: list[LayerInfo], layers: list[LayerInfo]) -> None:
    if stored == layers:
        return
    old, new = {x.name: x for x in stored}, {x.name: x for x in layers}
    problems = []
    if set(old) - set(new):
        problems.append(f"missing now: {sorted(set(old) - set(new))}")
    if set(new) - set(old):
        problems.append(f"not in the store: {sorted(set(new) - set(old))}")
    problems += [f"{k}: shape {old[k].shape} in the store, {new[k].shape} now"
                 for k in sorted(set(old) & set(new)) if old[k] != new[k]]
    if not problems:
        problems.append("same layers in another order")
    raise ValueError(
        f"cannot resume the store {path!r}: its layers differ from the ones to record ("
        + "; ".join(problems) + "); record into a new path"
    )


class SpectraWriter:
    """Create or resume a spectra store and append steps to it in crash-safe flushes.

    Parameters
    ----------
    path : str or os.PathLike
        The store directory. A new path (or an empty directory) becomes a new store; an existing
        store is resumed. Anything else is refused without being touched.
    layers : sequence of LayerInfo
        The recorded matrices; a resumed store must have the same ones (names, shapes, order).
    attrs : dict, optional
        Extra attributes (str, int or float values) kept in the store, e.g. ``model_class``.
        Only used when the store is created.
    top_k : int, default 0
        Number of singular-vector pairs stored per layer at the steps given vectors (0: none).
        Must match on resume.
    vectors_dtype : {"float32", "float16"}, default "float32"
        On-disk dtype of the vectors. float16 halves their size; it rounds each entry to 2**-12
        relative (norms 1 +- ~1e-4, directions within ``1 - |<v, v32>|^2 ~ 1e-7`` after
        normalising). Must match on resume.
    flush_every : int, default 10
        Publish a fragment after this many appended steps.
    flush_seconds : float, optional
        Also publish one at the latest this many seconds after a step was appended (a timer
        thread; None: only by count).

    Attributes
    ----------
    last_step : int or None
        The last step in the store (including buffered ones); ``None`` while it is empty.
    last_vector_step : int or None
        The last step with singular vectors (including buffered ones); ``None`` while none.
    resumed : bool
        Whether an existing store was opened.

    Raises
    ------
    ValueError
        ``path`` is a file or a non-store directory, the store has another convention, other
        layers, another ``top_k`` or another ``vectors_dtype``; bad ``layers``, ``top_k``,
        ``vectors_dtype`` or ``flush_every``.
    RuntimeError
        Another process is writing or compacting the store.

    Notes
    -----
    Steps must be strictly increasing across the whole store: :meth:`append` raises
    ``ValueError`` otherwise (the recorder skips such steps with a warning before they get here).
    """

    def __init__(self, path, layers, *, attrs=None, top_k: int = 0, vectors_dtype: str = "float32",
                 flush_every: int = 10, flush_seconds: float | None = None):
        self.path = os.fspath(path)
        self.layers = list(layers)
        if not self.layers or not all(isinstance(x, LayerInfo) for x in self.layers):
            raise ValueError("`layers` must be a non-empty sequence of LayerInfo")
        names = [x.name for x in self.layers]
        if len(set(names)) != len(names):
            raise ValueError(f"`layers` has duplicate names: {names}")
        self.top_k = check_int(top_k, "top_k", minimum=0)
        self.vectors_dtype = check_vectors_dtype(vectors_dtype)
        self.flush_every = check_int(flush_every, "flush_every", minimum=1)
        self.flush_seconds = check_flush_seconds(flush_seconds)
        attrs = {k: _attr(k, v) for k, v in (attrs or {}).items()}
        meta = _prepare_path(self.path)
        self.resumed = meta is not None
        if meta is not None:
            check_convention(meta.get("convention"), f"the store {self.path!r}")
            _check_same_layers(self.path, [LayerInfo.from_dict(d) for d in meta["layers"]],
                               self.layers)
            if int(meta.get("top_k", 0)) != self.top_k:
                raise ValueError(f"cannot resume the store {self.path!r}: it keeps top_k="
                                 f"{meta.get('top_k', 0)} singular vectors, got top_k={self.top_k}")
            if self.top_k and vectors_dtype_of(meta) != self.vectors_dtype:
                raise ValueError(f"cannot resume the store {self.path!r}: it keeps its vectors as "
                                 f"{vectors_dtype_of(meta)}, got vectors_dtype="
                                 f"{self.vectors_dtype!r}")
        else:
            os.makedirs(self.path, exist_ok=True)
        self._lock = layout.StoreLock(self.path)
        self._lock.acquire()
        try:
            if meta is None:
                meta = {
                    "format": layout.FORMAT, "layout_version": layout.LAYOUT_VERSION,
                    "convention": CONVENTION, "bbpfit_version": __version__,
                    "created": time.time(), "top_k": self.top_k,
                    "vectors_dtype": self.vectors_dtype,
                    "layers": [x.to_dict() for x in self.layers],
                    "attrs": attrs,
                    "compacted": None,
                }
                layout.write_marker(self.path, meta)
            else:  # re-read under the lock: a compaction may have finished meanwhile
                meta = layout.read_marker(self.path)
                layout.collect_garbage(self.path, meta)
            self.last_step = last_step_of(self.path, meta)
            self.last_vector_step = last_vector_step_of(self.path, meta)
        except BaseException:
            self._lock.release()
            raise
        self._rows: list[tuple] = []
        self._closed = False
        self._mutex = threading.RLock()  # append/flush against the flush timer
        self._timer: threading.Timer | None = None

    def append(self, step, eigenvalues, *, wall_time=None, loss=None, lr=None,
               left_vectors=None, right_vectors=None) -> None:
        """Buffer one step; publish a fragment once ``flush_every`` steps are buffered.

        Parameters
        ----------
        step : int
            Must be greater than :attr:`last_step`.
        eigenvalues : sequence of array_like
            One descending array of length m per layer, in the order of ``layers``.
        wall_time, loss, lr : float, optional
            Per-step values (``wall_time`` defaults to now; the others to NaN).
        left_vectors, right_vectors : sequence of array_like, optional
            Per layer, arrays (k', rows) and (k', cols) with k' <= top_k: the top singular
            vectors at this step (both or neither; only with top_k > 0). Steps without them
            have none in the store (``vector_step`` lists the steps that have).
        """
        if self._closed:
            raise RuntimeError("this SpectraWriter is closed")
        step = check_int(step, "step", minimum=0)
        if self.last_step is not None and step <= self.last_step:
            raise ValueError(f"`step` must be > the last step in the store ({self.last_step}), "
                             f"got {step}")
        if len(eigenvalues) != len(self.layers):
            raise ValueError(f"`eigenvalues` must have one array per layer ({len(self.layers)}), "
                             f"got {len(eigenvalues)}")
        if (left_vectors is None) != (right_vectors is None):
            raise ValueError("`left_vectors` and `right_vectors` go together: give both or neither")
        if left_vectors is not None and not self.top_k:
            raise ValueError("`left_vectors`/`right_vectors` given, but this store keeps no vectors "
                             "(top_k=0)")
        eig = [self._checked(lam, x, "eigenvalues") for x, lam in
               zip(self.layers, eigenvalues, strict=True)]
        left = right = None
        if left_vectors is not None:
            left = [self._checked(v, x, "left_vectors", x.rows)
                    for x, v in zip(self.layers, left_vectors, strict=True)]
            right = [self._checked(v, x, "right_vectors", x.cols)
                     for x, v in zip(self.layers, right_vectors, strict=True)]
        wall = time.time() if wall_time is None else float(wall_time)
        with self._mutex:
            self._rows.append((step, wall, _float(loss), _float(lr), eig, left, right))
            self.last_step = step
            if left is not None:
                self.last_vector_step = step
            if len(self._rows) >= self.flush_every:
                self.flush()
            elif self.flush_seconds is not None and self._timer is None:
                self._timer = threading.Timer(self.flush_seconds, self._timed_flush)
                self._timer.daemon = True
                self._timer.start()

    def _timed_flush(self) -> None:
        with self._mutex:
            self._timer = None
            if not self._closed:
                self.flush()

    def flush(self) -> None:
        """Publish the buffered steps as one fragment (no-op when none are buffered)."""
        with self._mutex:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._rows:
                return
            rows, self._rows = self._rows, []
            self._publish(rows)

    def _publish(self, rows) -> None:
        n_layers, n_steps = len(self.layers), len(rows)
        rank = max(x.m for x in self.layers)
        eig = np.full((n_layers, n_steps, rank), np.nan, np.float32)
        for j, row in enumerate(rows):
            for i, lam in enumerate(row[4]):
                eig[i, j, : lam.size] = lam
        arrays = {
            "layer": np.array([x.name for x in self.layers], dtype=str),
            "step": np.array([r[0] for r in rows], np.int64),
            "wall_time": np.array([r[1] for r in rows], np.float64),
            "loss": np.array([r[2] for r in rows], np.float64),
            "lr": np.array([r[3] for r in rows], np.float64),
            "eigenvalues": eig,
        }
        if self.top_k:
            with_vectors = [r for r in rows if r[5] is not None]
            arrays["vector_step"] = np.array([r[0] for r in with_vectors], np.int64)
            for key, col, side in (("left_vectors", 5, "rows"), ("right_vectors", 6, "cols")):
                width = max(getattr(x, side) for x in self.layers)
                vec = np.full((n_layers, len(with_vectors), self.top_k, width), np.nan,
                              self.vectors_dtype)
                for j, row in enumerate(with_vectors):
                    for i, v in enumerate(row[col]):
                        vec[i, j, : v.shape[0], : v.shape[1]] = v
                arrays[key] = vec
        layout.write_fragment(self.path, arrays)

    def _checked(self, value, layer: LayerInfo, name: str, width: int | None = None):
        arr = np.asarray(value, np.float32)
        if width is not None and not np.isfinite(arr).all():
            raise ValueError(f"`{name}` of layer {layer.name!r} contains NaN or infinite values")
        if width is None:  # eigenvalues
            ok, want = arr.shape == (layer.m,), f"({layer.m},)"
        else:
            ok = arr.ndim == 2 and arr.shape[0] <= self.top_k and arr.shape[1] == width
            want = f"(k, {width}) with k <= top_k={self.top_k}"
        if not ok:
            raise ValueError(f"`{name}` of layer {layer.name!r} must have shape {want}, "
                             f"got {arr.shape}")
        return arr

    def close(self, *, compact: bool = True) -> None:
        """Flush, optionally compact the store, and release its lock (idempotent)."""
        with self._mutex:
            if self._closed:
                return
            try:
                self.flush()
                if compact:
                    compact_locked(self.path)
            finally:
                self._closed = True
                self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def check_flush_seconds(value) -> float | None:
    """``flush_seconds`` as a float > 0, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"`flush_seconds` must be a number of seconds or None, got "
                        f"{type(value).__name__}")
    if not (value > 0 and np.isfinite(value)):
        raise ValueError(f"`flush_seconds` must be > 0 and finite, got {value!r}")
    return float(value)


def _float(x) -> float:
    return float("nan") if x is None else float(x)


def _attr(key, value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str | int | float):
        return value
    raise TypeError(f"`attrs[{key!r}]` must be a str, int or float, got {type(value).__name__}")
