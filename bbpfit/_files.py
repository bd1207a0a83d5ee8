"""Crash-safe file replacement: the one atomic-write helper every part of bbpfit uses.

Owns :func:`atomic_path` (write through a temporary sibling, then publish it by ``os.replace``),
:func:`atomic_write_bytes` built on it, and :func:`fsync_dir`. Durability is the same everywhere:
the temporary file is fsynced before the rename and its folder after it, so after a power cut a
reader finds the old file or the whole new one, never a partial or lost one. Temporaries are
named ``.<name>.<hex>.tmp`` beside the target (invisible to readers, removed on failure, and
recognisable by the store's garbage collection). Only the standard library is used here.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

__all__ = ["TMP_SUFFIX", "atomic_path", "atomic_write_bytes", "fsync_dir", "fsync_file"]

#: Suffix of every temporary written on the way to an atomic replacement.
TMP_SUFFIX = ".tmp"


def fsync_dir(path: str | os.PathLike) -> None:
    """fsync the folder ``path`` so that a rename inside it is durable (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike) -> None:
    """fsync the file ``path`` (its data and metadata reach the disk)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path to write; on success it replaces ``path`` atomically and durably.

    The caller writes the whole new content to the yielded path (by any library). On leaving the
    block the temporary is fsynced, renamed over ``path`` and the folder fsynced; if the block
    raises, the temporary is removed and ``path`` is untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "table.csv")
    >>> with atomic_path(target) as tmp:
    ...     with open(tmp, "w") as f:
    ...         _ = f.write("a,b\\n1,2\\n")
    >>> open(target).read()
    'a,b\\n1,2\\n'
    """
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}{TMP_SUFFIX}")
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
