"""``"bbp"``: the BBP crossing ``theta(t*) = theta_c`` from a censored growth-law fit.

For a rank that ``"detect"`` finds, the ratio ``u(t) = theta-hat / theta_c`` (both from the bulk
the layer has at step ``t``: MP inverse while its edge is MP, empirical D-transform otherwise) is
*observed* at the steps where the spike is significant at ``crit_level`` and *censored* at the
others, below the ratio the test would have needed there. Several growth laws in ``t`` (linear,
exponential, saturating, rise-then-plateau) are fitted by censored maximum
likelihood around the crossing, each solved for ``u = 1``, and the crossings averaged with
Akaike weights (:func:`bbpfit.transition.growth.fit_growth`); the interval pools the
parametric AR(1) bootstraps of the laws, so it carries the uncertainty of the law's choice.
The censored steps pull ``t*`` back from the detection, removing the lag of ``"detect"``.
The crossing and its interval are constrained to the recorded steps: when the fitted law is
already above the threshold at the first step, the estimate is that step with
``censored="left"`` (at or before it), not a backward extrapolation.
"""

from __future__ import annotations

import math

import numpy as np

from ..growth import fit_growth
from .base import Estimate, LayerData, not_detected, out_from_start
from .detect import first_detection


def kappa_mp(n: int, m: int) -> float:
    """Noise scale of ``u-hat`` for an MP bulk: ``sd = kappa s(u)``, ``kappa = 1.05 q^-0.27 / sqrt(n)``.

    Measured with the exact spiked sampler (ratio q = 0.25, 0.5, 1; n = 400 to 1600; within 2%).
    """
    return 1.05 * (m / n) ** -0.27 / math.sqrt(n)


def bbp(layer: LayerData, rank: int) -> Estimate:
    """The model-based crossing of ``rank`` (module docstring)."""
    i = first_detection(layer, rank)
    if i is None:
        return not_detected(layer)
    if i == 0:
        return out_from_start(layer)
    d = layer.diag
    u, c = d["ratio"][:, rank], d["ratio_crit"][:, rank]
    obs = (d["pvalue_seq"][:, rank] <= layer.crit_level) & np.isfinite(u)
    c = np.where(np.isfinite(u), np.fmax(c, u), c)  # a censored row lies below its value
    c = np.where(np.isfinite(c), c, np.nanmedian(c) if np.isfinite(c).any() else 1.2)
    start, end = float(layer.steps[0]), float(layer.steps[-1])
    fit = fit_growth(layer.steps, u, c, obs, kappa_min=kappa_mp(layer.n, layer.m),
                     confidence_level=layer.confidence_level, n_boot=layer.n_boot,
                     rng=layer.rng, bounds=(start, end))
    first = float(layer.steps[i])
    if fit is None or not math.isfinite(fit.t_cross):
        return Estimate(True, ci_low=start, ci_high=first, first_detected=first,
                        details={"note": "growth law not solvable; detection as upper bound"})
    details = {"law": fit.law, "n_observed": fit.n_observed, "n_censored": fit.n_censored,
               "rho": round(fit.rho, 3), "window": fit.window, "weights": fit.weights}
    if fit.censored is not None:
        details["t_unbounded"] = round(float(fit.t_unbounded), 3)  # the law's own root, for reference
    if fit.censored == "left":
        details["note"] = ("at or before the first recorded step (the growth law is above the "
                           "threshold there)")
    elif fit.censored == "right":
        details["note"] = "at or after the last recorded step (the growth law is below it there)"
    elif fit.ci_low <= start:
        details["note"] = "interval reaches the first recorded step"
    return Estimate(True, step=fit.t_cross, ci_low=fit.ci_low, ci_high=fit.ci_high,
                    first_detected=first, details=details, censored=fit.censored)
