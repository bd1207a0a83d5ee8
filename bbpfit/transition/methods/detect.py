"""``"detect"``: the first step from which a spike is significant and stays so for a while.

Error control over the sequence of steps by alpha spending in two halves: record ``i``
(0-based, of ``S``) has level ``alpha_i = alpha / 2 * (1 / (zeta(1.1) (i + 1)^1.1) + 1 / S)``,
a spending sequence that sums to ``alpha / 2`` over any number of records (it does not look
ahead) plus Bonferroni over the ``S`` records for the other half. A rank is *detected* at the
first record ``i`` whose p-value (fixed-sequence over ranks,
:mod:`bbpfit.transition.significance`) is at most ``alpha_i`` and whose p-values stay at most
``alpha`` at the next :data:`PERSIST` - 1 records (all of them when fewer are left). Under "this
spike never exists" a detection needs some record with ``p <= alpha_i``, and the ``alpha_i`` sum
to at most ``alpha``, so the probability of a false detection anywhere in the sequence is at
most ``alpha`` whatever the dependence between steps (union bound).

Recording longer after a crossing never erases a detection and moves it only as far as the
look-ahead-free half allows: a longer store only lowers the Bonferroni half, and the persistence
check looks :data:`PERSIST` records ahead, not to the end. (Bonferroni alone with "significant to
the end of the store" lost every detection of a 6000-step run that its first 1000 steps had;
the look-ahead-free half alone is ~10x stricter than Bonferroni late in a short store, which lost
a weak soft-edge detection of the teacher-student benchmark.) A spike that is significant for a
while and then stays in the bulk for the last :data:`PERSIST` or more records has *returned*: the
estimate keeps its crossing and says in ``details["returned"]`` the first step of that final
non-significant stretch. The reported interval (:func:`bracket`) runs from the record before
the spike became significant at ``alpha`` for good to the detection by the look-ahead-free half
alone: wherever a longer or shorter store puts the detection, it stays inside. Detection lags
the crossing: the spike must stand a few Tracy-Widom units clear of the edge (statistics brief,
section 8, step 5).

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
    """Levels ``alpha_i`` of records ``0 .. count - 1`` of ``count`` (they sum to at most ``alpha``).

    Examples
    --------
    >>> from bbpfit.transition.methods.detect import spending
    >>> lv = spending(0.05, 3)
    >>> [f"{x:.2e}" for x in lv], bool(lv.sum() < 0.05)
    (['1.07e-02', '9.44e-03', '9.04e-03'], True)
    """
    i = np.arange(1, count + 1, dtype=np.float64)
    return 0.5 * alpha * (1.0 / (_ZETA * i**GAMMA) + 1.0 / count)


def _persists(ok: np.ndarray) -> np.ndarray:
    """``ok[i] & ... & ok[i + PERSIST - 1]`` (truncated at the end)."""
    out = ok.copy()
    for j in range(1, PERSIST):
        out[:-j] &= ok[j:]
    return out


def first_detection(layer: LayerData, rank: int, *, levels=None) -> int | None:
    """Index of the detection record of ``rank`` (at ``levels``, default :func:`spending`), or None."""
    p = layer.diag["pvalue_seq"][:, rank]
    levels = spending(layer.alpha, p.size) if levels is None else levels
    hit = np.flatnonzero((p <= levels) & _persists(p <= layer.alpha))
    return int(hit[0]) if hit.size else None


def bracket(layer: LayerData, rank: int, i: int) -> tuple[float, float]:
    """Where the detection of ``rank`` at record ``i`` can lie whatever the store's length.

    Low: the record before the run of records significant at ``alpha`` that reaches ``i``.
    High: the detection by the look-ahead-free half of the levels alone, which no longer or
    shorter store changes (any store's detection lies between the two).
    """
    p = layer.diag["pvalue_seq"][:, rank]
    j = i
    while j > 0 and p[j - 1] <= layer.alpha:
        j -= 1
    half = 0.5 * layer.alpha / (_ZETA * np.arange(1, p.size + 1, dtype=np.float64) ** GAMMA)
    late = first_detection(layer, rank, levels=half)
    s = layer.steps
    return float(s[max(j - 1, 0)]), float(s[late if late is not None and late >= i else -1])


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
    level_i = float(spending(layer.alpha, s.size)[i])
    lo, hi = bracket(layer, rank, i)
    return Estimate(True, step=float(s[i]), ci_low=lo, ci_high=hi,
                    first_detected=float(s[i]), details={"level": level_i, **extra})
