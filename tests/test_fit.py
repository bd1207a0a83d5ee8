"""Bulk fits (`bbpfit.fit`): exact recovery, equivariance, ratio fitting, batch = loop, bad input.

Simulation-based accuracy checks are in ``test_fit_accuracy.py``.
"""

import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import bbpfit as bf
from bbpfit._warnings import FitWarning
from bbpfit.fit import FIT_METHODS, MPFit, MPFitArrays, fit_mp, fit_mp_array
from bbpfit.fit.distance import distance_batch
from bbpfit.fit.kritchman_nadler import kn_batch
from bbpfit.fit.median import median_batch
from bbpfit.laws.marchenko_pastur import mp_ppf_kernel

METHODS = list(FIT_METHODS)


def perfect(m, q, sigma2=1.0):
    """The MP(q, sigma2) quantiles at (i - 1/2) / m, descending: a spectrum with no noise."""
    return sigma2 * mp_ppf_kernel((np.arange(m) + 0.5) / m, q)[::-1].copy()


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # Small matrices: one BLAS thread is as fast and does not thrash on a loaded machine.
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def null_spectra():
    rng = np.random.default_rng(11)
    return np.stack([bf.eigenvalues(rng.standard_normal((600, 300))) for _ in range(4)])


def test_registry_and_default():
    assert set(METHODS) == {"kn", "median", "ks", "cvm"}
    assert fit_mp(perfect(101, 0.5), n=202).method == "kn"


# (1) analytic reference: a spectrum made of exact MP quantiles gives back sigma2.
# The median and distance fits are exact for any odd m; KN averages the quantiles (a midpoint
# rule with error ~ m^(-5/3) from the square-root edges), so it is checked at m = 20001.
CASES = [(meth, n, m) for meth in METHODS
         for n, m in [(2002, 1001), (1001, 1001), (4004, 1001), (40002, 20001)]
         if meth != "kn" or m > 20000]


@pytest.mark.parametrize(("method", "n", "m"), CASES)
def test_perfect_spectrum_is_recovered(method, n, m):
    q, sigma2 = m / n, 3.7
    fit = fit_mp(perfect(m, q, sigma2), n=n, method=method)
    assert fit.sigma2 == pytest.approx(sigma2, rel=1e-6)
    assert fit.n_excluded == 0 and fit.ratio == q
    assert fit.upper_edge == pytest.approx(sigma2 * (1 + np.sqrt(q)) ** 2, rel=1e-6)
    assert fit.ks < 1.0 / m


@pytest.mark.parametrize("method", METHODS)
def test_kn_perfect_spectrum_small_m_is_close(method):
    fit = fit_mp(perfect(1001, 0.5, 2.0), n=2002, method=method)
    assert fit.sigma2 == pytest.approx(2.0, rel=5e-6)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ratio", [None, "fit", 0.4])
def test_scale_equivariance(method, ratio, null_spectra):
    lam = null_spectra[0]
    base = fit_mp(lam, n=600, method=method, ratio=ratio)
    for c in (1e-3, 7.5, 1e4):
        f = fit_mp(c * lam, n=600, method=method, ratio=ratio)
        assert f.sigma2 == pytest.approx(c * base.sigma2, rel=1e-8)
        assert f.ratio == pytest.approx(base.ratio, rel=1e-8)
        assert f.n_excluded == base.n_excluded
        assert f.ks == pytest.approx(base.ks, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_ratio_fit_recovers_effective_ratio_exactly(method):
    # A perfect MP(0.3) spectrum, told m/n = 0.5.
    lam = perfect(1001, 0.3, 0.8)
    fit = fit_mp(lam, n=2002, method=method, ratio="fit")
    assert fit.ratio_fitted and fit.ratio == pytest.approx(0.3, rel=1e-4)
    assert fit.sigma2 == pytest.approx(0.8, rel=1e-4)
    wrong = fit_mp(lam, n=2002, method=method)
    assert wrong.ks > 0.02  # the MP(m/n) fit is visibly wrong


@pytest.mark.parametrize("method", METHODS)
def test_ratio_fit_on_sampled_bulk(method):
    from bbpfit.laws.wishart import null_eigenvalues

    lam = 2.0 * null_eigenvalues(1667, 500, 5, rng=3)  # MP(0.3)
    res = fit_mp_array(lam, 1000, method=method, ratio="fit")
    assert np.all(np.abs(res.ratio - 0.3) < 0.02)
    assert np.all(np.abs(res.sigma2 / 2.0 - 1) < 0.02)


@pytest.mark.parametrize("method", METHODS)
def test_given_ratio_is_used(method):
    f = fit_mp(perfect(301, 0.25, 1.5), n=602, method=method, ratio=0.25)  # m/n = 0.5
    assert f.ratio == 0.25 and not f.ratio_fitted and f.n_excluded == 0
    assert f.sigma2 == pytest.approx(1.5, rel=1e-4)
    assert f.upper_edge == pytest.approx(f.sigma2 * 2.25)


# (3) batch result equals the per-item loop, for every method and ratio option.
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ratio", [None, "fit"])
def test_batch_equals_loop(method, ratio, null_spectra):
    rng = np.random.default_rng(5)
    lam = null_spectra * rng.uniform(0.5, 2.0, size=(4, 1))
    lam[1, :3] *= 4.0  # a few outliers in one row
    batch = np.stack([lam, lam[::-1]])  # shape (2, 4, 300)
    res = fit_mp_array(rng.permuted(batch, axis=-1), 600, method=method, ratio=ratio)
    assert isinstance(res, MPFitArrays)
    assert all(a.shape == (2, 4) for a in res)
    assert res.n_excluded.dtype == np.int64
    for idx in np.ndindex(2, 4):
        f = fit_mp(batch[idx], n=600, method=method, ratio=ratio)
        assert (f.sigma2, f.ratio, f.lower_edge, f.upper_edge, f.n_excluded, f.ks) == tuple(
            a[idx] for a in res)
    assert np.all(res.n_excluded[0, 1] >= 1)


def test_kernels_compile_once(null_spectra):
    for ratio in (None, "fit", 0.5, 1):
        for method in METHODS:
            fit_mp_array(null_spectra, 600, method=method, ratio=ratio, max_spikes=np.int64(3))
            fit_mp(null_spectra[0].astype(np.float32), n=np.int32(600), method=method, ratio=ratio)
    assert len(kn_batch.signatures) == len(median_batch.signatures) == 1
    assert len(distance_batch.signatures) == 1


def test_input_forms_agree():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((300, 120))
    s = bf.spectrum(W, name="fc.weight")
    fits = [fit_mp(W), fit_mp(W.T), fit_mp(s), fit_mp(s.eigenvalues[::-1], n=300),
            fit_mp(s, n=300), fit_mp(W, n=300)]
    assert len({f.sigma2 for f in fits}) == 1
    assert fits[2].name == "fc.weight" and fits[0].name is None
    conv = rng.standard_normal((40, 8, 3, 3))  # read as 40 x 72
    assert fit_mp(conv).m == 40 and fit_mp(conv).n == 72


def test_torch_input():
    torch = pytest.importorskip("torch")
    W = torch.randn(200, 100, generator=torch.Generator().manual_seed(0))
    assert fit_mp(W).sigma2 == pytest.approx(fit_mp(W.numpy()).sigma2, rel=1e-10)


def test_result_object():
    fit = fit_mp(perfect(501, 0.5, 2.0), n=1002)
    assert isinstance(fit, MPFit)
    with pytest.raises(AttributeError):
        fit.sigma2 = 1.0
    law = fit.law
    assert law.ratio == fit.ratio and law.sigma2 == fit.sigma2
    assert law.support() == pytest.approx((fit.lower_edge, fit.upper_edge))
    assert fit.sigma == pytest.approx(np.sqrt(fit.sigma2))
    d = fit.to_dict()
    assert d["sigma2"] == fit.sigma2 and d["method"] == "kn" and d["n"] == 1002 and d["m"] == 501
    assert "sigma2=" in repr(fit) and "n_excluded=0" in repr(fit)
    text = fit.summary()
    assert "Marchenko-Pastur bulk fit" in text and "outliers excluded" in text


def test_cap_warning():
    lam = perfect(301, 0.5)
    lam[:6] = np.linspace(20, 10, 6)
    with pytest.warns(FitWarning, match="max_spikes"):
        f = fit_mp(lam, n=602, max_spikes=3)
    assert f.n_excluded == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit_mp(lam, n=602).n_excluded == 6
        assert fit_mp(lam, n=602, max_spikes=0).n_excluded == 0


# (4) bad input raises the documented error, naming the parameter.
@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"x": np.ones(10)}, ValueError, "`n`"),
    ({"x": np.zeros((0, 5))}, ValueError, "`x` is empty"),
    ({"x": np.zeros((5, 0))}, ValueError, "`x` is empty"),
    ({"x": np.array(3.0)}, ValueError, "`x`"),
    ({"x": np.full((5, 4), np.nan)}, ValueError, "`x` contains 20 NaN"),
    ({"x": np.array([1.0, np.inf, 2.0, 3.0]), "n": 8}, ValueError, "`x` contains 1 NaN"),
    ({"x": np.ones((5, 4), complex)}, TypeError, "`x` must be real"),
    ({"x": np.array([1.0, 2.0, 3.0], dtype=object), "n": 4}, TypeError, "`x`"),
    ({"x": np.array(["a", "b", "c"]), "n": 4}, TypeError, "`x`"),
    ({"x": np.ones((5, 4), bool)}, TypeError, "`x`"),
    ({"x": np.ones(10), "n": 20, "ratio": 0.0}, ValueError, "`ratio` must be in"),
    ({"x": np.ones(10), "n": 20, "ratio": 1.5}, ValueError, "`ratio` must be in"),
    ({"x": np.ones(10), "n": 20, "ratio": "auto"}, ValueError, "`ratio`"),
    ({"x": np.ones(10), "n": 20, "ratio": 1j}, TypeError, "`ratio`"),
    ({"x": np.ones(10), "n": 20, "method": "mle"}, ValueError, "'kn', 'median', 'ks', 'cvm'"),
    ({"x": np.ones(10), "n": 20, "method": 3}, TypeError, "`method`"),
    ({"x": np.array([1.0, -0.5, 2.0, 3.0]), "n": 8}, ValueError, "`x` must be >= 0"),
    ({"x": np.ones(2), "n": 8}, ValueError, "at least 3"),
    ({"x": np.ones((6, 2))}, ValueError, "at least 3"),
    ({"x": np.ones(10), "n": 5}, ValueError, "`n` must be >= m"),
    ({"x": np.ones(10), "n": 20.0}, TypeError, "`n`"),
    ({"x": np.ones(10), "n": 20, "max_spikes": 9}, ValueError, "`max_spikes`"),
    ({"x": np.ones(10), "n": 20, "max_spikes": -1}, ValueError, "`max_spikes`"),
    ({"x": np.ones((20, 10)), "n": 30}, ValueError, "`n`"),
    ({"x": np.zeros(10), "n": 20}, ValueError, "zero"),
])
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fit_mp(**kwargs)


def test_bad_input_array_form_and_spectrum():
    with pytest.raises(ValueError, match="`eigenvalues` contains"):
        fit_mp_array(np.array([[1.0, np.nan, 2.0]]), 5)
    with pytest.raises(ValueError, match="`n`"):
        fit_mp_array(np.ones((2, 5)), None)
    with pytest.raises(ValueError, match="`eigenvalues` must be >= 0"):
        fit_mp_array(-np.ones((2, 5)), 5)
    s = bf.Spectrum.from_eigenvalues(np.ones(5), n=10)
    with pytest.raises(ValueError, match="`n`"):
        fit_mp(s, n=11)
    res = fit_mp_array(np.zeros((2, 5)), 10, method="median")
    assert np.all(np.isnan(res.ks))
