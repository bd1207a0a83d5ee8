"""Step tests of the sequential spike count, by name, and the fixed-sequence driver.

A step test answers "is ``l_{k+1}`` an outlier of an ``(n, m - k)`` noise bulk?" on a descending
spectrum. :func:`run_sequential` tests ``k = 0, 1, ...`` and stops at the first non-rejection:
the nested nulls ``H_0 subset H_1 subset ...`` tested in order form a fixed-sequence procedure,
so ``P(n_spikes > true count) <= alpha`` with no correction when each step has level alpha
under its own null (Kritchman & Nadler 2009; statistics brief, section 3.5).
"""

from __future__ import annotations

from ..null_cache import N_NULL_DEFLATION
from .ratio import OnatskiRatio
from .tw import AsymptoticTW, ExactTW, Step

#: Step tests by name.
STEP_TESTS = {"tw": ExactTW(), "tw-asymptotic": AsymptoticTW(), "ratio": OnatskiRatio()}


def run_sequential(test, lam, n, *, alpha, kmax, n_null, cache, sigma2=None) -> list[Step]:
    """Steps ``k = 0, 1, ...`` up to the first with ``p > alpha`` (at most ``kmax`` of them).

    Step 0 uses ``n_null`` null draws, later steps ``min(n_null, N_NULL_DEFLATION)``.
    """
    steps = []
    for k in range(kmax):
        draws = n_null if k == 0 else min(n_null, N_NULL_DEFLATION)
        step = test.step(lam, n, k, alpha=alpha, kmax=kmax, n_null=draws, cache=cache,
                         sigma2=sigma2)
        steps.append(step)
        if not step.pvalue <= alpha:
            break
    return steps


__all__ = ["STEP_TESTS", "AsymptoticTW", "ExactTW", "OnatskiRatio", "Step", "run_sequential"]
