"""Kernels reached from Python with arrays of several kinds compile once: each extra Numba
signature costs about a second in a fresh environment (benchmarks/bench_cold_start.py)."""

from __future__ import annotations

import numpy as np

from bbpfit.fit.kritchman_nadler import _kn_sigma2, kn_sigma2


def test_kn_sigma2_gives_one_signature_for_read_only_and_strided_input():
    lam = np.sort(np.random.default_rng(0).chisquare(3, 200))[::-1] / 3.0  # a strided view
    frozen = np.ascontiguousarray(lam)
    frozen.flags.writeable = False  # as the eigenvalues of a spectrum result
    values = {kn_sigma2(a, 500.0, 3) for a in (lam, frozen, frozen.copy(), list(lam))}
    assert len(values) == 1
    ref = float(np.sum(frozen[3:])) / 197  # the KN start; the fixed point moves it a little
    assert abs(values.pop() / ref - 1.0) < 0.05
    assert all(sig[0].mutable and sig[0].layout == "C" for sig in _kn_sigma2.signatures)
    assert frozen.flags.writeable is False  # the caller's array is left alone
