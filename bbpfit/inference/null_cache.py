"""Exact finite-n null distributions of the spike-test statistics, simulated once per shape.

Owns the Monte Carlo null samples (Dumitriu-Edelman bidiagonal model, O(m^(1/3)) per draw) and
their cache: an in-memory LRU keyed by ``(kind, n, m, n_draws)`` and, optionally, ``.npy`` files
in a directory (written atomically, so concurrent processes can share one). Every sample is
drawn from a seed derived from its key, so a null never depends on call order or on the user's
``rng``; a cached and a freshly simulated null are identical. The samples of common transformer
shapes ship with bbpfit (:mod:`bbpfit.laws.null_samples`, bit-identical to a simulation while
:data:`NULL_VERSION` matches the table's): a cache miss reads them instead of simulating.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .._files import atomic_path
from .._validation import check_int
from ..laws.null_samples import shipped_sample
from ..laws.wishart import top_eigenvalues
from .statistics import kn_statistic_draws

#: Default number of null draws B. With B + 1 = 10000 the Monte Carlo p-value
#: ``(1 + #{T_b >= T}) / (B + 1)`` is an exact level-alpha test for alpha = 0.05, 0.01, 0.001
#: (alpha (B + 1) is an integer), and the size conditional on one cached sample has sd
#: ``sqrt(alpha (1 - alpha) / B)`` = 0.0022 at alpha = 0.05.
N_NULL = 9999
#: Null draws per shape of the deflation steps ``k >= 1`` (``alpha (B + 1)`` is an integer for
#: alpha = 0.05 and 0.01, so they stay exact level-alpha Monte Carlo tests; their conditional
#: size has sd 0.5% at alpha = 0.05). Every step needs a new shape ``(n, m - k)``, so this
#: keeps the first test of a layer with many spikes affordable.
N_NULL_DEFLATION = 1999

#: Kinds of null sample: statistic of one (n, m) Gaussian null draw with unit noise.
NULL_KINDS = {
    "kn": "l_1 / sigma2_KN(1) (KN noise estimate treating l_1 as the signal)",
    "known": "l_1 / sigma2 with sigma2 known",
}
_KIND_CODE = {"kn": 1, "known": 2}
_SEED_TAG = 0xBB9F17  # part of every null's seed; change it to invalidate every cache
_FORMAT = 1
#: Version of the "kn" and "known" null samples: what :func:`simulate_null` draws for a key. Bump
#: it with any change of the statistic, the seed or the sampler (``laws.wishart``); the shipped
#: samples (:mod:`bbpfit.laws.null_samples`) are then ignored until the table is remade.
NULL_VERSION = f"{_SEED_TAG:#x}/1"


class NullCache:
    """LRU cache of sorted null samples, in memory and optionally on disk.

    Parameters
    ----------
    maxsize : int, default 2048
        Null samples kept in memory (each is ``8 * n_draws`` bytes: 80 kB for a first step,
        16 kB for a deflation step, 0.8 kB for a goodness of fit; 13 kB on average for
        all-MiniLM-L6-v2, so about 27 MB when full, 160 MB at most). One model needs one
        sample per shape it tests (``(n, m - k)`` for every step ``k`` of every layer shape):
        all-MiniLM-L6-v2 needs 253 with ``method="tw"`` and 279 with ``"auto"``. A cache
        smaller than that evicts samples that the next layer or run needs again, which then
        come from disk or are simulated again (no result changes, only the time).
    directory : str or path-like, optional
        Also keep the samples as ``.npy`` files there (created if missing), reused across
        processes and sessions.

    Examples
    --------
    >>> from bbpfit.inference import NullCache, null_distribution
    >>> cache = NullCache(maxsize=4)
    >>> t = null_distribution(400, 200, n_draws=999, cache=cache)
    >>> t.shape, len(cache), bool(t[0] <= t[-1])
    ((999,), 1, True)
    """

    def __init__(self, maxsize: int = 2048, directory=None):
        self.maxsize = check_int(maxsize, "maxsize", minimum=1)
        self.directory = None if directory is None else Path(directory)
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key) -> bool:
        return key in self._data

    def clear(self) -> None:
        """Forget the in-memory samples (files on disk are kept)."""
        with self._lock:
            self._data.clear()

    def _path(self, key) -> Path:
        kind, n, m, b = key
        return self.directory / f"bbpfit_null_v{_FORMAT}_{kind}_n{n}_m{m}_B{b}.npy"

    def get(self, key, factory):
        """The sample for ``key``, from memory, disk or ``factory()`` (then stored)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = None
        if self.directory is not None and self._path(key).exists():
            try:
                value = np.load(self._path(key))
            except (OSError, ValueError):  # a corrupt file is simulated again
                value = None
            if value is not None and value.shape != (key[3],):
                value = None
        if value is None:
            value = factory()
            if self.directory is not None:
                self._save(key, value)
        value = np.asarray(value, dtype=np.float64)
        value.setflags(write=False)
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def _save(self, key, value) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(self._path(key)) as tmp, open(tmp, "wb") as fh:
            np.save(fh, value)


#: The cache used when a function is not given one.
DEFAULT_NULL_CACHE = NullCache()


def null_seed(kind: str, n: int, m: int, n_draws: int) -> np.random.SeedSequence:
    """The seed of the null sample with this key (so every process simulates the same one)."""
    return np.random.SeedSequence([_SEED_TAG, _KIND_CODE[kind], n, m, n_draws])


def simulate_null(kind: str, n: int, m: int, n_draws: int, rng=None) -> np.ndarray:
    """Draw ``n_draws`` values of a null statistic for an ``n x m`` Gaussian bulk; sorted.

    ``kind="kn"``: ``l_1 / sigma2_KN(1)``, from the exact top eigenvalue and trace of each draw
    (``top_eigenvalues(..., return_trace=True)``). ``kind="known"``: ``l_1`` (unit noise).
    """
    rng = np.random.default_rng(null_seed(kind, n, m, n_draws) if rng is None else rng)
    if kind == "known":
        t = top_eigenvalues(n, m, n_draws, rng=rng)[:, 0]
    else:
        top, trace = top_eigenvalues(n, m, n_draws, rng=rng, return_trace=True)
        t = kn_statistic_draws(np.ascontiguousarray(top[:, 0]), trace, m, float(n))
    return np.sort(t)


def null_distribution(n, m, *, kind: str = "kn", n_draws: int = N_NULL, cache=None) -> np.ndarray:
    """Sorted exact null sample of a spike-test statistic for an ``(n, m)`` bulk, cached.

    Parameters
    ----------
    n, m : int
        Long and short side of the null bulk, ``n >= m >= 2``.
    kind : {"kn", "known"}
        Statistic (see :data:`NULL_KINDS`).
    n_draws : int, default :data:`N_NULL`
        Number of draws ``B``.
    cache : NullCache, optional
        Defaults to :data:`DEFAULT_NULL_CACHE`.

    Returns
    -------
    numpy.ndarray
        Read-only, ascending, shape ``(n_draws,)``.

    References
    ----------
    I. Dumitriu and A. Edelman, "Matrix models for beta ensembles", J. Math. Phys.
    43(11):5830-5847 (2002). doi:10.1063/1.1507823
    """
    if kind not in NULL_KINDS:
        valid = ", ".join(map(repr, NULL_KINDS))
        raise ValueError(f"unknown kind {kind!r}; valid names are {valid}")
    n = check_int(n, "n", minimum=2)
    m = check_int(m, "m", minimum=2)
    if m > n:
        raise ValueError(f"`m` must be <= `n`, got n={n}, m={m}")
    b = check_int(n_draws, "n_draws", minimum=19)
    return cached_null(kind, n, m, b, cache)


def cached_null(kind: str, n: int, m: int, n_draws: int, cache=None) -> np.ndarray:
    """:func:`null_distribution` for arguments already checked (the sequential test's hot loop)."""
    cache = DEFAULT_NULL_CACHE if cache is None else cache
    return cache.get((kind, n, m, n_draws), lambda: shipped_or_simulated(kind, n, m, n_draws))


def shipped_or_simulated(kind: str, n: int, m: int, n_draws: int) -> np.ndarray:
    """:func:`simulate_null` of the key, read from the shipped samples when they hold it."""
    shipped = shipped_sample((kind, n, m, n_draws), NULL_VERSION)
    return simulate_null(kind, n, m, n_draws) if shipped is None else shipped


def mc_pvalue(null_sorted: np.ndarray, t: float) -> tuple[float, int]:
    """Monte Carlo p-value ``(1 + #{T_b >= t}) / (B + 1)`` and the count ``#{T_b >= t}``."""
    b = null_sorted.shape[0]
    count = b - int(null_sorted.searchsorted(t, side="left"))
    return (1.0 + count) / (b + 1.0), count


def mc_critical_value(null_sorted: np.ndarray, alpha: float) -> float:
    """The value ``c`` with ``p <= alpha`` exactly when ``t > c`` (inf if alpha is too small)."""
    b = null_sorted.shape[0]
    j = int(np.floor(alpha * (b + 1) - 1 + 1e-9))  # largest allowed count #{T_b >= t}
    if j < 0:
        return np.inf
    return float(null_sorted[b - j - 1]) if j < b else -np.inf
