"""Exact mean and mean-square dynamics of online SGD in the linear teacher-student model.

Owns the closed-form predictions that :func:`bbpfit.simulate.teacher_student` is checked
against: the mean signal along each teacher direction, the expected noise variance of the
student's entries, the resulting spike strength ``theta(t)`` and its BBP crossing step, and the
mean-square stability boundary of the learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .._validation import check_int, check_positive, check_real_scalar
from ..laws import bbp_threshold
from ._crossing import first_crossing
from .ensembles import check_strengths

__all__ = ["MeanDynamics", "critical_learning_rate", "mean_dynamics", "overshoot_learning_rate"]


def critical_learning_rate(m, batch) -> float:
    """Mean-square stability boundary ``lr_c = 2 / (1 + (m + 1) / batch)`` of online SGD.

    Above it the expected squared distance to the teacher grows geometrically (see
    :func:`mean_dynamics`). ``m`` is the input dimension, ``batch`` the batch size.

    Examples
    --------
    >>> from bbpfit.simulate import critical_learning_rate
    >>> round(critical_learning_rate(200, 32), 4)
    0.2747
    """
    m = check_int(m, "m", minimum=1)
    batch = check_int(batch, "batch", minimum=1)
    return 2.0 / (1.0 + (m + 1.0) / batch)


def overshoot_learning_rate(m, batch) -> float:
    """Onset of bulk deformation, ``lr_os = 2 / (1 + sqrt(m / batch))^2``.

    The batch curvature ``C = X X^T / B`` has its largest eigenvalue near the Marchenko-Pastur
    edge ``(1 + sqrt(m / B))^2``; above ``lr_os`` the step ``I - lr C`` overshoots
    (``|1 - lr lambda| > 1``) along those directions, so the product of steps that shapes the
    noise part of ``W`` spreads its singular values: the bulk leaves the MP law although training
    still converges in mean square (``lr_os < lr_c``, equal only as ``B / m`` grows). This is an
    empirical criterion, checked by simulation: at 200 x 100 the stationary 2nd eigenvalue sits
    about 0-1 TW units above the median-fitted MP edge at ``0.7 lr_os``, 8-11 at ``lr_os`` and
    20-24 at ``1.15 lr_os`` for batch 1, 8 and 32 alike.

    Examples
    --------
    >>> from bbpfit.simulate import overshoot_learning_rate
    >>> round(overshoot_learning_rate(200, 32), 4)
    0.1633
    """
    m = check_int(m, "m", minimum=1)
    batch = check_int(batch, "batch", minimum=1)
    return 2.0 / (1.0 + (m / batch) ** 0.5) ** 2


@dataclass(frozen=True, repr=False)
class MeanDynamics:
    """Mean-dynamics prediction of the linear teacher-student model at the steps ``t``.

    Attributes
    ----------
    steps : numpy.ndarray
        float64 (k,), the steps evaluated.
    signal : numpy.ndarray
        ``E[a_i^T W_t b_i] = s_i (1 - (1 - lr)^t)``, shape (k, r).
    sigma2_noise : numpy.ndarray
        Expected entry variance of the noise part of ``W_t``, shape (k,).
    theta : numpy.ndarray
        ``signal / sqrt(n sigma2_noise)`` with ``n = max(rows, cols)``, shape (k, r).
    theta_c : float
        ``(m / n)**0.25``.
    t_cross : numpy.ndarray
        First (continuous) step at which ``theta_i`` reaches ``theta_c``, NaN if not within the
        steps evaluated, shape (r,).
    rho : float
        Per-step mean-square factor ``(1 - lr)^2 + lr^2 (m + 1) / batch``; training diverges in
        mean square when ``rho > 1``.
    lr_critical : float
        :func:`critical_learning_rate` for these ``m`` and ``batch``.
    """

    steps: np.ndarray
    signal: np.ndarray
    sigma2_noise: np.ndarray
    theta: np.ndarray
    theta_c: float
    t_cross: np.ndarray
    rho: float
    lr_critical: float

    def __repr__(self) -> str:
        tc = ", ".join(f"{v:.5g}" for v in self.t_cross)
        return (f"MeanDynamics(rho={self.rho:.6g}, lr_critical={self.lr_critical:.4g}, "
                f"theta_c={self.theta_c:.4g}, t_cross=[{tc}])")


def _theory(t, rows, cols, s, c, sigma2_0, lr, batch, noise):
    """signal (k, r), sigma2_noise (k,), theta (k, r), rho at float steps ``t``."""
    t = np.asarray(t, dtype=np.float64)
    dof = rows * cols - s.size
    gap2 = np.sum((s - c) ** 2)  # squared teacher residual (a_i^T (W_0 - W*) b_i)^2
    rho = (1.0 - lr) ** 2 + lr**2 * (cols + 1.0) / batch
    base = abs(1.0 - lr)
    # (1 - lr)^t, continued to real t; for lr > 1 the sign alternates (real part of the power)
    decay = base**t * (np.cos(np.pi * t) if lr > 1.0 else 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        geom = t if abs(1.0 - rho) < 1e-12 else -np.expm1(t * np.log(rho)) / (1.0 - rho)
        dist2 = rho**t * (dof * sigma2_0 + gap2) + lr**2 * rows * cols * noise**2 / batch * geom
        sigma2 = (dist2 - base ** (2.0 * t) * gap2) / dof
        signal = s - (s - c) * np.asarray(decay)[..., None]
        theta = signal / np.sqrt(max(rows, cols) * sigma2)[..., None]
    return signal, sigma2, theta, rho


def _gap(x, i, args, level):
    return _theory(x, *args)[2][i] - level


def mean_dynamics(n, m, steps, *, teacher_strengths=(1.0,), sigma0=1.0, lr=0.05, batch=32, noise=0.0,
                  initial_signal=None, initial_sigma2=None):
    """Predict the signal, noise level and spike strength of the linear teacher-student model.

    Parameters
    ----------
    n, m : int
        Student shape: ``n`` outputs (rows), ``m`` inputs (cols).
    steps : int or array_like
        ``0..steps`` for an int, else the (real) steps at which to evaluate.
    teacher_strengths, sigma0, lr, batch, noise
        As in :func:`bbpfit.simulate.teacher_student`.
    initial_signal : array_like, optional
        ``a_i^T W_0 b_i`` of the actual initialisation, to condition on it (default 0, its mean).
    initial_sigma2 : float, optional
        Entry variance of the noise part of the actual ``W_0`` (default ``sigma0**2 / m``).

    Returns
    -------
    MeanDynamics

    Notes
    -----
    Write ``D = W - W*`` and ``C = X X^T / B`` for a batch ``X`` of ``B`` inputs ``x ~ N(0, I_m)``
    with label noise ``E`` (entries N(0, noise^2)). One SGD step on ``0.5 ||W x - y||^2``
    (batch mean) is ``D <- D (I - lr C) + lr E X^T / B``. Since ``E[C] = I``,

    * ``E[D_t] = (1 - lr)^t D_0``: the signal ``a_i^T W b_i`` approaches the teacher's ``s_i`` as
      ``s_i - (s_i - c_i) (1 - lr)^t`` from its initial value ``c_i`` (mean 0, sd ``sigma0 / sqrt(m)``);
    * with ``E[C M C] = M + (M + tr(M) I) / B`` (Isserlis), the mean square obeys exactly
      ``E||D_(t+1)||^2 = rho E||D_t||^2 + lr^2 n m noise^2 / B`` with
      ``rho = (1 - lr)^2 + lr^2 (m + 1) / B``. The ``lr^2 tr(M) / B`` part is the multiplicative SGD
      noise: isotropic in input space, proportional to the current loss. Training diverges in
      mean square iff ``rho > 1``, i.e. ``lr > 2 / (1 + (m + 1) / B)``;
    * the noise part ``W - sum_i (a_i^T W b_i) a_i b_i^T`` has squared norm
      ``||D||^2 - sum_i (a_i^T D b_i)^2``, whose mean is
      ``rho^t (N_0 + g) - (1 - lr)^(2t) g + lr^2 n m noise^2 (1 - rho^t) / (B (1 - rho))``, with
      ``N_0`` the squared norm of the initial noise part (mean ``n sigma0^2``) and
      ``g = sum (s_i - c_i)^2``; dividing by ``n m - r`` gives ``sigma2_noise(t)``. The gap
      ``rho^t - (1 - lr)^(2t)`` is the teacher's residual smeared into random input directions by
      the batch noise.

    ``theta_i(t) = E[signal_i] / sqrt(max(n, m) sigma2_noise(t))`` replaces the ratio's mean by the
    ratio of means, which is accurate when ``n m`` is large. For small ``lr`` the signal grows
    linearly, ``theta ~ s lr t / sqrt(max(n, m) sigma0^2 / m)``, so the crossing is near
    ``theta_c sqrt(max(n, m) sigma0^2 / m) / (s lr)``. With label noise the stationary entry
    variance is ``lr noise^2 / (B (2 - lr (1 + (m + 1) / B)))``; if the teacher's ``theta`` in those
    units is below ``theta_c`` the spike never detaches.

    References
    ----------
    .. [1] G. Aarts, B. Lucini and C. Park, "Stochastic weight matrix dynamics during learning and
       Dyson Brownian motion", arXiv:2407.16427, 2024. doi:10.48550/arXiv.2407.16427
    .. [2] C. Park, M. Bocchi, F. D'Amico, B. Lucini and G. Aarts, arXiv:2606.28486, 2026.

    Examples
    --------
    >>> from bbpfit.simulate import mean_dynamics
    >>> md = mean_dynamics(200, 100, 400, teacher_strengths=[2.0], lr=0.01, batch=32)
    >>> round(float(md.t_cross[0]), 1), md.theta.shape
    (46.7, (401, 1))
    """
    rows = check_int(n, "n", minimum=1)
    cols = check_int(m, "m", minimum=1)
    s = check_strengths(teacher_strengths, "teacher_strengths")
    if s.size == 0:
        raise ValueError("`teacher_strengths` must hold at least one strength")
    sigma0 = check_positive(sigma0, "sigma0")
    lr = check_positive(lr, "lr")
    batch = check_int(batch, "batch", minimum=1)
    noise = check_real_scalar(noise, "noise")
    if noise < 0:
        raise ValueError(f"`noise` must be >= 0, got {noise!r}")
    c = np.zeros_like(s) if initial_signal is None else np.broadcast_to(
        np.asarray(initial_signal, dtype=np.float64), s.shape)
    sigma2_0 = (sigma0**2 / cols if initial_sigma2 is None
                else check_positive(initial_sigma2, "initial_sigma2"))
    if np.ndim(steps) == 0:
        t = np.arange(check_int(steps, "steps", minimum=0) + 1, dtype=np.float64)
    else:
        t = np.asarray(steps, dtype=np.float64)
    args = (rows, cols, s, c, sigma2_0, lr, batch, noise)
    signal, sigma2, theta, rho = _theory(t, *args)
    theta_c = bbp_threshold(min(rows, cols) / max(rows, cols))
    t_cross = np.full(s.size, np.nan)
    if t.size:
        grid = np.arange(0.0, np.floor(t.max()) + 1.0)
        approx = np.atleast_1d(first_crossing(grid, _theory(grid, *args)[2], theta_c))
        for i in np.flatnonzero(np.isfinite(approx)):
            lo, hi = max(np.ceil(approx[i]) - 1.0, 0.0), np.ceil(approx[i])
            t_cross[i] = (brentq(_gap, lo, hi, args=(i, args, theta_c), xtol=1e-9) if lo < hi
                          else approx[i])
    return MeanDynamics(steps=t, signal=signal, sigma2_noise=sigma2, theta=theta, theta_c=theta_c,
                        t_cross=t_cross, rho=rho, lr_critical=critical_learning_rate(cols, batch))
