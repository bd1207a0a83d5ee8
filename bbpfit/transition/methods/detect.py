"""``"detect"``: the first step from which a spike is significant and stays so for a while.

Error control over the sequence of steps by alpha spending that does not look ahead: record
``i`` (0-based) spends ``alpha_i = alpha / (zeta(1.1) (i + 1)^1.1)``, which sums to ``alpha``
over any number of records. A rank is *detected* at the first record ``i`` whose p-value
(fixed-sequence over ranks, :mod:`bbpfit.transition.significance`) is at most ``alpha_i`` and
whose p-values stay at most ``alpha`` at the next :data:`PERSIST` - 1 records (all of them when
fewer are left). Under "this spike never exists" a detection needs some record with
``p <= alpha_i``, so the probability of a false detection anywhere in the sequence is at most
``alpha`` whatever the dependence between steps (union bound); the first-passage rate of a test
at full ``alpha`` per step would grow with the number of looks. Because neither the level of a
record nor the persistence check depends on records beyond ``PERSIST`` later, recording longer
after a crossing never moves or erases it (a Bonferroni level ``alpha / S`` over ``S`` records,
and a "stays significant to the end" rule, did both: on a 6000-step run every detection of the
first 1000 steps was lost). A spike that is significant for a while and then stays in the bulk
for the last :data:`PERSIST` or more records has *returned*: the estimate keeps its crossing and
says in ``details["returned"]`` the first step of that final non-significant stretch.
The reported interval brackets the detection between the previous record and this one.
Detection lags the crossing: the spike must stand a few Tracy-Widom units clear of the edge
(statistics brief, section 8, step 5).

References
----------
K. K. G. Lan and D. L. DeMets, "Discrete sequential boundaries for clinical trials", Biometrika
70(3):659-663 (1983), alpha spending over repeated looks. doi:10.1093/biomet/70.3.659
"""

from __future__ import annotations

import numpy as np

from .base import Estimate, LayerData, not_detected, out_from_start

#: Records (the detection's included) over which a detection must stay significant at ``alpha``.
PERSIST = 4
#: Exponent of the spending sequence ``alpha_i ~ (i + 1)^-GAMMA``, and its normaliser zeta(1.1).
GAMMA = 1.1
_ZETA = 10.584448464950803  # scipy.special.zeta(1.1)


def spending(alpha: float, count: int) -> np.ndarray:
    """Levels ``alpha_i`` of records ``0 .. count - 1`` (their sum over all records is ``alpha``).

    Examples
    --------
    >>> from bbpfit.transition.methods.detect import spending
    >>> lv = spending(0.05, 3)
    >>> [f"{x:.2e}" for x in lv]
    ['4.72e-03', '2.20e-03', '1.41e-03']
    """
    return alpha / (_ZETA * np.arange(1, count + 1, dtype=np.float64) ** GAMMA)


def _persists(ok: np.ndarray) -> np.ndarray:
    """``ok[i] & ... & ok[i + PERSIST - 1]`` (truncated at the end)."""
    out = ok.copy()
    for j in range(1, PERSIST):
        out[:-j] &= ok[j:]
    return out


def first_detection(layer: LayerData, rank: int) -> int | None:
    """Index of the detection record of ``rank``, or None."""
    p = layer.diag["pvalue_seq"][:, rank]
    strict = p <= spending(layer.alpha, p.size)
    hit = np.flatnonzero(strict & _persists(p <= layer.alpha))
    return int(hit[0]) if hit.size else None


def returned(layer: LayerData, rank: int, i: int) -> float | None:
    """Step from which ``rank``, detected at record ``i``, stays non-significant to the end (it
    went back into the bulk), when that final stretch spans at least ``PERSIST`` records."""
    p = layer.diag["pvalue_seq"][:, rank]
    sig = np.flatnonzero(p[i:] <= layer.alpha)
    last = i + int(sig[-1])
    if p.size - 1 - last >= PERSIST:
        return float(layer.steps[last + 1])
    return None


def detect(layer: LayerData, rank: int) -> Estimate:
    """The detection step of ``rank`` (module docstring)."""
    i = first_detection(layer, rank)
    level = float(spending(layer.alpha, layer.steps.size)[-1])
    if i is None:
        return not_detected(layer, level=level)
    back = returned(layer, rank, i)
    extra = {"returned": back} if back is not None else {}
    if i == 0:
        return out_from_start(layer, level=level, **extra)
    s = layer.steps
    return Estimate(True, step=float(s[i]), ci_low=float(s[i - 1]), ci_high=float(s[i]),
                    first_detected=float(s[i]), details={"level": float(spending(layer.alpha, i + 1)[-1]),
                                                         **extra})
