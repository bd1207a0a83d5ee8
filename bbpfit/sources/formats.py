"""The registry of checkpoint formats, and the detection of a path's format.

Owns the dispatch from a path to a reader. A file's format is recognised by its content first
(the safetensors header, a zip archive or a pickle as written by ``torch.save``), then by its
extension (so a corrupt file with a known extension gets that format's precise error); a directory
is a Hugging Face model folder. Every reader yields ``(TensorInfo, load)`` pairs, ``load()``
returning that one tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .._validation import check_method
from .hf_folder import resolve_folder
from .safetensors_file import looks_like_safetensors, safetensors_entries
from .selection import TensorInfo
from .torch_file import looks_like_torch, torch_entries


@dataclass(frozen=True)
class Format:
    """A checkpoint format: how to recognise it and how to read it."""

    name: str
    description: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes], bool] | None
    entries: Callable[..., Iterator[tuple[TensorInfo, object]]]


def folder_entries(path, *, allow_unsafe_pickle: bool = False, **_):
    """Entries of a Hugging Face model folder, shard after shard (the layout is resolved now)."""
    plan = resolve_folder(path)
    return (entry for file, names in plan
            for entry in file_entries(file, names=names, allow_unsafe_pickle=allow_unsafe_pickle))


#: Formats by name; ``format=`` arguments are checked against these keys.
FORMATS: dict[str, Format] = {
    "safetensors": Format("safetensors", "safetensors file, read lazily without torch",
                          (".safetensors",), looks_like_safetensors, safetensors_entries),
    "torch": Format("torch", "torch.save file (zip or legacy), loaded with weights_only=True",
                    (".pt", ".pth", ".bin", ".ckpt"), looks_like_torch, torch_entries),
    "hf-folder": Format("hf-folder", "Hugging Face model folder (single file or sharded with "
                        "an index json)", (), None, folder_entries),
}


def _valid_formats() -> str:
    return "; ".join(f"{f.name} ({', '.join(f.extensions) or 'a directory'})"
                     for f in FORMATS.values())


def check_path(path) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, or raise ``FileNotFoundError`` naming it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"checkpoint path does not exist: '{path}'")
    return path


def detect_format(path) -> str:
    """Name the format of ``path`` (a key of :data:`FORMATS`).

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    ValueError
        The file is empty, or neither its content nor its extension is a known format (the
        message lists the valid formats).
    """
    path = check_path(path)
    if path.is_dir():
        return "hf-folder"
    with open(path, "rb") as f:
        head = f.read(16)
    if not head:
        raise ValueError(f"'{path}' is empty (0 bytes)")
    for fmt in FORMATS.values():
        if fmt.sniff is not None and fmt.sniff(head):
            return fmt.name
    for fmt in FORMATS.values():
        if path.suffix.lower() in fmt.extensions:
            return fmt.name
    raise ValueError(f"'{path}' is not in a known checkpoint format (neither its content nor its "
                     f"extension {path.suffix!r} is recognised); valid formats: {_valid_formats()}")


def file_entries(path, *, format: str | None = None, names=None, allow_unsafe_pickle: bool = False
                 ) -> Iterator[tuple[TensorInfo, object]]:
    """Yield ``(TensorInfo, load)`` for the tensors of a file or folder.

    Parameters
    ----------
    path : path-like
        A checkpoint file or a model folder.
    format : str, optional
        One of :data:`FORMATS`; detected from the content and extension when omitted.
    names : set of str, optional
        Only these tensors (used for the shards of an index).
    allow_unsafe_pickle : bool, default False
        Passed to the torch reader (see :func:`bbpfit.sources.torch_file.load_torch_file`).
    """
    path = check_path(path)
    if format is None:
        format = detect_format(path)
    fmt = check_method(format, FORMATS, "format")
    if (fmt.name == "hf-folder") != path.is_dir():
        kind = "a directory" if path.is_dir() else "a file"
        raise ValueError(f"`format` {fmt.name!r} does not apply to '{path}', which is {kind}")
    return fmt.entries(path, names=names, allow_unsafe_pickle=allow_unsafe_pickle)
