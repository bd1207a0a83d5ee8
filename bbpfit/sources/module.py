"""In-memory sources: a torch ``nn.Module``, or a state dict (a mapping of names to tensors/arrays).

Owns three things every loaded checkpoint also goes through:

- finding the state dict inside a wrapped checkpoint: tensors at the top level are used as they
  are; otherwise the first of :data:`WRAPPER_KEYS` that holds a mapping or module is opened (so
  ``{"step": 10, "model_state": {...}, "optimizer": {...}}`` yields the model's tensors only), and
  a ``module.`` prefix shared by every name (``DataParallel``) is removed;
- module-type knowledge: ``nn.Embedding``/``nn.EmbeddingBag`` weights and buffers are marked so
  that :class:`~bbpfit.sources.LayerSelection` can tell them apart;
- tied weights: tensors over the same storage (same address, offset, shape and strides) are
  reported once, under the first name, the others listed as aliases.

Values that are neither torch tensors nor numpy arrays (step counters, config strings) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from .selection import TensorInfo

#: Keys probed, in order, for the model's state dict inside a wrapped checkpoint.
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model_state", "model", "module", "net", "network")


def is_torch_tensor(x) -> bool:
    """True for ``torch.Tensor`` and subclasses (``nn.Parameter``), without importing torch."""
    return any(c.__name__ == "Tensor" and c.__module__ == "torch" for c in type(x).__mro__)


def is_module(x) -> bool:
    """True for a torch ``nn.Module`` (duck-typed, so torch is not imported)."""
    return all(callable(getattr(x, a, None)) for a in ("named_parameters", "named_buffers",
                                                       "named_modules", "state_dict"))


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or is_torch_tensor(x)


def _storage_key(x):
    if isinstance(x, np.ndarray):
        address = x.__array_interface__["data"][0]
        return ("np", address, x.shape, x.strides) if address and x.size else None
    if x.is_meta or x.numel() == 0:
        return None
    return ("torch", x.untyped_storage().data_ptr(), x.storage_offset(), tuple(x.shape), x.stride())


def _dtype(x) -> tuple[str, bool]:
    if isinstance(x, np.ndarray):
        return x.dtype.name, x.dtype.kind == "f"
    return str(x.dtype).removeprefix("torch."), bool(x.is_floating_point())


def tensor_entries(items, *, source: str, buffers=frozenset(), embeddings=frozenset()
                   ) -> Iterator[tuple[TensorInfo, object]]:
    """Yield ``(TensorInfo, load)`` for ``(name, tensor)`` pairs, tied tensors grouped.

    ``buffers`` and ``embeddings`` are sets of names known (from module types) to be buffers or
    embedding weights. ``load()`` returns the tensor itself (detached, no copy) or the array.
    """
    groups: dict = {}
    order = []
    for name, x in items:
        if not _is_array(x):
            continue
        key = _storage_key(x)
        if key is not None and key in groups:
            groups[key].append(name)
            continue
        if key is not None:
            groups[key] = [name]
        order.append((name, x, key))
    for name, x, key in order:
        aliases = tuple(groups[key][1:]) if key is not None else ()
        dtype, floating = _dtype(x)
        info = TensorInfo(name, tuple(int(s) for s in x.shape), dtype, floating,
                          buffer=name in buffers,
                          embedding=any(n in embeddings for n in (name, *aliases)),
                          aliases=aliases, source=source)
        yield info, (lambda x=x: x if isinstance(x, np.ndarray) else x.detach())


def module_entries(module, *, source: str = "module") -> Iterator[tuple[TensorInfo, object]]:
    """Entries of an ``nn.Module``: its parameters, then its buffers, tied ones grouped."""
    import torch

    embeddings = {f"{prefix}.weight" if prefix else "weight"
                  for prefix, m in module.named_modules(remove_duplicate=False)
                  if isinstance(m, torch.nn.Embedding | torch.nn.EmbeddingBag)}
    params = list(module.named_parameters(remove_duplicate=False))
    buffers = list(module.named_buffers(remove_duplicate=False))
    yield from tensor_entries(params + buffers, source=source,
                              buffers={n for n, _ in buffers}, embeddings=embeddings)


def find_state_dict(obj, where: str):
    """Return the module or the mapping of tensors inside a (possibly wrapped) checkpoint.

    Raises
    ------
    ValueError
        When neither the top level nor any of :data:`WRAPPER_KEYS` holds tensors; the message
        names ``where`` and lists the keys found.
    TypeError
        When ``obj`` is neither a mapping nor a module.
    """
    if is_module(obj):
        return obj
    if not isinstance(obj, Mapping):
        raise TypeError(f"{where} holds a {type(obj).__name__}, not a state dict (a mapping of "
                        "names to tensors) or an nn.Module")
    if any(_is_array(v) for v in obj.values()):
        return obj
    for key in WRAPPER_KEYS:
        inner = obj.get(key)
        if is_module(inner) or isinstance(inner, Mapping):
            try:
                return find_state_dict(inner, where)
            except (ValueError, TypeError):
                continue
    keys = ", ".join(repr(k) for k in list(obj)[:20]) or "none"
    raise ValueError(f"{where} holds no tensors, neither at the top level nor under any of the keys "
                     f"{', '.join(WRAPPER_KEYS)}; its keys are: {keys}")


def state_entries(obj, *, source: str) -> Iterator[tuple[TensorInfo, object]]:
    """Entries of a state dict, a module, or a wrapped checkpoint (see :func:`find_state_dict`)."""
    found = find_state_dict(obj, source)
    if is_module(found):
        yield from module_entries(found, source=source)
        return
    items = [(str(k), v) for k, v in found.items()]
    if items and all(k.startswith("module.") for k, _ in items):
        items = [(k.removeprefix("module."), v) for k, v in items]
    yield from tensor_entries(items, source=source)
