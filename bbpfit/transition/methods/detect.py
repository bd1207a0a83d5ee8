"""``"detect"``: the first step from which a spike is significant and stays so.

Error control over the sequence of steps by Bonferroni spending: a rank is *detected* at the
first record ``i`` whose p-value (fixed-sequence over ranks, :mod:`bbpfit.transition.significance`)
is at most ``alpha / S`` (``S`` recorded steps) and whose p-values stay at most ``alpha`` at every
later record. Under "this spike never exists" a detection needs some record with
``p <= alpha / S``, so the probability of a false detection anywhere in the sequence is at most
``alpha`` whatever the dependence between steps (union bound); the first-passage rate of a test
at full ``alpha`` per step would grow with the number of looks. The reported interval brackets
the detection between the previous record and this one. Detection lags the crossing: the spike
must stand a few Tracy-Widom units clear of the edge (statistics brief, section 8, step 5).

References
----------
K. K. G. Lan and D. L. DeMets, "Discrete sequential boundaries for clinical trials", Biometrika
70(3):659-663 (1983), alpha spending over repeated looks. doi:10.1093/biomet/70.3.659
"""

from __future__ import annotations

import numpy as np

from .base import Estimate, LayerData, not_detected, out_from_start


def first_detection(layer: LayerData, rank: int) -> int | None:
    """Index of the detection record of ``rank``, or None."""
    p = layer.diag["pvalue_seq"][:, rank]
    strict = p <= layer.alpha / p.size
    stays = np.flip(np.cumprod(np.flip(p <= layer.alpha))).astype(bool)
    hit = np.flatnonzero(strict & stays)
    return int(hit[0]) if hit.size else None


def detect(layer: LayerData, rank: int) -> Estimate:
    """The detection step of ``rank`` (module docstring)."""
    i = first_detection(layer, rank)
    level = layer.alpha / layer.steps.size
    if i is None:
        return not_detected(layer, level=level)
    if i == 0:
        return out_from_start(layer, level=level)
    s = layer.steps
    return Estimate(True, step=float(s[i]), ci_low=float(s[i - 1]), ci_high=float(s[i]),
                    first_detected=float(s[i]), details={"level": level})
