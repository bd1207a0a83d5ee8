"""Entrywise rank-Gaussianisation: the size fix for heavy-tailed or discrete weight entries.

Owns the map ``w_ij -> Phi^-1((r_ij + 1/2) / N)`` from the rank ``r_ij`` (0-based, ties broken at
random) of every entry among all ``N`` entries. Under the null "the entries are exchangeable"
(iid of any law, e.g. a shuffled weight matrix) the result is a uniformly random arrangement of
the ``N`` normal scores, a matrix whose top-eigenvalue law is that of Gaussian noise to high
accuracy, whatever the tails of the original entries (Student-t with 3 dof included). A low-rank
signal survives the monotone map, so power is kept (statistics brief, section 6). Spike
strengths must still be estimated on the untransformed matrix.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import ndtri

from .._validation import as_real_array
from ..spectrum.fast import row_blocks
from ._rank_kernels import sort_keys, split_keys


def rank_order(a: np.ndarray, rng=None) -> np.ndarray:
    """Flat indices of ``a`` in ascending order, ties in a uniformly random order.

    Sorted by integer keys of the values' top ``64 - ceil(log2 N)`` bits (:mod:`._rank_kernels`;
    all of a float32's), then distinct values that share a key are put in order: the order is
    exact, and only equal values are permuted at random. ``rng`` is drawn from only when two
    values share a key.

    Memory: the keys (8 bytes an entry) and the order (4 bytes an entry below ``2^31``
    entries), made by blocks of :data:`bbpfit.spectrum.fast.BLOCK_ENTRIES` entries; no float64
    copy of ``a`` is made, so a float32 layer of ``S`` bytes needs about ``3.3 S`` here.
    """
    a2 = _matrix(a)
    size = a2.size
    index_bits = max(1, int(size - 1).bit_length())
    keys = _keys(a2, index_bits)
    keys.sort()
    order, tied = _split(keys, index_bits)
    n_tied = int(np.count_nonzero(tied))
    if 8 * n_tied > size:
        # Many ties (discrete weights): rank a uniformly shuffled copy instead; ties are broken
        # by position, so every run of tied values comes out in a uniformly random order.
        del keys, order, tied
        shuffle = np.arange(size, dtype=_index_dtype(size))
        np.random.default_rng(rng).shuffle(shuffle)  # = permutation(size), in fewer bytes
        keys = _keys(a2, index_bits, shuffle)
        keys.sort()
        mask = np.uint64((1 << index_bits) - 1)
        inplace = keys.view(np.int64)
        for s in _spans(size):
            inplace[s] = shuffle[(keys[s] & mask).astype(np.intp)]
        del shuffle
        order = np.empty(size, dtype=_index_dtype(size))
        for s in _spans(size):
            order[s] = inplace[s]
        del keys, inplace
        if not _ascending(a2, order):
            # Distinct values that share a key: put them in order; equal values keep their
            # random order (a stable sort of an almost sorted array, near-linear).
            order = order[np.argsort(_take(a2, order), kind="stable")]
    elif n_tied:
        # Few ties: reorder each run of positions that share a key by (value, random key):
        # distinct values (differing only in their last bits) come out in order, equal ones
        # uniformly permuted, every run in place.
        pos = np.flatnonzero(tied)
        value = keys[pos] >> np.uint64(index_bits)
        del keys, tied
        rng = np.random.default_rng(rng)
        at = order[pos]
        order[pos] = at[np.lexsort((rng.random(pos.size), _take(a2, at), value))]
    return order


def _matrix(a) -> np.ndarray:
    """A 2-D view of ``a`` (a copy only if it cannot be viewed so) whose C order is ``a``'s."""
    a = np.asarray(a)
    return a.reshape(-1, a.shape[-1]) if a.ndim >= 2 else a.reshape(1, -1)


def _index_dtype(size: int):
    return np.int32 if size < 2**31 else np.intp


def _spans(size: int):
    """Slices of :data:`~bbpfit.spectrum.fast.BLOCK_ENTRIES` covering ``range(size)``."""
    return row_blocks(size, 1)


def _take(a2: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """float64 values of ``a2`` at C-order flat indices."""
    if a2.flags.c_contiguous:  # a 1-D gather: 3-4x faster than the 2-D one below, same values
        return np.take(a2.reshape(-1), flat).astype(np.float64, copy=False)
    rows, cols = np.divmod(flat, a2.shape[1])
    return a2[rows, cols].astype(np.float64)


def _keys(a2: np.ndarray, index_bits: int, positions: np.ndarray | None = None) -> np.ndarray:
    """Sort keys of ``a2``'s entries in C order, or of the entries at flat ``positions``, by
    blocks (a block's local indices shifted to global ones: the low bits are free)."""
    size = a2.size
    keys = np.empty(size, dtype=np.uint64)
    if positions is None:
        m = a2.shape[1]
        for rows in row_blocks(*a2.shape):
            chunk = np.ascontiguousarray(a2[rows], dtype=np.float64).ravel()
            part = keys[rows.start * m: rows.start * m + chunk.size]
            part[:] = sort_keys(chunk, index_bits)
            part += np.uint64(rows.start * m)
    else:
        for s in _spans(size):
            part = keys[s]
            part[:] = sort_keys(_take(a2, positions[s]), index_bits)
            part += np.uint64(s.start)
    return keys


def _split(keys: np.ndarray, index_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`split_keys` by blocks, into a 4-byte order where it fits."""
    size = keys.shape[0]
    order = np.empty(size, dtype=_index_dtype(size))
    tied = np.empty(size, dtype=np.bool_)
    for s in _spans(size):
        lo, hi = max(s.start - 1, 0), min(s.stop + 1, size)  # a neighbour on each side
        o, t = split_keys(keys[lo:hi], index_bits)
        order[s] = o[s.start - lo: s.stop - lo]
        tied[s] = t[s.start - lo: s.stop - lo]
    return order, tied


def _ascending(a2: np.ndarray, order: np.ndarray) -> bool:
    """Whether ``a2``'s values taken in ``order`` never decrease (by blocks)."""
    last = -np.inf
    for s in _spans(order.shape[0]):
        v = _take(a2, order[s])
        if v[0] < last or not np.all(v[1:] >= v[:-1]):
            return False
        last = v[-1]
    return True


def rank_scores(a: np.ndarray, rng=None) -> np.ndarray:
    """float64 array of ``a``'s shape holding the normal score of each entry's rank.

    The scores are scattered by blocks when they are not cached (no second array of ``N``
    scores beside the result).
    """
    order = rank_order(a, rng)
    size = order.shape[0]
    out = np.empty(size)
    if size <= _CACHE_MAX:
        out[order] = normal_scores(size)
    else:
        for s in _spans(size):
            out[order[s]] = ndtri((np.arange(s.start, s.stop, dtype=np.float64) + 0.5) / size)
    return out.reshape(np.shape(a))


def normal_scores(size: int) -> np.ndarray:
    """``Phi^-1((i + 1/2) / size)`` for ``i = 0..size-1`` (ascending, read-only).

    Sizes up to 2^22 are cached (a model's layers share a few shapes).
    """
    return _cached_scores(size) if size <= _CACHE_MAX else _scores(size)


def _scores(size: int) -> np.ndarray:
    out = ndtri((np.arange(size, dtype=np.float64) + 0.5) / size)
    out.setflags(write=False)
    return out


_CACHE_MAX = 1 << 22
_cached_scores = functools.lru_cache(maxsize=8)(_scores)


def rank_gaussianize(W, *, rng=None) -> np.ndarray:
    """Replace every entry by the normal score of its rank among all entries.

    Parameters
    ----------
    W : array_like
        Real matrix (any shape; ranks are taken over all entries).
    rng : None, int or numpy.random.Generator, optional
        Breaks ties (e.g. quantised or bfloat16 weights) at random; unused without ties.

    Returns
    -------
    numpy.ndarray
        float64 array of ``W``'s shape; its entries are the ``N`` normal scores
        ``Phi^-1((i + 1/2) / N)``.

    Raises
    ------
    ValueError, TypeError
        Empty, NaN/Inf, complex or non-numeric ``W``.

    References
    ----------
    A. Perry, A. S. Wein, A. S. Bandeira and A. Moitra, "Optimality and sub-optimality of PCA I:
    spiked random matrix models", Ann. Statist. 46(5):2416-2451 (2018). doi:10.1214/17-AOS1625

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.inference import rank_gaussianize
    >>> g = rank_gaussianize(np.random.default_rng(0).standard_t(3, size=(300, 100)))
    >>> round(float(g.mean()), 12), round(float(g.std()), 2)
    (0.0, 1.0)
    """
    return rank_scores(as_real_array(W, "W"), rng)
