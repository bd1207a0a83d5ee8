"""The linear teacher-student model trained by online SGD, recorded as spectra over steps.

Owns :func:`teacher_student`: a random student ``W`` learns a low-rank teacher ``W*`` from
Gaussian inputs; the recorded spectra go through the BBP transition as the signal grows out of
the bulk, and small batches deform the bulk itself (multiplicative SGD noise). The ground-truth
spike strength of each teacher direction is recorded beside the spectra.
"""

from __future__ import annotations

import numpy as np

from ..laws import bbp_threshold
from ..spectrum import eigenvalues
from ._crossing import first_crossing
from ._sgd_checks import DIVERGENCE_FACTOR, check_sgd_args, record_steps
from .ensembles import random_orthonormal
from .mean_dynamics import mean_dynamics
from .result import TeacherStudentResult, split_rank_one, vector_overlaps

__all__ = ["teacher_student"]


def _direct_step(D, lr, batch, noise, rng):
    """One SGD step with an explicit batch; returns the batch loss."""
    X = rng.standard_normal((D.shape[1], batch))
    R = D @ X
    if noise:
        R -= noise * rng.standard_normal((D.shape[0], batch))
    D -= (lr / batch) * (R @ X.T)
    return 0.5 * np.vdot(R, R) / batch


def _bartlett_step(D, lr, batch, noise, rng):
    """The same step in law for ``batch > m``, from ``X X^T = L L^T`` (Bartlett) in O(n m^2)."""
    n, m = D.shape
    L = np.tril(rng.standard_normal((m, m)), -1)
    L[np.diag_indices(m)] = np.sqrt(rng.chisquare(batch - np.arange(m)))
    R = D @ L
    extra = 0.0
    if noise:
        R -= noise * rng.standard_normal((n, m))
        extra = noise**2 * rng.chisquare(n * (batch - m))
    D -= (lr / batch) * (R @ L.T)
    return 0.5 * (np.vdot(R, R) + extra) / batch


def teacher_student(n, m, *, teacher_strengths=(1.0,), sigma0=1.0, lr=0.05, batch=32, steps=1000,
                    every=10, noise=0.0, rng=None) -> TeacherStudentResult:
    """Train a linear student on a low-rank linear teacher by online SGD; record its spectra.

    Parameters
    ----------
    n, m : int
        Student ``W`` is ``n x m``: ``m`` inputs, ``n`` outputs.
    teacher_strengths : sequence of float, default (1.0,)
        Singular values ``s_i > 0`` of the teacher ``W* = sum_i s_i a_i b_i^T`` (Haar orthonormal
        ``a_i``, ``b_i``), in the units of ``W``; ``r = len(teacher_strengths) <= min(n, m)``.
    sigma0 : float, default 1.0
        Initial student entries are iid N(0, ``sigma0**2 / m``).
    lr : float, default 0.05
        Learning rate, ``> 0``.
    batch : int, default 32
        Batch size, ``>= 1``; each step draws fresh inputs (online SGD).
    steps : int, default 1000
        Number of SGD steps.
    every : int, default 10
        Record every ``every`` steps (step 0 and the last step are always recorded).
    noise : float, default 0.0
        Label-noise standard deviation, ``y = W* x + noise * N(0, I_n)``.
    rng : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    TeacherStudentResult
        With ``signal[:, i] = a_i^T W b_i``, ``sigma2_noise`` the entry variance of
        ``W - sum_i signal_i a_i b_i^T``, ``theta = signal / sqrt(max(n, m) sigma2_noise)``, the
        recorded crossing ``t_cross`` and the mean-dynamics prediction ``t_cross_theory``
        (:func:`bbpfit.simulate.mean_dynamics`, conditioned on the drawn initialisation);
        ``loss`` is the exact population loss ``0.5 (||W - W*||_F^2 + n noise^2)``;
        ``overlap_left``/``overlap_right`` the squared overlaps of the student's top singular
        vectors with the teacher's, against ``predicted_overlaps()`` (BBP from ``theta``).

    Raises
    ------
    ValueError
        Non-positive ``lr``, ``sigma0`` or sizes, ``batch``/``steps``/``every`` < 1, negative
        ``noise`` or strengths, more teacher directions than ``min(n, m)``.

    Notes
    -----
    The loss per sample is ``0.5 ||W x - y||^2``, averaged over the batch, so the step is
    ``W <- W - (lr / B) (W X - Y) X^T``. Its mean is ``E[dW] = -lr (W - W*)``: the signal grows
    toward the teacher as ``s_i (1 - (1 - lr)^t)`` while the initial noise decays; the batch
    noise injects a multiplicative term of variance ``lr^2 ||W - W*||^2 / B`` per step (isotropic
    in input space), so the mean square contracts by ``rho = (1 - lr)^2 + lr^2 (m + 1) / B`` and
    training diverges in mean square above ``lr_c = 2 / (1 + (m + 1) / B)``; see
    :func:`bbpfit.simulate.mean_dynamics` for the derivation. Measured at 200 x 100 (batch 1, 4,
    32): the fitted growth rate of the log loss equals ``log rho`` to 1-2%, so the boundary is
    ``lr_c`` itself; within 2000 steps runs are flagged from ``lr = 1.05 lr_c`` (batch 4, 32) or
    ``1.2 lr_c`` (batch 1, where ``rho - 1`` is smaller), after about ``ln(1e6) / ln(rho)`` steps.

    Because ``W_t - W* = (W_0 - W*) prod_s (I - lr C_s) + ...`` is a product of random matrices
    (``C_s = X_s X_s^T / B``), the noise part of ``W`` is no longer iid once single steps overshoot
    along the top directions of ``C_s`` (eigenvalue near ``(1 + sqrt(m / B))^2``), i.e. above
    ``lr_os = 2 / (1 + sqrt(m / B))^2`` (:func:`bbpfit.simulate.overshoot_learning_rate`), which
    for small batches lies well below ``lr_c``. There the bulk spreads beyond the Marchenko-Pastur
    law: eigenvalues with no teacher direction behind them stand many Tracy-Widom units above
    the MP edge fitted to the median [1]_ (400 x 200, batch 32, ``lr = 0.2 = 1.2 lr_os``: the 2nd
    and 3rd eigenvalues about 55 and 47 TW units above the edge). Below ``lr_os``, and for large
    batches, the bulk stays MP. For ``batch > m`` the step is drawn in law through the Bartlett
    factor of ``X X^T`` (exact, O(n m^2) instead of O(n m batch)).

    References
    ----------
    .. [1] C. Park, M. Bocchi, F. D'Amico, B. Lucini and G. Aarts, arXiv:2606.28486, 2026 (SGD
       as the evolution of a random matrix ensemble; BBP transition in a linear teacher-student
       model).
    .. [2] G. Aarts, B. Lucini and C. Park, "Stochastic weight matrix dynamics during learning and
       Dyson Brownian motion", arXiv:2407.16427, 2024. doi:10.48550/arXiv.2407.16427
    .. [3] F. Benaych-Georges and R. R. Nadakuditi, J. Multivariate Anal. 111:120-135, 2012.
       doi:10.1016/j.jmva.2012.04.019

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.simulate import teacher_student
    >>> res = teacher_student(200, 100, teacher_strengths=[2.0], lr=0.01, batch=32, steps=300,
    ...                       every=5, rng=np.random.default_rng(0))
    >>> res.eigenvalues.shape, bool(abs(res.t_cross[0] - res.t_cross_theory[0]) < 10)
    ((61, 100), True)
    """
    n, m, s, sigma0, lr, batch, steps, every, noise = check_sgd_args(
        n, m, teacher_strengths, sigma0, lr, batch, steps, every, noise)
    rng = np.random.default_rng(rng)
    r = s.size
    A = random_orthonormal(n, r, rng)
    B = random_orthonormal(m, r, rng)
    W_star = (A * s) @ B.T
    D = rng.standard_normal((n, m)) * (sigma0 / np.sqrt(m)) - W_star
    step = _bartlett_step if batch > m else _direct_step
    rec = record_steps(steps, every)
    lam = np.empty((rec.size, min(n, m)))
    signal = np.empty((rec.size, r))
    ov_left, ov_right = np.empty((rec.size, r)), np.empty((rec.size, r))
    sigma2 = np.empty(rec.size)
    loss = np.empty(rec.size)
    limit = DIVERGENCE_FACTOR * 0.5 * (np.vdot(D, D) + n * noise**2)
    diverged_step, k, t = None, 0, 0
    while k < rec.size:
        if t == rec[k]:
            W = W_star + D
            lam[k] = eigenvalues(W)
            signal[k], sigma2[k] = split_rank_one(W, A, B)
            ov_left[k], ov_right[k] = vector_overlaps(W, A, B, s)
            loss[k] = 0.5 * (np.vdot(D, D) + n * noise**2)
            k += 1
            if k == rec.size:
                break
        batch_loss = step(D, lr, batch, noise, rng)
        t += 1
        if not batch_loss <= limit:
            diverged_step = t
            break
    lam, signal, sigma2, loss, rec = lam[:k], signal[:k], sigma2[:k], loss[:k], rec[:k]
    ov_left, ov_right = ov_left[:k], ov_right[:k]
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = signal / np.sqrt(max(n, m) * sigma2)[:, None]
    theta_c = bbp_threshold(min(n, m) / max(n, m))
    theory = mean_dynamics(n, m, steps, teacher_strengths=s, sigma0=sigma0, lr=lr, batch=batch,
                           noise=noise, initial_signal=signal[0], initial_sigma2=sigma2[0])
    params = {"teacher_strengths": s.tolist(), "sigma0": sigma0, "lr": lr, "batch": batch,
              "steps": steps, "every": every, "noise": noise}
    return TeacherStudentResult(
        model="linear", shape=(n, m), steps=rec, eigenvalues=lam, signal=signal,
        sigma2_noise=sigma2, theta=theta, theta_c=theta_c,
        t_cross=np.atleast_1d(first_crossing(rec, theta, theta_c)),
        t_cross_theory=theory.t_cross, loss=loss, diverged=diverged_step is not None,
        diverged_step=diverged_step, params=params, overlap_left=ov_left, overlap_right=ov_right)
