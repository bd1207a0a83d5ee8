"""Tuned constants are pinned, and the cheap ones are re-derived here within Monte-Carlo error.

``scripts/make_edge_null_table.py`` regenerates the edge null table (``_T``, ``_TAIL``,
``AIRY_MEANS``); the test re-derives the table's body from 3000 fresh draws at a smaller size
(the statistic is free of size) and the first Airy mean from the exact top eigenvalue. The other
constants are pinned so that a change is a visible, reviewed decision (their measurement lives
in the docstrings of their modules).
"""

import numpy as np
import pytest
from scipy import stats

from bbpfit.laws.tracy_widom import tracy_widom
from bbpfit.laws.wishart import top_eigenvalues
from bbpfit.transition import diagnostics, edge_null, growth, hinge


def test_pinned_values():
    assert diagnostics._FS == 0.13  # finite-size factor of the empirical BBP threshold
    assert growth._SHAPE == 2.7  # sd(u-hat)^2 ~ 1 + _SHAPE / (u^4 - 1)
    assert hinge.WIDEN == 2.5  # widening of the hinge bootstrap interval
    assert edge_null._TAIL == 2.06  # power-law tail of the edge null
    assert edge_null.EDGE_K == 16
    assert edge_null._T.shape == edge_null._LOG_SF.shape == (42,)
    assert np.all(np.diff(edge_null._T) > 0) and np.all(np.diff(edge_null._LOG_SF) < 0)


def test_first_airy_mean_is_the_tw1_mean():
    # E[xi_1] is the TW1 mean (Prahofer & Spohn 2004: -1.2065335745820); the table's value came
    # from 20 000 finite-size draws, so it agrees to their standard error (1.27 / sqrt(20000))
    sd = tracy_widom(1).std()
    assert abs(edge_null.AIRY_MEANS[0] - tracy_widom(1).mean()) < 3 * sd / np.sqrt(20_000) + 2e-3


@pytest.mark.slow
def test_edge_null_table_regenerates_within_monte_carlo_error():
    t = edge_null.simulate_edge_null(3000, n=200, m=100, rng=np.random.default_rng([7, 0]))
    t = t[np.isfinite(t)]
    # at each tabulated point with p >= 0.05, the fraction of fresh draws above _T is
    # Binomial(N, p): within 4 standard errors (plus 0.01 for the size's own small effect)
    p = np.exp(edge_null._LOG_SF)
    for ti, pi in zip(edge_null._T, p, strict=True):
        if pi < 0.05:
            continue
        frac = np.mean(t > ti)
        assert abs(frac - pi) < 4 * np.sqrt(pi * (1 - pi) / t.size) + 0.01, (ti, pi, frac)


@pytest.mark.slow
def test_airy_means_regenerate_within_monte_carlo_error():
    # the top three of a large exact null, in TW units (Johnstone 2001, centring with n - 1/2)
    n, m, draws = 20_000, 10_000, 1500
    top = top_eigenvalues(n, m, draws, k=3, rng=np.random.default_rng(11))
    a, b = np.sqrt(n - 0.5), np.sqrt(m - 0.5)
    mu, sigma = (a + b) ** 2 / n, (a + b) * (1 / a + 1 / b) ** (1 / 3) / n
    xi = (top - mu) / sigma
    for j in range(3):
        se = xi[:, j].std() / np.sqrt(draws)
        # finite-size bias at m = 10^4 is below 0.03 in TW units (the table used m = 5 * 10^4)
        assert abs(xi[:, j].mean() - edge_null.AIRY_MEANS[j]) < 4 * se + 0.03
    assert stats.kstest(xi[:, 0], tracy_widom(1).cdf).pvalue > 1e-3
