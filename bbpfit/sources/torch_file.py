"""PyTorch checkpoint files (``.pt``, ``.pth``, ``.bin``, ``.ckpt``): safe loading, memory-mapped.

Owns the call to ``torch.load`` and the translation of its failures into clear errors:

- always ``map_location="cpu", weights_only=True``: the restricted unpickler rebuilds tensors and
  plain containers only, so a malicious file cannot run code;
- ``mmap=True`` for the zip format (``torch.save`` since 1.6): tensors stay on disk until read, so
  memory is bounded by what is touched; legacy (pre-zip) files cannot be mapped and are loaded whole;
- a file whose pickle needs other classes (a whole pickled model, a custom config object) is
  refused with a ``ValueError`` that names the class, says where it comes from (a class of the
  training script, ``__main__.*``, cannot be imported anywhere else) and what would load the file
  (``allow_unsafe_pickle=True``, or re-saving ``model.state_dict()``); full unpickling happens
  only when the caller passes that flag, and it can execute arbitrary code. Classes it names that
  cannot be imported (``__main__.MyCfg``, a module not installed) are then rebuilt as inert
  placeholders, so the tensors still load; a placeholder model's parameters are read from its
  ``_parameters``/``_buffers``/``_modules``;
- corrupt, truncated or non-torch files (text, HTML, a Git LFS pointer) raise ``ValueError``
  naming the file and what it looks like.

The loaded object then goes through :func:`bbpfit.sources.module.state_entries` (wrapped
checkpoints, tied weights).
"""

from __future__ import annotations

import pickle
import re
import sys
import types
import warnings
from collections import OrderedDict
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


def _describe_head(head: bytes) -> str:
    """What a file that is neither a zip archive nor a pickle looks like, from its first bytes."""
    text = head.decode("utf-8", errors="replace")
    if text.startswith("version https://git-lfs"):
        return "a Git LFS pointer, not the weights (run `git lfs pull` to fetch them)"
    if text.lstrip().lower().startswith(("<!doctype html", "<html")):
        return "an HTML page (a failed download?)"
    readable = sum((ch.isprintable() and ch != "\ufffd") or ch in "\r\n\t" for ch in text)
    printable = readable >= 0.9 * max(len(text), 1)
    start = " ".join(text.split())[:40]
    if printable:
        return f"text ({start!r}...)"
    return f"neither a zip archive nor a pickle (it starts with {head[:8]!r})"


class _Placeholder:
    """Stands for a class that full unpickling cannot import; keeps whatever state it is given."""

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.__dict__["_placeholder_args"] = args
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_placeholder_state"] = state

    def __repr__(self):
        return f"<placeholder for {type(self).__module__}.{type(self).__qualname__}>"


class _Unpickler(pickle.Unpickler):
    """Full unpickling that rebuilds classes it cannot import as :class:`_Placeholder` s."""

    missing: list

    def find_class(self, module, name):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            if not hasattr(self, "missing"):
                self.missing = []
            self.missing.append(f"{module}.{name}")
            return type(name, (_Placeholder,), {"__module__": module, "__qualname__": name})


_PICKLE = types.SimpleNamespace(Unpickler=_Unpickler, load=lambda f, **kw: _Unpickler(f, **kw).load(),
                                __name__="bbpfit_placeholder_pickle")


def _placeholder_tensors(obj, prefix: str = "") -> OrderedDict:
    """The parameters and buffers of a placeholder model (a pickled nn.Module of a missing class)."""
    out: OrderedDict = OrderedDict()
    state = obj.__dict__
    for key in ("_parameters", "_buffers"):
        for name, value in (state.get(key) or {}).items():
            if value is not None:
                out[prefix + name] = value
    for name, child in (state.get("_modules") or {}).items():
        if isinstance(child, _Placeholder):
            out.update(_placeholder_tensors(child, f"{prefix}{name}."))
        elif hasattr(child, "state_dict"):
            out.update(child.state_dict(prefix=f"{prefix}{name}."))
    return out


def _is_placeholder_model(obj) -> bool:
    return isinstance(obj, _Placeholder) and any(
        k in obj.__dict__ for k in ("_parameters", "_modules"))


def _unwrap_placeholders(obj):
    """A placeholder model (at the top or one level down) replaced by its tensors."""
    if _is_placeholder_model(obj):
        return _placeholder_tensors(obj)
    if isinstance(obj, dict) and any(_is_placeholder_model(v) for v in obj.values()):
        return {k: _placeholder_tensors(v) if _is_placeholder_model(v) else v
                for k, v in obj.items()}
    return obj


def _needs_message(path, name: str) -> str:
    """Why a pickle naming the global ``name`` is refused by safe loading, and what would load it."""
    resave = ("or load it where that class exists and save the weights alone: "
              "torch.save(model.state_dict(), 'weights.pt')")
    if name.startswith("__main__."):
        return (f"'{path}' cannot be loaded safely: its pickle needs `{name}`, a class defined in "
                "the script that saved it (it exists nowhere else). If you trust this file, pass "
                "allow_unsafe_pickle=True (bbpfit then stands in for classes it cannot import and "
                f"reads the tensors; unpickling can execute arbitrary code), {resave}")
    return (f"'{path}' cannot be loaded safely: its pickle needs `{name}`, which only full "
            "unpickling can rebuild; refused. If you trust this file, pass allow_unsafe_pickle=True "
            "(unpickling can execute arbitrary code; classes that cannot be imported are stood in "
            f"for), {resave}; if `{name}` is in your own code, put that code on PYTHONPATH")


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
        head = f.read(64)
    if not head:
        raise ValueError(f"'{path}' is empty (0 bytes)")
    if not looks_like_torch(head):
        raise ValueError(f"'{path}' is not a readable PyTorch checkpoint: it is {_describe_head(head)}; "
                         "torch.save writes a zip archive (or a pickle before torch 1.6)")
    mmap = head.startswith(ZIP_MAGIC)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        message = str(exc)
        found = re.search(r"Unsupported global: GLOBAL (\S+)", message)
        name = found.group(1) if found else ""
        if found and not name.startswith("__main__.") and _global_exists(name) is False:
            raise ValueError(f"'{path}' is not a readable PyTorch checkpoint: its pickle names "
                             f"`{name}`, which the installed packages do not have (truncated or "
                             "corrupt file, or saved by another version?)") from None
        if not allow_unsafe_pickle:
            if found:
                raise ValueError(_needs_message(path, name)) from None
            raise _corrupt(path, exc) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            obj = torch.load(path, map_location="cpu", weights_only=False, mmap=mmap,
                             pickle_module=_PICKLE)
    except Exception as exc:
        raise _corrupt(path, exc) from None
    return _unwrap_placeholders(obj)


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
