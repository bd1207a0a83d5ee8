"""Which weight matrices of a torch model are recorded, and under which names.

Owns :func:`select_layers`. Which tensors are layers is *not* decided here: the one rule is
:class:`bbpfit.sources.LayerSelection` (documented in :mod:`bbpfit.sources.selection`), applied
to the model's parameters and buffers exactly as :func:`bbpfit.analyze` applies it, so the
recorder and the analysis see the same layers (``nn.MultiheadAttention``'s ``in_proj_weight``,
recurrent ``weight_ih_l0`` / ``weight_hh_l0``, ``Linear`` and ``Conv`` weights; not embeddings
nor the weights tied to them unless ``embeddings=True``). Tied weights are recorded once, under
their first name. Conv kernels are read as (out, in * prod(k)).

On top of the rule, two recorder-only filters are kept for compatibility: ``layers`` (name
patterns, globs or compiled regexes, matched against the parameter name ``"encoder.0.weight"``
and the module name ``"encoder.0"``; each must match something) and ``module_types`` (keep only
the ``weight`` of modules of these classes).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from .._validation import UNSET, renamed
from ..sources import LayerSelection
from ..sources.module import module_entries
from ..spectrum import matrix_shape
from ..store import LayerInfo


class TensorRef:
    """Where a recorded tensor lives: ``getattr(module, attr)``, looked up at every snapshot.

    Looking the tensor up again (rather than keeping it) follows a parameter that the training
    code replaces (``module.weight = nn.Parameter(...)``).
    """

    __slots__ = ("attr", "module")

    def __init__(self, module, attr: str):
        self.module = module
        self.attr = attr

    @property
    def weight(self):
        """The tensor now."""
        return getattr(self.module, self.attr)

    def __repr__(self) -> str:
        return f"TensorRef({type(self.module).__name__}, {self.attr!r})"


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


def _check_types(module_types, nn) -> tuple | None:
    if module_types is None:
        return None
    types = (module_types,) if isinstance(module_types, type) else tuple(module_types)
    if not types or not all(isinstance(t, type) and issubclass(t, nn.Module) for t in types):
        raise TypeError(f"`module_types` must be torch.nn.Module subclasses, got {module_types!r}")
    return types


def recorder_selection(selection, embeddings, module_types, nn) -> LayerSelection:
    """The :class:`LayerSelection` of a recorder from its keyword arguments."""
    if selection is None:
        embeddings = bool(embeddings) or (
            module_types is not None and any(issubclass(t, nn.Embedding | nn.EmbeddingBag)
                                             for t in module_types))
        return LayerSelection(embeddings=embeddings)
    if not isinstance(selection, LayerSelection):
        raise TypeError(f"`selection` must be a bbpfit.LayerSelection, got {type(selection).__name__}")
    if embeddings:
        raise TypeError("pass either `selection` or `embeddings`, not both "
                        "(use LayerSelection(embeddings=True))")
    return selection


def select_layers(model, *, selection: LayerSelection | None = None, layers=None,
                  module_types=None, embeddings=UNSET, include_embeddings=UNSET):
    """List the weight matrices of ``model`` to record, in the model's parameter order.

    Parameters
    ----------
    model : torch.nn.Module
    selection : bbpfit.LayerSelection, optional
        The layer rule (default ``LayerSelection()``: what :func:`bbpfit.analyze` takes).
    layers : str, re.Pattern or list of them, optional
        Keep only layers whose parameter or module name matches one of the patterns (strings
        are fnmatch globs such as ``"encoder.*"``; compiled regexes use ``re.search``). Every
        pattern must match at least one candidate layer.
    module_types : type or tuple of types, optional
        Keep only the ``weight`` of modules of these classes (default: no such filter).
    embeddings : bool, default False
        Shorthand for ``selection=LayerSelection(embeddings=True)``: also record embedding
        tables (and the output layers tied to them). Old name: ``include_embeddings``.

    Returns
    -------
    list of (LayerInfo, TensorRef)
        One entry per distinct matrix; a tensor shared by several modules is recorded once,
        under its first name.

    Raises
    ------
    TypeError
        ``model`` is not a module, bad ``selection``, ``layers`` or ``module_types``.
    ValueError
        No weight matrix qualifies, or a pattern in ``layers`` matches nothing.
    """
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    types = _check_types(module_types, nn)
    embeddings = renamed(embeddings, include_embeddings, "embeddings", "include_embeddings", False)
    sel = recorder_selection(selection, embeddings, types, nn)
    modules = dict(model.named_modules(remove_duplicate=False))
    candidates = []
    for info, _ in module_entries(model):
        if not sel.selects(info):
            continue
        mod_name, _, attr = info.name.rpartition(".")
        module = modules[mod_name]
        if types is not None and not (attr == "weight" and isinstance(module, types)):
            continue
        candidates.append((info, mod_name, TensorRef(module, attr)))
    if not candidates:
        kinds = "" if types is None else " among modules of type " + ", ".join(t.__name__ for t in types)
        raise ValueError(f"`model` ({type(model).__name__}) has no weight matrices to record{kinds} "
                         f"under {sel!r}; widen the selection (`selection`, `module_types`)")
    patterns = _patterns(layers)
    selected = [c for c in candidates
                if not patterns or any(_matches(p, (c[0].name, c[1])) for p in patterns)]
    for p in patterns:
        if not any(_matches(p, (info.name, mod_name)) for info, mod_name, _ in selected):
            available = ", ".join(info.name for info, _, _ in candidates)
            raise ValueError(f"`layers` pattern {getattr(p, 'pattern', p)!r} matches no layer; "
                             f"available: {available}")
    out = []
    for info, _, ref in selected:
        _, rows, cols = matrix_shape(info.shape)
        out.append((LayerInfo(info.name, info.shape, rows, cols), ref))
    return out
