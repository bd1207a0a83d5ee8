"""Finding the checkpoints of a model zoo: paths in, one entry per model out.

Owns the rule that turns the paths given to :func:`bbpfit.analyze_zoo` (or ``bbpfit zoo``) into
checkpoints, and the fingerprint that tells whether a checkpoint changed since a previous run:

- a file given by name is a checkpoint, whatever its extension (an unknown format becomes an
  error row, not a silent skip);
- a directory that is a model folder (it holds ``config.json``, an index json,
  ``model.safetensors`` or ``pytorch_model.bin``) is one checkpoint;
- any other directory is a collection: its files whose extension is a checkpoint extension
  (:data:`bbpfit.sources.hf_folder.CHECKPOINT_EXTENSIONS`) are checkpoints, its sub-directories
  are searched by the same rule, other files and hidden entries are ignored. A collection in
  which nothing is found is an error (``ValueError``), as is a path that does not exist.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..sources.hf_folder import CHECKPOINT_EXTENSIONS

_MODEL_FILES = ("config.json", "model.safetensors", "pytorch_model.bin")
_INDEX_SUFFIX = ".index.json"


def is_model_folder(path) -> bool:
    """Whether a directory holds one model (Hugging Face layout) rather than a collection."""
    path = Path(path)
    if any((path / name).is_file() for name in _MODEL_FILES):
        return True
    return any(p.name.endswith(_INDEX_SUFFIX) for p in path.iterdir() if p.is_file())


def _walk(folder: Path, found: list[Path], ignored: list[Path]) -> None:
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if is_model_folder(entry):
                found.append(entry)
            else:
                _walk(entry, found, ignored)
        elif entry.suffix.lower() in CHECKPOINT_EXTENSIONS:
            found.append(entry)
        else:
            ignored.append(entry)


def find_checkpoints(paths) -> tuple[list[str], list[str]]:
    """Expand files and folders into checkpoints (see the module docstring).

    Parameters
    ----------
    paths : str, path-like or sequence of them

    Returns
    -------
    checkpoints : list of str
        Absolute paths, in the order given (folders expanded in sorted order), each once.
    ignored : list of str
        Files inside collections that were skipped (not a checkpoint extension).

    Raises
    ------
    FileNotFoundError
        A path does not exist.
    ValueError
        No paths, or a collection folder holding no checkpoint.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = [Path(p).expanduser() for p in paths]
    if not paths:
        raise ValueError("`paths` is empty: give checkpoint files or folders")
    found: list[Path] = []
    ignored: list[Path] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"checkpoint path does not exist: '{path}'")
        if path.is_dir() and not is_model_folder(path):
            before = len(found)
            _walk(path, found, ignored)
            if len(found) == before:
                raise ValueError(f"folder '{path}' contains no checkpoints: no model folder and "
                                 f"no file ending in {', '.join(CHECKPOINT_EXTENSIONS)}")
        else:
            found.append(path)
    seen: set[str] = set()
    out = []
    for p in found:
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out, [os.path.abspath(p) for p in ignored]


def fingerprint(path) -> str:
    """Size and modification time of a checkpoint (of every file directly in a model folder).

    Two runs see the same fingerprint exactly when the checkpoint was not rewritten in between.
    """
    path = Path(path)
    try:
        if path.is_dir():
            h = hashlib.sha1()
            for p in sorted(path.iterdir()):
                if p.is_file():
                    st = p.stat()
                    h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
            return "dir:" + h.hexdigest()[:16]
        st = path.stat()
        return f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return "missing"
