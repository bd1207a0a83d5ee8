"""Exact bidiagonal (Dumitriu-Edelman) Wishart samplers against dense simulation and exact laws.

Reference values: statistics-brief.md section 7 (construction, truncation, trace remainder) and 4.1
(BBP outlier location). KS tests use fixed seeds and the two-sample test at level 0.01.
"""

import doctest
import math

import numpy as np
import pytest
import scipy.linalg as sl
from scipy import stats
from threadpoolctl import threadpool_limits

from bbpfit.laws import wishart
from bbpfit.laws._wishart_kernels import bidiagonal_eigenvalues, top_eigenvalues_rows
from bbpfit.laws.wishart import (
    _draw_rows,
    default_block,
    dense_eigenvalues,
    null_eigenvalues,
    top_eigenvalues,
)


def tw_scale(n, m):
    """Johnstone's TW scale of l_1 in the s**2 / n convention."""
    return (math.sqrt(n) + math.sqrt(m)) * (1 / math.sqrt(n) + 1 / math.sqrt(m)) ** (1 / 3) / n


def test_bidiagonal_indexing_matches_dense_matrix():
    n, m = 9, 6
    d, e = _draw_rows(n, m, m, 3, 0.7, np.random.default_rng(0))
    assert np.all(e[:, -1] == 0)  # no B_{m,m+1}
    for r in range(3):
        b = np.diag(d[r]) + np.diag(e[r, :-1], 1)
        ref = np.linalg.eigvalsh(b.T @ b)[::-1] / n
        # T = B^T B in the brief's indexing: diag d_i^2 + e_{i-1}^2, offdiag d_i e_i
        a = d[r] ** 2
        a[1:] += e[r, :-1] ** 2
        tri = sl.eigvalsh_tridiagonal(a, d[r, :-1] * e[r, :-1])[::-1] / n
        np.testing.assert_allclose(tri, ref, rtol=1e-13)
        # leading rows R = B[:K] give the leading K x K block of B B^T
        rows = b[:4]
        np.testing.assert_allclose(np.linalg.eigvalsh(rows @ rows.T)[::-1][:2] / n,
                                   _top(d[r:r + 1, :4], e[r:r + 1, :4], 2)[0], rtol=1e-13)
    full = np.empty((3, m))
    assert bidiagonal_eigenvalues(d, e, float(n), full) == 0
    np.testing.assert_allclose(full, _top(d, e, m), rtol=1e-12)
    np.testing.assert_allclose(full[2], ref, rtol=1e-13)


def _top(d, e, k, n=9):
    out = np.empty((d.shape[0], k))
    top_eigenvalues_rows(np.ascontiguousarray(d), np.ascontiguousarray(e), k, float(n), out)
    return out


def test_kernel_batch_equals_loop():
    d, e = _draw_rows(50, 30, 20, 7, 0.0, np.random.default_rng(1))
    batch = _top(d, e, 3, 50)
    loop = np.vstack([_top(d[i:i + 1], e[i:i + 1], 3, 50) for i in range(7)])
    np.testing.assert_array_equal(batch, loop)


def _ks(a, b):
    return stats.ks_2samp(a, b).pvalue


def _dense(*args, **kwargs):
    # one BLAS thread: many small eigvalsh calls, where threading only adds overhead
    with threadpool_limits(1):
        return dense_eigenvalues(*args, **kwargs)


@pytest.mark.parametrize(("theta", "seed"), [(0.0, 10), (1.0, 13), (1.5, 16)])
def test_top_and_bulk_match_dense_small(theta, seed):
    # fast version of the (400, 200) test below; threshold (50/100)**0.25 = 0.84
    n, m, reps = 100, 50, 2000
    dense = _dense(n, m, reps, theta=theta, rng=seed)
    top = top_eigenvalues(n, m, reps, theta=theta, rng=seed + 1)[:, 0]
    full = null_eigenvalues(n, m, reps, theta=theta, rng=seed + 2)
    assert _ks(top, dense[:, 0]) > 0.01
    assert _ks(full[:, 0], dense[:, 0]) > 0.01
    assert _ks(full[:, m // 2], dense[:, m // 2]) > 0.01


@pytest.mark.slow
@pytest.mark.parametrize(("theta", "seed"), [(0.0, 20), (1.0, 23), (1.5, 26)])
def test_top_and_bulk_match_dense(theta, seed):
    # brief 7.2/7.4 [verified]: KS p = 0.52 (null), 0.91 (spike); threshold 0.5**0.25 = 0.84.
    # Distinct seeds per theta: with shared seeds the three cases reuse one noise stream and
    # their p-values are strongly correlated.
    n, m, reps = 400, 200, 2000
    dense = _dense(n, m, reps, theta=theta, rng=seed)
    top = top_eigenvalues(n, m, reps, k=2, theta=theta, rng=seed + 1)
    full = null_eigenvalues(n, m, reps, theta=theta, rng=seed + 2)
    assert _ks(top[:, 0], dense[:, 0]) > 0.01
    assert _ks(top[:, 1], dense[:, 1]) > 0.01
    assert _ks(full[:, 0], dense[:, 0]) > 0.01
    assert _ks(np.median(full, axis=1), np.median(dense, axis=1)) > 0.01


def test_truncation_error_below_rounding():
    # brief 7.3: K = 10 m^(1/3) = 216 at (2e4, 1e4): truncation error ~1e-13 TW units
    n, m, reps = 20_000, 10_000, 4
    sig = tw_scale(n, m)
    rows = default_block(n, m)
    assert rows == 216
    d, e = _draw_rows(n, m, m, reps, 0.0, np.random.default_rng(3))
    block = _top(d[:, :rows], e[:, :rows], 1, n)[:, 0]
    full = _top(d, e, 1, n)[:, 0]
    assert np.max(np.abs(block - full)) / sig < 1e-13  # same algorithm: pure truncation
    for r in range(reps):
        a = d[r] ** 2
        a[1:] += e[r, :-1] ** 2
        ref = sl.eigvalsh_tridiagonal(a, d[r, :-1] * e[r, :-1], select="i",
                                      select_range=(m - 1, m - 1))[0] / n
        # scipy (LAPACK stebz) on the full m x m tridiagonal: one ulp of l_1 is 1.4e-13 TW
        # units here, so two independent bisections agree to a few ulps, not better
        assert abs(block[r] - ref) <= 4 * np.spacing(ref)
        assert abs(block[r] - ref) / sig < 6e-13


def test_full_block_equals_null_eigenvalues_and_trace():
    # block = m uses the same draws as null_eigenvalues: all eigenvalues and the trace agree
    n, m = 30, 12
    top, tr = top_eigenvalues(n, m, 5, k=m, block=m, rng=4, return_trace=True)
    full = null_eigenvalues(n, m, 5, rng=4)
    np.testing.assert_allclose(top, full, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tr, full.sum(axis=1), rtol=1e-12)


@pytest.mark.parametrize(("n", "m", "block"), [(300, 100, None), (300, 100, 1), (50, 50, None)])
def test_trace_is_chi2_nm_over_n(n, m, block):
    reps = 20_000
    top, tr = top_eigenvalues(n, m, reps, k=1, block=block, rng=5, return_trace=True)
    if block is None and m > 50:
        assert default_block(n, m) < m  # the remainder is exercised
    assert abs(tr.mean() - m) < 4 * math.sqrt(2 * m / n / reps)
    assert tr.var() == pytest.approx(2 * m / n, rel=0.05)  # se of a variance ~ sqrt(2/reps) = 1%
    assert stats.kstest(n * tr, stats.chi2(n * m).cdf).pvalue > 0.01


def test_trace_bounds_top_k_and_spike_noncentrality():
    n, m, theta, reps = 200, 100, 1.5, 4000
    top, tr = top_eigenvalues(n, m, reps, k=3, theta=theta, rng=6, return_trace=True)
    assert np.all(tr >= top.sum(axis=1))
    assert np.all(np.diff(top, axis=1) <= 0)
    # tr(W^T W) ~ noncentral chi2_{nm}(theta^2 n): mean m + theta^2, var (2 nm + 4 theta^2 n) / n^2
    se = math.sqrt((2 * n * m + 4 * theta**2 * n) / n**2 / reps)
    assert abs(tr.mean() - (m + theta**2)) < 4 * se


def test_spiked_mean_follows_bbp():
    n, m, theta = 2000, 1000, 2.0
    q = m / n
    top = top_eigenvalues(n, m, 2000, theta=theta, rng=7)[:, 0]
    assert top.mean() == pytest.approx((1 + theta**2) * (q + theta**2) / theta**2, rel=0.02)
    # below threshold the top eigenvalue stays at the MP edge
    sub = top_eigenvalues(n, m, 2000, theta=0.5, rng=8)[:, 0]
    assert abs(sub.mean() - (1 + math.sqrt(q)) ** 2) < 3 * tw_scale(n, m)


def test_seed_reproducibility_and_shapes():
    a = top_eigenvalues(500, 300, (2, 3), k=2, rng=9)
    assert a.shape == (2, 3, 2)
    np.testing.assert_array_equal(a, top_eigenvalues(500, 300, (2, 3), k=2, rng=9))
    top, tr = top_eigenvalues(500, 300, (2, 3), k=2, rng=9, return_trace=True)
    np.testing.assert_array_equal(top, a)  # the trace variate never shifts the stream
    assert tr.shape == (2, 3)
    assert not np.array_equal(a, top_eigenvalues(500, 300, (2, 3), k=2, rng=10))
    gen = np.random.default_rng(9)
    assert not np.array_equal(null_eigenvalues(20, 10, rng=gen), null_eigenvalues(20, 10, rng=gen))
    np.testing.assert_array_equal(null_eigenvalues(20, 10, 4, rng=1), null_eigenvalues(20, 10, 4, rng=1))
    one, one_tr = top_eigenvalues(20, 10, rng=1, return_trace=True)
    assert one.shape == (1,) and isinstance(one_tr, float)
    assert null_eigenvalues(20, 10).shape == (10,)
    assert _dense(20, 10, 0).shape == (0, 10)
    assert top_eigenvalues(20, 10, [0], k=3).shape == (0, 3)


def test_one_by_one():
    top, tr = top_eigenvalues(1, 1, 5, rng=2, return_trace=True)
    np.testing.assert_allclose(top[:, 0], tr, rtol=1e-15)
    np.testing.assert_allclose(null_eigenvalues(1, 1, 5, rng=2)[:, 0], tr, rtol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n": 10, "m": 11}, ValueError, "`m` must be <= `n`"),
        ({"n": 0, "m": 0}, ValueError, "`n` must be >= 1"),
        ({"n": 10.0, "m": 5}, TypeError, "`n` must be an integer"),
        ({"n": 10, "m": 0}, ValueError, "`m` must be >= 1"),
        ({"n": 10, "m": 5, "theta": -1.0}, ValueError, "`theta` must be >= 0"),
        ({"n": 10, "m": 5, "theta": np.inf}, ValueError, "`theta` must be finite"),
        ({"n": 10, "m": 5, "size": -2}, ValueError, "`size` must be >= 0"),
        ({"n": 10, "m": 5, "size": 2.5}, TypeError, "`size` must be None"),
        ({"n": 10, "m": 5, "k": 6}, ValueError, "`k` must be <= m"),
        ({"n": 10, "m": 5, "k": 0}, ValueError, "`k` must be >= 1"),
        ({"n": 10, "m": 5, "k": 3, "block": 2}, ValueError, "`block` must be in"),
        ({"n": 10, "m": 5, "block": 6}, ValueError, "`block` must be in"),
    ],
)
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        top_eigenvalues(**kwargs)
    common = {key: v for key, v in kwargs.items() if key in ("n", "m", "theta", "size")}
    if common == kwargs:
        for fn in (null_eigenvalues, dense_eigenvalues):
            with pytest.raises(exc, match=match):
                fn(**common)


def test_docstring_examples():
    result = doctest.testmod(wishart, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0
