"""The on-disk layout of a spectra store and its crash-safe file operations.

Owns the directory structure, the marker file that identifies a store, the atomic publication of
files and directories (temp name, fsync, rename), the writer lock and garbage collection::

    STORE/                       a directory (any name; ``.bbp`` or ``.zarr`` suffix suggested)
      bbpfit-store.json          marker: convention, layer table, attrs, which data/fragments count
      data-<hex>.zarr/           the compacted part (zarr v3), absent until the first compaction
      fragments/part-<step>.npz  one file per flush, immutable once renamed into place
      .lock                      held (flock) by the one process writing or compacting

Every file that readers look at appears by an atomic ``os.replace`` of a fully written and fsynced
temporary, so a process killed at any moment leaves either the old or the new state, never a
half-written one. Leftover temporaries are invisible to readers and removed by the next writer.
Only numpy and the standard library are used here.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import uuid
from typing import Any

import numpy as np

from .._files import TMP_SUFFIX, atomic_write_bytes, fsync_dir

#: File name of the marker that identifies a directory as a bbpfit store.
MARKER = "bbpfit-store.json"
#: Value of the marker's ``format`` field.
FORMAT = "bbpfit-spectra-store"
#: Layout version written in the marker; a reader refuses newer ones.
LAYOUT_VERSION = 1
FRAGMENT_DIR = "fragments"
LOCK = ".lock"
_FRAGMENT_RE = re.compile(r"^part-(\d{12})\.npz$")
_DATA_RE = re.compile(r"^data-[0-9a-f]{32}\.zarr$")
_TMP_SUFFIX = TMP_SUFFIX


def fsync_tree(path: str) -> None:
    """fsync every file and directory under ``path`` (before publishing it by a rename)."""
    for root, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(root)


def read_marker(path: str) -> dict:
    """Read and parse the marker of the store at ``path`` (``ValueError`` if unreadable)."""
    marker = os.path.join(path, MARKER)
    try:
        with open(marker, "rb") as f:
            meta = json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"`path` {path!r} has an unreadable {MARKER}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"`path` {path!r}: {MARKER} does not describe a bbpfit spectra store")
    if int(meta.get("layout_version", 0)) > LAYOUT_VERSION:
        raise ValueError(
            f"`path` {path!r} uses store layout version {meta['layout_version']}; this bbpfit "
            f"reads up to {LAYOUT_VERSION} (upgrade bbpfit)"
        )
    return meta


def write_marker(path: str, meta: dict) -> None:
    """Atomically (re)write the marker of the store at ``path``."""
    atomic_write_bytes(os.path.join(path, MARKER), json.dumps(meta, indent=1).encode("utf-8"))


def is_store(path: str) -> bool:
    """True when ``path`` is a directory holding a store marker."""
    return os.path.isfile(os.path.join(path, MARKER))


def is_creation_leftover(name: str) -> bool:
    """True for what a writer killed while creating a store can leave (lock, marker temporary)."""
    return name == LOCK or (name.startswith(f".{MARKER}.") and name.endswith(_TMP_SUFFIX))


def fragment_name(first_step: int) -> str:
    """File name of the fragment whose first step is ``first_step``."""
    return f"part-{int(first_step):012d}.npz"


def list_fragments(path: str) -> list[str]:
    """Names of the published fragments of the store at ``path``, in step order."""
    folder = os.path.join(path, FRAGMENT_DIR)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if _FRAGMENT_RE.match(n))


def write_fragment(path: str, arrays: dict[str, np.ndarray]) -> str:
    """Publish one fragment (a ``.npz`` of ``arrays``) atomically; return its name.

    The arrays are serialised in memory, written to a temporary file, fsynced and renamed to
    ``fragments/part-<first step>.npz``; a reader never sees a partial fragment.
    """
    buf = io.BytesIO()
    named: dict[str, Any] = dict(arrays)
    np.savez(buf, **named)
    name = fragment_name(int(arrays["step"][0]))
    folder = os.path.join(path, FRAGMENT_DIR)
    os.makedirs(folder, exist_ok=True)
    atomic_write_bytes(os.path.join(folder, name), buf.getvalue())
    return name


def read_fragment(path: str, name: str) -> dict[str, np.ndarray]:
    """Load every array of one fragment into memory."""
    with np.load(os.path.join(path, FRAGMENT_DIR, name), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def new_data_name() -> str:
    """A fresh name for a compacted data directory."""
    return f"data-{uuid.uuid4().hex}.zarr"


def publish_dir(tmp: str, final: str) -> None:
    """fsync the directory tree ``tmp`` and rename it to ``final`` (which must not exist)."""
    fsync_tree(tmp)
    os.rename(tmp, final)
    fsync_dir(os.path.dirname(final) or ".")


def tmp_name(final: str) -> str:
    """A temporary sibling name for building ``final`` before publishing it by a rename."""
    return f"{final}.{uuid.uuid4().hex}{_TMP_SUFFIX}"


def collect_garbage(path: str, meta: dict) -> None:
    """Remove what no reader of ``meta`` looks at: temporaries, unreferenced data, merged fragments.

    Call only while holding the store lock (no other writer can be mid-publication).
    """
    compacted = meta.get("compacted") or {}
    merged = set(compacted.get("fragments", []))
    current = compacted.get("data")
    for name in os.listdir(path):
        full = os.path.join(path, name)
        stale_data = _DATA_RE.match(name) and name != current
        if name.endswith(_TMP_SUFFIX) or stale_data:
            _remove(full)
    folder = os.path.join(path, FRAGMENT_DIR)
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.endswith(_TMP_SUFFIX) or name in merged:
                _remove(os.path.join(folder, name))


def _remove(full: str) -> None:
    if os.path.isdir(full) and not os.path.islink(full):
        shutil.rmtree(full, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(full)


class StoreLock:
    """An exclusive advisory lock (``flock``) on ``STORE/.lock``, released by the kernel on death.

    On platforms without :mod:`fcntl` the lock is a no-op (documented limitation).
    """

    def __init__(self, path: str):
        self.path = os.path.join(path, LOCK)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``RuntimeError`` if another process holds it."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RuntimeError(
                f"the store {os.path.dirname(self.path)!r} is being written or compacted by "
                "another process (its .lock is held); wait for it to finish"
            ) from None
        self._fd = fd

    def release(self) -> None:
        """Release the lock (idempotent).

        Unlocks explicitly before closing: a forked child (e.g. a DataLoader worker) shares the
        open file description and would otherwise keep the lock held after ``close``.
        """
        if self._fd is not None:
            import fcntl

            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
