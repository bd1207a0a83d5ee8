"""Inference layer: spike tests with calibrated error control, strengths, multiple testing.

One concept per module: :mod:`.api` (``spike_test``), :mod:`.result`, :mod:`.statistics`,
:mod:`.null_cache` (exact Monte Carlo nulls), :mod:`.methods` (step tests by name),
:mod:`.pipeline` and :mod:`.diagnostics` (what ``method="auto"`` does and why),
:mod:`.rank_gauss`, :mod:`.biwhiten`, :mod:`.strengths`, :mod:`.multitest` and :mod:`.batch`.
"""

from .. import _numba_cache  # noqa: F401  (before any kernel: stamps their caches)
from .api import METHODS, spike_test
from .batch import SpikeTestBatch, spike_tests
from .biwhiten import Biwhitened, biwhiten
from .diagnostics import Diagnostics, diagnose
from .multitest import CORRECTIONS, AdjustedPValues, adjust_pvalues
from .null_cache import DEFAULT_NULL_CACHE, N_NULL, NullCache, null_distribution
from .rank_gauss import rank_gaussianize
from .result import SpikeTestResult, StrengthInterval
from .strengths import bbp_strengths, optshrink_strengths, strength_interval

__all__ = [
    "CORRECTIONS",
    "DEFAULT_NULL_CACHE",
    "METHODS",
    "N_NULL",
    "AdjustedPValues",
    "Biwhitened",
    "Diagnostics",
    "NullCache",
    "SpikeTestBatch",
    "SpikeTestResult",
    "StrengthInterval",
    "adjust_pvalues",
    "bbp_strengths",
    "biwhiten",
    "diagnose",
    "null_distribution",
    "optshrink_strengths",
    "rank_gaussianize",
    "spike_test",
    "spike_tests",
    "strength_interval",
]
