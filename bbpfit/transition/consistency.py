"""What every method's estimates must satisfy whatever the method: evidence at the first step
for a left-censored crossing, a record of a spike's return into the bulk, and the rank order.

Owns the post-processing that :func:`bbpfit.transition_time` applies to each method's estimates:

* "at or before the first recorded step" (``censored="left"``) needs the spike to be
  significant at the first recorded step (at ``alpha``, fixed sequence over ranks). A growth law
  or hinge that puts the crossing there while the first step shows no spike (tiny BERT from
  N(0, 0.02^2): p 0.35-1.0 at step 0, yet 14 of 28 rows read "<= 0") is not evidence of it: the
  estimate becomes the interval from the first step to the detection (``step`` NaN);
* a spike that went back into the bulk keeps its crossing and says when it returned
  (``details["returned"]``, see :func:`bbpfit.transition.methods.detect.returned`);
* ranks are order statistics: the ``k``-th largest eigenvalue cannot leave the bulk before the
  ``(k-1)``-th, so rank ``k``'s crossing and its lower limit are raised to rank ``k - 1``'s where
  they are earlier (the intersection of what the two estimates allow), with a note.
"""

from __future__ import annotations

import dataclasses
import math

from .methods.base import Estimate, LayerData
from .methods.detect import first_detection, returned

__all__ = ["check_estimate", "order_ranks"]


def check_estimate(est: Estimate, layer: LayerData, rank: int) -> Estimate:
    """Apply the left-censoring rule and add ``returned`` to one method's estimate."""
    if not est.detected:
        return est
    details = dict(est.details)
    i = first_detection(layer, rank)
    if i is not None and "returned" not in details:
        back = returned(layer, rank, i)
        if back is not None:
            details["returned"] = back
    first = float(layer.steps[0])
    sig0 = bool(layer.diag["pvalue_seq"][0, rank] <= layer.alpha)
    at_start = est.censored == "left" or (math.isfinite(est.step) and est.step <= first)
    if at_start and not sig0:
        det = est.first_detected if math.isfinite(est.first_detected) else float(layer.steps[-1])
        hi = est.ci_high if math.isfinite(est.ci_high) and est.ci_high > first else det
        details["note"] = ("the estimate put the crossing at or before the first recorded step, "
                           "but the spike is not significant there: it lies between the first "
                           "step and ci_high (at most the detection)")
        if math.isfinite(est.step):
            details["estimate_at_start"] = est.step
        return Estimate(True, step=math.nan, ci_low=first, ci_high=min(hi, det),
                        first_detected=est.first_detected, details=details, censored=None)
    return dataclasses.replace(est, details=details)


def order_ranks(estimates: list) -> list:
    """Raise each rank's crossing (and lower limit) to the previous rank's where it is earlier.

    ``estimates`` are one layer's :class:`Estimate` in rank order; returns new ones.
    """
    out = []
    for k, est in enumerate(estimates):
        if k == 0 or not est.detected or not out[-1].detected:
            out.append(est)
            continue
        prev = out[-1]
        lo = prev.step if math.isfinite(prev.step) else prev.ci_low
        if not math.isfinite(lo):
            out.append(est)
            continue
        step, ci_low, ci_high = est.step, est.ci_low, est.ci_high
        moved = False
        if math.isfinite(step) and step < lo:
            step, moved = lo, True
        if math.isfinite(ci_low) and math.isfinite(prev.ci_low) and ci_low < prev.ci_low:
            ci_low, moved = prev.ci_low, True
        if math.isfinite(ci_high) and math.isfinite(step) and ci_high < step:
            ci_high = step
        if not moved:
            out.append(est)
            continue
        details = dict(est.details)
        details["raised_to_rank"] = k - 1
        details["note"] = (f"raised to rank {k - 1}'s crossing (rank {k} cannot leave the bulk "
                           "before it)")
        censored = None if est.censored == "left" and prev.censored != "left" else est.censored
        out.append(dataclasses.replace(est, step=step, ci_low=ci_low, ci_high=ci_high,
                                       details=details, censored=censored))
    return out
