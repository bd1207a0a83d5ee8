"""log Phi and the inverse Mills ratio of the Tobit fit against scipy and 40-digit mpmath.

Independent references: ``scipy.special.log_ndtr`` (Cephes) and mpmath's ``erfc`` at 40 digits;
neither shares code with the Numba kernels of :mod:`bbpfit.transition.tobit`.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import special

from bbpfit.transition.tobit import _log_ndtr, _mills


def _mp_log_phi(d: float) -> mp.mpf:
    with mp.workdps(40):
        return mp.log(mp.erfc(-mp.mpf(d) / mp.sqrt(2)) / 2)


def _mp_mills(d: float) -> mp.mpf:
    with mp.workdps(40):
        x = mp.mpf(d)
        return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi) / (mp.erfc(-x / mp.sqrt(2)) / 2)


GRID = np.concatenate([-np.logspace(3, -3, 400), [0.0], np.logspace(-3, 1.5, 200)])


def test_log_phi_matches_scipy_log_ndtr_everywhere():
    got = np.array([_log_ndtr(float(d)) for d in GRID])
    ref = special.log_ndtr(GRID)
    rel = np.abs(got - ref) / np.abs(ref)
    assert np.max(rel[GRID <= 0]) < 1e-14
    # for d >> 0, log Phi ~ -Phi(-d) is tiny (1e-220 at d = 31.6) and still relatively accurate
    assert np.max(rel[GRID > 0]) < 1e-12


@pytest.mark.parametrize("d", [-1000.0, -40.0, -8.0, -5.000001, -5.0, -4.999999, -3.0, 0.0, 3.0, 9.0])
def test_log_phi_and_mills_match_mpmath(d):
    assert _log_ndtr(d) == pytest.approx(float(_mp_log_phi(d)), rel=1e-14)
    assert _mills(d) == pytest.approx(float(_mp_mills(d)), rel=1e-14)


def test_no_jump_at_the_switch_between_formulas():
    # the old asymptotic series was off by ~8e-4 in log Phi just below -5: a visible jump
    below, above = _log_ndtr(math.nextafter(-5.0, -10.0)), _log_ndtr(math.nextafter(-5.0, 0.0))
    assert abs(below - above) < 1e-13
    lo, hi = _mills(math.nextafter(-5.0, -10.0)), _mills(math.nextafter(-5.0, 0.0))
    assert abs(lo - hi) / hi < 1e-13


def test_mills_is_the_derivative_of_log_phi():
    # d/dd log Phi(d) = phi(d) / Phi(d): an identity the two formulas must share
    for d in (-30.0, -7.0, -5.2, -2.0, 1.0):
        h = 1e-5 * max(1.0, abs(d))
        num = (_log_ndtr(d + h) - _log_ndtr(d - h)) / (2 * h)
        assert num == pytest.approx(_mills(d), rel=1e-7)
