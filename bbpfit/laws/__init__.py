"""Laws layer: Marchenko-Pastur and Tracy-Widom distributions, BBP maps, exact null samplers."""

from .. import _numba_cache  # noqa: F401  (before any kernel: stamps their caches)
from .bbp import SpikeOverlaps, bbp_threshold, spike_eigenvalue, spike_overlaps, spike_strength
from .marchenko_pastur import MarchenkoPastur, marchenko_pastur
from .tracy_widom import TracyWidom, tracy_widom
from .wishart import default_block, dense_eigenvalues, null_eigenvalues, top_eigenvalues

__all__ = [
    "MarchenkoPastur",
    "SpikeOverlaps",
    "TracyWidom",
    "bbp_threshold",
    "default_block",
    "dense_eigenvalues",
    "marchenko_pastur",
    "null_eigenvalues",
    "spike_eigenvalue",
    "spike_overlaps",
    "spike_strength",
    "top_eigenvalues",
    "tracy_widom",
]
