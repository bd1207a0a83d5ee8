"""A two-layer (one hidden layer) teacher-student network trained by online SGD.

Owns :func:`two_layer_teacher_student`: a student ``f(x) = w2 . phi(W1 x)`` learns a teacher of
low hidden width, ``y = sum_i phi(s_i b_i . x)``; the student's first-layer weights ``W1`` are
recorded, and their signal is measured in the teacher's input subspace ``span(b_i)``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_method
from ..laws import bbp_threshold
from ..spectrum import eigenvalues
from ._crossing import first_crossing
from ._sgd_checks import DIVERGENCE_FACTOR, check_sgd_args, record_steps
from .ensembles import random_orthonormal
from .result import TeacherStudentResult, split_subspace

__all__ = ["ACTIVATIONS", "two_layer_teacher_student"]

#: Hidden-layer nonlinearities by name: (phi(h), phi'(h) given h and phi(h)).
ACTIVATIONS = {
    "tanh": (np.tanh, lambda h, a: 1.0 - a * a),
    "relu": (lambda h: np.maximum(h, 0.0), lambda h, a: (h > 0.0).astype(np.float64)),
}

_EVAL_SAMPLES = 512


def two_layer_teacher_student(n, m, *, teacher_strengths=(2.0, 2.0), activation="tanh", sigma0=1.0,
                              lr=0.05, batch=32, steps=2000, every=20, noise=0.0,
                              rng=None) -> TeacherStudentResult:
    """Train a two-layer student on a two-layer teacher of low hidden width; record ``W1`` spectra.

    Parameters
    ----------
    n : int
        Student hidden width (rows of the recorded ``W1``).
    m : int
        Input dimension (cols of ``W1``).
    teacher_strengths : sequence of float, default (2.0, 2.0)
        Norms ``s_i > 0`` of the teacher's first-layer rows ``s_i b_i`` (orthonormal Haar
        ``b_i``); the teacher is ``y = sum_i phi(s_i b_i . x) + noise * N(0, 1)``, hidden width
        ``r = len(teacher_strengths) <= min(n, m)``.
    activation : {"tanh", "relu"}
        The nonlinearity ``phi`` of teacher and student.
    sigma0 : float, default 1.0
        ``W1`` starts iid N(0, ``sigma0**2 / m``); the readout ``w2`` starts iid N(0, 1 / n).
    lr, batch, steps, every, noise, rng
        As in :func:`bbpfit.simulate.teacher_student` (both layers share ``lr``, default 0.05).
        The readout's effective step is about ``lr n E[phi^2]``, so ``lr`` of order ``1 / n`` and
        above diverges for ReLU and soon after for tanh (200 hidden units: ``lr = 0.5`` blows up
        within a few steps).

    Returns
    -------
    TeacherStudentResult
        ``eigenvalues`` of ``W1``; ``signal[:, j]`` the j-th largest debiased singular value of
        ``W1`` restricted to the teacher subspace, ``sigma2_noise`` the entry variance of
        ``W1 (I - P)`` (``P`` the projector onto ``span(b_i)``), ``theta`` their ratio in noise
        units; ``loss`` the population loss estimated on a fixed held-out batch of 512 inputs;
        ``t_cross_theory`` is NaN (no closed form).

    Raises
    ------
    ValueError
        As :func:`bbpfit.simulate.teacher_student`, and an unknown ``activation``.

    Notes
    -----
    The loss is ``0.5 (f(x) - y)^2`` averaged over the batch; with ``e = f(X) - y`` and
    ``H = W1 X`` the gradients are ``grad_w2 = phi(H) e / B`` and
    ``grad_W1 = ((w2 phi'(H)) * e) X^T / B``. The hidden units of the student are exchangeable,
    so the teacher fixes only the input side of the signal: with ``M = W1 B`` (``B`` the teacher's
    input basis), ``E[M^T M] = S^T S + n sigma2 I`` for noise of entry variance ``sigma2``, so the
    signal singular values are ``sqrt(mu_j^2 - n sigma2)`` and ``theta_j`` is their ratio to
    ``sqrt(max(n, m) sigma2)``, the additive-model convention of DESIGN.md. Early in training the
    gradient of ``W1`` is dominated by the teacher's linear component (``E[phi'] s_i b_i``), as in
    the linear model, so the same BBP transition appears in ``W1``; the nonlinearity saturates
    the signal later [2]_. At zero signal the debiased top value is not exactly 0: the largest
    ``mu_j^2`` of an ``n x r`` noise block exceeds ``n sigma2`` by about ``2 sqrt(r n) sigma2``, so
    ``theta`` starts near ``(4 r / n)^(1/4)`` times ``sqrt(n / max(n, m))`` (0.3-0.4 at
    ``n = 200, r = 2``), below ``theta_c``.

    References
    ----------
    .. [1] C. Park, M. Bocchi, F. D'Amico, B. Lucini and G. Aarts, arXiv:2606.28486, 2026.
    .. [2] S. Goldt, M. Advani, A. M. Saxe, F. Krzakala and L. Zdeborova, "Dynamics of stochastic
       gradient descent for two-layer neural networks in the teacher-student setup", NeurIPS
       2019; J. Stat. Mech. (2020) 124010. doi:10.1088/1742-5468/abc61e
    .. [3] J. Ba, M. A. Erdogdu, T. Suzuki, Z. Wang, D. Wu and G. Yang, "High-dimensional
       asymptotics of feature learning: how one gradient step improves the representation",
       NeurIPS 2022. arXiv:2205.01445

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.simulate import two_layer_teacher_student
    >>> res = two_layer_teacher_student(100, 100, steps=400, every=20,
    ...                                 rng=np.random.default_rng(0))
    >>> res.eigenvalues.shape, res.model
    ((21, 100), 'two-layer tanh')
    """
    n, m, s, sigma0, lr, batch, steps, every, noise = check_sgd_args(
        n, m, teacher_strengths, sigma0, lr, batch, steps, every, noise)
    phi, dphi = check_method(activation, ACTIVATIONS, "activation")
    rng = np.random.default_rng(rng)
    r = s.size
    B = random_orthonormal(m, r, rng)
    T1 = (B * s).T  # teacher first layer, r x m
    W1 = rng.standard_normal((n, m)) * (sigma0 / np.sqrt(m))
    w2 = rng.standard_normal(n) / np.sqrt(n)
    X_eval = rng.standard_normal((m, _EVAL_SAMPLES))
    y_eval = phi(T1 @ X_eval).sum(axis=0)

    def population_loss():
        e = w2 @ phi(W1 @ X_eval) - y_eval
        return 0.5 * (np.mean(e * e) + noise**2)

    rec = record_steps(steps, every)
    lam = np.empty((rec.size, min(n, m)))
    signal = np.empty((rec.size, r))
    sigma2 = np.empty(rec.size)
    loss = np.empty(rec.size)
    limit = DIVERGENCE_FACTOR * max(population_loss(), 1e-12)
    diverged_step, k, t = None, 0, 0
    scale = lr / batch
    while k < rec.size:
        if t == rec[k]:
            lam[k] = eigenvalues(W1)
            signal[k], sigma2[k] = split_subspace(W1, B)
            loss[k] = population_loss()
            k += 1
            if k == rec.size:
                break
        X = rng.standard_normal((m, batch))
        y = phi(T1 @ X).sum(axis=0)
        if noise:
            y += noise * rng.standard_normal(batch)
        H = W1 @ X
        A = phi(H)
        e = w2 @ A - y
        G = (w2[:, None] * dphi(H, A)) * e
        w2 -= scale * (A @ e)
        W1 -= scale * (G @ X.T)
        t += 1
        batch_loss = 0.5 * np.mean(e * e)
        if not (batch_loss <= limit and np.isfinite(W1[0, 0])):
            diverged_step = t
            break
    lam, signal, sigma2, loss, rec = lam[:k], signal[:k], sigma2[:k], loss[:k], rec[:k]
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = signal / np.sqrt(max(n, m) * sigma2)[:, None]
    theta_c = bbp_threshold(min(n, m) / max(n, m))
    params = {"teacher_strengths": s.tolist(), "activation": activation, "sigma0": sigma0,
              "lr": lr, "batch": batch, "steps": steps, "every": every, "noise": noise}
    return TeacherStudentResult(
        model=f"two-layer {activation}", shape=(n, m), steps=rec, eigenvalues=lam, signal=signal,
        sigma2_noise=sigma2, theta=theta, theta_c=theta_c,
        t_cross=np.atleast_1d(first_crossing(rec, theta, theta_c)),
        t_cross_theory=np.full(r, np.nan), loss=loss, diverged=diverged_step is not None,
        diverged_step=diverged_step, params=params)
