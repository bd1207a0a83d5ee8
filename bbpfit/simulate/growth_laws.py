"""Spike-strength laws with a known threshold crossing, for validating transition estimators.

Owns :func:`growth_law`: a random member of one family of rising ``theta(t)`` (noise units)
that crosses ``theta_c`` at a chosen step, as a callable of the step that
:func:`bbpfit.simulate.spike_trajectory` accepts (it solves the exact crossing from it), and
:func:`ar_drift`: the per-record ``drift`` of ``spike_trajectory`` that gives noise entries an
AR(1) coefficient ``phi`` per training step when every ``every``-th step is recorded.

Families (``t*`` the crossing, ``A`` the level reached or approached, in units of ``theta_c``):

* ``"linear"``: ``theta_c t / t*``.
* ``"exponential"``: ``theta_c exp(k (t - t*))``, starting from 5-30% of ``theta_c``.
* ``"logistic"``: ``A theta_c / (1 + exp(-k (t - t_mid)))``, ``A`` in [1.5, 3]: a rise that
  levels off (within the window when the rise is short).
* ``"power"``: ``theta_c (t / t*)^p``, ``p`` in [0.5, 2.5] (concave to convex).
* ``"gompertz"``: ``A theta_c exp(-b exp(-k t))`` (asymmetric sigmoid).
* ``"plateau"``: ``A theta_c min(t / t_p, 1)``, ``A`` in [1.3, 2]: a straight rise that stops
  dead (the rise-then-plateau of a converged layer).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LAW_FAMILIES", "ar_drift", "growth_law"]

LAW_FAMILIES = ("linear", "exponential", "logistic", "power", "gompertz", "plateau")


def ar_drift(phi: float, every: int = 1) -> float | None:
    """``drift`` of :func:`spike_trajectory` for entry noise AR(1) with coefficient ``phi`` per
    step, recorded every ``every`` steps (lag-one correlation ``phi**every`` per record); None
    (independent draws) for ``phi = 0``."""
    if not 0.0 <= phi < 1.0:
        raise ValueError(f"`phi` must be in [0, 1), got {phi!r}")
    if phi == 0.0:
        return None
    return 1.0 - phi ** (2 * every)


def growth_law(kind: str, theta_c: float, horizon: float, *, rng=None, t_cross=None):
    """A random ``theta(t)`` of family ``kind`` crossing ``theta_c`` at ``t_cross``.

    Parameters
    ----------
    kind : str
        One of :data:`LAW_FAMILIES`.
    theta_c : float
        The threshold (noise units), > 0.
    horizon : float
        The last step of the window, > 0.
    rng : None, int or numpy.random.Generator
    t_cross : float, optional
        The crossing step; default uniform in [0.15, 0.6] of ``horizon`` (the ``"linear"`` and
        ``"exponential"`` families draw their end level instead, as in section 1 of
        docs/transition.md, which puts it in 12-68%).

    Returns
    -------
    callable
        ``theta(t)`` for a float array ``t`` (vectorised, >= 0).
    """
    if kind not in LAW_FAMILIES:
        raise ValueError(f"unknown law {kind!r}; valid names are {', '.join(LAW_FAMILIES)}")
    if not (theta_c > 0 and horizon > 0):
        raise ValueError("`theta_c` and `horizon` must be > 0")
    rng = np.random.default_rng(rng)
    tc = float(theta_c)
    if kind == "linear":
        end = rng.uniform(1.8, 3.0)
        a = end * tc / horizon if t_cross is None else tc / t_cross
        return lambda t: a * np.maximum(np.asarray(t, float), 0.0)
    if kind == "exponential":
        end = rng.uniform(1.8, 3.0)
        th0 = rng.uniform(0.05, 0.3)
        k = math.log(end / th0) / horizon if t_cross is None else math.log(1.0 / th0) / t_cross
        return lambda t: th0 * tc * np.exp(k * np.asarray(t, float))
    ts = rng.uniform(0.15, 0.6) * horizon if t_cross is None else float(t_cross)
    if kind == "logistic":
        amp = rng.uniform(1.5, 3.0)
        width = rng.uniform(0.15, 0.5) * horizon  # 10%-90% of the rise
        k = 2.0 * math.log(9.0) / width
        mid = ts + math.log(amp - 1.0) / k
        return lambda t: amp * tc / (1.0 + np.exp(-k * (np.asarray(t, float) - mid)))
    if kind == "power":
        p = rng.uniform(0.5, 2.5)
        return lambda t: tc * (np.maximum(np.asarray(t, float), 0.0) / ts) ** p
    if kind == "gompertz":
        amp = rng.uniform(1.5, 3.0)
        k = rng.uniform(3.0, 8.0) / horizon
        b = math.log(amp) * math.exp(k * ts)
        return lambda t: amp * tc * np.exp(-b * np.exp(-k * np.asarray(t, float)))
    amp = rng.uniform(1.3, 2.0)  # plateau
    tp = ts * amp
    return lambda t: amp * tc * np.minimum(np.maximum(np.asarray(t, float), 0.0) / tp, 1.0)
