"""Input checks and bookkeeping shared by the teacher-student simulators."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_positive, check_real_scalar
from .ensembles import check_strengths

#: Training counts as diverged once a batch loss exceeds this multiple of the initial loss.
DIVERGENCE_FACTOR = 1e6


def check_sgd_args(n, m, teacher_strengths, sigma0, lr, batch, steps, every, noise):
    """Validate the common arguments; return them normalised (strengths as a float array)."""
    n = check_int(n, "n", minimum=1)
    m = check_int(m, "m", minimum=1)
    s = check_strengths(teacher_strengths, "teacher_strengths")
    if s.size == 0:
        raise ValueError("`teacher_strengths` must hold at least one strength")
    if s.size > min(n, m):
        raise ValueError(f"`teacher_strengths` has {s.size} directions but min(n, m) = {min(n, m)}")
    sigma0 = check_positive(sigma0, "sigma0")
    lr = check_positive(lr, "lr")
    batch = check_int(batch, "batch", minimum=1)
    steps = check_int(steps, "steps", minimum=1)
    every = check_int(every, "every", minimum=1)
    noise = check_real_scalar(noise, "noise")
    if noise < 0:
        raise ValueError(f"`noise` must be >= 0 (label-noise std), got {noise!r}")
    return n, m, s, sigma0, lr, batch, steps, every, noise


def record_steps(steps: int, every: int) -> np.ndarray:
    """0, every, 2 every, ... and always the last step."""
    rec = np.arange(0, steps + 1, every, dtype=np.int64)
    return rec if rec[-1] == steps else np.append(rec, np.int64(steps))
