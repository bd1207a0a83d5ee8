"""Unit-variance entry laws for simulated noise matrices, chosen by name from :data:`NOISE`.

Owns the registry of iid entry distributions (mean 0, variance 1) that the ensembles draw their
noise from. Gaussian entries give the Marchenko-Pastur bulk at every size; the others have the
same limiting bulk (universality) but different finite-n fluctuations, and heavy tails
(``"student-t"`` with small ``df``, ``"sparse"`` with small ``p``) slow the convergence.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_method, check_real_scalar

__all__ = ["NOISE", "noise_entries"]


def _gaussian(rng, shape, df, p):
    return rng.standard_normal(shape)


def _rademacher(rng, shape, df, p):
    return rng.integers(0, 2, size=shape).astype(np.float64) * 2.0 - 1.0


def _uniform(rng, shape, df, p):
    s3 = math.sqrt(3.0)
    return rng.uniform(-s3, s3, size=shape)


def _student_t(rng, shape, df, p):
    return rng.standard_t(df, size=shape) * math.sqrt((df - 2.0) / df)


def _sparse(rng, shape, df, p):
    return np.where(rng.random(shape) < p, rng.standard_normal(shape), 0.0) / math.sqrt(p)


#: Entry laws by name, each mean 0 and variance 1. ``"student-t"`` is Student's t with ``df``
#: degrees of freedom rescaled by ``sqrt((df - 2) / df)`` (needs ``df > 2``; excess kurtosis
#: ``6 / (df - 4)`` for ``df > 4``); ``"sparse"`` is Bernoulli(``p``)-Gaussian, ``g / sqrt(p)``
#: with probability ``p`` and 0 otherwise (kurtosis ``3 / p``); ``"uniform"`` is on
#: ``[-sqrt 3, sqrt 3]``; ``"rademacher"`` is +-1 with equal probability.
NOISE = {
    "gaussian": _gaussian,
    "rademacher": _rademacher,
    "uniform": _uniform,
    "student-t": _student_t,
    "sparse": _sparse,
}


def noise_entries(shape, noise: str = "gaussian", *, df: float = 5.0, p: float = 0.1, rng=None):
    """Draw an array of iid unit-variance entries from the law named ``noise``.

    Parameters
    ----------
    shape : int or tuple of int
        Output shape.
    noise : str, default "gaussian"
        A key of :data:`NOISE`: ``"gaussian"``, ``"rademacher"``, ``"uniform"``,
        ``"student-t"`` or ``"sparse"``.
    df : float, default 5.0
        Degrees of freedom of ``"student-t"``, ``> 2`` (ignored by the other laws).
    p : float, default 0.1
        Probability of a nonzero entry for ``"sparse"``, in (0, 1] (ignored by the other laws).
    rng : None, int or numpy.random.Generator
        Seed or generator, passed to :func:`numpy.random.default_rng`.

    Returns
    -------
    numpy.ndarray
        float64 array of the given shape, entries with mean 0 and variance 1.

    Raises
    ------
    ValueError
        An unknown ``noise`` name (the message lists the valid ones), ``df <= 2`` for
        ``"student-t"`` or ``p`` outside (0, 1] for ``"sparse"``.

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.simulate import noise_entries
    >>> z = noise_entries((400, 500), "student-t", df=6.0, rng=np.random.default_rng(0))
    >>> round(float(z.var()), 1)
    1.0
    """
    sampler = check_method(noise, NOISE, "noise")
    df = check_real_scalar(df, "df")
    p = check_real_scalar(p, "p")
    if noise == "student-t" and not df > 2.0:
        raise ValueError(f"`df` must be > 2 for unit-variance 'student-t' noise, got {df!r}")
    if noise == "sparse" and not 0.0 < p <= 1.0:
        raise ValueError(f"`p` must be in (0, 1] for 'sparse' noise, got {p!r}")
    return sampler(np.random.default_rng(rng), shape, df, p)
