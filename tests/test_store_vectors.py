"""Singular vectors in the store: the ``vector_step`` contract, old stores, compaction, refusals."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import xarray as xr

from bbpfit.store import CONVENTION, LayerInfo, SpectraWriter, compact, layout, open_spectra, to_netcdf

LAYERS = [LayerInfo("a.weight", (5, 3), 5, 3), LayerInfo("conv.weight", (4, 2, 2, 2), 4, 8)]
K = 2


def _vectors(rng):
    return ([rng.standard_normal((K, 5)), rng.standard_normal((K, 4))],
            [rng.standard_normal((K, 3)), rng.standard_normal((K, 8))])


def _eigs(rng):
    return [np.sort(rng.random(3))[::-1], np.sort(rng.random(4))[::-1]]


def test_vectors_only_at_their_steps(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "s.bbp"
    kept = {}
    with SpectraWriter(path, LAYERS, top_k=K, vectors_dtype="float16", flush_every=3) as w:
        for step in range(0, 50, 5):
            if step % 20 == 0:
                kept[step] = _vectors(rng)
                w.append(step, _eigs(rng), left_vectors=kept[step][0], right_vectors=kept[step][1])
            else:
                w.append(step, _eigs(rng))
        assert w.last_vector_step == 40
        w.flush()
        live = open_spectra(path)  # fragments only
    ds = open_spectra(path)  # compacted
    xr.testing.assert_identical(live, ds)
    assert ds.vector_step.values.tolist() == [0, 20, 40]
    assert ds.step.values.tolist() == list(range(0, 50, 5))
    assert ds.left_vectors.dims == ("layer", "vector_step", "k", "row")
    assert ds.right_vectors.dims == ("layer", "vector_step", "k", "col")
    assert ds.attrs["vectors_dtype"] == "float16" and ds.right_vectors.dtype == np.float32
    for step, (left, right) in kept.items():
        got = ds.right_vectors.sel(layer="conv.weight", vector_step=step).values
        np.testing.assert_allclose(got, right[1].astype(np.float16).astype(np.float32), rtol=0)
        got = ds.left_vectors.sel(layer="a.weight", vector_step=step).values
        np.testing.assert_array_equal(got[:, :5], left[0].astype(np.float16).astype(np.float32))
        assert np.isnan(ds.left_vectors.sel(layer="conv.weight", vector_step=step).values[:, 4:]).all()
    nc = to_netcdf(path, tmp_path / "s.nc")
    xr.testing.assert_identical(open_spectra(nc), ds)
    # resume: vectors keep their dtype and cadence bookkeeping
    with SpectraWriter(path, LAYERS, top_k=K, vectors_dtype="float16") as w:
        assert w.last_step == 45 and w.last_vector_step == 40
    with pytest.raises(ValueError, match="keeps its vectors as float16, got vectors_dtype='float32'"):
        SpectraWriter(path, LAYERS, top_k=K)


def test_vector_arguments_are_checked(tmp_path):
    rng = np.random.default_rng(1)
    left, right = _vectors(rng)
    with SpectraWriter(tmp_path / "v.bbp", LAYERS, top_k=K) as w:
        with pytest.raises(ValueError, match="give both or neither"):
            w.append(0, _eigs(rng), left_vectors=left)
        bad = [right[0], np.full((K, 8), np.nan)]
        with pytest.raises(ValueError, match="`right_vectors` of layer 'conv.weight' contains NaN"):
            w.append(0, _eigs(rng), left_vectors=left, right_vectors=bad)
        with pytest.raises(ValueError, match=r"must have shape \(k, 3\) with k <= top_k=2"):
            w.append(0, _eigs(rng), left_vectors=left, right_vectors=[right[1], right[1]])
        w.append(0, _eigs(rng), left_vectors=left, right_vectors=right)
    with SpectraWriter(tmp_path / "none.bbp", LAYERS) as w:
        with pytest.raises(ValueError, match="keeps no vectors"):
            w.append(0, _eigs(rng), left_vectors=left, right_vectors=right)
    with pytest.raises(ValueError, match="`vectors_dtype` must be one of"):
        SpectraWriter(tmp_path / "x.bbp", LAYERS, top_k=K, vectors_dtype="bfloat16")
    assert not (tmp_path / "x.bbp").exists()
    ds = open_spectra(tmp_path / "v.bbp")
    assert ds.vector_step.values.tolist() == [0]  # the refused appends left nothing behind


def _legacy_arrays(steps, rng):
    """Step arrays as bbpfit wrote them before ``vector_step``: vectors at every step."""
    s = len(steps)
    eig = np.full((2, s, 4), np.nan, np.float32)
    eig[0, :, :3], eig[1] = rng.random((s, 3)), rng.random((s, 4))
    left = np.full((2, s, K, 5), np.nan, np.float32)
    left[0], left[1, :, :, :4] = rng.random((s, K, 5)), rng.random((s, K, 4))
    right = np.full((2, s, K, 8), np.nan, np.float32)
    right[0, :, :, :3], right[1] = rng.random((s, K, 3)), rng.random((s, K, 8))
    return {"layer": np.array([x.name for x in LAYERS]), "step": np.array(steps, np.int64),
            "wall_time": np.full(s, 1.7e9), "loss": np.arange(s, dtype=np.float64),
            "lr": np.full(s, 0.1), "eigenvalues": eig, "left_vectors": left, "right_vectors": right}


def _legacy_zarr(folder, arrays):
    """The compacted part as the old schema wrote it (vectors on the ``step`` dimension)."""
    ds = xr.Dataset(
        {"eigenvalues": (("layer", "step", "rank"), arrays["eigenvalues"]),
         **{v: ("step", arrays[v]) for v in ("wall_time", "loss", "lr")},
         "left_vectors": (("layer", "step", "k", "row"), arrays["left_vectors"]),
         "right_vectors": (("layer", "step", "k", "col"), arrays["right_vectors"])},
        coords={"layer": ("layer", arrays["layer"].astype(object)), "step": arrays["step"],
                "rank": np.arange(4), "n": ("layer", [5, 8]), "m": ("layer", [3, 4]),
                "rows": ("layer", [5, 4]), "cols": ("layer", [3, 8]),
                "shape": ("layer", np.array(["5x3", "4x2x2x2"], dtype=object))},
        attrs={"bbpfit_convention": CONVENTION, "bbpfit_version": "0.9"})
    ds.to_zarr(folder, mode="w-", consolidated=False, zarr_format=3)


def test_stores_of_the_old_schema_read_with_vector_step(tmp_path):
    rng = np.random.default_rng(2)
    path = str(tmp_path / "old.bbp")
    os.makedirs(path)
    old, new = _legacy_arrays([0, 10, 20], rng), _legacy_arrays([30, 40], rng)
    data = layout.new_data_name()
    _legacy_zarr(os.path.join(path, data), old)
    layout.write_fragment(path, new)
    layout.write_marker(path, {  # an old marker: no vectors_dtype, no last_vector_step
        "format": layout.FORMAT, "layout_version": 1, "convention": CONVENTION,
        "bbpfit_version": "0.9", "created": time.time(), "top_k": K,
        "layers": [x.to_dict() for x in LAYERS], "attrs": {},
        "compacted": {"data": data, "fragments": [], "n_steps": 3, "last_step": 20}})
    alone = open_spectra(os.path.join(path, data))  # the old zarr read as a plain zarr export
    assert alone.step.values.tolist() == alone.vector_step.values.tolist() == [0, 10, 20]
    ds = open_spectra(path)
    assert ds.step.values.tolist() == ds.vector_step.values.tolist() == [0, 10, 20, 30, 40]
    assert ds.left_vectors.dims == ("layer", "vector_step", "k", "row")
    assert ds.attrs["vectors_dtype"] == "float32"
    np.testing.assert_array_equal(ds.left_vectors.sel(vector_step=[0, 10, 20]).values,
                                  old["left_vectors"])
    np.testing.assert_array_equal(ds.right_vectors.sel(vector_step=[30, 40]).values,
                                  new["right_vectors"])
    # resume the old store, append a step without vectors and one with, compact: nothing lost
    rng2 = np.random.default_rng(3)
    w = SpectraWriter(path, LAYERS, top_k=K)
    assert (w.last_step, w.last_vector_step) == (40, 40)
    w.append(50, _eigs(rng2))
    left, right = _vectors(rng2)
    w.append(60, _eigs(rng2), left_vectors=left, right_vectors=right)
    w.close(compact=False)
    after = open_spectra(path)  # old zarr + old fragment + new fragment
    assert after.vector_step.values.tolist() == [0, 10, 20, 30, 40, 60]
    xr.testing.assert_identical(after.sel(step=ds.step, vector_step=ds.vector_step), ds)
    assert compact(path).n_fragments == 2  # merged into a zarr of the new schema
    xr.testing.assert_identical(open_spectra(path), after)
