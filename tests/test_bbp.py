"""BBP maps (Benaych-Georges & Nadakuditi 2012) in the DESIGN.md normalisation."""

import numpy as np
import pytest

import bbpfit as bf


@pytest.mark.parametrize("q", [0.1, 0.25, 0.5, 1.0])
def test_threshold_and_continuity_at_edge(q):
    tc = bf.bbp_threshold(q)
    assert tc == pytest.approx(q**0.25)
    edge = (1 + np.sqrt(q)) ** 2
    assert bf.spike_eigenvalue(tc * (1 + 1e-9), q) == pytest.approx(edge, rel=1e-8)
    assert bf.spike_eigenvalue(0.5 * tc, q) == pytest.approx(edge)
    assert bf.spike_strength(edge, q) == pytest.approx(tc)


def test_excess_is_quadratic_near_threshold():
    # statistics-brief.md 4.1: y - (1 + sqrt q)^2 ~ 4 sqrt(q) eps^2 for theta = theta_c (1 + eps)
    q, eps = 0.5, 1e-3
    y = bf.spike_eigenvalue(q**0.25 * (1 + eps), q)
    assert (y - (1 + np.sqrt(q)) ** 2) / (4 * np.sqrt(q) * eps**2) == pytest.approx(1, rel=1e-2)


def test_inverse_roundtrip_vectorised():
    q, sigma2 = 0.3, 2.0
    theta = np.linspace(0.8, 5, 40)
    np.testing.assert_allclose(bf.spike_strength(bf.spike_eigenvalue(theta, q, sigma2), q, sigma2),
                               theta, rtol=1e-12)
    assert np.isnan(bf.spike_strength(0.5, q))


def test_simulated_outlier_matches_map():
    # brief 4.2 [verified]: n=3000, m=1500, theta=1.5 and 2.5 give theta_hat 1.505 and 2.501.
    rng = np.random.default_rng(5)
    n, m = 3000, 1500
    u = rng.standard_normal(n)
    u /= np.linalg.norm(u)
    v = rng.standard_normal(m)
    v /= np.linalg.norm(v)
    # one draw: theta_hat fluctuates by about 3% (1.5) and 1% (2.5) at this size
    for theta, rel in ((1.5, 0.06), (2.5, 0.02)):
        W = rng.standard_normal((n, m)) + theta * np.sqrt(n) * np.outer(u, v)
        lam1 = bf.eigenvalues(W)[0]
        assert bf.spike_strength(lam1, 0.5) == pytest.approx(theta, rel=rel)


def test_overlaps_reference_values():
    # brief 4.3 table (c = 0.5): theta 1.5 -> m 0.737, n 0.624; theta 2.5 -> m 0.914, n 0.851
    ov = bf.spike_overlaps(np.array([1.5, 2.5]), 0.5)
    np.testing.assert_allclose(ov.m_side, [0.737, 0.914], atol=1e-3)
    np.testing.assert_allclose(ov.n_side, [0.624, 0.851], atol=1e-3)
    below = bf.spike_overlaps(0.5, 0.5)
    assert below.m_side == 0.0 and below.n_side == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match="`theta` must be >= 0"):
        bf.spike_eigenvalue(-1.0, 0.5)
    with pytest.raises(ValueError, match="`lam` must be finite|NaN"):
        bf.spike_strength(np.nan, 0.5)
    with pytest.raises(ValueError, match="`ratio`"):
        bf.bbp_threshold(2.0)
    with pytest.raises(ValueError, match="`sigma2`"):
        bf.spike_strength(3.0, 0.5, sigma2=0)
