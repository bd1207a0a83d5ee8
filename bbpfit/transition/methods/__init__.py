"""Transition-step estimators by name: ``"bbp"`` (default), ``"detect"``, ``"changepoint"``.

Each method is a function ``(layer: LayerData, rank: int) -> Estimate`` on the per-step
diagnostics of one layer (:mod:`bbpfit.transition.diagnostics`); all three share the detection
decision of ``"detect"`` (error control over the sequence of steps), so they agree on *whether*
a spike crossed and differ in *when*.
"""

from .base import Estimate, LayerData
from .bbp import bbp
from .changepoint import changepoint
from .detect import detect

#: Methods by name.
TRANSITION_METHODS = {"bbp": bbp, "detect": detect, "changepoint": changepoint}

__all__ = ["TRANSITION_METHODS", "Estimate", "LayerData", "bbp", "changepoint", "detect"]
