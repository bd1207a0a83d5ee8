"""What a transition method receives (one layer's diagnostics) and returns (one estimate)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LayerData:
    """One layer's per-step diagnostics as numpy arrays, and the settings of the estimate.

    ``steps`` (S,) are the recorded steps with finite diagnostics; ``diag`` maps the names of
    :func:`bbpfit.transition.diagnostics.layer_diagnostics` to arrays restricted to them.
    """

    name: str
    n: int
    m: int
    steps: np.ndarray
    diag: dict
    alpha: float
    confidence_level: float
    crit_level: float
    n_boot: int
    rng: np.random.Generator


@dataclass(frozen=True)
class Estimate:
    """A method's answer for one spike rank.

    ``detected`` False means no crossing up to the last step: ``step`` is NaN and ``ci_low``
    the last step (a lower bound), ``censored="right"``. A spike out from the first step has
    ``step`` NaN and ``ci_high`` the first step (an upper bound), ``censored="left"``; a
    ``"bbp"`` crossing constrained to the first step (its growth law is above the threshold
    there) has ``step`` = ``ci_low`` = the first step, ``censored="left"``. Estimates, limits
    included, always lie within the recorded steps.
    """

    detected: bool
    step: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    first_detected: float = math.nan
    details: dict = field(default_factory=dict)
    censored: str | None = None


def not_detected(layer: LayerData, **details) -> Estimate:
    """No crossing up to the last step: a lower bound."""
    return Estimate(False, ci_low=float(layer.steps[-1]), details=details, censored="right")


def out_from_start(layer: LayerData, **details) -> Estimate:
    """Significant from the first recorded step: the crossing is at or before it."""
    first = float(layer.steps[0])
    return Estimate(True, ci_high=first, first_detected=first,
                    details={"note": "out from the first recorded step", **details},
                    censored="left")
