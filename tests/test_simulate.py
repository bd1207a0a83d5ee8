"""bbpfit.simulate: ensembles, spike trajectories, teacher-student SGD (all seeded).

Tolerances are stated beside each check; the theory values come from
``bbpfit.simulate.mean_dynamics`` (derived in its Notes) and the BBP maps of ``bbpfit.laws``.
"""

import numpy as np
import pytest

import bbpfit as bf
from bbpfit.simulate import (
    NOISE,
    critical_learning_rate,
    edge_excess,
    mean_dynamics,
    noise_entries,
    overshoot_learning_rate,
    spike_trajectory,
    spiked_matrix,
    teacher_student,
    two_layer_teacher_student,
)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The simulators' hot loops are many small matmuls: on a busy 2-core machine a threaded BLAS
    spends most of its time waiting for its second thread (10x slower measured), so pin one."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dev dependency
        yield
        return
    with threadpool_limits(1):
        yield


# ---------------------------------------------------------------- ensembles


@pytest.mark.parametrize("noise", sorted(NOISE))
def test_noise_laws_have_unit_variance(noise):
    z = noise_entries((400, 500), noise, df=6.0, p=0.2, rng=np.random.default_rng(1))
    # 2e5 entries: sd of the sample variance is sqrt((kurtosis - 1) / 2e5) <= 0.9% here
    assert abs(z.mean()) < 0.01
    assert abs(z.var() - 1.0) < 0.04


@pytest.mark.parametrize("noise", ["gaussian", "rademacher", "sparse"])
def test_spiked_matrix_entry_variance(noise):
    W = spiked_matrix(300, 400, (), sigma2=2.5, noise=noise, rng=2)
    assert W.shape == (300, 400)
    assert abs(W.var() / 2.5 - 1.0) < 0.04


def test_spike_locations_follow_the_bbp_map():
    thetas = [2.0, 1.5]
    lam = np.array([bf.eigenvalues(spiked_matrix(1000, 500, thetas, sigma2=2.0, rng=s))[:3]
                    for s in range(4)])
    expected = bf.spike_eigenvalue(np.array(thetas), 0.5, sigma2=2.0)
    # per-draw sd of the outlier is ~3%; the mean of 4 draws is within 3%
    np.testing.assert_allclose(lam[:, :2].mean(axis=0), expected, rtol=0.03)
    # the third eigenvalue sticks to the edge 2 (1 + sqrt 0.5)^2
    assert abs(lam[:, 2].mean() / (2.0 * (1 + 0.5**0.5) ** 2) - 1) < 0.03


@pytest.mark.parametrize("noise", ["rademacher", "uniform"])
def test_spike_location_orientation_and_universality(noise):
    W = spiked_matrix(500, 1000, [2.5], noise=noise, rng=3)  # wide: n = 1000 is the column side
    lam = bf.eigenvalues(W)
    assert abs(lam[0] / bf.spike_eigenvalue(2.5, 0.5) - 1) < 0.05
    assert lam[1] < 1.05 * (1 + 0.5**0.5) ** 2


def test_below_threshold_leaves_no_outlier():
    lam = bf.eigenvalues(spiked_matrix(1000, 500, [0.5], rng=4))
    assert edge_excess(lam, 1000)[0] < 4.0


def test_return_factors():
    W, U, V = spiked_matrix(300, 200, [3.0, 2.0], sigma2=4.0, rng=5, return_factors=True)
    assert U.shape == (300, 2) and V.shape == (200, 2)
    np.testing.assert_allclose(U.T @ U, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(V.T @ V, np.eye(2), atol=1e-12)
    Z = W / 2.0 - np.sqrt(300) * (U * [3.0, 2.0]) @ V.T
    assert abs(Z.var() - 1.0) < 0.03
    # the planted signal is seen along (u_i, v_i): u^T W v ~ sigma sqrt(n) theta
    np.testing.assert_allclose(np.diag(U.T @ W @ V), 2.0 * np.sqrt(300) * np.array([3.0, 2.0]),
                               rtol=0.05)


def test_ensemble_errors():
    with pytest.raises(ValueError, match=r"unknown noise 'cauchy'; valid names are 'gaussian'"):
        spiked_matrix(10, 5, noise="cauchy")
    with pytest.raises(ValueError, match="`df`"):
        spiked_matrix(10, 5, noise="student-t", df=2.0)
    with pytest.raises(ValueError, match="`p`"):
        spiked_matrix(10, 5, noise="sparse", p=0.0)
    with pytest.raises(ValueError, match="`thetas`"):
        spiked_matrix(10, 5, [-1.0])
    with pytest.raises(ValueError, match="`thetas` has 6 spikes"):
        spiked_matrix(10, 5, np.ones(6))
    with pytest.raises(ValueError, match="`sigma2`"):
        spiked_matrix(10, 5, sigma2=0.0)
    with pytest.raises(ValueError, match="`n_rows`"):
        spiked_matrix(0, 5)
    with pytest.raises(TypeError, match="`noise`"):
        noise_entries(3, noise=1)


# ---------------------------------------------------------------- trajectories


def test_trajectory_crossing_of_a_linear_theta():
    rate = 0.013
    tr = spike_trajectory(400, 200, 120, lambda t: rate * t, drift=0.05, rng=6)
    assert tr.steps.dtype == np.int64 and tr.eigenvalues.shape == (120, 200)
    assert tr.t_cross == pytest.approx(0.5**0.25 / rate, rel=1e-9)
    # an array gives the interpolated crossing, exact for a linear theta
    arr = spike_trajectory(400, 200, np.arange(0, 240, 2), rate * np.arange(0, 240, 2), rng=6)
    assert arr.t_cross == pytest.approx(0.5**0.25 / rate, rel=1e-9)
    # well above threshold the outlier sits at the BBP location (sd ~3% at 400 x 200)
    late = tr.eigenvalues[-10:, 0] / bf.spike_eigenvalue(tr.theta[-10:], 0.5)
    assert abs(late.mean() - 1) < 0.05
    # well below, the top eigenvalue is in the bulk
    assert np.all(edge_excess(tr.eigenvalues[:20], 400)[:, 0] < 5)


def test_trajectory_drift_modes():
    frozen = spike_trajectory(200, 100, 5, np.zeros(5), drift=0.0, rng=7)
    np.testing.assert_allclose(frozen.eigenvalues, frozen.eigenvalues[[0]].repeat(5, 0))
    slow = spike_trajectory(200, 100, 5, np.zeros(5), drift=0.001, rng=7)
    fast = spike_trajectory(200, 100, 5, np.zeros(5), drift=None, rng=7)
    d_slow = np.abs(np.diff(slow.eigenvalues, axis=0)).mean()
    d_fast = np.abs(np.diff(fast.eigenvalues, axis=0)).mean()
    assert 0 < d_slow < 0.3 * d_fast
    # independent steps come from the exact sampler; scale follows sigma2_of_t
    scaled = spike_trajectory(200, 100, 3, [3.0, 3.0, 3.0], sigma2_of_t=[1.0, 2.0, 4.0],
                              drift=None, rng=8)
    ratio = scaled.eigenvalues[:, 0] / bf.spike_eigenvalue(3.0, 0.5)
    np.testing.assert_allclose(ratio, [1.0, 2.0, 4.0], rtol=0.12)


def test_trajectory_never_crossing_is_nan():
    assert np.isnan(spike_trajectory(50, 25, 10, lambda t: 0.01 * t, rng=0).t_cross)
    assert np.isnan(spike_trajectory(50, 25, 10, lambda t: 2.0 + t, rng=0).t_cross)  # starts above


def test_trajectory_errors():
    with pytest.raises(ValueError, match="`m` must be <= `n`"):
        spike_trajectory(10, 20, 5, np.zeros(5))
    with pytest.raises(ValueError, match="`drift`"):
        spike_trajectory(20, 10, 5, np.zeros(5), drift=1.5)
    with pytest.raises(ValueError, match="`theta_of_t`"):
        spike_trajectory(20, 10, 5, -np.ones(5))
    with pytest.raises(ValueError, match="`theta_of_t` must have one value per step"):
        spike_trajectory(20, 10, 5, np.zeros(4))
    with pytest.raises(ValueError, match="`sigma2_of_t`"):
        spike_trajectory(20, 10, 5, np.zeros(5), sigma2_of_t=np.zeros(5))
    with pytest.raises(ValueError, match="`steps` must be strictly increasing"):
        spike_trajectory(20, 10, [0, 2, 1], np.zeros(3))


# ---------------------------------------------------------------- linear teacher-student


def test_signal_grows_toward_the_teacher():
    res = teacher_student(200, 100, teacher_strengths=[3.0, 1.5], lr=0.05, batch=32, steps=300,
                          every=50, rng=9)
    assert res.steps.tolist() == [0, 50, 100, 150, 200, 250, 300]
    assert np.all(np.abs(res.signal[0]) < 0.5)
    # (1 - 0.05)^300 = 2e-7: the signal has reached the teacher; the noise has decayed
    np.testing.assert_allclose(res.signal[-1], [3.0, 1.5], rtol=0.02)
    assert res.sigma2_noise[-1] < 1e-3 * res.sigma2_noise[0]
    assert np.all(np.diff(res.loss) < 0)
    assert not res.diverged and res.diverged_step is None


@pytest.mark.parametrize("batch", [32, 256])  # 256 > m uses the Bartlett step
def test_crossing_step_matches_the_mean_dynamics(batch):
    res = teacher_student(200, 100, teacher_strengths=[2.0, 1.0], lr=0.01, batch=batch,
                          steps=130, every=1, rng=10)
    # theory conditioned on the drawn W_0; measured 44.9/79.0 vs 43.0/78.7 (batch 32),
    # 43.0/77.8 vs 42.8/78.1 (batch 256) over seeds 0-5: within 2 steps
    np.testing.assert_allclose(res.t_cross, res.t_cross_theory, atol=3.0)
    unconditional = mean_dynamics(200, 100, 130, teacher_strengths=[2.0, 1.0], lr=0.01, batch=batch)
    np.testing.assert_allclose(res.t_cross, unconditional.t_cross, rtol=0.2)


@pytest.mark.parametrize("batch", [4, 200])
def test_loss_contracts_at_the_mean_square_rate(batch):
    m = 100
    lr = 0.9 * critical_learning_rate(m, batch)
    res = teacher_student(200, m, teacher_strengths=[1.0], lr=lr, batch=batch, steps=300,
                          every=10, rng=11)
    slope = np.polyfit(res.steps, np.log(res.loss), 1)[0]
    rho = (1 - lr) ** 2 + lr**2 * (m + 1) / batch
    assert slope == pytest.approx(np.log(rho), rel=0.1)


def test_stationary_noise_level_with_label_noise():
    lr, batch, m = 0.05, 32, 100
    res = teacher_student(200, m, teacher_strengths=[1.0], lr=lr, batch=batch, steps=400,
                          every=20, noise=1.0, rng=12)
    stationary = lr / (batch * (2 - lr * (1 + (m + 1) / batch)))
    assert res.sigma2_noise[-8:].mean() == pytest.approx(stationary, rel=0.05)
    md = mean_dynamics(200, m, 400, teacher_strengths=[1.0], lr=lr, batch=batch, noise=1.0)
    assert md.sigma2_noise[-1] == pytest.approx(stationary, rel=1e-3)


def test_divergence_is_flagged_above_the_critical_learning_rate():
    m, batch = 100, 4
    lr_c = critical_learning_rate(m, batch)
    ok = teacher_student(200, m, lr=0.9 * lr_c, batch=batch, steps=200, every=20, rng=13)
    assert not ok.diverged
    bad = teacher_student(200, m, lr=1.5 * lr_c, batch=batch, steps=400, every=20, rng=13)
    assert bad.diverged
    # loss grows as rho^t: 1e6 is reached near ln(1e6) / ln(rho) = 128 steps (measured 130)
    rho = (1 - 1.5 * lr_c) ** 2 + (1.5 * lr_c) ** 2 * (m + 1) / batch
    assert bad.diverged_step == pytest.approx(np.log(1e6) / np.log(rho), rel=0.25)
    assert bad.steps[-1] < bad.diverged_step and np.all(np.isfinite(bad.eigenvalues))
    assert "diverged at step" in bad.summary()


def test_small_batches_deform_the_bulk_large_batches_keep_it_mp():
    # lr = 0.12 is 0.82 lr_c at batch 8 and 0.08 lr_c at batch 256 (m = 100)
    kw = dict(teacher_strengths=[1.0], lr=0.12, steps=300, every=30, noise=1.0, rng=14)
    small = teacher_student(200, 100, batch=8, **kw)
    large = teacher_student(200, 100, batch=256, **kw)
    ex_small = edge_excess(small.eigenvalues[-5:], 200).mean(axis=0)
    ex_large = edge_excess(large.eigenvalues[-5:], 200).mean(axis=0)
    # measured (seeds 0-2): batch 8 l2, l3 = 33-40, 25-32 TW units above the median-fitted edge
    # with theta = 0.3-0.4 < theta_c, i.e. no spike behind them; batch 256: l2 = -2 TW
    assert ex_small[1] > 15 and ex_small[2] > 10
    assert np.all(small.theta[-5:] < small.theta_c)
    assert -6 < ex_large[1] < 3
    assert ex_large[0] > 100 and np.all(large.theta[-5:] > 3)  # the real spike


def test_teacher_student_bad_input():
    cases = [({"lr": -0.1}, "`lr`"), ({"lr": 0.0}, "`lr`"), ({"batch": 0}, "`batch`"),
             ({"sigma0": 0.0}, "`sigma0`"), ({"steps": 0}, "`steps`"), ({"every": 0}, "`every`"),
             ({"noise": -1.0}, "`noise`"), ({"teacher_strengths": []}, "`teacher_strengths`"),
             ({"teacher_strengths": [-1.0]}, "`teacher_strengths`"),
             ({"teacher_strengths": np.ones(11)}, "`teacher_strengths`")]
    for kw, name in cases:
        with pytest.raises(ValueError, match=name):
            teacher_student(20, 10, **kw)
        with pytest.raises(ValueError, match=name):
            two_layer_teacher_student(20, 10, **kw)
    with pytest.raises(ValueError, match="`n`"):
        teacher_student(0, 10)
    with pytest.raises(TypeError, match="`batch`"):
        teacher_student(20, 10, batch=2.5)
    with pytest.raises(ValueError, match=r"unknown activation 'gelu'; valid names are 'tanh', 'relu'"):
        two_layer_teacher_student(20, 10, activation="gelu")


def test_result_representations():
    res = teacher_student(40, 20, steps=20, every=5, rng=0)
    d = res.to_dict()
    assert d["shape"] == [40, 20] and len(d["eigenvalues"]) == 5
    assert "TeacherStudentResult(model='linear'" in repr(res)
    assert "theta_c = 0.8409" in res.summary()
    assert res.n == 40 and res.m == 20


# ---------------------------------------------------------------- two-layer teacher-student


def test_two_layer_student_develops_an_outlier():
    res = two_layer_teacher_student(200, 100, teacher_strengths=[2.0, 2.0], activation="relu",
                                    lr=0.05, batch=32, steps=500, every=50, rng=0)
    assert res.model == "two-layer relu" and res.eigenvalues.shape == (11, 100)
    assert np.all(np.isnan(res.t_cross_theory))
    # measured: theta_1 0.27 -> 2.0, crossing at step 87; top eigenvalue 35 TW above the edge
    assert res.theta[0, 0] < res.theta_c < res.theta[-1, 0]
    assert 20 < res.t_cross[0] < 300
    ex = edge_excess(res.eigenvalues, 200)
    assert ex[0, 0] < 4 and ex[-1, 0] > 15
    assert res.loss[-1] < 0.2 * res.loss[0]


def test_two_layer_divergence_is_flagged():
    res = two_layer_teacher_student(200, 100, lr=0.5, steps=200, every=10, rng=0)
    assert res.diverged and res.diverged_step < 200


@pytest.mark.parametrize("factor, deformed", [(0.7, False), (1.3, True)])
def test_bulk_deformation_sets_in_at_the_overshoot_learning_rate(factor, deformed):
    m, batch = 100, 32
    lr = factor * overshoot_learning_rate(m, batch)  # 0.38 and 0.71 lr_c: both converge
    res = teacher_student(200, m, teacher_strengths=[1.0], lr=lr, batch=batch, steps=60, every=3,
                          noise=1.0, rng=15)
    l2 = edge_excess(res.eigenvalues[-8:], 200)[:, 1].mean()
    # measured (seeds 0-1): 0.7 -> 0.7-1.4 TW units, 1.3 -> 41 TW units
    assert (l2 > 15) if deformed else (l2 < 5)
