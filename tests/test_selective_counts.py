"""One Benjamini-Bogomolov count for `spike_tests`, `analyze` and `bbpfit check`.

The counts inside selected layers are checked against a hand computation of Benjamini-Hochberg
and of the selection-adjusted level (Benjamini & Bogomolov 2014, J. R. Stat. Soc. B 76:297,
Definition 1 with BH across families and Simes-free sequential tests within); ``bbpfit check``
must produce exactly the table of :func:`bbpfit.analyze`, ``bbpfit_version`` included.
"""

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import bbpfit as bf
from bbpfit.cli.main import cli
from bbpfit.inference.multitest import adjust_pvalues, selective_counts
from bbpfit.sources.safetensors_file import save_safetensors
from bbpfit.zoo.nulls import CACHE_ENV


def test_counts_by_hand():
    first = np.array([0.001, 0.3, 0.012, 0.04, np.nan])
    steps = [[0.001, 0.004, 0.02, 0.03], [0.3], [0.012, 0.02], [0.04, 0.001], []]
    n_spikes = [4, 0, 2, 2, 0]
    # BH by hand over the 4 tested layers: sorted 0.001, 0.012, 0.04, 0.3 against 0.05 k / 4:
    # 0.0125, 0.025, 0.0375, 0.05 -> the largest k with p_(k) <= 0.05 k / 4 is k = 2 (0.012)
    adj = adjust_pvalues(first, method="fdr_bh", alpha=0.05)
    assert adj.rejected.tolist() == [True, False, True, False, False]
    # level alpha R / L = 0.05 * 2 / 4 = 0.025: 0.001, 0.004, 0.02 pass in a, 0.012, 0.02 in c
    assert selective_counts(steps, n_spikes, adj).tolist() == [3, 0, 2, 0, 0]
    # family-wise: level alpha / L = 0.0125; Holm rejects 0.001 (<= 0.0125) and 0.012 (<= 0.05/3)
    holm = adjust_pvalues(first, method="holm", alpha=0.05)
    assert holm.rejected.tolist() == [True, False, True, False, False]
    assert selective_counts(steps, n_spikes, holm).tolist() == [2, 0, 1, 0, 0]


def _state(rng):
    def spiked(n, m, theta):
        u, v = rng.standard_normal(n), rng.standard_normal(m)
        return (rng.standard_normal((n, m))
                + theta * np.sqrt(n) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v)))

    return {"a.weight": spiked(200, 80, 3.0) + spiked(200, 80, 2.0), "b.weight": spiked(200, 80, 0.0),
            "c.weight": spiked(160, 90, 1.6), "d.weight": spiked(120, 60, 4.0)}


def test_batch_and_table_report_the_same_counts(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    state = _state(np.random.default_rng(3))
    for correction in ("fdr_bh", "holm"):
        batch = bf.spike_tests(state, method="tw", correction=correction)
        table = bf.analyze(state, method="tw", correction=correction)
        assert table["n_spikes_adjusted"].tolist() == batch.n_spikes_adjusted.tolist()
        assert table["n_spikes"].tolist() == [r.n_spikes for r in batch.results]
    assert batch.n_spikes_adjusted.sum() > 0  # the test is about something


def test_check_prints_the_table_of_analyze(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    path = tmp_path / "m.safetensors"
    save_safetensors(path, _state(np.random.default_rng(4)))
    res = CliRunner().invoke(cli, ["check", str(path), "--method", "tw", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["bbpfit_version"] == bf.__version__
    res = CliRunner().invoke(cli, ["check", str(path), "--method", "tw", "--format", "csv"])
    got = pd.read_csv(io.StringIO(res.stdout))
    want = pd.read_csv(io.StringIO(bf.analyze(str(path), method="tw").to_csv(index=False)))
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("args", [["--include", "nothing*"]])
def test_check_without_layers_keeps_its_message(tmp_path, args):
    path = tmp_path / "m.safetensors"
    save_safetensors(path, {"a.weight": np.ones((20, 10))})
    res = CliRunner().invoke(cli, ["check", str(path), *args])
    assert res.exit_code == 2 and "no layer selected in" in res.output and "--include" in res.output
