"""Which weight matrices of a torch model are recorded, and under which names.

Owns layer selection: by module type (default ``nn.Linear`` and ``nn.Conv1d/2d/3d``), by name
pattern (fnmatch globs or compiled regular expressions, matched against the parameter name
``"encoder.0.weight"`` and the module name ``"encoder.0"``), embedding exclusion, and the
de-duplication of tied weights by ``data_ptr``. Conv kernels are read as (out, in * prod(k)).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from ..spectrum import matrix_shape
from ..store import LayerInfo


def _patterns(layers) -> list:
    if layers is None:
        return []
    if isinstance(layers, str | re.Pattern):
        layers = [layers]
    out = list(layers) if isinstance(layers, Iterable) else [layers]
    if not out or not all(isinstance(p, str | re.Pattern) for p in out):
        raise TypeError("`layers` must be a glob string, a compiled regex, or a non-empty list "
                        f"of them, got {layers!r}")
    return out


def _matches(pattern, names: tuple[str, str]) -> bool:
    if isinstance(pattern, re.Pattern):
        return any(pattern.search(n) for n in names)
    return any(fnmatch.fnmatchcase(n, pattern) for n in names)


def _check_types(module_types, nn) -> tuple:
    if module_types is None:
        return (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    types = (module_types,) if isinstance(module_types, type) else tuple(module_types)
    if not types or not all(isinstance(t, type) and issubclass(t, nn.Module) for t in types):
        raise TypeError(f"`module_types` must be torch.nn.Module subclasses, got {module_types!r}")
    return types


def select_layers(model, *, layers=None, module_types=None, include_embeddings: bool = False):
    """List the weight matrices of ``model`` to record, in the model's module order.

    Parameters
    ----------
    model : torch.nn.Module
    layers : str, re.Pattern or list of them, optional
        Keep only layers whose parameter or module name matches one of the patterns (strings
        are fnmatch globs such as ``"encoder.*"``; compiled regexes use ``re.search``). Every
        pattern must match at least one candidate layer.
    module_types : type or tuple of types, optional
        Module classes whose ``weight`` is recorded; default ``nn.Linear`` and ``nn.Conv1d/2d/3d``.
    include_embeddings : bool, default False
        Also record ``nn.Embedding``/``nn.EmbeddingBag`` tables. When False, weights tied to an
        embedding (e.g. a language model's output layer) are left out too.

    Returns
    -------
    list of (LayerInfo, torch.nn.Module)
        One entry per distinct matrix; a tensor shared by several modules is recorded once,
        under the first module's name.

    Raises
    ------
    TypeError
        ``model`` is not a module, bad ``layers`` or ``module_types``.
    ValueError
        No weight matrix qualifies, or a pattern in ``layers`` matches nothing.
    """
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    types = _check_types(module_types, nn)
    embedding_types = (nn.Embedding, nn.EmbeddingBag)
    if include_embeddings:
        types = types + embedding_types
    excluded = set()
    if not any(issubclass(t, embedding_types) for t in types):
        excluded = {m.weight.data_ptr() for m in model.modules()
                    if isinstance(m, embedding_types) and isinstance(m.weight, torch.Tensor)}
    candidates, seen = [], set()
    for mod_name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if not isinstance(module, types) or not isinstance(weight, torch.Tensor) or weight.dim() < 2:
            continue
        ptr = weight.data_ptr()
        if ptr in seen or ptr in excluded:
            continue
        seen.add(ptr)
        candidates.append((mod_name, module, weight))
    if not candidates:
        kinds = ", ".join(t.__name__ for t in types)
        raise ValueError(f"`model` ({type(model).__name__}) has no weight matrices to record among "
                         f"modules of type {kinds}; pass `module_types` to widen the selection")
    patterns = _patterns(layers)
    selected = []
    for mod_name, module, weight in candidates:
        names = (f"{mod_name}.weight" if mod_name else "weight", mod_name)
        if not patterns or any(_matches(p, names) for p in patterns):
            selected.append((names[0], module, weight))
    for p in patterns:
        if not any(_matches(p, (n, n.removesuffix(".weight"))) for n, _, _ in selected):
            available = ", ".join(f"{m}.weight" if m else "weight" for m, _, _ in candidates)
            raise ValueError(f"`layers` pattern {getattr(p, 'pattern', p)!r} matches no layer; "
                             f"available: {available}")
    out = []
    for name, module, weight in selected:
        shape = tuple(int(s) for s in weight.shape)
        _, rows, cols = matrix_shape(shape)
        out.append((LayerInfo(name, shape, rows, cols), module))
    return out
