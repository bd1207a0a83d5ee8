"""Recorded singular vectors: the partial method against a full SVD, cadence, dtype, bad options.

The reference is numpy's LAPACK SVD of the same matrix (``np.linalg.svd``, divide and conquer on
the matrix itself), which shares no code with the Chebyshev-filtered subspace iteration on the
Gram matrix under test. Tolerance: the method's contract is ``sin angle <= 1e-3`` per vector, i.e.
``|<v, v_svd>|^2 >= 1 - 1e-6``, for every eigenvalue outside a near-degenerate cluster.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from bbpfit import eigenvalues  # noqa: E402
from bbpfit.recording import SpectrumRecorder  # noqa: E402
from bbpfit.recording.vectors import (  # noqa: E402
    BLOCK_OVERHEAD,
    gram_top_vectors,
    plan,
    spectrum_and_vectors,
    top_singular_vectors,
)
from bbpfit.store import open_spectra  # noqa: E402

TOL = 1e-6  # 1 - |<v, v_svd>|^2


def _spiked(rows, cols, strengths, seed):
    """Gaussian noise (variance 1/max side) plus rank-one spikes of the given singular values."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((rows, cols)) / np.sqrt(max(rows, cols))
    for s in strengths:
        u, v = rng.standard_normal(rows), rng.standard_normal(cols)
        a += s * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    return a


def _overlaps(left, right, a):
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    k = left.shape[0]
    return (np.abs(np.sum(left * u[:, :k].T, axis=1)) ** 2,
            np.abs(np.sum(right * vh[:k], axis=1)) ** 2)


@pytest.mark.parametrize("rows, cols, strengths, k", [
    (600, 300, [4.0, 3.0, 2.5, 2.0], 4),      # tall, four spikes above the edge (1.71)
    (200, 700, [3.0, 2.9, 2.0], 3),           # wide, two close spikes (gap 0.1 in s)
    (500, 500, [], 4),                        # square pure noise: the top of the bulk
    (400, 256, [5.0, 1.9, 1.85, 1.8], 6),     # spikes near the edge, k beyond the spikes
])
def test_partial_vectors_match_the_svd(rows, cols, strengths, k):
    a = _spiked(rows, cols, strengths, seed=rows + cols)
    tall = a if rows >= cols else a.T
    gram = tall.T @ tall
    mu = np.linalg.eigvalsh(gram)[::-1]
    _, method = gram_top_vectors(gram, mu, k)
    assert method == "chebyshev"  # the partial method itself, not the dense fallback
    left, right = top_singular_vectors(a, k, gram=gram, mu=mu)
    assert left.shape == (k, rows) and right.shape == (k, cols) and left.dtype == np.float32
    ov_left, ov_right = _overlaps(left, right, a)
    assert ov_left.min() >= 1 - TOL and ov_right.min() >= 1 - TOL, (ov_left, ov_right)
    # sign convention: the largest-|entry| component of each right vector is positive
    big = right[np.arange(k), np.argmax(np.abs(right), axis=1)]
    assert (big > 0).all()
    # the pairs are consistent: a v = s u with s the singular value
    s = np.sqrt(mu[:k])
    np.testing.assert_allclose(a @ right.T.astype(np.float64), left.T * s, atol=2e-5 * s[0])


def test_partial_plan_is_cheaper_than_a_full_eigh():
    # Column products G @ x (block size plus the cost of reading G, times the degree) against
    # ~9 m^3 flops of a full eigh with vectors = 4.5 m column products of 2 m^2 flops.
    a = _spiked(1024, 512, [4.0, 3.0, 2.5, 2.0], seed=1)
    mu = np.linalg.eigvalsh(a.T @ a)[::-1]
    p, degree = plan(mu, 4)
    assert degree * (p + BLOCK_OVERHEAD) < 0.1 * 4.5 * 512, (p, degree)


def _plan_loop(mu, k, ratio):
    """The plan one block size at a time (what ``plan`` computes for all sizes at once)."""
    from bbpfit.recording import vectors as vec

    need = np.log(2.0 * np.sqrt(mu.size) / (vec.SIN_TOL * vec.PLAN_MARGIN))
    best = None
    for p in range(k + 1, min(mu.size - 1, 2 * k + 32) + 1):
        if mu[p] - mu[-1] <= 0 or mu[k - 1] - mu[p] <= vec.CLUSTER_RTOL * mu[0]:
            continue
        x = vec._position(mu, k - 1, p)
        if x <= 1.0 + 1e-12:
            continue
        degree = max(2, int(np.ceil(need / vec._rate(x, vec._chunk(mu, k, p, ratio)))))
        cost = degree * (p + BLOCK_OVERHEAD)
        if degree <= vec.MAX_DEGREE and (best is None or cost < best[0]):
            best = (cost, p, degree)
    return None if best is None else best[1:]


def test_plan_equals_the_loop_over_block_sizes():
    rng = np.random.default_rng(6)
    spectra = [np.linalg.eigvalsh(_spiked(300, 200, [3.0, 2.0], seed=6).T
                                  @ _spiked(300, 200, [3.0, 2.0], seed=6))[::-1],
               np.sort(rng.exponential(size=120))[::-1],
               np.ones(80),                                                  # nothing separates
               np.sort(np.concatenate([rng.uniform(0, 1, 97), [5.0] * 3]))[::-1],  # a tied triple
               np.sort(np.round(rng.uniform(0, 3, 90), 1))[::-1]]            # many ties
    for mu in spectra:
        for k in (1, 3, 8):
            for ratio in (1e2, 1e8):
                assert plan(mu, k, ratio=ratio) == _plan_loop(mu, k, ratio), (mu[:4], k, ratio)


def test_torch_tensor_gives_the_numpy_result():
    a = _spiked(300, 200, [3.0, 2.0], seed=2)
    lam_np, left_np, right_np = spectrum_and_vectors(a, 3)
    lam_t, left_t, right_t = spectrum_and_vectors(torch.from_numpy(a), 3)
    np.testing.assert_array_equal(lam_np, eigenvalues(a))  # same Gram matrix, same eigvalsh
    np.testing.assert_allclose(lam_t, lam_np, rtol=1e-12)
    for x, y in ((left_t, left_np), (right_t, right_np)):
        assert (np.abs(np.sum(x * y, axis=1)) ** 2 >= 1 - TOL).all()
        np.testing.assert_allclose(x, y, atol=1e-3)  # same signs by the convention


def test_near_degenerate_spikes_keep_their_subspace():
    # Two exactly equal singular values: no method determines the individual vectors (any
    # rotation within the pair is an SVD); the pair's subspace and the third vector are.
    rng = np.random.default_rng(3)
    u, _ = np.linalg.qr(rng.standard_normal((400, 400)))
    v, _ = np.linalg.qr(rng.standard_normal((300, 300)))
    s = np.concatenate([[4.0, 4.0, 3.0], np.sort(rng.uniform(0.1, 1.5, 297))[::-1]])
    a = (u[:, :300] * s) @ v.T
    left, right = top_singular_vectors(a, 3)
    pair = np.linalg.svd(right[:2].astype(np.float64) @ v[:, :2], compute_uv=False)
    assert pair.min() ** 2 >= 1 - TOL  # principal angles of the pair's subspace ~ 0
    assert abs(right[2] @ v[:, 2]) ** 2 >= 1 - TOL
    assert abs(left[2] @ u[:, 2]) ** 2 >= 1 - TOL


@pytest.mark.parametrize("rel_gap, scale, dtypes", [
    (1e-2, 1.0, ["float32"]),            # a usual gap: the float32 round alone meets the bound
    (1e-2, 1e-30, ["float32"]),          # Gram entries ~1e-60 (float32 underflow unless scaled)
    (1e-2, 1e25, ["float32"]),           # Gram entries ~1e50 (float32 overflow unless scaled)
    (1e-5, 1.0, ["float32", "float64"]),  # too close for float32: float64 rounds finish the job
])
def test_float32_filter_round_and_its_float64_rescue(rel_gap, scale, dtypes, monkeypatch):
    # The first filter round runs in float32 (half the cost); Rayleigh-Ritz and the Davis-Kahan
    # check stay in float64, so a gap that float32 cannot resolve (singular values 1e-5 apart
    # relative, well above the degenerate-cluster threshold 1e-7) is caught by the check and
    # finished in float64, never returned at float32 accuracy.
    import bbpfit.recording.vectors as vectors

    calls = []
    original = vectors._filter

    def spy(gram, x, degree, *args):
        calls.append(str(gram.dtype))
        return original(gram, x, degree, *args)

    monkeypatch.setattr(vectors, "_filter", spy)
    rng = np.random.default_rng(5)
    u, _ = np.linalg.qr(rng.standard_normal((400, 400)))
    v, _ = np.linalg.qr(rng.standard_normal((300, 300)))
    s = np.concatenate([[4.0 * (1 + rel_gap), 4.0, 3.0], np.sort(rng.uniform(0.1, 1.5, 297))[::-1]])
    a = (u[:, :300] * s) @ v.T * scale
    gram = a.T @ a
    vecs, method = gram_top_vectors(gram, np.linalg.eigvalsh(gram)[::-1], 3)
    assert method == "chebyshev" and vecs.dtype == np.float64
    assert sorted(set(calls), key=calls.index) == dtypes
    assert (np.abs(np.sum(vecs * v[:, :3], axis=0)) ** 2 >= 1 - TOL).all()
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(3), atol=1e-12)


def test_dense_fallback_when_nothing_separates():
    # An orthogonal matrix: every eigenvalue of the Gram matrix is 1, no block is separated.
    q, _ = np.linalg.qr(np.random.default_rng(4).standard_normal((200, 200)))
    gram = q.T @ q
    mu = np.linalg.eigvalsh(gram)[::-1]
    vecs, method = gram_top_vectors(gram, mu, 3)
    assert method == "eigh" and plan(mu, 3) is None
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(3), atol=1e-12)


@pytest.fixture(scope="module")
def digits_mlp():
    """An MLP 64-256-256-10 trained 300 steps on scikit-learn's digits (lr 0.2, batch 256)."""
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    torch.manual_seed(1)
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    g = torch.Generator().manual_seed(1)
    for _ in range(300):
        idx = torch.randint(0, len(x), (256,), generator=g)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def test_partial_vectors_on_a_trained_digits_layer(digits_mlp):
    w = digits_mlp[2].weight.detach()  # 256 x 256: the Chebyshev route (m > 64)
    a = w.double().numpy()
    mu = np.linalg.eigvalsh(a.T @ a)[::-1]
    assert plan(mu, 4) is not None
    lam, left, right = spectrum_and_vectors(w, 4)
    np.testing.assert_allclose(lam, eigenvalues(w), rtol=1e-12)
    ov_left, ov_right = _overlaps(left, right, a)
    assert ov_left.min() >= 1 - TOL and ov_right.min() >= 1 - TOL, (ov_left, ov_right)


def test_vector_steps_follow_vectors_every(tmp_path):
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(80, 100), nn.ReLU(), nn.Linear(100, 5))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x, y = torch.randn(32, 80), torch.randint(0, 5, (32,))
    path = tmp_path / "r.bbp"

    def train(rec, steps):
        for _ in range(steps):
            loss = nn.functional.cross_entropy(model(x), y)
            rec.log(loss=loss)
            opt.zero_grad()
            loss.backward()
            opt.step()

    with SpectrumRecorder(model, path, every=5, optimizer=opt, top_k_vectors=3,
                          vectors_every=15, flush_every=2) as rec:
        train(rec, 40)
    # resumed with the default vectors_every (10 * every = 50): the cadence continues
    with SpectrumRecorder(model, path, every=5, optimizer=opt, top_k_vectors=3) as rec:
        train(rec, 60)
    ds = open_spectra(path)
    assert ds.step.values.tolist() == list(range(0, 101, 5))
    assert ds.vector_step.values.tolist() == [0, 15, 30, 50, 100]
    assert ds.left_vectors.dims == ("layer", "vector_step", "k", "row")
    assert ds.left_vectors.dtype == np.float32 and ds.attrs["vectors_dtype"] == "float32"
    # the last vectors are those of the final weights; NaN beyond each layer's rows/cols and k
    w = model[2].weight.detach().double().numpy()  # 5 x 100: 5 pairs at most, k = 3
    _, _, vh = np.linalg.svd(w, full_matrices=False)
    right = ds.right_vectors.sel(layer="2.weight", vector_step=100).values
    assert (np.abs(np.sum(right[:, :100] * vh[:3], axis=1)) ** 2 >= 1 - TOL).all()
    assert np.isnan(ds.left_vectors.sel(layer="2.weight").values[..., 5:]).all()
    assert not np.isnan(ds.left_vectors.sel(layer="0.weight").values).any()  # 100 rows: full


def test_manual_steps_take_vectors_once_per_window(tmp_path):
    model = nn.Sequential(nn.Linear(6, 4))
    with SpectrumRecorder(model, tmp_path / "r", every=3, top_k_vectors=1, vectors_every=6) as rec:
        for step in (0, 2, 5, 7, 11, 12, 13, 30):
            rec.record(step)
    assert open_spectra(tmp_path / "r").vector_step.values.tolist() == [0, 7, 12, 30]


def test_float16_vectors_are_stored_as_float16(tmp_path):
    torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(90, 120), nn.Linear(120, 70))
    stores = {}
    for dtype in ("float32", "float16"):
        path = tmp_path / f"{dtype}.bbp"
        with SpectrumRecorder(model, path, top_k_vectors=4, vectors_dtype=dtype) as rec:
            rec.record(0)
        stores[dtype] = open_spectra(path)
        data = next(p for p in path.iterdir() if p.name.startswith("data-"))
        import zarr

        assert str(zarr.open_group(str(data), mode="r")["left_vectors"].dtype) == dtype
    a, b = (stores[d].right_vectors.values for d in ("float32", "float16"))
    assert b.dtype == np.float32  # read as float32
    ok = ~np.isnan(a)
    np.testing.assert_array_equal(ok, ~np.isnan(b))
    np.testing.assert_allclose(b[ok], a[ok], atol=1e-3)  # float16 rounding: 2**-11 relative
    # float16 rounds each entry by up to 2**-12 relative: norms move by ~1e-4 (measured up to
    # 1.6e-4 here), directions by ~1e-7
    norm = np.sqrt(np.nansum(b * b, axis=-1))
    assert (np.abs(norm - 1) < 1e-3).all()
    assert (np.nansum(a * b, axis=-1) ** 2 >= 1 - 1e-3).all()
    assert ((np.nansum(a * b, axis=-1) / norm) ** 2 >= 1 - 1e-6).all()
    with pytest.raises(ValueError, match="keeps its vectors as float16"):
        SpectrumRecorder(model, tmp_path / "float16.bbp", top_k_vectors=4)


def test_bad_vector_options_are_refused_before_anything_is_written(tmp_path):
    model = nn.Sequential(nn.Linear(8, 8))
    path = tmp_path / "r.bbp"
    with pytest.raises(ValueError, match="`vectors_every` must be a multiple of `every`=10"):
        SpectrumRecorder(model, path, every=10, top_k_vectors=2, vectors_every=25)
    with pytest.raises(ValueError, match="needs `top_k_vectors` > 0"):
        SpectrumRecorder(model, path, vectors_every=100)
    with pytest.raises(ValueError, match="`vectors_every` must be >= 1"):
        SpectrumRecorder(model, path, top_k_vectors=2, vectors_every=0)
    with pytest.raises(ValueError, match=r"`vectors_dtype` must be one of \['float16', 'float32'\]"):
        SpectrumRecorder(model, path, top_k_vectors=2, vectors_dtype="float64")
    with pytest.raises(TypeError, match="`vectors_dtype` must be one of"):
        SpectrumRecorder(model, path, top_k_vectors=2, vectors_dtype=np.float16)
    with pytest.raises(ValueError, match="`top_k_vectors` must be >= 0"):
        SpectrumRecorder(model, path, top_k_vectors=-1)
    assert not path.exists()


def test_recorded_digits_store_with_vectors():
    # tests/data/digits_vectors.npz (scripts/make_digits_vectors.py): lr 0.2, batch 256, seed 1,
    # 400 steps, every 5, top_k_vectors=4, vectors_every=10, float16.
    from recorded_data import DATA, load_npz_store

    assert os.path.getsize(os.path.join(DATA, "digits_vectors.npz")) <= 1_000_000
    ds = load_npz_store("digits_vectors")
    assert ds.step.values.tolist() == list(range(0, 401, 5))
    assert ds.vector_step.values.tolist() == list(range(0, 401, 10))
    assert ds.attrs["vectors_dtype"] == "float16" and ds.sizes["k"] == 4
    # The same run as digits_sgd02_b256_seed1.npz, recorded earlier without vectors by other
    # code: the eigenvalues agree exactly, vector steps included (one shared Gram matrix).
    with np.load(os.path.join(DATA, "digits_sgd02_b256_seed1.npz")) as z:
        steps = z["steps"][z["steps"] <= 400]
        for i, layer in enumerate(z["layers"]):
            ref = z[f"eig{i}"][: steps.size]
            got = ds.eigenvalues.sel(layer=str(layer), step=steps).values[:, : ref.shape[1]]
            np.testing.assert_array_equal(got, ref)
    for layer, rows, cols in zip(ds.layer.values, ds.rows.values, ds.cols.values, strict=True):
        k = min(4, rows, cols)
        for var, width in (("left_vectors", rows), ("right_vectors", cols)):
            v = ds[var].sel(layer=layer).values
            assert np.isnan(v[:, k:]).all() and np.isnan(v[..., width:]).all()
            v = v[:, :k, :width].astype(np.float64)
            gram = np.einsum("sir,sjr->sij", v, v)
            np.testing.assert_allclose(gram, np.broadcast_to(np.eye(k), gram.shape), atol=2e-3)
        right = ds.right_vectors.sel(layer=layer).values[:, :k, :cols]
        big = np.take_along_axis(right, np.abs(right).argmax(-1)[..., None], -1)
        assert (big > 0).all()


def test_conv_kernels_are_read_as_out_by_in_times_kernel(tmp_path):
    torch.manual_seed(7)
    model = nn.Sequential(nn.Conv2d(16, 80, 3), nn.ReLU(), nn.Conv2d(80, 20, 1))
    with SpectrumRecorder(model, tmp_path / "c.bbp", top_k_vectors=3) as rec:
        rec.record(0)
    ds = open_spectra(tmp_path / "c.bbp")
    w = model[0].weight.detach().double().reshape(80, -1).numpy()  # 80 x 144: partial route
    ov_left, ov_right = _overlaps(ds.left_vectors.sel(layer="0.weight", vector_step=0).values[:, :80],
                                  ds.right_vectors.sel(layer="0.weight", vector_step=0).values, w)
    assert ov_left.min() >= 1 - TOL and ov_right.min() >= 1 - TOL
