"""The public entry points: layers of any source, one at a time.

Owns the turning of a *source* -- an ``nn.Module``, a state dict, a checkpoint file or a model
folder -- into ``(name, weight)`` pairs filtered by a :class:`LayerSelection`. Nothing is read
before it is asked for: :func:`iter_layers` reads one tensor per step (for safetensors, straight
from disk; for zip torch files, from a memory map), so a consumer that drops each weight before
the next keeps memory bounded by the largest layer, not by the model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from ..spectrum import Spectrum, spectrum
from .formats import file_entries
from .module import is_module, module_entries, state_entries
from .selection import LayerSelection, TensorInfo

_DEFAULTS = {"include": None, "exclude": None, "embeddings": False, "others": False, "min_side": 2}


def as_selection(selection=None, options=None) -> LayerSelection:
    """The :class:`LayerSelection` from ``selection`` or from its fields given as keywords.

    ``options`` maps ``include, exclude, embeddings, others, min_side`` to values; giving a
    non-default one together with ``selection`` is a ``TypeError``, as is a ``selection`` that
    is not a :class:`LayerSelection`.
    """
    options = {**_DEFAULTS, **(options or {})}
    if selection is None:
        return LayerSelection(**options)
    if not isinstance(selection, LayerSelection):
        raise TypeError(f"`selection` must be a LayerSelection, got {type(selection).__name__}")
    changed = [k for k, v in options.items() if v != _DEFAULTS[k]]
    if changed:
        raise TypeError(f"pass either `selection` or the keyword options, not both (got {changed})")
    return selection


def _entries(source, format, allow_unsafe_pickle) -> Iterator[tuple[TensorInfo, object]]:
    if isinstance(source, str | os.PathLike):
        return file_entries(source, format=format, allow_unsafe_pickle=allow_unsafe_pickle)
    if format is not None:
        raise ValueError("`format` applies to paths only, not to a module or a state dict")
    if is_module(source):
        return module_entries(source)
    if isinstance(source, Mapping):
        return state_entries(source, source="state dict")
    raise TypeError(f"`source` must be a path, an nn.Module or a state dict (mapping of names to "
                    f"tensors), got {type(source).__name__}")


def _selected(entries, selection):
    # Each name once (tied weights and names repeated across shards), then the selection rule.
    seen: set[str] = set()
    for info, load in entries:
        if info.name in seen:
            continue
        seen.update((info.name, *info.aliases))
        if selection.selects(info):
            yield info, load


def iter_layers(source, *, include=None, exclude=None, embeddings: bool = False,
                others: bool = False, min_side: int = 2, selection: LayerSelection | None = None,
                format: str | None = None, allow_unsafe_pickle: bool = False
                ) -> Iterator[tuple[str, object]]:
    """Yield ``(name, weight)`` for each layer of a model, reading one tensor at a time.

    Parameters
    ----------
    source : nn.Module, mapping, str or path-like
        A torch module; a state dict of torch tensors or numpy arrays (wrapped checkpoints such as
        ``{"model_state": ..., "optimizer": ...}`` are opened); a ``.safetensors`` file; a torch
        file (``.pt``, ``.pth``, ``.bin``, ``.ckpt``); or a Hugging Face model folder.
    include, exclude : str or sequence of str, optional
        fnmatch globs on the full parameter name, e.g. ``exclude="*.pooler.*"``.
    embeddings : bool, default False
        Also yield embedding tables (``nn.Embedding``; in files, names like ``*embed*``, ``wte``).
    others : bool, default False
        Also yield 2-D float tensors that are not layer weights (buffers, ``A_log``, ...).
    min_side : int, default 2
        Skip matrices with a side shorter than this.
    selection : LayerSelection, optional
        A prepared rule, instead of the five options above.
    format : str, optional
        Force a file format (``"safetensors"``, ``"torch"``, ``"hf-folder"``) instead of detecting it.
    allow_unsafe_pickle : bool, default False
        Let torch files that need full unpickling load. Only for files you trust: unpickling can
        execute arbitrary code. Without it such files raise ``ValueError`` naming this flag.

    Yields
    ------
    name : str
        The parameter name; a tied weight appears once, under its first name.
    weight : numpy.ndarray or torch.Tensor
        numpy for safetensors files (bfloat16 widened to float32), torch tensors (detached, on
        their device) for modules, torch files and torch state dicts. Conv kernels keep their
        shape; :func:`bbpfit.spectrum` reads them as (out, in * prod(k)).

    Raises
    ------
    FileNotFoundError
        ``source`` is a path that does not exist (raised at the call).
    ValueError
        Unknown format, empty file, folder without checkpoints (at the call); corrupt or truncated
        file, a pickle that needs ``allow_unsafe_pickle=True`` (when iteration reaches it).
    TypeError
        ``source`` is of an unsupported type.

    Notes
    -----
    Which tensors count as layers is decided by :class:`LayerSelection` (see
    :mod:`bbpfit.sources.selection`): by default 2-D and conv weights with both sides >= 2, not
    embeddings, biases, norms, integer buffers or other non-weight tensors.

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.sources import iter_layers
    >>> rng = np.random.default_rng(0)
    >>> state = {"fc1.weight": rng.standard_normal((64, 32)), "fc1.bias": np.zeros(64),
    ...          "conv.weight": rng.standard_normal((8, 3, 3, 3))}
    >>> [(name, w.shape) for name, w in iter_layers(state)]
    [('fc1.weight', (64, 32)), ('conv.weight', (8, 3, 3, 3))]
    """
    sel = as_selection(selection, {"include": include, "exclude": exclude, "embeddings": embeddings,
                                 "others": others, "min_side": min_side})
    entries = _entries(source, format, allow_unsafe_pickle)
    return ((info.name, load()) for info, load in _selected(entries, sel))


def list_layers(source, **options) -> list[TensorInfo]:
    """Describe the layers :func:`iter_layers` would yield, without reading their data.

    Takes the same arguments as :func:`iter_layers`. For safetensors files only the header is
    read; torch files are loaded memory-mapped (legacy formats in full).
    """
    sel = as_selection(options.pop("selection", None),
                     {k: options.pop(k, v) for k, v in _DEFAULTS.items()})
    entries = _entries(source, options.pop("format", None), options.pop("allow_unsafe_pickle", False))
    if options:
        raise TypeError(f"list_layers() got unexpected keyword arguments {sorted(options)}")
    return [info for info, _ in _selected(entries, sel)]


def read_layers(source, **options) -> dict[str, object]:
    """All layers of ``source`` as a dict ``name -> weight`` (everything in memory at once).

    Takes the same arguments as :func:`iter_layers`; prefer that for large models.
    """
    return dict(iter_layers(source, **options))


def load_spectra(source, **options) -> dict[str, Spectrum]:
    """The :class:`~bbpfit.Spectrum` of every layer, ``name -> Spectrum``, one layer in memory at a time.

    Takes the same arguments as :func:`iter_layers`. A layer whose spectrum cannot be computed
    (NaN or infinite weights, ...) raises ``ValueError`` naming the layer.
    """
    out = {}
    for name, weight in iter_layers(source, **options):
        try:
            out[name] = spectrum(weight, name=name)
        except ValueError as exc:
            raise ValueError(f"layer {name!r}: {exc}") from exc
        del weight
    return out
