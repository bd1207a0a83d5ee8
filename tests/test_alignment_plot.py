"""`bbpfit transition --plot` draws the alignment when the store has vectors; plot_alignment."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from click.testing import CliRunner  # noqa: E402

import bbpfit as bf  # noqa: E402
from bbpfit.cli.main import cli  # noqa: E402
from bbpfit.store import LayerInfo, SpectraWriter  # noqa: E402


def _store(path, top_k):
    """A spike of 120 x 60 growing through theta_c over 12 records (fresh noise each record)."""
    rng = np.random.default_rng(1)
    u, v = rng.standard_normal(120), rng.standard_normal(60)
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    with SpectraWriter(path, [LayerInfo("fc.weight", (120, 60), 120, 60)], top_k=top_k) as wr:
        for t, r in enumerate(np.linspace(0.3, 3.0, 12)):
            W = rng.standard_normal((120, 60)) / np.sqrt(120) + r * 0.5**0.25 * np.outer(u, v)
            U, s, Vt = np.linalg.svd(W, full_matrices=False)
            vec = {"left_vectors": [U[:, :top_k].T], "right_vectors": [Vt[:top_k]]} if top_k else {}
            wr.append(10 * t, [s**2 / 120], **vec)
    return path


def test_plot_draws_alignment_only_with_vectors(tmp_path):
    with_vec = _store(os.path.join(tmp_path, "v.bbp"), 2)
    out = tmp_path / "figs"
    run = CliRunner().invoke(cli, ["transition", with_vec, "--plot", str(out)])
    assert run.exit_code == 0, run.output
    files = sorted(p.name for p in out.iterdir())
    assert files == ["alignment_fc.weight.png", "spectrogram_fc.weight.png"]
    assert (out / files[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plain = _store(os.path.join(tmp_path, "p.bbp"), 0)
    out2 = tmp_path / "figs2"
    run = CliRunner().invoke(cli, ["transition", plain, "--plot", str(out2)])
    assert run.exit_code == 0 and [p.name for p in out2.iterdir()] == ["spectrogram_fc.weight.png"]


def test_plot_alignment_lines_are_the_result(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from bbpfit.plot import plot_alignment

    al = bf.alignment(_store(os.path.join(tmp_path, "v.bbp"), 2), n_draws=50)
    left, right = plot_alignment(al, "fc.weight")
    first = right.get_lines()[0]
    np.testing.assert_array_equal(first.get_ydata(), al["persistence_right_last"].sel(
        layer="fc.weight", rank=0).values)
    with pytest.raises(ValueError, match="layer"):
        plot_alignment(al, "nope")
