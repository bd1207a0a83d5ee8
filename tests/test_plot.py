"""Plots draw what they claim: fitted density, edge, spikes, readable axes (Agg backend, real files)."""

import numpy as np
import pytest

import bbpfit as bf

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from bbpfit.plot import plot_spectrogram, plot_spectrum  # noqa: E402


def _spectrum_and_fit(rows, cols, thetas, seed=0):
    W = bf.simulate.spiked_matrix(rows, cols, thetas=thetas, rng=seed)
    s = bf.spectrum(W, name="layer")
    return s, bf.fit_mp(s)


class _Result:
    """The two fields plot_spectrum reads from a spike test."""

    def __init__(self, fit, spikes):
        self.fit, self.spikes = fit, np.asarray(spikes)


def test_square_layer_keeps_histogram_visible(tmp_path):
    s, fit = _spectrum_and_fit(300, 300, (3.0,))
    ax = plot_spectrum(s, _Result(fit, s.eigenvalues[:1]))
    heights = [p.get_height() for p in ax.patches]
    # the MP pole at 0 (ratio 1) must not set the y-limit
    assert ax.get_ylim()[1] == pytest.approx(1.3 * max(heights))
    assert ax.get_xscale() == "linear"
    ax.figure.savefig(tmp_path / "a.png")
    assert (tmp_path / "a.png").stat().st_size > 5000


def test_far_spikes_switch_to_log_axis():
    s, fit = _spectrum_and_fit(400, 200, (30.0, 1.5))
    ax = plot_spectrum(s, _Result(fit, s.eigenvalues[:2]))
    assert ax.get_xscale() == "log"
    assert ax.get_xlim()[1] > s.eigenvalues[0]
    labels = [t.get_text() for t in ax.texts]
    assert labels[0] == f"{s.eigenvalues[0]:.3g}"


def test_bare_fit_and_legend():
    s, fit = _spectrum_and_fit(200, 100, ())
    ax = plot_spectrum(s, fit)
    text = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "MP fit" in text and "spikes" not in text


def test_spectrogram_from_store(tmp_path):
    import xarray as xr

    steps = np.arange(0, 50, 10)
    lam = np.sort(np.random.default_rng(1).random((1, steps.size, 8)), axis=-1)[..., ::-1]
    ds = xr.Dataset({"eigenvalues": (("layer", "step", "rank"), lam)},
                    coords={"layer": ["fc"], "step": steps, "rank": np.arange(8),
                            "m": ("layer", [8])})

    class T:
        detected, step, ci_low, ci_high = True, 20.0, 15.0, 25.0

    edge = np.linspace(0.8, 0.9, steps.size)
    ax = plot_spectrogram(ds, "fc", top=3, edge=edge, transition=T())
    lines = {line.get_label(): line for line in ax.lines}
    # each line draws the data it is labelled with, against the recorded steps
    np.testing.assert_array_equal(lines["bulk median"].get_xdata(), steps)
    np.testing.assert_allclose(lines["bulk median"].get_ydata(), np.median(lam[0], axis=-1))
    for r in range(3):
        np.testing.assert_allclose(lines[f"$\\lambda_{{{r + 1}}}$"].get_ydata(), lam[0, :, r])
    assert "$\\lambda_{4}$" not in lines  # top=3
    np.testing.assert_allclose(lines["fitted bulk edge"].get_ydata(), edge)
    vline = lines["transition ≈ 20"]
    assert list(vline.get_xdata()) == [20.0, 20.0]
    # the band: the 10-90% bulk quantiles, and the transition's confidence interval
    band = next(c for c in ax.collections if c.get_label().startswith("bulk 10"))
    verts = band.get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx(np.quantile(lam[0], 0.1, axis=-1).min())
    assert verts[:, 1].max() == pytest.approx(np.quantile(lam[0], 0.9, axis=-1).max())
    span = next(p for p in ax.patches if p.get_label() == "transition CI")
    xs = span.get_patch_transform().transform(span.get_path().vertices)[:, 0]
    assert (min(xs), max(xs)) == (15.0, 25.0)
    assert ax.get_yscale() == "log"
    ax.figure.savefig(tmp_path / "s.png")


def test_histogram_is_a_density_over_the_whole_bulk_and_labels_do_not_collide():
    # Square layer, far spikes: log axis whose first bin starts above the smallest eigenvalues.
    s, fit = _spectrum_and_fit(300, 300, (60.0, 20.0, 8.0))
    ax = plot_spectrum(s, _Result(fit, s.eigenvalues[:3]))
    assert ax.get_xscale() == "log"
    bars = [p for p in ax.patches if p.get_width() > 0]
    lo = min(p.get_x() for p in bars)
    mass = sum(p.get_height() * p.get_width() for p in bars)
    bulk = s.eigenvalues[3:]
    assert mass == pytest.approx(np.mean(bulk >= lo), rel=1e-9)  # not renormalised to 1
    assert mass < 1.0
    boxes = [t.get_window_extent(ax.figure.canvas.get_renderer()) for t in ax.texts]
    assert len(boxes) >= 2
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_far_outlier_that_is_not_a_spike_is_a_mark_not_a_bulk_bar():
    """Issue #14 item 9: with a bare fit, a far outlier was a grey bar stretching the axis."""
    s, fit = _spectrum_and_fit(400, 200, (30.0,))
    ax = plot_spectrum(s, fit)
    right_edges = [p.get_x() + p.get_width() for p in ax.patches if p.get_height() > 0]
    assert max(right_edges) <= 1.5 * fit.upper_edge * 1.0001  # no bar out there
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "above the edge, not significant (1)" in labels
    assert ax.get_xlim()[1] > s.eigenvalues[0] and ax.get_xscale() == "log"


def test_mp_curve_is_not_clipped():
    s, fit = _spectrum_and_fit(2000, 100, ())
    ax = plot_spectrum(s, fit, bins=2)  # coarse bars: the density's peak is far above them
    curve = next(line for line in ax.lines if "MP fit" in line.get_label())
    assert ax.get_ylim()[1] >= np.max(curve.get_ydata())
    heights = [p.get_height() for p in ax.patches]
    assert np.max(curve.get_ydata()) > 1.3 * max(heights)  # the case the old cap clipped


def test_long_layer_names_are_wrapped_in_titles():
    W = np.random.default_rng(0).standard_normal((120, 60))
    name = "model.encoder.layer.11.attention.self.query_key_value.lora_A.default.weight"
    s = bf.spectrum(W, name=name)
    ax = plot_spectrum(s, bf.fit_mp(s))
    lines = ax.get_title().split("\n")
    assert len(lines) > 1 and max(map(len, lines)) <= 60 and "".join(lines).startswith(name)


def test_spectrogram_draws_every_ranks_transition():
    import xarray as xr

    steps = np.arange(0, 100, 10)
    lam = np.sort(np.random.default_rng(1).random((1, steps.size, 8)), axis=-1)[..., ::-1]
    ds = xr.Dataset({"eigenvalues": (("layer", "step", "rank"), lam)},
                    coords={"layer": ["fc"], "step": steps, "rank": np.arange(8),
                            "m": ("layer", [8])})

    class T:
        def __init__(self, rank, step):
            self.rank, self.step, self.detected = rank, step, True
            self.ci_low, self.ci_high = step - 5, step + 5

    ax = plot_spectrogram(ds, "fc", top=3, transition=[T(0, 20.0), T(1, 50.0), T(2, 70.0)])
    marks = [line for line in ax.lines if "transition" in line.get_label()]
    assert [line.get_xdata()[0] for line in marks] == [20.0, 50.0, 70.0]
    assert [line.get_color() for line in marks] == ["C0", "C1", "C2"]
