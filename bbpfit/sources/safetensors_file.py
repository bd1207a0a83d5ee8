"""``.safetensors`` files read tensor by tensor, with numpy only (no torch, no safetensors package).

Owns the format: an 8-byte little-endian header length N, a UTF-8 JSON header of N bytes
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``, then the data
(offsets relative to its start, little-endian, C order). The header is parsed and checked in full
before any tensor is read, so a truncated or corrupt file is reported up front; each tensor is then
read with one ``readinto`` into an array of its own, so memory is bounded by the largest tensor.

bfloat16 (numpy has no such dtype) is read as raw ``uint16`` bits and widened exactly to float32
by shifting them into the high half of a ``uint32``; the result equals torch's ``.float()``.
:func:`save_safetensors` writes numpy arrays in the same format (tests, benchmarks, examples).
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .selection import TensorInfo

#: The safetensors specification caps the header at 100 MB.
HEADER_MAX = 100_000_000

# code -> (numpy dtype used to read the raw bytes, reported dtype name, item size, floating)
_DTYPES = {
    "F64": ("<f8", "float64", 8, True),
    "F32": ("<f4", "float32", 4, True),
    "F16": ("<f2", "float16", 2, True),
    "BF16": ("<u2", "bfloat16", 2, True),
    "F8_E4M3": (None, "float8_e4m3fn", 1, True),
    "F8_E5M2": (None, "float8_e5m2", 1, True),
    "I64": ("<i8", "int64", 8, False),
    "I32": ("<i4", "int32", 4, False),
    "I16": ("<i2", "int16", 2, False),
    "I8": ("i1", "int8", 1, False),
    "U64": ("<u8", "uint64", 8, False),
    "U32": ("<u4", "uint32", 4, False),
    "U16": ("<u2", "uint16", 2, False),
    "U8": ("u1", "uint8", 1, False),
    "BOOL": ("?", "bool", 1, False),
}


def looks_like_safetensors(head: bytes) -> bool:
    """Whether the first bytes of a file look like a safetensors header (length, then ``{``)."""
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n <= HEADER_MAX and head[8:9] == b"{"


def _bad(path, what: str) -> ValueError:
    return ValueError(f"'{path}' is not a valid safetensors file: {what}")


def _check_entry(path, name, entry, data_len: int) -> tuple[str, tuple[int, ...], int, int]:
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= entry.keys():
        raise _bad(path, f"header entry {name!r} lacks dtype/shape/data_offsets")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
        raise _bad(path, f"tensor {name!r} has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(o, int) for o in offsets) and 0 <= offsets[0] <= offsets[1]):
        raise _bad(path, f"tensor {name!r} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if end > data_len:
        raise _bad(path, f"tensor {name!r} needs data up to byte {end} but the data section has "
                         f"only {data_len} bytes (truncated file?)")
    if code in _DTYPES and end - begin != math.prod(shape) * _DTYPES[code][2]:
        raise _bad(path, f"tensor {name!r} ({code}, shape {tuple(shape)}) should take "
                         f"{math.prod(shape) * _DTYPES[code][2]} bytes, its offsets give {end - begin}")
    return str(code), tuple(shape), begin, end


def read_header(f, path) -> tuple[dict, int, dict]:
    """Parse and check the header of an open safetensors file.

    Returns
    -------
    entries : dict
        ``name -> (dtype code, shape, begin, end)``, in the order of the data in the file.
    data_start : int
        Absolute offset of the data section.
    metadata : dict
        The ``__metadata__`` strings (empty if absent).

    Raises
    ------
    ValueError
        Naming the file and what is wrong: too short, header length beyond the file, invalid JSON,
        entries without dtype/shape/offsets, offsets beyond the end of the file.
    """
    size = f.seek(0, 2)
    f.seek(0)
    if size == 0:
        raise ValueError(f"'{path}' is empty (0 bytes)")
    if size < 8:
        raise _bad(path, f"only {size} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > HEADER_MAX or 8 + n > size:
        raise _bad(path, f"the header declares {n} bytes but the file has only {size - 8} after the "
                         "length field (truncated or not safetensors)")
    try:
        header = json.loads(f.read(n).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _bad(path, "the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    data_len = size - 8 - n
    entries = {name: _check_entry(path, name, e, data_len) for name, e in header.items()}
    entries = dict(sorted(entries.items(), key=lambda kv: kv[1][2]))
    return entries, 8 + n, metadata


def read_tensor(f, path, name: str, entry, data_start: int) -> np.ndarray:
    """Read one tensor (bfloat16 widened to float32) from an open file; see :func:`read_header`."""
    code, shape, begin, end = entry
    if code not in _DTYPES or _DTYPES[code][0] is None:
        readable = ", ".join(c for c, d in _DTYPES.items() if d[0] is not None)
        raise ValueError(f"'{path}': tensor {name!r} has dtype {code}, which bbpfit cannot read "
                         f"(readable dtypes: {readable})")
    raw = np.empty(shape, dtype=_DTYPES[code][0])
    f.seek(data_start + begin)
    got = f.readinto(raw.reshape(-1).view(np.uint8))
    if got != end - begin:
        raise _bad(path, f"tensor {name!r} ends early: read {got} of {end - begin} bytes")
    if code == "BF16":
        return (raw.astype("<u4") << 16).view("<f4")
    return raw


def _natural_key(name: str):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name)]


def model_order(names) -> list[str]:
    """The names in the file's order, unless the writer sorted them alphabetically (as the
    ``safetensors`` library does): then numbers compare as numbers, so ``layer.2`` comes before
    ``layer.10`` as in the model."""
    names = list(names)
    if names == sorted(names):
        return sorted(names, key=_natural_key)
    return names


def safetensors_entries(path, *, names=None, **_) -> Iterator[tuple[TensorInfo, object]]:
    """Yield ``(TensorInfo, load)`` for each tensor of a safetensors file, in file order
    (:func:`model_order`: alphabetically sorted files are read in natural order).

    The file is opened once and stays open while the generator runs; ``load()`` reads that one
    tensor and must be called before the generator advances. ``names`` (optional set) restricts
    the tensors listed, e.g. to those an index file assigns to this shard.
    """
    path = Path(path)
    with open(path, "rb") as f:
        entries, data_start, _ = read_header(f, path)
        for name in model_order(entries):
            entry = entries[name]
            if names is not None and name not in names:
                continue
            code, shape = entry[0], entry[1]
            _, dtype, _, floating = _DTYPES.get(code, (None, code.lower(), None, code.startswith("F")))
            info = TensorInfo(name, shape, dtype, floating, source=str(path))
            yield info, (lambda n=name, e=entry: read_tensor(f, path, n, e, data_start))


def save_safetensors(path, tensors, *, dtype=np.float32) -> Path:
    """Write numpy arrays to a ``.safetensors`` file (readable by this module and by torch's loader).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced if it exists).
    tensors : mapping of str to array_like
        Tensors by name, written in the mapping's order.
    dtype : numpy dtype, default float32
        Every tensor is cast to it: float64, float32 or float16.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from bbpfit.sources.safetensors_file import save_safetensors
    >>> from bbpfit.sources import read_layers
    >>> f = save_safetensors(os.path.join(tempfile.mkdtemp(), "m.safetensors"),
    ...                      {"fc.weight": np.eye(3)})
    >>> read_layers(f)["fc.weight"].tolist()[0]
    [1.0, 0.0, 0.0]
    """
    codes = {np.dtype(v[0]): k for k, v in _DTYPES.items() if k in ("F64", "F32", "F16")}
    dt = np.dtype(dtype).newbyteorder("<")
    if dt not in codes:
        raise ValueError(f"`dtype` must be float64, float32 or float16, got {np.dtype(dtype)}")
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        data = np.ascontiguousarray(a, dtype=dt).tobytes()
        header[name] = {"dtype": codes[dt], "shape": list(np.shape(a)),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path = Path(path)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))
    return path
