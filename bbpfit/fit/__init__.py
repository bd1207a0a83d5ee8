"""Fit layer: robust Marchenko-Pastur bulk estimators (Numba kernels) and their results.

Estimators live one per file (``median``, ``distance``, ``kritchman_nadler``) with their kernels;
``outliers`` holds the shared Tracy-Widom trimming rule, ``api`` the registry and entry points.
"""

from .. import _numba_cache  # noqa: F401  (before any kernel: stamps their caches)
from .api import DEFAULT_METHOD, FIT_METHODS, fit_mp, fit_mp_array
from .powerlaw import fit_powerlaw
from .powerlaw_compare import LikelihoodRatio
from .powerlaw_result import PowerLawFit
from .result import MPFit, MPFitArrays

__all__ = [
    "DEFAULT_METHOD",
    "FIT_METHODS",
    "LikelihoodRatio",
    "MPFit",
    "MPFitArrays",
    "PowerLawFit",
    "fit_mp",
    "fit_mp_array",
    "fit_powerlaw",
]
