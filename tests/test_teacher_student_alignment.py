"""Student-teacher singular-vector overlaps in the linear teacher-student model against BBP.

Measured while writing (400 x 200, teacher (3, 1.5), lr 0.01, seed 1): with batch 1000 (bulk
stays Marchenko-Pastur) the measured overlaps follow the prediction from theta(t) within 0.07
per record from 1.1 theta_c and within 0.05 from 1.5 theta_c; with batch 32 the student's bulk
is deformed (its third eigenvalue, with no teacher behind it, reaches 1.5 times the MP edge) and
the measured overlap lags the prediction below about 1.7 theta_c (e.g. 0.04 against 0.37 at
1.3 theta_c), then agrees from 2 theta_c.
"""

from __future__ import annotations

import numpy as np
import pytest

from bbpfit.simulate import teacher_student
from bbpfit.simulate.result import vector_overlaps


def test_overlaps_follow_bbp_from_theta_when_the_bulk_is_mp():
    res = teacher_student(400, 200, teacher_strengths=[3.0, 1.5], lr=0.01, batch=1000, steps=250,
                          every=5, rng=1)
    pred = res.predicted_overlaps()
    ratio = res.theta / res.theta_c
    assert res.overlap_left.shape == res.theta.shape == pred.left.shape
    for i in range(2):
        above = ratio[:, i] >= 1.5
        assert above.sum() >= 5
        # one run: each record's overlap has sd ~0.03-0.05 at 1.5 theta_c, records are
        # correlated; the mean difference over the records above 1.5 theta_c stays within 0.05
        for meas, p in ((res.overlap_left, pred.left), (res.overlap_right, pred.right)):
            assert abs(np.mean(meas[above, i] - p[above, i])) < 0.05
        below = ratio[:, i] < 0.8
        assert np.all(pred.left[below, i] == 0.0) and np.all(res.overlap_left[below, i] < 0.05)


def test_vector_overlaps_match_a_full_svd_and_rank_matching():
    rng = np.random.default_rng(0)
    A, _ = np.linalg.qr(rng.standard_normal((60, 2)))
    B, _ = np.linalg.qr(rng.standard_normal((30, 2)))
    W = rng.standard_normal((60, 30)) / np.sqrt(60) + (A * [1.5, 4.0]) @ B.T  # weaker first
    left, right = vector_overlaps(W, A, B, np.array([1.5, 4.0]))
    U, _, Vt = np.linalg.svd(W)
    # direction 1 (strength 4) is the student's top pair, direction 0 the second
    assert left[1] == pytest.approx((U[:, 0] @ A[:, 1]) ** 2, abs=1e-10)
    assert right[0] == pytest.approx((Vt[1] @ B[:, 0]) ** 2, abs=1e-10)
    wl, wr = vector_overlaps(W.T.copy(), B, A, np.array([1.5, 4.0]))  # a wide matrix
    np.testing.assert_allclose((wl, wr), (right, left), atol=1e-10)
