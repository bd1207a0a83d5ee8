"""The largest-eigenvalue step tests: exact Monte Carlo null ("tw") and Tracy-Widom asymptotics.

Owns one step of the sequential test on a descending spectrum: "is ``l_{k+1}`` an outlier of an
``(n, m - k)`` noise bulk?". Both tests use ``T_k = l_{k+1} / sigma2_KN(k+1)``
(:mod:`bbpfit.inference.statistics`):

* ``"tw"`` compares it with the exact finite-n null of an ``(n, m - k)`` Gaussian bulk, simulated
  once per shape (:mod:`bbpfit.inference.null_cache`); beyond the simulation's resolution (fewer
  than :data:`TAIL_COUNT` null draws at or above ``T``) the p-value is extrapolated with a TW1 tail
  whose location and scale match the simulated null's median and 99% point;
* ``"tw-asymptotic"`` uses Ma's (2012) centring and scaling and the TW1 law directly: no
  simulation, but anti-conservative at moderate n (about 8% at nominal 5% for n = 500 in the
  statistics brief, section 3.2), so it is never chosen by ``"auto"``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ...laws.tracy_widom import tracy_widom, tw1_sf_scalar
from ..null_cache import N_NULL_DEFLATION, cached_null, mc_critical_value, mc_pvalue
from ..statistics import kn_statistic, ma_constants

#: Below this many null draws at or above the statistic, the p-value is TW-extrapolated.
TAIL_COUNT = 10


@functools.cache
def _tw1():
    """The TW1 law and its median and 99% point, built on first use (not at import: the ppf
    compiles or loads Numba kernels, seconds on a cold cache)."""
    law = tracy_widom(1)
    median, q99 = (float(v) for v in law.ppf([0.5, 0.99]))
    return law, median, q99


@dataclass(frozen=True)
class Step:
    """One step of the sequential test."""

    statistic: float
    pvalue: float
    critical_value: float
    sigma2: float


def _statistic(lam, n, k, sigma2):
    if sigma2 is None:
        return kn_statistic(lam, n, k)
    return float(lam[k]) / sigma2, sigma2


def sorted_quantile(null_sorted: np.ndarray, q: float) -> float:
    """``np.quantile(null_sorted, q)`` (linear method) of an ascending array, by indexing."""
    pos = q * (null_sorted.shape[0] - 1)
    lo = int(pos)
    hi = min(lo + 1, null_sorted.shape[0] - 1)
    return float(null_sorted[lo] + (pos - lo) * (null_sorted[hi] - null_sorted[lo]))


def tw_tail_pvalue(null_sorted: np.ndarray, t: float) -> float:
    """TW1 tail p-value with location and scale fitted to a simulated null (median, 99% point)."""
    _, tw_median, tw_q99 = _tw1()
    q50, q99 = sorted_quantile(null_sorted, 0.5), sorted_quantile(null_sorted, 0.99)
    scale = (q99 - q50) / (tw_q99 - tw_median)
    return tw1_sf_scalar((t - q50) / scale + tw_median)


class ExactTW:
    """``T_k`` against its exact Monte Carlo null (the default test)."""

    name = "tw"

    def null_description(self, n_null: int, known: bool) -> str:
        stat = "l_1 / sigma2 (sigma2 known)" if known else "l_1 / sigma2_KN(1)"
        later = min(n_null, N_NULL_DEFLATION)
        return (f"exact finite-n Monte Carlo null of {stat} for an (n, m - k) Gaussian bulk "
                f"(Dumitriu-Edelman sampler, cached per shape; B = {n_null} draws for k = 0, "
                f"{later} for k >= 1); p = (1 + #{{T_b >= T}}) / (B + 1), or a TW1 tail fitted "
                f"to the simulated null when fewer than {TAIL_COUNT} draws reach T")

    def step(self, lam, n, k, *, alpha, kmax, n_null, cache, sigma2=None) -> Step:
        t, s = _statistic(lam, n, k, sigma2)
        null = cached_null("kn" if sigma2 is None else "known", int(n), lam.shape[0] - k,
                           int(n_null), cache)
        p, count = mc_pvalue(null, t)
        if count < TAIL_COUNT:
            p = tw_tail_pvalue(null, t)
        return Step(t, p, mc_critical_value(null, alpha), s)


class AsymptoticTW:
    """``T_k`` on Ma's (2012) TW1 scale: ``p = TW1.sf((n T_k - mu) / sigma)``, no simulation."""

    name = "tw-asymptotic"

    def null_description(self, n_null: int, known: bool) -> str:
        stat = "n l_{k+1} / sigma2" if known else "n l_{k+1} / sigma2_KN(k+1)"
        return (f"Tracy-Widom (beta = 1) law of ({stat} - mu) / sigma with Ma's (2012) "
                "constants for an (n, m - k) bulk (asymptotic; anti-conservative at small n)")

    def step(self, lam, n, k, *, alpha, kmax, n_null, cache, sigma2=None) -> Step:
        t, s = _statistic(lam, n, k, sigma2)
        mu, sd = ma_constants(n, lam.shape[0] - k)
        law = _tw1()[0]
        p = float(law.sf((n * t - mu) / sd))
        crit = (mu + sd * float(law.isf(alpha))) / n
        return Step(t, p, crit if math.isfinite(crit) else np.inf, s)
