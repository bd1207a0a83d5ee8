"""Spectra from numpy and torch: convention, routes, batches, conv kernels, bad input."""

import numpy as np
import pytest

import bbpfit as bf

torch = pytest.importorskip("torch")


@pytest.fixture
def W():
    return np.random.default_rng(0).standard_normal((300, 120))


def test_convention_matches_singular_values(W):
    s = np.linalg.svd(W, compute_uv=False)
    lam = bf.eigenvalues(W)
    np.testing.assert_allclose(lam, s**2 / 300, rtol=1e-12)
    assert lam.dtype == np.float64 and np.all(np.diff(lam) <= 0)


def test_wide_matrix_is_transposed(W):
    np.testing.assert_allclose(bf.eigenvalues(W.T), bf.eigenvalues(W), rtol=1e-12)
    s = bf.spectrum(W.T, name="x")
    assert (s.n, s.m, s.shape) == (300, 120, (120, 300))


@pytest.mark.parametrize("route", ["gram", "svd", "auto"])
def test_routes_agree(W, route):
    np.testing.assert_allclose(bf.eigenvalues(W, route=route), bf.eigenvalues(W, route="svd"),
                               rtol=1e-11, atol=1e-14)


def test_svd_route_keeps_tiny_eigenvalues():
    # singular values spanning 1e-9 .. 1: the Gram route loses the smallest, the SVD keeps them.
    rng = np.random.default_rng(1)
    u, _ = np.linalg.qr(rng.standard_normal((80, 40)))
    v, _ = np.linalg.qr(rng.standard_normal((40, 40)))
    s = np.logspace(0, -9, 40)
    lam = bf.eigenvalues((u * s) @ v.T, route="svd")
    np.testing.assert_allclose(lam, s**2 / 80, rtol=1e-5)


def test_conv_kernel_reshaped():
    k = np.random.default_rng(2).standard_normal((16, 8, 3, 3))
    np.testing.assert_allclose(bf.eigenvalues(k), bf.eigenvalues(k.reshape(16, 72)), rtol=1e-12)
    assert bf.spectrum(k).shape == (16, 8, 3, 3)


def test_batch_equals_loop():
    stack = np.random.default_rng(3).standard_normal((2, 3, 50, 70))
    out = bf.eigenvalues(stack, batched=True)
    assert out.shape == (2, 3, 50)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(out[i, j], bf.eigenvalues(stack[i, j]), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_torch_dtypes(W, dtype):
    t = torch.tensor(W).to(getattr(torch, dtype))
    ref = bf.eigenvalues(t.to(torch.float64).numpy())
    lam = bf.eigenvalues(t)
    assert isinstance(lam, np.ndarray) and lam.dtype == np.float64
    np.testing.assert_allclose(lam, ref, rtol=1e-10)


def test_torch_batched_and_requires_grad(W):
    t = torch.tensor(np.stack([W, 2 * W]), requires_grad=True)
    lam = bf.eigenvalues(t, batched=True)
    np.testing.assert_allclose(lam[1], 4 * lam[0], rtol=1e-12)


def test_integer_input_is_accepted():
    A = np.arange(12).reshape(4, 3)
    np.testing.assert_allclose(bf.eigenvalues(A), np.linalg.svd(A, compute_uv=False) ** 2 / 4)


@pytest.mark.parametrize(
    ("bad", "exc", "match"),
    [
        (np.ones(5), ValueError, "2-D or a conv kernel"),
        (np.ones((0, 4)), ValueError, "empty"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, "NaN or infinite"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), ValueError, "NaN or infinite"),
        (np.ones((3, 3), dtype=complex), TypeError, "complex"),
        (np.array([[object()]]), TypeError, "dtype"),
        (np.ones((3, 3), dtype=bool), TypeError, "dtype"),
    ],
)
def test_bad_input(bad, exc, match):
    with pytest.raises(exc, match=match):
        bf.eigenvalues(bad)


def test_bad_torch_input():
    with pytest.raises(ValueError, match="NaN"):
        bf.eigenvalues(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="complex"):
        bf.eigenvalues(torch.ones(3, 3, dtype=torch.complex64))
    with pytest.raises(ValueError, match="2-D"):
        bf.eigenvalues(torch.ones(3))


def test_unknown_route(W):
    with pytest.raises(ValueError, match="valid names are 'auto', 'gram', 'svd'"):
        bf.eigenvalues(W, route="qr")


def test_spectrum_record(W):
    s = bf.spectrum(W, name="fc.weight")
    assert s.ratio == pytest.approx(0.4)
    assert "fc.weight" in repr(s) and s.to_dict()["m"] == 120
    with pytest.raises(ValueError):
        s.eigenvalues[0] = 1.0  # read-only
    with pytest.raises(ValueError, match="`eigenvalues` must have shape"):
        bf.Spectrum(np.ones(3), n=10, m=4)
    with pytest.raises(ValueError, match="`m` must be <= `n`"):
        bf.Spectrum(np.ones(4), n=3, m=4)
    t = bf.Spectrum.from_eigenvalues([1.0, 3.0, 2.0], n=10)
    assert list(t.eigenvalues) == [3.0, 2.0, 1.0]


def test_spectrum_behaves_as_its_eigenvalues(W):
    """Issue #14 item 8: np.asarray(s) was a 0-d object array; len and indexing failed."""
    s = bf.spectrum(W, name="fc.weight")
    lam = np.linalg.svd(np.asarray(W, dtype=float), compute_uv=False) ** 2 / max(W.shape)
    arr = np.asarray(s)
    assert arr.shape == (min(W.shape),) and arr.dtype == np.float64
    np.testing.assert_allclose(arr, lam, rtol=1e-10)
    assert len(s) == s.m == min(W.shape)
    assert s[0] == arr.max() and s[-1] == arr.min()
    np.testing.assert_array_equal(s[:3], arr[:3])
    assert list(s)[:2] == list(arr[:2])
    assert np.array(s, dtype=np.float32).dtype == np.float32
    copied = np.array(s, copy=True)
    copied[0] = -1.0  # a copy: the spectrum is unchanged
    assert s[0] > 0 and np.mean(s) == pytest.approx(lam.mean())


def test_spectrum_equality_and_hash(W):
    """Issue #12 item 7: == raised ValueError (array truth value) and hash raised TypeError."""
    a, b = bf.spectrum(W, name="x"), bf.spectrum(W, name="x")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != bf.spectrum(W, name="y")
    assert a != bf.spectrum(2 * W, name="x")
    assert a != bf.Spectrum(a.eigenvalues, n=a.n, m=a.m, name="x", shape=(a.m, a.n))
    assert (a == "x") is False
    assert {a: 1}[b] == 1
