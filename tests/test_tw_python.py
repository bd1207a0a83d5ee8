"""The plain-Python Tracy-Widom twins (``bbpfit.laws._tw_python``) against the Numba kernels, and the
precomputed TW1 constants of ``bbpfit.transition.significance`` against an independent computation.

The twins do the same float arithmetic as the kernels, so they agree exactly here; the stated
tolerance (1e-13 relative, 1e-12 absolute for quantiles) leaves room for a libm that rounds
``exp``/``log`` differently from LLVM's. The constants are checked against Bornemann's (2010)
Nystrom discretisation of ``F1(s) = det(I - K_s)``, ``K_s(x, y) = Ai((x + y) / 2 + s) / 2`` on
``L2(0, inf)``, written here with scipy's Airy function and Gauss-Legendre nodes (no bbpfit code),
solved for the quantile with ``brentq``; the literature values (statistics brief 2.2:
-1.268575, 2.023449) agree to their six decimals.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import airy

from bbpfit.laws import _tw_python as py
from bbpfit.laws._tw_kernels import CDF, LOGCDF, LOGSF, PDF, SF, dist_kernel, ppf_kernel
from bbpfit.laws.tracy_widom import _law, _law_lists, tracy_widom, tw1_sf_scalar
from bbpfit.transition import significance


def _f1_fredholm(s, nodes=60):
    """TW1 distribution function by Bornemann's Nystrom method (independent of bbpfit)."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    x = 10.0 * np.tan(np.pi * (t + 1.0) / 4.0)
    wx = w * 10.0 * np.pi / 4.0 / np.cos(np.pi * (t + 1.0) / 4.0) ** 2
    k = 0.5 * airy((x[:, None] + x[None, :]) / 2.0 + s)[0]
    r = np.sqrt(wx)
    return float(np.linalg.det(np.eye(nodes) - r[:, None] * k * r[None, :]))


@pytest.mark.parametrize("p, value", [(0.5, significance._TW_MEDIAN), (0.99, significance._TW_Q99)])
def test_significance_constants_match_an_independent_fredholm_quantile(p, value):
    ref = brentq(lambda s: _f1_fredholm(s) - p, -4.0, 5.0, xtol=1e-14)
    assert abs(value - ref) < 1e-9
    assert float(tracy_widom(1).ppf(p)) == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("beta", [1, 2])
def test_python_distribution_matches_the_numba_kernel(beta):
    law, lists = _law(beta), _law_lists(beta)
    # both tails beyond the table, the table, its ends, the split, and non-finite input
    x = np.concatenate([np.linspace(-70.0, 250.0, 1601), [-10.0, -6.5, 12.0, -np.inf, np.inf, np.nan]])
    for code in (CDF, SF, LOGCDF, LOGSF, PDF):
        ref = dist_kernel(x, code, law)
        got = np.array([py.dist_scalar(v, code, lists) for v in x.tolist()])
        finite = np.isfinite(ref)
        np.testing.assert_array_equal(got[~finite], ref[~finite])
        np.testing.assert_allclose(got[finite], ref[finite], rtol=1e-13, atol=0.0)


@pytest.mark.parametrize("beta", [1, 2])
def test_python_quantiles_match_the_numba_kernel(beta):
    law, lists = _law(beta), _law_lists(beta)
    q = np.concatenate([np.logspace(-300.0, -1e-9, 400), 1.0 - np.logspace(-16.0, -1.0, 60),
                        [0.0, 1.0, 0.5, 0.99, 0.05, -0.1, 1.5, np.nan]])
    for upper in (False, True):
        ref = ppf_kernel(q, upper, law)
        got = np.array([py.ppf_scalar(v, upper, lists) for v in q.tolist()])
        finite = np.isfinite(ref)
        np.testing.assert_array_equal(got[~finite], ref[~finite])
        np.testing.assert_allclose(got[finite], ref[finite], rtol=0.0, atol=1e-12)


def test_public_methods_give_the_same_values_below_and_above_the_small_size():
    tw = tracy_widom(1)
    q = np.linspace(0.01, 0.99, 3 * py.SMALL)  # the large array goes to the Numba kernels
    big = tw.ppf(q)
    small = np.concatenate([tw.ppf(q[i: i + py.SMALL]) for i in range(0, q.size, py.SMALL)])
    np.testing.assert_allclose(small, big, rtol=0.0, atol=1e-12)
    s = np.linspace(-5.0, 13.0, 3 * py.SMALL).reshape(3, -1)
    np.testing.assert_allclose(tw.logsf(s[0]), tw.logsf(s)[0], rtol=1e-13)
    assert isinstance(tw.isf(0.05), float) and tw.isf(np.array(0.05)) == tw.isf(0.05)
    assert tw1_sf_scalar(2.0) == pytest.approx(1.0 - 0.989597571085, rel=1e-9)  # brief 2.2
    with pytest.raises(TypeError):
        tw.ppf(np.array(["0.5"]))
