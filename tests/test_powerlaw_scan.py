"""The pruned x_min scan of the power-law fit returns exactly what the exhaustive scan returns.

`scan_xmin` abandons a candidate as soon as its KS distance exceeds a bound and probes each
candidate first where the previous one was abandoned. Neither may change the result: the winner,
its alpha and its distance must be bit-identical to an exhaustive scan that computes every
candidate's distance in full (written here, same arithmetic, no pruning). Checked on the real
spectra of all-MiniLM-L6-v2 (every layer, bootstrap resamples as `fit_powerlaw` draws them, and
semiparametric GoF samples) and on synthetic data with ties and zeros.
"""

import math

import numpy as np
import pytest
from numba import njit

import bbpfit as bf
from bbpfit.fit._powerlaw_kernels import (
    bootstrap_alpha,
    gof_distances,
    scan_xmin,
    scan_xmin_hinted,
    tail_ks,
    tail_ks_probed,
)


@njit(cache=False)
def exhaustive_scan(logx):
    """Every candidate's full distance; the first minimum. Same formulas as the kernel's docstring:
    alpha from suffix sums of the logs, D over the first occurrences of the tail's values."""
    nn = logx.shape[0]
    suffix = np.zeros(nn + 1)
    for j in range(nn - 1, -1, -1):
        suffix[j] = suffix[j + 1] + logx[j]
    best_i, best_a, best_d = -1, np.nan, np.inf
    for i in range(nn):
        if logx[i] == logx[nn - 1]:
            break
        if i > 0 and logx[i] == logx[i - 1]:
            continue
        n = nn - i
        s = suffix[i] - n * logx[i]
        if not s > 0.0:
            continue
        alpha = 1.0 + n / s
        d = 0.0
        for j in range(i, nn):
            if j > i and logx[j] == logx[j - 1]:
                continue
            d = max(d, abs(-math.expm1((1.0 - alpha) * (logx[j] - logx[i])) - (j - i) / n))
        if d < best_d:
            best_i, best_a, best_d = i, alpha, d
    return best_i, best_a, best_d


def _same(logx):
    got, want = scan_xmin(logx), exhaustive_scan(logx)
    assert got[0] == want[0]
    np.testing.assert_array_equal(np.array(got[1:]), np.array(want[1:]))  # bit for bit (NaN too)


def _minilm_spectra():
    from test_sources_minilm import minilm_folder

    from bbpfit.sources import iter_layers

    folder = minilm_folder()
    if folder is None:
        pytest.skip("all-MiniLM-L6-v2 weights not installed")
    out = []
    for name, w in iter_layers(folder / "model.safetensors"):
        lam = bf.eigenvalues(w)
        out.append((name, np.log(np.sort(lam[lam > 0]))))
    return out


def test_scan_is_exhaustive_on_every_minilm_layer_and_its_resamples():
    spectra = _minilm_spectra()
    assert len(spectra) == 37
    rng = np.random.default_rng(13)
    for _, logx in spectra:
        _same(logx)
        nn = logx.shape[0]
        for idx in rng.integers(0, nn, size=(40, nn)):  # nonparametric bootstrap resamples
            _same(np.sort(logx[idx]))
        i_min, alpha, _ = scan_xmin(logx)
        for _ in range(10):  # semiparametric GoF samples: power-law tail above x_min + body
            tail = rng.random(nn) < (nn - i_min) / nn
            body = logx[rng.integers(0, max(i_min, 1), nn)]
            x = np.where(tail | (i_min == 0), logx[i_min] - np.log1p(-rng.random(nn)) / (alpha - 1), body)
            _same(np.sort(x))


@pytest.mark.parametrize("seed", range(6))
def test_scan_is_exhaustive_with_ties_zeros_and_few_points(seed):
    rng = np.random.default_rng(seed)
    size = [400, 60, 12, 3, 400, 200][seed]
    x = np.concatenate([rng.uniform(0.1, 1, size), (1 - rng.random(size // 3 + 1)) ** (-1 / 2.5)])
    if seed >= 4:
        x = np.round(x, 1 if seed == 5 else 2)  # many ties, as quantised spectra have
    x = np.sort(x[x > 0])
    _same(np.log(x))


def test_probed_distance_is_the_full_one_unless_it_rejects():
    rng = np.random.default_rng(3)
    logx = np.sort(np.log(np.r_[rng.uniform(0.1, 1, 200), (1 - rng.random(60)) ** (-1 / 2.0)]))
    alpha = 1.0 + (logx.size - 50) / np.sum(logx[50:] - logx[50])
    full = tail_ks(logx, 50, alpha, np.inf)
    for probe in (-1, 10, 50, 120, 259):
        d, at = tail_ks_probed(logx, 50, alpha, np.inf, probe)
        assert d == full and at == -1
    d, at = tail_ks_probed(logx, 50, alpha, full / 2, 120)
    assert d > full / 2 and at >= 0


@pytest.mark.parametrize("seed", range(4))
def test_hint_never_changes_the_scan(seed):
    """Any hint (a candidate, a tied copy, the largest value, out of range) gives the exhaustive
    result: it only bounds the minimum early."""
    rng = np.random.default_rng(seed)
    x = np.r_[rng.uniform(0.1, 1, 150), (1 - rng.random(40)) ** (-1 / 2.0)]
    if seed % 2:
        x = np.round(x, 1) + 0.05
    logx = np.log(np.sort(x))
    want = exhaustive_scan(logx)
    for hint in (-1, 0, 1, want[0], want[0] + 1, logx.size // 2, logx.size - 1, logx.size, 10**6):
        got = scan_xmin_hinted(logx, hint)
        assert got[0] == want[0], hint
        np.testing.assert_array_equal(np.array(got[1:]), np.array(want[1:]))


@pytest.mark.parametrize("ties", [False, True])
def test_bootstrap_kernels_equal_sorting_each_sample_and_scanning_it_in_full(ties):
    """`bootstrap_alpha` (resamples assembled by counting indices, hinted scan) and
    `gof_distances` (body counted, tail sorted apart) against numpy's sort of each whole sample
    and the exhaustive scan, bit for bit."""
    rng = np.random.default_rng(7)
    x = np.r_[rng.uniform(0.1, 1, 120), (1 - rng.random(40)) ** (-1 / 1.8)]
    logx = np.log(np.sort(np.round(x, 1) + 0.05 if ties else x))
    nn = logx.size
    i_min, alpha, _ = exhaustive_scan(logx)
    idx = rng.integers(0, nn, size=(30, nn))
    want = [exhaustive_scan(np.sort(logx[row]))[1] for row in idx]
    for hint in (-1, i_min, 0):
        np.testing.assert_array_equal(bootstrap_alpha(logx, idx, hint), want)
    for i0 in (i_min, 0, 5):
        a0 = 1.0 + (nn - i0) / np.sum(logx[i0:] - logx[i0])
        u_pick, u_draw = rng.random((20, nn)), rng.random((20, nn))
        idx_body = rng.integers(0, max(i0, 1), size=(20, nn))
        tail = (u_pick < (nn - i0) / nn) | (i0 == 0)
        log1p = np.vectorize(math.log1p)(-u_draw)  # libm's, as the kernel (numpy's may differ)
        samples = np.where(tail, logx[i0] - log1p / (a0 - 1.0), logx[idx_body])
        want = [exhaustive_scan(np.sort(row))[2] for row in samples]
        np.testing.assert_array_equal(gof_distances(logx, i0, a0, u_pick, u_draw, idx_body), want)
