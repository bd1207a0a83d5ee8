"""Laws layer: Marchenko-Pastur and Tracy-Widom distributions, BBP maps, exact null samplers."""

from .. import _numba_cache  # noqa: F401  (before any kernel: stamps their caches)
from .bbp import SpikeOverlaps, bbp_threshold, spike_eigenvalue, spike_overlaps, spike_strength
from .marchenko_pastur import MarchenkoPastur, marchenko_pastur
from .overlap import OverlapPrediction, predicted_overlaps
from .tracy_widom import TracyWidom, tracy_widom
from .wishart import default_block, dense_eigenvalues, null_eigenvalues, top_eigenvalues

__all__ = [
    "MarchenkoPastur",
    "OverlapPrediction",
    "SpikeOverlaps",
    "TracyWidom",
    "bbp_threshold",
    "default_block",
    "dense_eigenvalues",
    "marchenko_pastur",
    "null_eigenvalues",
    "predicted_overlaps",
    "spike_eigenvalue",
    "spike_overlaps",
    "spike_strength",
    "top_eigenvalues",
    "tracy_widom",
]
