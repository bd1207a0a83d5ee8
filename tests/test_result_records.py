"""Small result records are frozen dataclasses (STYLE.md) that still unpack like the old tuples."""

import dataclasses

import numpy as np
import pytest

import bbpfit as bf
from bbpfit.inference import StrengthInterval


def test_spike_overlaps_record():
    ov = bf.spike_overlaps(2.5, 0.5)
    assert dataclasses.is_dataclass(ov)
    n_side, m_side = ov
    assert (n_side, m_side) == (ov.n_side, ov.m_side)
    # Benaych-Georges & Nadakuditi (2012) section 3.1, by hand: (1 - q/t^4) / (1 + 1/t^2) etc.
    assert ov.n_side == pytest.approx((1 - 0.5 / 2.5**4) / (1 + 1 / 2.5**2), rel=1e-15)
    assert ov.m_side == pytest.approx((1 - 0.5 / 2.5**4) / (1 + 0.5 / 2.5**2), rel=1e-15)
    assert ov.to_dict() == {"n_side": ov.n_side, "m_side": ov.m_side}
    with pytest.raises(dataclasses.FrozenInstanceError):
        ov.n_side = 0.0


def test_fit_arrays_and_interval_records():
    lam = bf.marchenko_pastur(0.5).rvs(400, size=3, rng=0)
    res = bf.fit_mp_array(lam, 400)
    assert dataclasses.is_dataclass(res) and res.sigma2.shape == (3,)
    sigma2, ratio, lo, hi, n_ex, ks = res  # unpacks in field order
    np.testing.assert_array_equal(sigma2, res.sigma2)
    assert set(res.to_dict()) == {"sigma2", "ratio", "lower_edge", "upper_edge", "n_excluded", "ks"}
    ci = StrengthInterval(np.array([1.0]), np.array([2.0]))
    low, high = ci
    assert ci.to_dict() == {"low": [1.0], "high": [2.0]} and low[0] == 1.0 and high[0] == 2.0
