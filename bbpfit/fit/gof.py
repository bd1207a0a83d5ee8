"""Goodness of fit of the Marchenko-Pastur bulk: a calibrated p-value by parametric bootstrap.

Owns :func:`mp_gof` and its :class:`MPGoF` result. The question is "after the top ``k`` eigenvalues
(the spikes) are set aside, is the rest an MP bulk?". An iid KS p-value is meaningless here
(eigenvalues are rigid: pure noise gives KS distances of order 1/m), and no closed-form law
accounts for the fitted scale and the removed spikes, so the null is simulated exactly:

* statistic: the Cramer-von Mises distance ``omega^2`` between the ``m - k`` smallest eigenvalues
  and the MP law of an ``(n - k) x (m - k)`` noise matrix (a rank-k signal takes k dimensions from
  each side), with the scale re-estimated from that bulk (its mean, the MLE under the null);
* null: the same statistic on exact Gaussian ``(n - k) x (m - k)`` spectra (Dumitriu-Edelman
  sampler, :func:`bbpfit.laws.wishart.null_eigenvalues`), so the fit of the scale and the removal
  of ``k`` dimensions are inside the null; the statistic is scale-free, so the null needs no
  ``sigma2``. It is simulated once per ``(n - k, m - k, B)`` from a seed derived from that key and
  cached, so p-values never depend on call order; the samples of common transformer shapes ship
  with bbpfit (:mod:`bbpfit.laws.null_samples`, bit-identical to a simulation) and a cache miss
  reads them instead of simulating.

The p-value ``(1 + #{T_b >= T}) / (B + 1)`` is an exact Monte Carlo test for any ``B``. What the
null takes as given is that the ``k`` removed eigenvalues are the spikes (deflation is exact for
strong spikes, and ``docs/mp_gof.md`` shows the size with planted spikes).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass

import numpy as np
from numba import njit

from .._validation import as_real_array, check_int
from ..laws.null_samples import shipped_sample
from ..laws.wishart import null_eigenvalues
from .distance import CVM, bulk_distance

#: Most null draws by default (p-values on a grid of 0.01; each draw of an m = 384 spectrum
#: costs about 4 ms, so a new shape costs about 0.4 s once). See :func:`default_draws`.
N_GOF_NULL = 99
#: Level below which ``bulk_law`` and the spike-count flag call the bulk "not MP".
GOF_LEVEL = 0.05
_SEED_TAG = 0x6F0F  # part of every GoF null's seed
_KIND = "mpgof"
#: Version of the GoF null samples: what :func:`_simulate` draws for a key. Bump it with any change
#: of the statistic, the seed or the sampler; the shipped samples are then ignored until remade.
GOF_NULL_VERSION = f"{_SEED_TAG:#x}/1"


@dataclass(frozen=True)
class MPGoF:
    """Goodness of fit of the bulk left after ``k`` spikes to the Marchenko-Pastur law.

    Attributes
    ----------
    statistic : float
        Cramer-von Mises distance of the kept bulk to its fitted deflated MP law.
    pvalue : float
        Monte Carlo p-value against exact Gaussian spectra of the deflated shape.
    k : int
        Top eigenvalues set aside (the spikes).
    n_bulk, m_bulk : int
        The deflated shape ``(n - k, m - k)`` of the null.
    n_null : int
        Null draws ``B``.
    """

    statistic: float
    pvalue: float
    k: int
    n_bulk: int
    m_bulk: int
    n_null: int

    @property
    def mp(self) -> bool:
        """Whether the bulk passes at :data:`GOF_LEVEL`."""
        return bool(self.pvalue >= GOF_LEVEL)

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return asdict(self)


def default_draws(m_b: int) -> int:
    """Default null draws for an ``m_b``-eigenvalue bulk: 99 up to m_b = 1000, then fewer.

    A draw costs O(m_b^2), so the count falls as ``1e8 / m_b^2`` (kept of the form ``20 j - 1``,
    so that 0.05 (B + 1) is an integer and the test is exact at 0.05), never below 19: 39 at
    m_b = 1500, 19 from m_b = 2000 (a p-value grid of 0.05; pass ``n_null`` for a finer one).
    """
    j = int(1e8 / max(m_b, 1) ** 2) // 20
    return max(19, min(N_GOF_NULL, 20 * j - 1))


@njit(cache=True)
def _statistic_rows(lam2d, k, n_b):  # pragma: no cover - compiled
    """CvM distance of each descending row's bulk ``[k:]`` to MP((m-k)/n_b, mean of the bulk)."""
    rows, m = lam2d.shape
    q_b = (m - k) / n_b
    out = np.empty(rows)
    for r in range(rows):
        s = 0.0
        for j in range(k, m):
            s += lam2d[r, j]
        s /= m - k
        out[r] = bulk_distance(lam2d[r], k, s, q_b, CVM) if s > 0.0 else np.inf
    return out


def gof_statistic(lam: np.ndarray, n: int, k: int) -> float:
    """The statistic of :func:`mp_gof` for one descending spectrum (no null)."""
    lam2d = np.ascontiguousarray(lam, dtype=np.float64).reshape(1, -1)
    return float(_statistic_rows(lam2d, k, float(n - k))[0])


def _simulate(n_b: int, m_b: int, b: int) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence([_SEED_TAG, n_b, m_b, b]))
    out = np.empty(b)
    chunk = max(1, (1 << 22) // max(m_b, 1))
    for start in range(0, b, chunk):
        stop = min(b, start + chunk)
        lam = null_eigenvalues(n_b, m_b, stop - start, rng=rng)
        out[start:stop] = _statistic_rows(np.ascontiguousarray(lam), 0, float(n_b))
    return np.sort(out)


class _LRU:
    """The default in-memory cache of GoF nulls (same ``get(key, factory)`` as ``NullCache``)."""

    def __init__(self, maxsize: int = 512):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, factory):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = np.asarray(factory(), dtype=np.float64)
        value.setflags(write=False)
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value


_DEFAULT_CACHE = _LRU()


def gof_null(n_b: int, m_b: int, n_null: int = N_GOF_NULL, cache=None) -> np.ndarray:
    """Sorted null sample of the statistic for an ``(n_b, m_b)`` Gaussian bulk, cached.

    ``cache``: anything with ``get(key, factory)`` (e.g. a :class:`bbpfit.inference.NullCache`,
    which can keep it on disk); default a process-wide in-memory LRU.
    """
    cache = _DEFAULT_CACHE if cache is None else cache
    key = (_KIND, int(n_b), int(m_b), int(n_null))
    return cache.get(key, lambda: _shipped_or_simulated(key))


def _shipped_or_simulated(key) -> np.ndarray:
    shipped = shipped_sample(key, GOF_NULL_VERSION)
    return _simulate(*key[1:]) if shipped is None else shipped


def mp_gof(lam, n: int, k: int = 0, *, n_null: int | None = None, cache=None) -> MPGoF:
    """p-value of "the eigenvalues below the top ``k`` form a Marchenko-Pastur bulk".

    Parameters
    ----------
    lam : array_like, shape (m,)
        Eigenvalues ``s**2 / n`` of one matrix, any order.
    n : int
        The matrix's long side (``n >= m``).
    k : int, default 0
        Top eigenvalues set aside as spikes (``m - k >= 3``).
    n_null : int, optional
        Null draws ``B`` (the smallest attainable p-value is ``1 / (B + 1)``); default
        :func:`default_draws` of ``m - k`` (99 up to 1000 eigenvalues).
    cache : optional
        Where null samples are kept (see :func:`gof_null`).

    Returns
    -------
    MPGoF

    Raises
    ------
    ValueError
        ``lam`` not 1-D, with NaN/Inf or negative values; ``n < m``; ``k`` out of range.

    References
    ----------
    I. Dumitriu and A. Edelman, "Matrix models for beta ensembles", J. Math. Phys.
    43(11):5830-5847 (2002). doi:10.1063/1.1507823

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.fit.gof import mp_gof
    >>> from bbpfit.laws.wishart import null_eigenvalues
    >>> rng = np.random.default_rng(0)
    >>> noise = 0.3 * null_eigenvalues(800, 200, rng=rng)
    >>> mp_gof(noise, 800).pvalue > 0.05
    True
    >>> rows = np.sqrt(np.r_[np.full(400, 0.5), np.full(400, 2.0)])[:, None]
    >>> hetero = np.linalg.svd(rows * rng.standard_normal((800, 200)), compute_uv=False) ** 2 / 800
    >>> mp_gof(hetero, 800).pvalue
    0.01
    """
    lam = as_real_array(lam, "lam")
    if lam.ndim != 1:
        raise ValueError(f"`lam` must be 1-D eigenvalues, got shape {lam.shape}")
    if np.any(lam < 0):
        raise ValueError("`lam` must be >= 0 (eigenvalues are squared singular values / n)")
    m = lam.shape[0]
    n = check_int(n, "n")
    if n < m:
        raise ValueError(f"`n` must be >= m = {m} (the number of eigenvalues), got {n}")
    k = check_int(k, "k", minimum=0)
    if m - k < 3:
        raise ValueError(f"`k` must leave at least 3 eigenvalues in the bulk (k <= {m - 3}), got {k}")
    b = default_draws(m - k) if n_null is None else check_int(n_null, "n_null", minimum=19)
    desc = -np.sort(-lam)
    t = gof_statistic(desc, n, k)
    null = gof_null(n - k, m - k, b, cache)
    count = b - int(np.searchsorted(null, t, side="left"))
    p = (1.0 + count) / (b + 1.0) if math.isfinite(t) else math.nan
    return MPGoF(statistic=t, pvalue=p, k=k, n_bulk=n - k, m_bulk=m - k, n_null=b)
