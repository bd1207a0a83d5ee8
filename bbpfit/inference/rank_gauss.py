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
from ._rank_kernels import sort_keys, split_keys


def rank_order(a: np.ndarray, rng=None) -> np.ndarray:
    """Flat indices of ``a`` in ascending order, ties in a uniformly random order.

    Sorted by integer keys of the values' top ``64 - ceil(log2 N)`` bits (:mod:`._rank_kernels`;
    all of a float32's), then distinct values that share a key are put in order: the order is
    exact, and only equal values are permuted at random. ``rng`` is drawn from only when two
    values share a key.
    """
    flat = np.ascontiguousarray(a, dtype=np.float64).ravel()
    index_bits = max(1, int(flat.size - 1).bit_length())
    keys = sort_keys(flat, index_bits)
    keys.sort()
    order, tied = split_keys(keys, index_bits)
    pos = np.flatnonzero(tied)
    if 8 * pos.size > flat.size:
        # Many ties (discrete weights): rank a uniformly shuffled copy instead; ties are broken
        # by position, so every run of tied values comes out in a uniformly random order.
        shuffle = np.random.default_rng(rng).permutation(flat.size)
        keys = sort_keys(flat[shuffle], index_bits)
        keys.sort()
        order = shuffle[split_keys(keys, index_bits)[0]]
        srt = flat[order]
        if not np.all(srt[1:] >= srt[:-1]):
            # Distinct values that share a key: put them in order; equal values keep their
            # random order (a stable sort of an almost sorted array, near-linear).
            order = order[np.argsort(srt, kind="stable")]
    elif pos.size:
        # Few ties: reorder each run of positions that share a key by (value, random key):
        # distinct values (differing only in their last bits) come out in order, equal ones
        # uniformly permuted, every run in place.
        value = keys[pos] >> np.uint64(index_bits)
        rng = np.random.default_rng(rng)
        order[pos] = order[pos][np.lexsort((rng.random(pos.size), flat[order[pos]], value))]
    return order


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
    a = as_real_array(W, "W")
    out = np.empty(a.size)
    out[rank_order(a, rng)] = normal_scores(a.size)
    return out.reshape(a.shape)
