"""Store layer: the xarray schema of spectra over layer x step x rank, and its crash-safe I/O.

:class:`SpectraWriter` appends steps in atomically published fragments; :func:`open_spectra`
reads a store (live, killed or compacted) as one Dataset; :func:`compact` merges fragments into a
zarr part; :func:`to_netcdf` exports. Imports numpy here, xarray and zarr lazily; never torch.
"""

from .compact import CompactResult, compact
from .reader import open_spectra, recorder_settings, to_netcdf
from .schema import CONVENTION, LayerInfo
from .writer import SpectraWriter

__all__ = [
    "CONVENTION",
    "CompactResult",
    "LayerInfo",
    "SpectraWriter",
    "compact",
    "open_spectra",
    "recorder_settings",
    "to_netcdf",
]
