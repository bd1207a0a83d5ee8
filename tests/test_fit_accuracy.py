"""Bulk fits by simulation: small seeded versions of ``benchmarks/fit_accuracy.py``.

n = 1000, m = 500, 20 draws (Gaussian unless stated), sigma2 log-uniform in [1e-3, 10]. The
tolerances are several standard errors wide (sd of the KN estimate ~0.2% at this size, so the
median of 20 is within ~0.1% of the bias), so they fail when an estimator breaks, not by chance.
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from bbpfit.fit import FIT_METHODS, fit_mp, fit_mp_array

N, M, REPS = 1000, 500, 20
THETAS = np.array([3.0, 2.0, 1.5, 1.2, 1.0])
STRONG = np.array([4.0, 3.5, 3.0, 2.5, 2.0])


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # Small matrices: one BLAS thread is as fast and does not thrash on a loaded machine.
    with threadpool_limits(1):
        yield


def spectra(noise, thetas, seed):
    """(null, spiked) eigenvalues (REPS, M) sharing the noise, and the sigma2 used."""
    rng = np.random.default_rng(seed)
    sigma2 = np.exp(rng.uniform(np.log(1e-3), np.log(10.0), REPS))
    null, spiked = np.empty((REPS, M)), np.empty((REPS, M))
    k = len(thetas)
    for r in range(REPS):
        z = noise(rng)
        u = np.linalg.qr(rng.standard_normal((N, k)))[0]
        v = np.linalg.qr(rng.standard_normal((M, k)))[0]
        g = z.T @ z
        a = np.sqrt(N) * ((z.T @ u) * thetas) @ v.T
        null[r] = sigma2[r] * np.linalg.eigvalsh(g) / N
        spiked[r] = sigma2[r] * np.linalg.eigvalsh(g + a + a.T + N * (v * thetas**2) @ v.T) / N
    return null, spiked, sigma2


def gaussian(rng):
    return rng.standard_normal((N, M))


def student_t5(rng):
    return rng.standard_t(5, (N, M)) * np.sqrt(3 / 5)


def rademacher(rng):
    return rng.choice(np.array([-1.0, 1.0]), (N, M))


@pytest.fixture(scope="module")
def gauss():
    return spectra(gaussian, THETAS, 101)


@pytest.mark.parametrize("method", FIT_METHODS)
def test_null_accuracy(method, gauss):
    null, _, sigma2 = gauss
    rel = fit_mp_array(null, N, method=method).sigma2 / sigma2 - 1
    tol = 0.005 if method == "kn" else 0.008
    assert abs(np.median(rel)) < tol
    assert np.median(np.abs(rel)) < tol


@pytest.mark.parametrize("method", ["kn", "ks", "cvm"])
def test_spikes_do_not_move_the_estimate(method, gauss):
    null, spiked, sigma2 = gauss
    shift = fit_mp_array(spiked, N, method=method).sigma2 / fit_mp_array(null, N, method=method).sigma2
    tol = 0.005 if method == "kn" else 0.008
    assert abs(np.median(shift - 1)) < tol
    assert abs(np.median(fit_mp_array(spiked, N, method=method).sigma2 / sigma2 - 1)) < tol


def test_median_is_pushed_up_by_spikes_as_documented(gauss):
    # Gavish-Donoho's median keeps the outliers in the count: about +0.6/m per spike (brief 1.3).
    null, spiked, _ = gauss
    shift = fit_mp_array(spiked, N, method="median").sigma2 / fit_mp_array(null, N, method="median").sigma2
    assert 0.0 < np.median(shift - 1) < 5 * 1.2 / M


@pytest.fixture(scope="module")
def strong():
    return spectra(gaussian, STRONG, 202)


@pytest.mark.parametrize("method", FIT_METHODS)
def test_strong_spikes_are_excluded(method, strong):
    null, spiked, _ = strong
    k = fit_mp_array(spiked, N, method=method).n_excluded
    assert np.mean(k == 5) >= 0.9
    assert np.mean(fit_mp_array(null, N, method=method).n_excluded == 0) >= 0.9


@pytest.mark.parametrize("method", FIT_METHODS)
@pytest.mark.parametrize("ratio", [None, "fit"])
def test_null_is_not_trimmed_and_ratio_is_kept(method, ratio, gauss):
    res = fit_mp_array(gauss[0], N, method=method, ratio=ratio)
    assert np.mean(res.n_excluded) < 0.2
    assert np.all(np.abs(res.ratio - M / N) < 0.02)  # quartile-ratio sd ~0.004 here
    assert np.all(res.ks < 0.02)


@pytest.mark.slow
@pytest.mark.parametrize("noise", [student_t5, rademacher])
def test_non_gaussian_entries(noise):
    null, spiked, sigma2 = spectra(noise, THETAS, 303)
    est0 = fit_mp_array(null, N).sigma2
    assert abs(np.median(est0 / sigma2 - 1)) < 0.005
    assert abs(np.median(fit_mp_array(spiked, N).sigma2 / est0 - 1)) < 0.005


def test_single_matrix_accuracy():
    rng = np.random.default_rng(7)
    W = 0.3 * rng.standard_normal((1200, 400))
    fit = fit_mp(W)
    assert fit.sigma2 == pytest.approx(0.09, rel=0.01) and fit.n_excluded == 0
