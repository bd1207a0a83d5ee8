"""Hugging Face model folders: which file(s) in a directory hold the model's weights.

Owns the folder layout, not the file formats. A folder is resolved to a *plan*: a list of
``(file, names)`` pairs, ``names`` being the tensors to take from that file (``None``: all).
The first rule that applies decides:

1. ``model.safetensors.index.json`` (sharded safetensors; ``{"weight_map": {name: shard}}``);
2. ``model.safetensors``;
3. ``pytorch_model.bin.index.json`` (sharded torch files);
4. ``pytorch_model.bin``;
5. exactly one other ``*.safetensors.index.json`` or ``*.bin.index.json`` (e.g. diffusers'
   ``diffusion_pytorch_model.safetensors.index.json``), safetensors preferred;
6. exactly one checkpoint file (any extension in ``CHECKPOINT_EXTENSIONS``), a single
   ``.safetensors`` file being preferred over torch files of the same model.

A folder with several candidate checkpoints and no index is ambiguous (``ValueError`` listing
them), and one with none is a ``ValueError`` saying so. With an index, every shard is read once,
tensors are taken in shard order, and a name listed twice keeps its first shard.
"""

from __future__ import annotations

import json
from pathlib import Path

#: Extensions of files that can hold a checkpoint (see :data:`bbpfit.sources.formats.FORMATS`).
CHECKPOINT_EXTENSIONS = (".safetensors", ".pt", ".pth", ".bin", ".ckpt")

_PREFERRED = ("model.safetensors.index.json", "model.safetensors",
              "pytorch_model.bin.index.json", "pytorch_model.bin")
_INDEX_SUFFIXES = (".safetensors.index.json", ".bin.index.json", ".pt.index.json",
                   ".pth.index.json")


def _first_pairs(pairs):
    out = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def read_index(index: Path) -> list[tuple[Path, frozenset]]:
    """Plan for a sharded checkpoint: ``(shard file, tensor names in it)``, in shard order.

    Raises
    ------
    ValueError
        The index is not valid JSON, has no ``weight_map`` mapping names to file names, or names
        a shard outside its folder.
    FileNotFoundError
        A shard the index names does not exist.
    """
    try:
        data = json.loads(index.read_text(encoding="utf-8"), object_pairs_hook=_first_pairs)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"'{index}' is not a valid index file: not JSON ({exc})") from None
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not weight_map or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()):
        raise ValueError(f"'{index}' is not a valid index file: it needs a non-empty "
                         '"weight_map" object mapping tensor names to shard file names')
    shards: dict[str, set] = {}
    for name, shard in weight_map.items():
        shards.setdefault(shard, set()).add(name)
    plan = []
    for shard in sorted(shards):
        path = index.parent / shard
        if Path(shard).is_absolute() or ".." in Path(shard).parts:
            raise ValueError(f"'{index}' names a shard outside its folder: {shard!r}")
        if not path.is_file():
            raise FileNotFoundError(f"shard '{path}' named in '{index}' does not exist")
        plan.append((path, frozenset(shards[shard])))
    return plan


def resolve_folder(folder) -> list[tuple[Path, frozenset | None]]:
    """The files (and tensor names) that hold the model in ``folder``; see the module docstring.

    Raises
    ------
    ValueError
        No checkpoint in the folder, or several with no index to say how they fit together.
    """
    folder = Path(folder)
    for name in _PREFERRED:
        path = folder / name
        if path.is_file():
            return read_index(path) if name.endswith(".json") else [(path, None)]
    files = sorted(p for p in folder.iterdir() if p.is_file())
    for suffixes in (_INDEX_SUFFIXES[:1], _INDEX_SUFFIXES[1:]):
        indexes = [p for p in files if p.name.endswith(suffixes)]
        if len(indexes) == 1:
            return read_index(indexes[0])
        if indexes:
            raise _ambiguous(folder, indexes)
    candidates = [p for p in files if p.suffix in CHECKPOINT_EXTENSIONS]
    safetensors = [p for p in candidates if p.suffix == ".safetensors"]
    if len(safetensors) == 1:
        return [(safetensors[0], None)]
    if len(candidates) == 1:
        return [(candidates[0], None)]
    if not candidates:
        raise ValueError(f"folder '{folder}' contains no checkpoint: no index json and no file "
                         f"ending in {', '.join(CHECKPOINT_EXTENSIONS)}")
    raise _ambiguous(folder, candidates)


def _ambiguous(folder: Path, files) -> ValueError:
    names = ", ".join(p.name for p in files[:10]) + (", ..." if len(files) > 10 else "")
    return ValueError(f"folder '{folder}' holds {len(files)} checkpoints and no single index json "
                      f"to combine them ({names}); pass one file, or give the files to analyze_zoo")
