"""Store layer: schema, resume rules, refusals that touch nothing, compaction, netCDF export."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import xarray as xr

from bbpfit.store import (
    CONVENTION,
    LayerInfo,
    SpectraWriter,
    compact,
    layout,
    open_spectra,
    to_netcdf,
)

LAYERS = [LayerInfo("a.weight", (5, 3), 5, 3), LayerInfo("conv.weight", (4, 2, 2, 2), 4, 8)]


def _eigs(rng):
    return [np.sort(rng.random(3))[::-1], np.sort(rng.random(4))[::-1]]


def _write(path, steps, *, flush_every=3, close=True, top_k=0, seed=0):
    rng = np.random.default_rng(seed)
    w = SpectraWriter(path, LAYERS, attrs={"model_class": "M"}, flush_every=flush_every,
                      top_k=top_k)
    written = {}
    for s in steps:
        lam = _eigs(rng)
        kw = {}
        if top_k:
            kw = {"left_vectors": [rng.random((top_k, 5)), rng.random((top_k, 4))],
                  "right_vectors": [rng.random((top_k, 3)), rng.random((top_k, 8))]}
        w.append(s, lam, loss=float(s) / 10, lr=0.1, **kw)
        written[s] = (lam, kw)
    if close:
        w.close()
    return w, written


def _snapshot_tree(path):
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            full = os.path.join(root, f)
            with open(full, "rb") as fh:
                out[os.path.relpath(full, path)] = fh.read()
    return out


def test_schema_values_and_padding(tmp_path):
    path = tmp_path / "s.bbp"
    _, written = _write(path, range(0, 50, 5))
    ds = open_spectra(path)
    assert ds.eigenvalues.dims == ("layer", "step", "rank")
    assert ds.eigenvalues.dtype == np.float32
    assert ds.step.dtype == np.int64 and ds.step.values.tolist() == list(range(0, 50, 5))
    assert ds.layer.values.tolist() == ["a.weight", "conv.weight"]
    assert ds.n.values.tolist() == [5, 8] and ds.m.values.tolist() == [3, 4]
    assert ds.shape.values.tolist() == ["5x3", "4x2x2x2"]
    assert ds["rank"].values.tolist() == [0, 1, 2, 3]  # ds.rank is a method
    for s, (lam, _) in written.items():
        for i, name in enumerate(["a.weight", "conv.weight"]):
            got = ds.eigenvalues.sel(layer=name, step=s).values
            np.testing.assert_allclose(got[: lam[i].size], lam[i], rtol=1e-6)
            assert np.isnan(got[lam[i].size:]).all()
    np.testing.assert_allclose(ds.loss.values, ds.step.values / 10)
    assert ds.attrs["bbpfit_convention"] == CONVENTION
    assert ds.attrs["model_class"] == "M" and "bbpfit_version" in ds.attrs


def test_fragments_visible_before_close_and_compacted_after(tmp_path):
    path = tmp_path / "s.bbp"
    w, _ = _write(path, range(7), flush_every=3, close=False)
    # 6 steps flushed in two fragments; step 6 is still buffered.
    assert len(layout.list_fragments(path)) == 2
    assert open_spectra(path).step.values.tolist() == list(range(6))
    w.close()
    assert layout.list_fragments(path) == []
    assert open_spectra(path).step.values.tolist() == list(range(7))
    assert compact(path).n_fragments == 0  # already compact


def test_resume_appends_and_refuses_non_increasing_steps(tmp_path):
    path = tmp_path / "s.bbp"
    _write(path, [0, 10, 20])
    rng = np.random.default_rng(1)
    w = SpectraWriter(path, LAYERS, flush_every=1)
    assert w.resumed and w.last_step == 20
    for bad in (20, 5):
        with pytest.raises(ValueError, match="`step` must be > the last step"):
            w.append(bad, _eigs(rng))
    w.append(30, _eigs(rng))
    w.close()
    assert open_spectra(path).step.values.tolist() == [0, 10, 20, 30]


def test_top_k_vectors_round_trip(tmp_path):
    path = tmp_path / "s.bbp"
    _, written = _write(path, [0, 1], top_k=2)
    ds = open_spectra(path)
    assert ds.left_vectors.dims == ("layer", "vector_step", "k", "row")
    kw = written[1][1]
    got = ds.right_vectors.sel(layer="a.weight", vector_step=1).values
    np.testing.assert_allclose(got[:, :3], kw["right_vectors"][0], rtol=1e-6)
    assert np.isnan(got[:, 3:]).all()
    with pytest.raises(ValueError, match="top_k"):
        SpectraWriter(path, LAYERS, top_k=0)


def test_netcdf_export_round_trips(tmp_path):
    path = tmp_path / "s.bbp"
    _write(path, range(0, 30, 3), top_k=1)
    nc = to_netcdf(path, tmp_path / "s.nc")
    xr.testing.assert_identical(open_spectra(nc), open_spectra(path))


def test_refused_paths_are_left_untouched(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("precious")
    with pytest.raises(ValueError, match="is not a bbpfit store"):
        SpectraWriter(a_file, LAYERS)
    assert a_file.read_text() == "precious"
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "x.txt").write_text("keep")
    before = _snapshot_tree(folder)
    with pytest.raises(ValueError, match="not a bbpfit store"):
        SpectraWriter(folder, LAYERS)
    with pytest.raises(ValueError, match="not a bbpfit store"):
        open_spectra(folder)
    with pytest.raises(ValueError, match="not a bbpfit store"):
        compact(folder)
    assert _snapshot_tree(folder) == before and sorted(os.listdir(folder)) == ["sub"]
    with pytest.raises(FileNotFoundError):
        open_spectra(tmp_path / "missing")


def test_empty_directory_becomes_a_store(tmp_path):
    _write(tmp_path, [3])
    assert open_spectra(tmp_path).step.values.tolist() == [3]


def test_other_convention_is_refused_and_store_kept(tmp_path):
    path = tmp_path / "s.bbp"
    _write(path, [0, 1])
    meta = layout.read_marker(path)
    meta["convention"] = "someone-else: lambda=s^2"
    layout.write_marker(path, meta)
    before = _snapshot_tree(path)
    for call in (lambda: open_spectra(path), lambda: SpectraWriter(path, LAYERS)):
        with pytest.raises(ValueError, match="convention"):
            call()
    assert _snapshot_tree(path) == before


def test_resume_with_other_layers_is_refused_and_nothing_lost(tmp_path):
    path = tmp_path / "s.bbp"
    _write(path, [0, 1])
    before = open_spectra(path)
    other = [LAYERS[0], LayerInfo("conv.weight", (4, 2, 3, 3), 4, 18)]
    with pytest.raises(ValueError, match=r"conv.weight: shape \(4, 2, 2, 2\)"):
        SpectraWriter(path, other)
    with pytest.raises(ValueError, match="not in the store"):
        SpectraWriter(path, [*LAYERS, LayerInfo("b.weight", (2, 2), 2, 2)])
    xr.testing.assert_identical(open_spectra(path), before)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="flush_every"):
        SpectraWriter(tmp_path / "x", LAYERS, flush_every=0)
    with pytest.raises(ValueError, match="duplicate"):
        SpectraWriter(tmp_path / "x", [LAYERS[0], LAYERS[0]])
    assert not (tmp_path / "x").exists()
    w = SpectraWriter(tmp_path / "y", LAYERS)
    with pytest.raises(ValueError, match="must have shape"):
        w.append(0, [np.ones(2), np.ones(4)])
    with pytest.raises(TypeError, match="`step` must be an integer"):
        w.append(1.5, _eigs(np.random.default_rng(0)))
    w.close()


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "s.bbp"
    w, _ = _write(path, [0], close=False)
    with pytest.raises(RuntimeError, match="another process"):
        SpectraWriter(path, LAYERS)
    with pytest.raises(RuntimeError, match="another process"):
        compact(path)
    w.close()
    SpectraWriter(path, LAYERS).close()


def test_compaction_killed_before_publishing_loses_nothing(tmp_path, monkeypatch):
    path = tmp_path / "s.bbp"
    _write(path, range(6), flush_every=2, close=False)[0].close(compact=False)  # as if killed
    expected = open_spectra(path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(layout, "write_marker", crash)
    with pytest.raises(KeyboardInterrupt):
        compact(path)
    monkeypatch.undo()
    # A fully written but unreferenced data part exists; readers ignore it.
    assert any(n.startswith("data-") for n in os.listdir(path))
    xr.testing.assert_identical(open_spectra(path), expected)
    assert compact(path).n_fragments == 3
    assert sum(n.startswith("data-") for n in os.listdir(path)) == 1
    xr.testing.assert_identical(open_spectra(path), expected)


def test_compaction_killed_before_deleting_fragments_has_no_duplicates(tmp_path, monkeypatch):
    path = tmp_path / "s.bbp"
    _write(path, range(6), flush_every=2, close=False)[0].close(compact=False)
    expected = open_spectra(path)
    calls = []
    real = layout.collect_garbage

    def crash_second(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        real(*args)

    monkeypatch.setattr(layout, "collect_garbage", crash_second)
    with pytest.raises(KeyboardInterrupt):
        compact(path)
    monkeypatch.undo()
    assert len(layout.list_fragments(path)) == 3  # merged, not yet deleted
    xr.testing.assert_identical(open_spectra(path), expected)
    w = SpectraWriter(path, LAYERS)  # resuming collects the merged fragments
    assert layout.list_fragments(path) == [] and w.last_step == 5
    w.close()
    xr.testing.assert_identical(open_spectra(path), expected)


def test_leftover_temporaries_are_ignored_and_collected(tmp_path):
    path = tmp_path / "s.bbp"
    _write(path, [0, 1], flush_every=1, close=False)[0].close(compact=False)
    junk = path / layout.FRAGMENT_DIR / ".part-000000000002.npz.deadbeef.tmp"
    junk.write_bytes(b"half a fragm")
    (path / "data-0123.zarr.abc.tmp").mkdir()
    assert open_spectra(path).step.values.tolist() == [0, 1]
    SpectraWriter(path, LAYERS).close()
    assert not junk.exists() and not (path / "data-0123.zarr.abc.tmp").exists()


def test_cli_compact(tmp_path):
    from click.testing import CliRunner

    from bbpfit.cli import cli

    path = tmp_path / "s.bbp"
    _write(path, range(4), flush_every=1, close=False)[0].close(compact=False)
    result = CliRunner().invoke(cli, ["compact", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 steps x 2 layers; merged 4 fragment(s)" in result.output
    assert layout.list_fragments(path) == []
    bad = CliRunner().invoke(cli, ["compact", str(tmp_path)])
    assert bad.exit_code != 0 and "not a bbpfit store" in bad.output


def test_marker_is_json_with_layer_table(tmp_path):
    path = tmp_path / "s.bbp"
    _write(path, [0])
    meta = json.loads((path / layout.MARKER).read_text())
    assert meta["convention"] == CONVENTION
    assert [d["name"] for d in meta["layers"]] == ["a.weight", "conv.weight"]


def test_store_without_steps_opens_empty(tmp_path):
    path = tmp_path / "s.bbp"
    _write(path, [])
    ds = open_spectra(path)
    assert ds.sizes["step"] == 0 and ds.eigenvalues.shape == (2, 0, 4)
    assert compact(path).n_steps == 0
