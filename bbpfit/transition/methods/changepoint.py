"""``"changepoint"``: where the edge gap starts to grow (a nonparametric cross-check of ``"bbp"``).

For a rank that ``"detect"`` finds, the series ``x(t) = sqrt(max(lambda_k - b, 0) / b)`` (``b``
the fitted bulk edge at step ``t``) is flat, at the noise floor of the top of the bulk, until the
spike leaves the bulk, and then grows linearly when ``theta`` does: for a Marchenko-Pastur bulk
``sqrt(lambda - b) = sigma (theta - sqrt(q) / theta)``, which vanishes exactly at ``theta_c``
(statistics brief, section 8, step 3). A continuous one-break hinge
(:func:`bbpfit.transition.hinge.fit_hinge`) on the steps up to where the ratio reaches 2 puts the
break near ``t*``; it needs no growth law. The interval (:func:`~bbpfit.transition.hinge.fit_hinge`)
is an AR(1) bootstrap from the fitted hinge, with the flat and the rising part's error scale and
autocorrelation moment-matched separately, widened by a measured factor for the curvature of the
rise (which a straight hinge cannot see); it lies within the recorded steps and is wider than
``"bbp"``'s.
"""

from __future__ import annotations

import math

import numpy as np

from ..growth import U_MAX
from ..hinge import fit_hinge
from .base import Estimate, LayerData, not_detected, out_from_start
from .detect import first_detection


def changepoint(layer: LayerData, rank: int) -> Estimate:
    """The break of the edge-gap series of ``rank`` (module docstring)."""
    i = first_detection(layer, rank)
    if i is None:
        return not_detected(layer)
    if i == 0:
        return out_from_start(layer)
    d = layer.diag
    excess = d["gap"][:, rank] * d["edge_scale"]
    x = np.sqrt(np.maximum(excess, 0.0) / d["edge"])
    u = d["ratio"][:, rank]
    seen = (d["pvalue_seq"][:, rank] <= layer.crit_level) & (u > U_MAX)
    end = int(np.flatnonzero(seen)[0]) + 1 if seen.any() else x.size
    end = max(end, min(x.size, i + 8))
    ok = np.isfinite(x[:end])
    first = float(layer.steps[i])
    fit = fit_hinge(layer.steps[:end][ok], x[:end][ok], confidence_level=layer.confidence_level,
                    n_boot=layer.n_boot, rng=layer.rng)
    if fit is None or not math.isfinite(fit.tau):
        return Estimate(True, ci_low=float(layer.steps[0]), ci_high=first, first_detected=first,
                        details={"note": "no rising break; detection as upper bound"})
    return Estimate(True, step=fit.tau, ci_low=fit.ci_low, ci_high=fit.ci_high,
                    first_detected=first, details={"slope": fit.slope, "rho": round(fit.rho, 3)})
