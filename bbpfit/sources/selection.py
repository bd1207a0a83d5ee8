"""Which tensors of a model count as layers: the one place that decides it.

Owns :class:`TensorInfo` (what a reader knows about a tensor before reading its data) and
:class:`LayerSelection` (the rule that says whether that tensor is a layer). Every source --
``nn.Module``, state dict, safetensors, torch file, Hugging Face folder -- is judged by this rule.

The rule, in order (the first that applies decides; :meth:`LayerSelection.category` names it):

1. ``"vector"`` -- fewer than 2 dimensions: biases, norm scales and shifts, scalars. Never a
   layer (a vector has no spectrum).
2. ``"non-float"`` -- integer or boolean data: index buffers such as BERT's ``position_ids``,
   masks, counters. Never a layer.
3. ``"small"`` -- the matrix (conv kernels (out, in, *k) read as (out, in * prod(k))) has a side
   shorter than ``min_side`` (default 2), e.g. ``cls_token`` (1, 1, d). Never a layer.
4. ``"embedding"`` -- the weight of an ``nn.Embedding``/``nn.EmbeddingBag`` module, or (in files,
   where module types are unknown) a tensor any of whose dotted name parts matches one of
   ``embedding_patterns`` (``*embed*``, ``*emb``, ``emb_*``, ``wte``, ``wpe``; lower-cased).
   Weights tied to an embedding (a language-model head sharing its storage) are the embedding.
   Layers only with ``embeddings=True``.
5. ``"other"`` -- a tensor that is not the weight of a layer: a module buffer, or a tensor whose
   own name (last dotted part) neither contains ``weight`` or ``kernel`` nor is a matrix-style
   name ``W``, ``W1``, ``W_in``, ``w_q`` (so Mamba's ``A_log``, Swin's
   ``relative_position_bias_table`` and a root-level buffer ``mask`` saved in a state dict are
   "other"). Layers only with ``others=True``.
6. ``"weight"`` -- everything else: ``Linear``/``Conv*d`` weights, ``in_proj_weight``, LSTM
   ``weight_ih_l0``, Keras ``kernel``. Always layers.

Then the name must match one of the ``include`` globs (if any are given) and none of the
``exclude`` globs (``fnmatch`` syntax, case-sensitive, on the full dotted name). Tied weights
(several names over the same storage) are reported once, under their first name, with the
other names in :attr:`TensorInfo.aliases`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from .._validation import check_int
from ..spectrum import matrix_shape

_MATRIX_NAME = re.compile(r"[wW](\d+|_\w*)?")

#: Categories that are never layers, whatever the options.
NEVER = ("vector", "non-float", "small")


@dataclass(frozen=True)
class TensorInfo:
    """What a reader knows about one tensor before reading its data.

    Attributes
    ----------
    name : str
        Full dotted parameter name, e.g. ``"encoder.layer.0.attention.self.query.weight"``.
    shape : tuple of int
        The stored shape.
    dtype : str
        numpy-style name (``"float32"``, ``"bfloat16"``, ``"int64"``, ...).
    floating : bool
        Whether the data are floating point (only these can be layers).
    buffer : bool
        A module buffer rather than a parameter (known for ``nn.Module`` sources only).
    embedding : bool
        Known to be an embedding from the module type (``nn.Embedding``/``nn.EmbeddingBag``).
    aliases : tuple of str
        Other names sharing this tensor's storage (tied weights), which are not reported again.
    source : str
        Where the tensor lives: a file path, ``"module"`` or ``"state dict"``.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    floating: bool
    buffer: bool = False
    embedding: bool = False
    aliases: tuple[str, ...] = ()
    source: str = ""

    @property
    def matrix_shape(self) -> tuple[int, int] | None:
        """(rows, cols) under the bbpfit convention, or None for fewer than 2 dimensions."""
        if len(self.shape) < 2:
            return None
        _, rows, cols = matrix_shape(self.shape)
        return rows, cols

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)


def _as_patterns(value, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    try:
        patterns = tuple(value)
    except TypeError:
        raise TypeError(f"`{name}` must be a glob string or a sequence of them, "
                        f"got {type(value).__name__}") from None
    for p in patterns:
        if not isinstance(p, str):
            raise TypeError(f"`{name}` must contain strings, got {type(p).__name__}")
    return patterns


@dataclass(frozen=True)
class LayerSelection:
    """The rule deciding which tensors are layers (see the module docstring for the order).

    Parameters
    ----------
    include : str or sequence of str, optional
        fnmatch globs on the full name; if given, only matching tensors are layers.
    exclude : str or sequence of str, optional
        fnmatch globs on the full name; matching tensors are never layers.
    embeddings : bool, default False
        Count embedding tables (and weights tied to them) as layers.
    others : bool, default False
        Count 2-D float tensors that are not layer weights (buffers, ``A_log``, bias tables).
    min_side : int, default 2
        Smallest allowed side of the matrix (conv kernels read as (out, in * prod(k))).
    embedding_patterns : sequence of str
        Globs matched against each dotted part of a name to recognise embeddings in files.

    Examples
    --------
    >>> from bbpfit.sources import LayerSelection, TensorInfo
    >>> sel = LayerSelection(exclude="*.pooler.*")
    >>> sel.category(TensorInfo("bert.embeddings.word_embeddings.weight", (30522, 384),
    ...                         "float32", True))
    'embedding'
    >>> sel.selects(TensorInfo("encoder.0.fc.weight", (1536, 384), "float32", True))
    True
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    embeddings: bool = False
    others: bool = False
    min_side: int = 2
    embedding_patterns: tuple[str, ...] = field(default=("*embed*", "*emb", "emb_*", "wte", "wpe"))

    def __post_init__(self):
        for name in ("include", "exclude", "embedding_patterns"):
            object.__setattr__(self, name, _as_patterns(getattr(self, name), name))
        for name in ("embeddings", "others"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"`{name}` must be True or False, got {getattr(self, name)!r}")
        object.__setattr__(self, "min_side", check_int(self.min_side, "min_side", minimum=1))

    def _is_embedding_name(self, name: str) -> bool:
        return any(fnmatchcase(part.lower(), pat) for part in name.split(".")
                   for pat in self.embedding_patterns)

    def category(self, info: TensorInfo) -> str:
        """Name the category of ``info``: vector, non-float, small, embedding, other or weight."""
        shape = info.matrix_shape
        if shape is None:  # fewer than 2 dimensions
            return "vector"
        if not info.floating:
            return "non-float"
        if min(shape) < self.min_side:
            return "small"
        names = (info.name, *info.aliases)
        if info.embedding or any(self._is_embedding_name(n) for n in names):
            return "embedding"
        last = info.name.rsplit(".", 1)[-1]
        weight_like = ("weight" in last.lower() or "kernel" in last.lower()
                       or _MATRIX_NAME.fullmatch(last) is not None)
        if info.buffer or not weight_like:
            return "other"
        return "weight"

    def selects(self, info: TensorInfo) -> bool:
        """Whether ``info`` is a layer under this selection."""
        cat = self.category(info)
        if cat in NEVER or (cat == "embedding" and not self.embeddings) or (
                cat == "other" and not self.others):
            return False
        if self.include and not any(fnmatchcase(info.name, p) for p in self.include):
            return False
        return not any(fnmatchcase(info.name, p) for p in self.exclude)
