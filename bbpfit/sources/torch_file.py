"""PyTorch checkpoint files (``.pt``, ``.pth``, ``.bin``, ``.ckpt``): safe loading, memory-mapped.

Owns the call to ``torch.load`` and the translation of its failures into clear errors:

- always ``map_location="cpu", weights_only=True``: the restricted unpickler rebuilds tensors and
  plain containers only, so a malicious file cannot run code;
- ``mmap=True`` for the zip format (``torch.save`` since 1.6): tensors stay on disk until read, so
  memory is bounded by what is touched; legacy (pre-zip) files cannot be mapped and are loaded whole;
- a file whose pickle needs other classes (a whole pickled model, a custom config object) is
  refused with a ``ValueError`` that names the class and the ``allow_unsafe_pickle=True`` flag;
  full unpickling happens only when the caller passes that flag, and it can execute arbitrary code;
- corrupt, truncated or non-torch files raise ``ValueError`` naming the file and the reason.

The loaded object then goes through :func:`bbpfit.sources.module.state_entries` (wrapped
checkpoints, tied weights).
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from .module import state_entries
from .selection import TensorInfo

ZIP_MAGIC = b"PK\x03\x04"


def looks_like_torch(head: bytes) -> bool:
    """Whether a file starts like a ``torch.save`` output: a zip archive or a pickle."""
    return head.startswith(ZIP_MAGIC) or (len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5)


def _unpickler_reason(message: str) -> str:
    found = re.search(r"WeightsUnpickler error:\s*(.*?)(?:\n\n|$)", message, re.S)
    return " ".join((found.group(1) if found else message.splitlines()[0]).split())


def load_torch_file(path, *, allow_unsafe_pickle: bool = False):
    """``torch.load`` a checkpoint safely and return the unpickled object (on the CPU).

    Parameters
    ----------
    path : path-like
        The file.
    allow_unsafe_pickle : bool, default False
        Fall back to full unpickling (``weights_only=False``) when the restricted unpickler
        refuses the file. Only for files you trust: unpickling can execute arbitrary code.

    Raises
    ------
    ValueError
        The file is empty, truncated, corrupt, not a torch checkpoint, or needs unsafe unpickling
        without ``allow_unsafe_pickle=True`` (the message names the flag and the class).
    """
    import torch

    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise ValueError(f"'{path}' is empty (0 bytes)")
    mmap = head.startswith(ZIP_MAGIC)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        message = str(exc)
        found = re.search(r"Unsupported global: GLOBAL (\S+)", message)
        if found and _global_exists(found.group(1)) is False:
            raise ValueError(f"'{path}' is not a readable PyTorch checkpoint: its pickle names "
                             f"`{found.group(1)}`, which does not exist (truncated or corrupt "
                             "file?)") from None
        if not allow_unsafe_pickle:
            if found:
                what = f"`{found.group(1)}`"
                raise ValueError(
                    f"'{path}' cannot be loaded safely: its pickle needs {what}, which only full "
                    "unpickling can rebuild; refused. If you trust this file, pass "
                    "allow_unsafe_pickle=True (unpickling can execute arbitrary code)") from None
            raise _corrupt(path, exc) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return torch.load(path, map_location="cpu", weights_only=False, mmap=mmap)
    except Exception as exc:
        raise _corrupt(path, exc) from None


def _global_exists(qualname: str) -> bool | None:
    """Whether ``module.attr`` exists, judged from modules already imported (None: cannot tell).

    A truncated legacy file can end in the middle of a class name (``torch._utils._r``), which
    the restricted unpickler reports as an unsupported global; this tells the two apart without
    importing anything.
    """
    parts = qualname.split(".")
    for i in range(len(parts) - 1, 0, -1):
        obj = sys.modules.get(".".join(parts[:i]))
        if obj is not None:
            for attr in parts[i:]:
                obj = getattr(obj, attr, _MISSING)
                if obj is _MISSING:
                    return False
            return True
    return None


_MISSING = object()


def _corrupt(path, exc: Exception) -> ValueError:
    message = str(exc)
    if isinstance(exc, EOFError):
        reason = "the file ends early (truncated?)"
    elif "Weights only load failed" in message:
        reason = f"the pickle is invalid ({_unpickler_reason(message)})"
    else:
        reason = f"{type(exc).__name__}: {message.splitlines()[0] if message else 'no detail'}"
    return ValueError(f"'{path}' is not a readable PyTorch checkpoint: {reason}")


def torch_entries(path, *, allow_unsafe_pickle: bool = False, names=None, **_
                  ) -> Iterator[tuple[TensorInfo, object]]:
    """Yield ``(TensorInfo, load)`` for the tensors of a torch checkpoint file.

    ``names`` (optional set) restricts the tensors listed, e.g. to those an index file assigns
    to this shard. See :func:`load_torch_file` for the loading rules and errors.
    """
    obj = load_torch_file(path, allow_unsafe_pickle=allow_unsafe_pickle)
    for info, load in state_entries(obj, source=str(path)):
        if names is None or info.name in names:
            yield info, load
