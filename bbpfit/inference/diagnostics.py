"""Diagnostics behind ``method="auto"``: entry tails, row/column scale spread, bulk fit.

Owns the checks that decide whether the exact Gaussian null applies to a weight matrix as it is:

* **entry tails** -- D'Agostino's kurtosis test and the largest standardised entry against the
  maximum of ``N`` Gaussians (``P(max |z| >= t) = 1 - (1 - 2 Phi(-t))^N``); light tails
  (Rademacher, uniform) and heavy tails (Student-t, sparse) both fail it at large ``N``. Run on
  the matrix less its delocalised outlier components (:func:`signal_residual`): a strong
  low-rank signal widens the entry law too, and must not send Gaussian noise to the rank path;
* **scale heterogeneity** -- a rank test: the row (column) sums of squared normal scores of the
  entries' ranks are, under exchangeable entries, sums drawn without replacement from a fixed
  population, so their spread has a known mean and variance; the statistic
  ``Q = sum_i (R_i - m mu)^2 / (m v)`` is referred to a scaled chi-square (Satterthwaite) and is
  distribution-free, valid for any iid entry law;
* **bulk fit** -- the Kolmogorov-Smirnov distance of the fitted Marchenko-Pastur law.

Each check runs at level :data:`DIAGNOSTIC_LEVEL`; failing one under a true null only reroutes the
test to another valid path, so the checks cost no size.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.linalg import eigh
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from scipy.special import chdtrc, ndtr

from .._validation import as_real_array
from ..spectrum import eigenvalues
from ..spectrum.eigenvalues import SVD_MAX_SIDE
from ..spectrum.fast import (
    LANCZOS_MIN_M,
    as_float64,
    gram_eigen,
    gram_of,
    matmul_rows,
    one_block,
    row_blocks,
    top_eigenvectors,
)
from .rank_gauss import rank_scores

#: Level of each diagnostic check.
DIAGNOSTIC_LEVEL = 1e-3
#: KS distance of the fitted MP law above which the bulk is called "not MP" (a pure-noise
#: spectrum gives about 0.5 / m; heavy-tailed iid entries at m = 200 about 0.02).
BULK_KS_MAX = 0.05
#: Most outlier components projected out before the row/column scale test.
MAX_PROJECTED = 10
_SCORE2_KURTOSIS = 12.0  # excess kurtosis of chi2_1, the law of a squared normal score


@dataclass(frozen=True)
class Diagnostics:
    """What ``method="auto"`` checked (NaN where it could not check: Spectrum input).

    Attributes
    ----------
    entries_available : bool
        Whether the matrix entries were given (not only a Spectrum).
    excess_kurtosis, kurtosis_pvalue : float
        Sample excess kurtosis of the entries tested and D'Agostino's test of 0.
    max_abs_z, max_pvalue : float
        Largest ``|w - mean| / sd`` and its probability under iid Gaussian entries.
    row_pvalue, col_pvalue : float
        Rank tests of equal row / column noise scales (on the matrix as given).
    heterogeneity_pvalue : float
        Bonferroni combination ``min(1, 2 min(row_pvalue, col_pvalue))``.
    bulk_ks : float
        KS distance of the MP law fitted to the untransformed spectrum.
    gaussian, heterogeneous, bulk_mp : bool
        The decisions at :data:`DIAGNOSTIC_LEVEL` and :data:`BULK_KS_MAX`.
    """

    entries_available: bool
    excess_kurtosis: float = math.nan
    kurtosis_pvalue: float = math.nan
    max_abs_z: float = math.nan
    max_pvalue: float = math.nan
    row_pvalue: float = math.nan
    col_pvalue: float = math.nan
    heterogeneity_pvalue: float = math.nan
    bulk_ks: float = math.nan
    gaussian: bool = True
    heterogeneous: bool = False
    bulk_mp: bool = True

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return asdict(self)


def kurtosis_pvalue(b2: float, size: int) -> float:
    """Two-sided p-value of D'Agostino's test that the kurtosis ``b2`` of ``size`` iid normals is 3.

    Anscombe & Glynn's (1983) transformation, as in :func:`scipy.stats.kurtosistest`, from the
    moments already computed (one pass over a large matrix instead of several).
    """
    n = float(size)
    e = 3.0 * (n - 1.0) / (n + 1.0)
    var = 24.0 * n * (n - 2.0) * (n - 3.0) / ((n + 1.0) ** 2 * (n + 3.0) * (n + 5.0))
    x = (b2 - e) / math.sqrt(var)
    sb1 = (6.0 * (n * n - 5.0 * n + 2.0) / ((n + 7.0) * (n + 9.0))
           * math.sqrt(6.0 * (n + 3.0) * (n + 5.0) / (n * (n - 2.0) * (n - 3.0))))
    a = 6.0 + 8.0 / sb1 * (2.0 / sb1 + math.sqrt(1.0 + 4.0 / sb1**2))
    denom = 1.0 + x * math.sqrt(2.0 / (a - 4.0))
    term2 = math.copysign(abs((1.0 - 2.0 / a) / denom) ** (1.0 / 3.0), denom) if denom else -1.0
    z = (1.0 - 2.0 / (9.0 * a) - term2) / math.sqrt(2.0 / (9.0 * a))
    return float(2.0 * ndtr(-abs(z)))


def entry_tails(a) -> tuple[float, float, float, float]:
    """``(excess kurtosis, p-value, max |z|, p-value)`` of all entries; null: iid Gaussian.

    ``a``: an array or a :class:`Residual` (its moments taken by blocks of rows, in float64).
    """
    if isinstance(a, Residual):
        res = a
    else:
        arr = np.asarray(a)
        res = Residual(arr if arr.ndim == 2 else arr.reshape(1, -1))
    size = res.size
    mu = res.mean()
    s2 = s4 = big = 0.0
    for _, block in res.blocks():
        z = block.ravel() - mu
        z2 = z * z
        s2 += float(z2.sum())
        s4 += float(np.sum(z2 * z2))
        big = max(big, float(z2.max()))
    m2 = s2 / size
    if not m2 > 0 or size < 20:
        return math.nan, (1.0 if m2 > 0 else 0.0), math.nan, (1.0 if m2 > 0 else 0.0)
    b2 = (s4 / size) / (m2 * m2)
    t = math.sqrt(big / m2)
    p_max = float(-np.expm1(size * np.log1p(-2.0 * ndtr(-t))))
    return b2 - 3.0, kurtosis_pvalue(b2, size), t, p_max


def outlier_count(lam: np.ndarray, n: int) -> int:
    """Eigenvalues above the fit layer's Tracy-Widom trimming edge (at most MAX_PROJECTED)."""
    from ..fit import fit_mp_array

    return min(int(fit_mp_array(lam, n).n_excluded), MAX_PROJECTED)


def _delocalized(x: np.ndarray) -> np.ndarray:
    """Which unit columns of ``x`` are spread out (``sum x^4 < 6 / len``; Haar vectors: ``3 / len``).

    An outlier made by a low-rank signal has delocalised singular vectors; one made by a single
    huge entry (heavy tails) has vectors concentrated on that entry's row and column.
    """
    return np.sum(x**4, axis=0) < 6.0 / x.shape[0]


@dataclass(frozen=True, eq=False, repr=False)
class Residual:
    """``a - left @ right.T``: a matrix less a low-rank part, never formed whole.

    Evaluated by blocks of rows (:func:`bbpfit.spectrum.fast.row_blocks`) in float64, so a large
    float32 layer gets no float64 copy; a layer of one block gets the arithmetic of the whole
    matrix. ``left``/``right`` None: ``a`` itself.
    """

    a: np.ndarray
    left: np.ndarray | None = None
    right: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.a.shape

    @property
    def size(self) -> int:
        return self.a.size

    def blocks(self):
        """``(rows, float64 block of the residual)`` for each block of rows.

        A residual of one block is computed once and kept (it is small); a larger one is
        recomputed block by block on every pass (a product of rank ``k`` per block).
        """
        if one_block(*self.a.shape):
            yield slice(0, self.a.shape[0]), self._whole
            return
        for rows in row_blocks(*self.a.shape):
            yield rows, self._block(rows)

    def _block(self, rows: slice) -> np.ndarray:
        block = as_float64(self.a[rows])
        if self.left is not None:
            block = block - self.left[rows] @ self.right.T
        return block

    @functools.cached_property
    def _whole(self) -> np.ndarray:
        return self._block(slice(0, self.a.shape[0]))

    def mean(self) -> float:
        """Mean of the entries."""
        return sum(float(b.sum()) for _, b in self.blocks()) / self.size

    def std(self) -> float:
        """Standard deviation of the entries (``ddof = 0``, two passes)."""
        mu = self.mean()
        return math.sqrt(sum(float(np.sum((b - mu) ** 2)) for _, b in self.blocks()) / self.size)

    def bounds(self) -> tuple[float, float]:
        """``(min, max)`` of the entries."""
        lo, hi = np.inf, -np.inf
        for _, b in self.blocks():
            lo, hi = min(lo, float(b.min())), max(hi, float(b.max()))
        return lo, hi


def signal_residual(a: np.ndarray, r: int, gram: np.ndarray | None = None
                    ) -> tuple[Residual, int]:
    """``a`` less its top-``r`` singular components that are delocalised (low-rank signal).

    Returns the residual (a :class:`Residual`, evaluated by blocks) and the number of
    components removed. Entry-tail checks run on it, so a strong low-rank signal, whose entries
    ``theta sqrt(n) u_i v_j`` widen the entry law, is not mistaken for heavy-tailed noise;
    outliers made by single large entries (localised vectors) stay, so heavy tails are still
    seen. ``gram``: ``a^T a`` when the caller has it.
    """
    if r <= 0:
        return Residual(a), 0
    u, w = top_singular_vectors(a, r, gram)
    keep = _delocalized(u) & _delocalized(w)
    if not keep.any():
        return Residual(a), 0
    w = np.ascontiguousarray(w[:, keep])
    return Residual(a, matmul_rows(a, w), w), int(keep.sum())


def _spread_pvalue(line_sums: np.ndarray, items: int, total: int, v: float) -> float:
    """Rank-test p-value of equal line scales from the lines' sums of squared scores."""
    lines = line_sums.shape[0]
    if lines < 2:
        return 1.0
    q = float(np.sum((line_sums - line_sums.mean()) ** 2)) / (items * v)
    mean = (lines - 1) * total / (total - 1.0)
    c = 1.0 + _SCORE2_KURTOSIS / (2.0 * items)
    return float(chdtrc(mean / c, q / c))  # chi2(mean / c).sf(q / c)


#: Largest smaller side for which top singular vectors come from a dense Gram matrix; beyond it
#: (and from :data:`bbpfit.spectrum.fast.LANCZOS_MIN_M` on when no Gram matrix is at hand) by
#: Lanczos on matrix-vector products, which never forms the ``m x m`` Gram matrix.
GRAM_MAX = 4096


def top_singular_vectors(a: np.ndarray, r: int, gram: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Left and right singular vectors of the ``r`` largest singular values (deterministic).

    ``a`` is ``n x m`` with ``n >= m``. From the top eigenvectors of ``a^T a`` (``gram`` when the
    caller has it, or its :func:`~bbpfit.spectrum.fast.gram_eigen` factor: no second
    reduction; ``u = a v / s``; the outliers these are used for are well separated): a dense
    partial float32 solve (:func:`bbpfit.spectrum.fast.top_eigenvectors`, 3.5 ms against 11 ms
    for ARPACK on a 384 x 384 matrix) when the Gram matrix is given or ``m`` is below
    :data:`~bbpfit.spectrum.fast.LANCZOS_MIN_M`; else Lanczos on ``v -> a^T (a v)`` (fixed start,
    no Gram matrix).
    """
    n, m = a.shape
    if min(a.shape) <= 60 or 3 * r >= m:
        u, _, vt = np.linalg.svd(as_float64(a), full_matrices=False)
        return u[:, :r], vt[:r].T
    if n >= m and (gram is not None or m < LANCZOS_MIN_M):
        lam, v = top_eigenvectors(gram_of(a) if gram is None else gram, r)
    else:
        op = LinearOperator((m, m), matvec=lambda x: matmul_rows(a, x) @ a, dtype=np.float64)
        try:
            lam, v = eigsh(op, k=r, which="LA", v0=_start_vector(m), tol=1e-8)
        except ArpackNoConvergence:
            lam, v = eigh(gram_of(a), subset_by_index=[m - r, m - 1])
        desc = np.argsort(lam)[::-1]
        lam, v = lam[desc], v[:, desc]
    u = matmul_rows(a, v)
    u /= np.maximum(np.sqrt(np.maximum(lam, 0.0)), np.finfo(float).tiny)
    return u, v


def _start_vector(m: int) -> np.ndarray:
    """A fixed Lanczos start vector (the results do not depend on the call order)."""
    return np.random.default_rng(m).standard_normal(m)


def gram_spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(eigenvalues of x, factor of its Gram matrix x^T x or None)``; ``n >= m``.

    The eigenvalues as by :func:`bbpfit.spectrum.fast.gram_eigenvalues` (float32 where its
    error bound is far below the Tracy-Widom scale); the factor
    (:func:`bbpfit.spectrum.fast.gram_eigen`) is kept for :func:`top_singular_vectors`, which
    gets the top vectors from it without a second reduction (None on the SVD route of small
    matrices).
    """
    if x.shape[1] <= SVD_MAX_SIDE:
        return eigenvalues(x, check_finite_values=False), None
    return gram_eigen(gram_of(x), x.shape[0])


def scale_heterogeneity(scores: np.ndarray, r: int = 0, gram: np.ndarray | None = None
                        ) -> tuple[float, float]:
    """Rank-test p-values ``(rows, cols)`` of equal noise scales, from rank normal scores.

    Under exchangeable entries each line sum ``R_i`` of squared scores is a sample without
    replacement from the ``N`` squared normal scores (variance ``v``), so
    ``Q = sum_i (R_i - mean R)^2 / (m v)`` has mean ``(L - 1) N / (N - 1)`` over ``L`` lines of
    ``m`` items; it is referred to ``c chi2_(mean / c)`` with ``c = 1 + 12 / (2 m)``, the variance
    added by the excess kurtosis (12) of a squared normal score. A low-rank signal also spreads
    the line sums (its energy in row ``i`` is ``theta^2 n u_i^2``), so the top ``r`` singular
    components (the outliers of the spectrum) are projected out first: the row sums are taken
    after projecting each row off the top ``r`` right singular vectors, the column sums off the
    left ones. ``gram``: ``scores^T scores`` when the caller has it.
    """
    rows = np.empty(scores.shape[0])
    cols = np.zeros(scores.shape[1])
    total2 = 0.0
    for block_rows in row_blocks(*scores.shape):
        a2 = scores[block_rows] ** 2
        rows[block_rows] = a2.sum(axis=1)
        cols += a2.sum(axis=0)
        total2 += float(a2.sum())
    mean2 = total2 / scores.size
    v = sum(float(np.sum((scores[b] ** 2 - mean2) ** 2)) for b in row_blocks(*scores.shape))
    v /= scores.size
    if r > 0:
        u, w = top_singular_vectors(scores, r, gram)
        rows = rows - np.sum((scores @ w) ** 2, axis=1)
        cols = cols - np.sum((u.T @ scores) ** 2, axis=0)
    total = scores.size
    return (_spread_pvalue(rows, scores.shape[1], total, v),
            _spread_pvalue(cols, scores.shape[0], total, v))


def scores_of(a: np.ndarray, rng=None) -> np.ndarray:
    """Rank normal scores of ``a`` (see :func:`bbpfit.inference.rank_gaussianize`)."""
    return rank_scores(a, rng)


def diagnose(W, *, rng=None) -> Diagnostics:
    """Run the ``method="auto"`` checks on a weight matrix.

    Parameters
    ----------
    W : array_like
        Real matrix (rows, cols) or conv kernel (out, in, *k).
    rng : None, int or numpy.random.Generator, optional
        Breaks ties in the ranks (discrete entries).

    Returns
    -------
    Diagnostics

    References
    ----------
    R. B. D'Agostino, A. Belanger and R. B. D'Agostino Jr., "A suggestion for using powerful and
    informative tests of normality", Amer. Statist. 44(4):316-321 (1990). doi:10.2307/2684359

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.inference import diagnose
    >>> rng = np.random.default_rng(0)
    >>> d = diagnose(rng.standard_normal((300, 200)))
    >>> d.gaussian, d.heterogeneous
    (True, False)
    >>> diagnose(rng.standard_t(3, (300, 200))).gaussian
    False
    """
    from ..fit import fit_mp

    a = as_real_array(W, "W", min_ndim=2)
    a = a.reshape(a.shape[0], -1)
    if a.shape[0] < a.shape[1]:
        a = a.T
    scores = scores_of(a, rng)
    raw_fit = fit_mp(a)
    tails = entry_tails(signal_residual(a, min(raw_fit.n_excluded, MAX_PROJECTED))[0])
    fit = raw_fit if tails[1] > DIAGNOSTIC_LEVEL and tails[3] > DIAGNOSTIC_LEVEL else fit_mp(scores)
    spread = scale_heterogeneity(scores, min(fit.n_excluded, MAX_PROJECTED))
    return make_diagnostics(tails, spread, raw_fit.ks)


def make_diagnostics(tails, spread, ks) -> Diagnostics:
    """Assemble :class:`Diagnostics` and its decisions from the raw check results."""
    excess, p_kurt, t, p_max = tails
    p_rows, p_cols = spread
    p_het = min(1.0, 2.0 * min(p_rows, p_cols))
    return Diagnostics(
        entries_available=True, excess_kurtosis=excess, kurtosis_pvalue=p_kurt, max_abs_z=t,
        max_pvalue=p_max, row_pvalue=p_rows, col_pvalue=p_cols, heterogeneity_pvalue=p_het,
        bulk_ks=float(ks), gaussian=bool(p_kurt > DIAGNOSTIC_LEVEL and p_max > DIAGNOSTIC_LEVEL),
        heterogeneous=bool(p_het < DIAGNOSTIC_LEVEL),
        bulk_mp=bool(not ks > BULK_KS_MAX),
    )
