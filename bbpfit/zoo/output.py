"""The zoo's output file: rows appended as checkpoints finish, read back to resume a run.

Owns :data:`ZOO_COLUMNS` and :class:`ZooOutput`. CSV (always available) is appended to after each
checkpoint, one write per checkpoint followed by ``fsync``, so a run that is killed keeps every
checkpoint it finished. ``status`` is the last column: a line cut short by a crash has no valid
status and is dropped when the file is read back; ``model_rows`` (the number of rows of the
checkpoint) drops a checkpoint whose rows were not all written, so it is analysed again.
Parquet needs ``pyarrow`` or ``fastparquet`` (optional); it cannot be appended to, so the whole
file is rewritten atomically (temporary file, then rename) at most every ``parquet_interval``
seconds and at the end.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pandas as pd

from .._files import atomic_path, fsync_dir
from .table import COLUMNS

#: Columns of :func:`bbpfit.analyze_zoo`: the model, then those of :func:`bbpfit.analyze`.
ZOO_COLUMNS = ["model", "fingerprint", *COLUMNS, "model_rows", "seconds", "error", "status"]
#: Values of the ``status`` column.
STATUSES = ("ok", "error")

_STR = ("model", "fingerprint", "layer", "shape", "method", "path", "notes", "error", "status",
        "bulk_law")
_INT = ("n", "m", "n_spikes", "n_spikes_adjusted", "model_rows")
_BOOL = ("significant", "spikes_interpretable")
_KINDS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """The zoo's column order and dtypes (strings '' for missing, nullable integers, booleans)."""
    frame = frame.reindex(columns=ZOO_COLUMNS)
    for col in _STR:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), "").astype(str)
    for col in _INT:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").round().astype("Int64")
    is_error = frame["status"] == "error"
    for col in _BOOL:
        flag = frame[col].map(lambda v: str(v).lower() in ("true", "1", "1.0"))
        if is_error.any():  # an error row has no answer: empty, not False
            frame[col] = flag.astype("boolean").mask(is_error)
        else:
            frame[col] = flag.astype(bool)
    for col in set(ZOO_COLUMNS) - set(_STR) - set(_INT) - set(_BOOL):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame.reset_index(drop=True)


def parquet_engine() -> str | None:
    """The installed parquet engine (``"pyarrow"`` or ``"fastparquet"``), or None."""
    for name in ("pyarrow", "fastparquet"):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


class ZooOutput:
    """A resumable zoo output file (``.csv``, or ``.parquet`` when an engine is installed).

    Parameters
    ----------
    path : str or path-like
    parquet_interval : float, default 30
        Seconds between rewrites of a parquet file (CSV is appended to at once).

    Raises
    ------
    ValueError
        An extension other than ``.csv``/``.parquet``/``.pq``; parquet without an engine; an
        existing file whose columns are not the zoo's.
    """

    def __init__(self, path, *, parquet_interval: float = 30.0):
        self.path = Path(path).expanduser()
        self.kind = _KINDS.get(self.path.suffix.lower())
        if self.kind is None:
            raise ValueError(f"`out` must end in .csv or .parquet, got '{self.path.name}'")
        if self.kind == "parquet" and parquet_engine() is None:
            raise ValueError("writing parquet needs pyarrow or fastparquet, and neither is "
                             f"installed; write a .csv file instead of '{self.path}'")
        if self.path.is_dir():
            raise ValueError(f"`out` '{self.path}' is a directory; give a file name")
        self.interval = parquet_interval
        self._rows: list[pd.DataFrame] = []
        self._last_write = 0.0
        #: Rows of the file that :meth:`read` dropped (cut short or of an incomplete checkpoint).
        self.dropped = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def read(self) -> pd.DataFrame:
        """Rows already in the file (complete ones only); an empty table if there is none."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return normalize(pd.DataFrame(columns=ZOO_COLUMNS))
        try:
            if self.kind == "csv":
                frame = pd.read_csv(self.path, dtype=str, keep_default_na=False,
                                    on_bad_lines="skip")
            else:
                frame = pd.read_parquet(self.path)
        except (ValueError, OSError) as exc:
            raise ValueError(f"cannot read the existing output '{self.path}': {exc}") from None
        if list(frame.columns) != ZOO_COLUMNS:
            raise ValueError(f"'{self.path}' exists but is not a bbpfit zoo table (its columns "
                             "differ); remove it or choose another `out`")
        n_raw = len(frame)
        frame = normalize(frame[frame["status"].isin(STATUSES)])
        size = frame.groupby(["model", "fingerprint"], sort=False)["model"].transform("size")
        frame = frame[size == frame["model_rows"]].reset_index(drop=True)
        self.dropped = n_raw - len(frame)
        return frame

    def append(self, frame: pd.DataFrame) -> None:
        """Add one checkpoint's rows (written now for CSV; batched for parquet)."""
        frame = normalize(frame)
        if self.kind == "csv":
            size = self.path.stat().st_size if self.path.exists() else 0
            text = frame.to_csv(index=False, header=size == 0)
            if size:
                with open(self.path, "rb") as f:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":  # a line cut short by a crash: end it
                        text = "\n" + text
            with open(self.path, "a", encoding="utf-8", newline="") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            if not size:  # a new file: make its directory entry durable too
                fsync_dir(self.path.parent)
            return
        self._rows.append(frame)
        if time.monotonic() - self._last_write >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Write the batched parquet rows (no-op for CSV)."""
        if self.kind == "parquet" and self._rows:
            self.rewrite(pd.concat([self.read(), *self._rows], ignore_index=True))
            self._rows.clear()
            self._last_write = time.monotonic()

    def rewrite(self, frame: pd.DataFrame) -> None:
        """Replace the file's content with ``frame``, atomically."""
        frame = normalize(frame)
        with atomic_path(self.path) as tmp:
            if self.kind == "csv":
                frame.to_csv(tmp, index=False)
            else:
                frame.to_parquet(tmp, index=False, engine=parquet_engine())
