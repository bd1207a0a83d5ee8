"""Fast spectra: float32 eigenvalues within their a-priori bound, exact partial spectra."""

import importlib

import numpy as np
import pytest

import bbpfit as bf
from bbpfit.fit.kritchman_nadler import kn_sigma2
from bbpfit.spectrum.fast import (
    F32_TW_FRACTION,
    fast_spectrum,
    float32_error,
    float32_ok,
    gram_eigenvalues,
    gram_of,
    partial_spectrum,
    top_eigenvalues,
    tw_scale,
)


def planted(n, m, thetas, rng, noise=None):
    u = np.linalg.qr(rng.standard_normal((n, len(thetas))))[0]
    v = np.linalg.qr(rng.standard_normal((m, len(thetas))))[0]
    z = rng.standard_normal((n, m)) if noise is None else noise
    return z + np.sqrt(n) * (u * np.asarray(thetas)) @ v.T


@pytest.mark.parametrize("shape,thetas", [((1536, 384), [3.0, 2.0]), ((384, 384), [57.0]),
                                          ((900, 300), [])])
def test_float32_eigenvalues_are_within_their_bound_far_below_the_tw_scale(shape, thetas):
    # The reference is numpy's float64 eigvalsh (LAPACK dsyevd), not the float32 route.
    rng = np.random.default_rng(1)
    a = planted(*shape, thetas, rng)
    n, m = shape
    exact = np.linalg.eigvalsh(a.T @ a)[::-1] / n
    lam = gram_eigenvalues(gram_of(a), n)
    err = np.max(np.abs(lam - exact))
    assert err <= float32_error(exact)
    assert err <= F32_TW_FRACTION * tw_scale(n, m)  # unit noise: sigma2 = 1


def test_a_very_strong_outlier_keeps_float64():
    # lam_1 ~ 1e6 times the edge: the float32 bound fails, so the float64 solve is used.
    rng = np.random.default_rng(2)
    a = planted(600, 300, [3000.0], rng)
    exact = np.linalg.eigvalsh(a.T @ a)[::-1] / 600
    assert not float32_ok(exact, 600)
    np.testing.assert_allclose(gram_eigenvalues(gram_of(a), 600), exact, rtol=1e-12,
                               atol=1e-13 * exact[0])


def test_fast_spectrum_matches_spectrum_and_keeps_its_checks():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((200, 500)).astype(np.float32)
    s, g = fast_spectrum(w, "x", with_gram=True)
    ref = bf.spectrum(w, name="x")
    assert (s.n, s.m, s.shape, s.name) == (ref.n, ref.m, ref.shape, ref.name) == (500, 200, (200, 500), "x")
    assert np.max(np.abs(s.eigenvalues - ref.eigenvalues)) <= float32_error(ref.eigenvalues)
    ref_g = w.astype(np.float64) @ w.T.astype(np.float64)
    np.testing.assert_allclose(g, ref_g, rtol=0, atol=1e-12 * np.abs(ref_g).max())
    w[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fast_spectrum(w)


def test_fast_spectrum_reads_bfloat16_tensors_exactly():
    torch = pytest.importorskip("torch")
    w = torch.randn(300, 100, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    exact = bf.eigenvalues(w.double())
    assert np.max(np.abs(fast_spectrum(w).eigenvalues - exact)) <= float32_error(exact)


@pytest.mark.parametrize("shape", [(2400, 1200), (300, 200)])
def test_partial_spectrum_gives_the_sequential_statistics_exactly(shape, monkeypatch):
    # The step statistics l_{k+1} / sigma2_KN(k+1) need only the top k+1 eigenvalues and the
    # trace: the stand-in gives the same statistics as the full float64 spectrum (Lanczos
    # from m = 1024 here; the default LANCZOS_MIN_M is 8192).
    fast = importlib.import_module("bbpfit.spectrum.fast")

    monkeypatch.setattr(fast, "LANCZOS_MIN_M", 1024)
    rng = np.random.default_rng(4)
    n, m = shape
    a = planted(n, m, [4.0, 3.0, 2.0], rng)
    full = np.linalg.eigvalsh(a.T @ a)[::-1] / n
    k = 6
    lam, complete = partial_spectrum(a, k)
    assert complete == (m < 1024)
    assert lam.shape == (m,) and abs(lam.sum() - full.sum()) <= 1e-9 * full.sum()
    for j in range(k):
        s_full = kn_sigma2(full, float(n), j + 1)
        s_part = kn_sigma2(lam, float(n), j + 1)
        assert abs(lam[j] / s_part - full[j] / s_full) <= 1e-6 * full[j] / s_full
    np.testing.assert_allclose(top_eigenvalues(a, 4), full[:4], rtol=1e-9)


@pytest.mark.parametrize("shape", [(900, 300), (200, 200)])
def test_tridiagonal_gram_gives_eigvalsh_and_the_top_eigenvectors_of_eigh(shape):
    from scipy.linalg import eigh

    from bbpfit.spectrum.fast import gram_eigen
    from bbpfit.spectrum.tridiagonal import TridiagonalGram, top_eigenvectors

    rng = np.random.default_rng(7)
    n, m = shape
    a = rng.standard_normal((n, m))
    for theta in (6.0, 4.0, 3.0):  # three outliers, then bulk-edge eigenvalues
        a += theta * np.sqrt(n) * np.outer(rng.standard_normal(n) / np.sqrt(n),
                                           rng.standard_normal(m) / np.sqrt(m))
    g = a.T @ a
    tri = TridiagonalGram.of(g.copy())
    np.testing.assert_allclose(tri.ascending, np.linalg.eigvalsh(g), rtol=1e-13,
                               atol=1e-13 * np.abs(g).max())
    r = 6
    lam, v = top_eigenvectors(tri, r)
    ref_lam, ref_v = eigh(g, subset_by_index=[m - r, m - 1])
    np.testing.assert_allclose(lam, ref_lam[::-1], rtol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(v * ref_v[:, ::-1], axis=0)), 1.0, atol=1e-9)
    assert np.max(np.abs(g @ v - v * lam)) < 1e-10 * lam[0]
    desc, factor = gram_eigen(g.copy(), n)
    np.testing.assert_array_equal(desc, gram_eigenvalues(g.copy(), n))
    assert isinstance(factor, TridiagonalGram)
