"""Transition layer: when did a spike detach from the bulk during training (BBP transition)?

One concept per module: :mod:`.api` (``transition_time``), :mod:`.result`, :mod:`.diagnostics`
(per-step Dataset), :mod:`.significance` (the test valid for the bulk at each step),
:mod:`.edge` and :mod:`.edge_null` (soft-edge fit and its universal null), :mod:`.dtransform`
(threshold and strengths of a non-MP bulk), :mod:`.growth` and :mod:`.tobit` (censored growth
laws), :mod:`.hinge` (change point), :mod:`.levels` (spacing ratio, DBM fluctuation),
:mod:`.methods` (estimators by name), :mod:`.forecast`, :mod:`.forecast_trend`,
:mod:`.forecast_posterior` and :mod:`.forecast_result` (early warning before a crossing),
:mod:`.runs`, :mod:`.runs_result` and :mod:`.timeaxis` (several runs, pooled, on a common time
axis), :mod:`.null_table` (the shipped MP-test null), :mod:`.alignment` and :mod:`.overlaps`
(singular-vector alignment over a store). Imports inference, fit, laws; never torch or matplotlib.
"""

from .. import _numba_cache  # noqa: F401  (before any kernel: stamps their caches)
from .alignment import alignment
from .api import transition_time
from .diagnostics import layer_diagnostics, step_diagnostics
from .forecast import forecast_transition
from .forecast_result import ForecastResult, SpikeForecast
from .levels import GOE_SPACING_RATIO, POISSON_SPACING_RATIO, fluctuation, spacing_ratio
from .methods import TRANSITION_METHODS
from .result import SpikeTransition, TransitionResult
from .runs_result import PooledTransition, RunsTransitionResult, RunTransition

__all__ = [
    "ForecastResult",
    "GOE_SPACING_RATIO",
    "POISSON_SPACING_RATIO",
    "PooledTransition",
    "RunTransition",
    "RunsTransitionResult",
    "TRANSITION_METHODS",
    "SpikeForecast",
    "SpikeTransition",
    "TransitionResult",
    "alignment",
    "fluctuation",
    "forecast_transition",
    "layer_diagnostics",
    "spacing_ratio",
    "step_diagnostics",
    "transition_time",
]
