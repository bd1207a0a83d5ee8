"""The demo's training task: the paper's linear teacher-student model, in torch, with a recorder.

Owns the embedded default of ``bbpfit demo`` (no download, no dataset): two linear students
``W: R^m -> R^n`` trained together by online SGD on fresh Gaussian inputs ``x ~ N(0, I_m)``,

- ``signal`` learns a rank-3 teacher ``W* = sum_i s_i a_i b_i^T`` (Haar ``a_i``, ``b_i``) from
  ``y = W* x + noise * e``; as its signal grows, three eigenvalues leave the Marchenko-Pastur
  bulk one after the other (BBP transitions), at steps the mean dynamics predict
  (:func:`bbpfit.simulate.mean_dynamics`);
- ``control`` learns from labels that are pure noise (teacher 0): its spectrum stays a bulk, so
  any spike found there would be a false positive.

The loss per sample is ``0.5 ||W x - y||^2`` averaged over the batch, so one step is exactly the
update of :func:`bbpfit.simulate.teacher_student`. A :class:`bbpfit.recording.SpectrumRecorder`
hooked on the optimizer records both layers' spectra every ``every`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import UNSET, check_int, renamed
from ..simulate import mean_dynamics
from ..simulate.result import split_rank_one

#: Default teacher singular values (in the units of W), strongest first.
TEACHER = (4.0, 2.5, 1.5)


@dataclass(frozen=True)
class TrainedTask:
    """What :func:`train` did.

    Attributes
    ----------
    model : torch.nn.Module
        The trained students (``signal``, ``control``).
    store : str
        The spectra store written by the recorder.
    steps, every : int
        Optimizer steps taken, recording interval.
    shape : tuple of int
        ``(n, m)`` of each student weight.
    teacher : tuple of float
        Teacher singular values ``s_i``.
    t_cross_theory : numpy.ndarray
        Mean-dynamics prediction of the step at which each teacher direction of ``signal``
        crosses the BBP threshold (conditioned on the drawn initialisation).
    final_loss : float
        Last batch loss (both students).
    seconds : float
        Training wall time, recording included.
    """

    model: object
    store: str
    steps: int
    every: int
    shape: tuple[int, int]
    teacher: tuple[float, ...]
    t_cross_theory: np.ndarray
    final_loss: float
    seconds: float


def _orthonormal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    return q * np.sign(np.diag(r))


def train(store: str, *, n: int = 400, m: int = 200, teacher=TEACHER, steps: int = 400,
          every: int = 5, lr: float = 0.01, batch: int = 32, noise: float = 0.5,
          rng=UNSET, seed=UNSET) -> TrainedTask:
    """Train the two students with a recorder writing ``store``; see the module docstring.

    Parameters
    ----------
    store : str
        Directory of the spectra store (must not exist yet, or be a store of this task).
    n, m : int
        Outputs and inputs of each student (weights are ``n x m``).
    teacher : sequence of float
        Singular values of the ``signal`` student's teacher.
    steps, every : int
        Optimizer steps, and record every ``every`` of them (step 0 included).
    lr, batch, noise : float, int, float
        SGD learning rate, batch size, label-noise standard deviation.
    rng : int, default 0
        Seeds the initialisation, the teacher and the data (numpy and torch; old name ``seed``).
    """
    import time

    import torch

    from ..recording import SpectrumRecorder

    start = time.perf_counter()
    seed = check_int(renamed(rng, seed, "rng", "seed", 0), "rng", minimum=0)
    rng = np.random.default_rng(seed)
    s = np.asarray(teacher, dtype=float)
    a, b = _orthonormal(n, s.size, rng), _orthonormal(m, s.size, rng)
    w_star = torch.from_numpy(((a * s) @ b.T).astype(np.float32))
    model = torch.nn.ModuleDict({"signal": torch.nn.Linear(m, n, bias=False),
                                 "control": torch.nn.Linear(m, n, bias=False)})
    with torch.no_grad():
        for lin in model.values():
            lin.weight.copy_(torch.from_numpy(rng.standard_normal((n, m)) / np.sqrt(m)))
    w0 = model["signal"].weight.detach().double().numpy()
    signal0, sigma2_0 = split_rank_one(w0, a, b)
    theory = mean_dynamics(n, m, steps, teacher_strengths=s, sigma0=1.0, lr=lr, batch=batch,
                           noise=noise, initial_signal=signal0, initial_sigma2=sigma2_0)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # matrices this small train fastest on one thread
    try:
        with SpectrumRecorder(model, store, every=every, optimizer=opt) as rec:
            for _ in range(steps):
                x = torch.randn(batch, m, generator=gen)
                y = x @ w_star.T + noise * torch.randn(batch, n, generator=gen)
                y0 = noise * torch.randn(batch, n, generator=gen)
                loss = (0.5 * (model["signal"](x) - y).pow(2).sum(1).mean()
                        + 0.5 * (model["control"](x) - y0).pow(2).sum(1).mean())
                rec.log(loss=loss)
                opt.zero_grad()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    return TrainedTask(model, str(store), steps, every, (n, m), tuple(s.tolist()),
                       np.asarray(theory.t_cross, dtype=float), float(loss.item()),
                       time.perf_counter() - start)
