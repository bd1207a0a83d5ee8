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
from bbpfit.fit._powerlaw_kernels import scan_xmin, tail_ks, tail_ks_probed


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
