"""Zoo layer: per-layer tables of one model (:func:`analyze`) or of many, in parallel (:func:`analyze_zoo`).

One concept per module: :mod:`.layer` (one layer's analysis), :mod:`.table` (columns, adjustment
across layers, renderings), :mod:`.analyze`, :mod:`.nulls` (the on-disk null cache),
:mod:`.checkpoints` (finding checkpoints), :mod:`.output` (the resumable output file),
:mod:`.progress`, :mod:`.cluster` (dask.distributed, imported lazily) and :mod:`.zoo`.
"""

from .analyze import analyze
from .checkpoints import find_checkpoints
from .layer import LayerReport, analyze_layer, iter_reports
from .nulls import default_null_cache
from .output import ZOO_COLUMNS
from .table import COLUMNS, frame_from_reports
from .zoo import analyze_zoo

__all__ = ["COLUMNS", "ZOO_COLUMNS", "LayerReport", "analyze", "analyze_layer", "analyze_zoo",
           "default_null_cache", "find_checkpoints", "frame_from_reports", "iter_reports"]
