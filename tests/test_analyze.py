"""`bf.analyze` (bbpfit.zoo): the per-layer table of one model, its adjustment and bad input."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from bbpfit.inference import adjust_pvalues, spike_test
from bbpfit.sources.safetensors_file import save_safetensors
from bbpfit.zoo import COLUMNS, analyze, analyze_layer, iter_reports
from bbpfit.zoo.nulls import CACHE_ENV, default_null_cache, null_cache_dir
from bbpfit.zoo.table import frame_from_reports, summary_line, to_markdown, to_text


@pytest.fixture(autouse=True)
def null_cache_dir_for_tests(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.getbasetemp() / "bbpfit-cache"))


def planted(rng, n, m, thetas=(), sigma=1.0):
    """Gaussian noise of variance sigma**2 plus rank-r spikes of strengths thetas (noise units)."""
    w = rng.standard_normal((n, m))
    for theta in thetas:
        u, v = rng.standard_normal(n), rng.standard_normal(m)
        w += theta * np.sqrt(max(n, m)) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    return (sigma * w).astype(np.float32)


@pytest.fixture
def state():
    rng = np.random.default_rng(0)
    return {"enc.weight": planted(rng, 300, 100, thetas=(3.0,), sigma=0.05),
            "enc.bias": np.zeros(300, np.float32),
            "dec.weight": planted(rng, 100, 300, sigma=0.02),
            "conv.weight": rng.standard_normal((16, 4, 3, 3)).astype(np.float32),
            "gate.weight": rng.standard_normal((6, 40)).astype(np.float32),
            "dead.weight": np.zeros((30, 20), np.float32)}


def test_table_schema_and_planted_spike(state):
    table = analyze(state, method="tw")
    assert list(table.columns) == list(COLUMNS)
    assert table["layer"].tolist() == ["enc.weight", "dec.weight", "conv.weight", "gate.weight",
                                       "dead.weight"]
    enc, dec, conv = (table.iloc[i] for i in range(3))
    assert (enc["shape"], enc["n"], enc["m"]) == ("300x100", 300, 100)
    assert conv["shape"] == "16x4x3x3" and (conv["n"], conv["m"]) == (36, 16)
    assert enc["n_spikes"] == 1 and enc["significant"] and enc["theta_hat"] == pytest.approx(3.0, rel=0.15)
    assert enc["sigma2"] == pytest.approx(0.05**2, rel=0.1) and dec["n_spikes"] == 0
    assert enc["lower_edge"] < enc["upper_edge"] < enc["lambda_max"]
    assert 0 < enc["ratio_eff"] <= 1 and enc["ks"] < 0.1 and enc["path"] == "tw"
    assert table.attrs["alpha"] == 0.05 and table.attrs["correction"] == "fdr_bh"


def test_untestable_layers_get_a_note_not_an_error(state):
    table = analyze(state, method="tw").set_index("layer")
    gate = table.loc["gate.weight"]
    assert pd.isna(gate["pvalue"]) and "too small to test" in gate["notes"]
    assert np.isfinite(table.loc["gate.weight", "sigma2"])  # still fitted
    assert "all-zero" in table.loc["dead.weight", "notes"] and pd.isna(table.loc["dead.weight", "n_spikes"])
    assert not table.loc[["gate.weight", "dead.weight"], "significant"].any()
    # an untested layer has no law either: no tail exponent from a handful of eigenvalues
    assert table.loc[["gate.weight", "dead.weight"], ["alpha", "pl_pvalue"]].isna().all().all()
    assert (table.loc[["gate.weight", "dead.weight"], "bulk_law"] == "").all()


def test_same_as_spike_test_per_layer_with_adjustment(state):
    table = analyze(state, method="auto", correction="holm")
    for name in ("enc.weight", "dec.weight", "conv.weight"):
        row = table.set_index("layer").loc[name]
        res = spike_test(state[name], method="auto", rng=np.random.default_rng(0))
        assert row["pvalue"] == pytest.approx(res.pvalue) and row["n_spikes"] == res.n_spikes
        assert row["path"] == "+".join(res.path) and row["sigma2"] == pytest.approx(res.fit.sigma2)
    tested = table["pvalue"].notna()
    adj = adjust_pvalues(table.loc[tested, "pvalue"].to_numpy(), method="holm")
    np.testing.assert_allclose(table.loc[tested, "pvalue_adjusted"], adj.adjusted)
    assert (table.loc[tested, "significant"] == adj.rejected).all()


def test_adjusted_counts_follow_the_selection_rule():
    rng = np.random.default_rng(3)
    layers = {f"l{i}.weight": planted(rng, 200, 100, thetas=(4.0, 2.5) if i < 2 else ()) for i in range(6)}
    table = analyze(layers, method="tw")
    assert table["n_spikes_adjusted"].tolist()[:2] == [2, 2]
    assert (table["n_spikes_adjusted"] <= table["n_spikes"]).all()
    assert (table.loc[~table["significant"], "n_spikes_adjusted"] == 0).all()


def test_module_and_file_sources_agree(state, tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.safetensors"
    save_safetensors(path, state)
    from_file = analyze(path, method="tw")
    from_torch = analyze({k: torch.from_numpy(v) for k, v in state.items()}, method="tw")
    pd.testing.assert_frame_equal(from_file, from_torch)


def test_reproducible_with_a_seed(state):
    a = analyze(state, rng=1)
    b = analyze(state, rng=1)
    pd.testing.assert_frame_equal(a, b)


def test_layers_are_read_lazily_and_dropped(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "big.safetensors"
    save_safetensors(path, {f"l{i}.weight": planted(rng, 600, 300) for i in range(8)})
    layer_bytes = 600 * 300 * 8  # one layer in float64
    analyze(path, method="tw")  # warm the nulls
    tracemalloc.start()
    analyze(path, method="tw")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4 * layer_bytes  # the model is 8 layers: not all in memory at once


def test_reports_and_renderings(state):
    reports = list(iter_reports(state, method="tw"))
    assert [r.name for r in reports][:2] == ["enc.weight", "dec.weight"]
    assert reports[0].spectrum.m == 100 and reports[0].tested and not reports[3].tested
    frame = frame_from_reports(reports)
    text, md = to_text(frame), to_markdown(frame)
    assert "enc.weight" in text and text.count("\n") == len(frame) + 1
    assert md.startswith("| layer | shape |") and md.count("\n") == len(frame) + 1
    assert "5 layers, 3 tested: 1 with a significant spike" in summary_line(frame)


def test_bbpfit_warnings_go_to_notes(monkeypatch, recwarn):
    import warnings

    import bbpfit.zoo.layer as layer
    from bbpfit import FitWarning

    real = layer.spike_test_given_spectrum

    def noisy(*args, **kwargs):
        warnings.warn("the bulk looks odd", FitWarning, stacklevel=2)
        warnings.warn("not ours", UserWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(layer, "spike_test_given_spectrum", noisy)
    w = planted(np.random.default_rng(2), 200, 60)
    rep = analyze_layer("x", w, method="tw", null_cache=default_null_cache())
    assert rep.notes == ("the bulk looks odd",)
    assert [str(w.message) for w in recwarn] == ["not ours"]  # other warnings pass through


def test_null_cache_directory(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert null_cache_dir() == tmp_path / "nulls" and default_null_cache().directory == tmp_path / "nulls"
    monkeypatch.setenv(CACHE_ENV, "none")
    assert null_cache_dir() is None and default_null_cache().directory is None


@pytest.mark.parametrize("kwargs, message", [
    ({"alpha": 1.5}, "alpha"), ({"method": "magic"}, "valid names"),
    ({"correction": "fdr_xx"}, "correction"), ({"workers": 0}, "workers"),
])
def test_bad_options(state, kwargs, message):
    with pytest.raises(ValueError, match=message):
        analyze(state, **kwargs)


def test_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        analyze(tmp_path / "missing.safetensors")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "README.md").write_text("no weights here")
    with pytest.raises(ValueError, match="contains no checkpoint"):
        analyze(tmp_path / "folder")
    (tmp_path / "weights.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(ValueError, match="not in a known checkpoint format.*valid formats"):
        analyze(tmp_path / "weights.npy")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        analyze(tmp_path / "empty.safetensors")
    bad = {"a.weight": np.ones((20, 20)), "b.weight": np.full((20, 20), np.nan)}
    with pytest.raises(ValueError, match="layer 'b.weight'.*NaN"):
        analyze(bad)
    with pytest.raises(ValueError, match="no layer selected"):
        analyze({"bias": np.zeros(4), "w.weight": np.ones((3, 3))}, include="nothing*")


def test_unsafe_pickle_is_refused_naming_the_flag(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "whole_model.pt"
    torch.manual_seed(0)
    torch.save(torch.nn.Sequential(torch.nn.Linear(40, 30)), path)
    with pytest.raises(ValueError, match="allow_unsafe_pickle=True"):
        analyze(path)
    table = analyze(path, allow_unsafe_pickle=True, method="tw")
    assert table["layer"].tolist() == ["0.weight"]


def test_workers_give_the_same_table_as_one_process(state, tmp_path):
    # Layers in 2 processes: same rows in the model's order (no ties here, so the per-layer
    # generators change nothing), from a mapping and from a file; NaN weights still name the layer.
    one = analyze(state)
    two = analyze(state, workers=2)
    cols = ["layer", "n_spikes", "n_spikes_adjusted", "pvalue", "path", "notes", "lambda_max"]
    pd.testing.assert_frame_equal(one[cols], two[cols])
    path = tmp_path / "m.safetensors"
    save_safetensors(path, state)
    pd.testing.assert_frame_equal(analyze(path)[cols], analyze(path, workers=3)[cols])
    bad = dict(state)
    bad["enc.weight"] = state["enc.weight"].copy()
    bad["enc.weight"][0, 0] = np.nan
    with pytest.raises(ValueError, match="enc.weight"):
        analyze(bad, workers=2)
