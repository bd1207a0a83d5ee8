"""Laws layer: Marchenko-Pastur and Tracy-Widom distributions, BBP maps, exact null samplers."""

from .bbp import SpikeOverlaps, bbp_threshold, spike_eigenvalue, spike_overlaps, spike_strength
from .marchenko_pastur import MarchenkoPastur, marchenko_pastur
from .tracy_widom import TracyWidom, tracy_widom

__all__ = [
    "MarchenkoPastur",
    "SpikeOverlaps",
    "TracyWidom",
    "bbp_threshold",
    "marchenko_pastur",
    "spike_eigenvalue",
    "spike_overlaps",
    "spike_strength",
    "tracy_widom",
]
