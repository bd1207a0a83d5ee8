"""bbpfit: statistical inference for the eigenvalue spectra of neural-network weight matrices.

Conventions (DESIGN.md): a weight matrix has ``n = max(rows, cols)``, ``m = min(rows, cols)``,
``ratio q = m / n``; eigenvalues are ``s_i**2 / n``, descending; spike strengths are in noise
units with threshold ``q**0.25``. ``import bbpfit`` never imports torch, dask or matplotlib.
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING

from ._version import __version__

#: Public name -> the submodule that defines it. Imported on first use (PEP 562), so that
#: ``import bbpfit`` and the command line's ``--help`` load nothing heavy.
_LAZY = {
    "simulate": None,
    **dict.fromkeys(("BBPFitWarning", "FitWarning", "RecordingWarning"), "_warnings"),
    **dict.fromkeys(("MPFit", "MPFitArrays", "PowerLawFit", "fit_mp", "fit_mp_array",
                     "fit_powerlaw"), "fit"),
    **dict.fromkeys(("SpikeTestResult", "adjust_pvalues", "spike_test", "spike_tests"), "inference"),
    **dict.fromkeys(("MarchenkoPastur", "SpikeOverlaps", "TracyWidom", "bbp_threshold",
                     "marchenko_pastur", "spike_eigenvalue", "spike_overlaps", "spike_strength",
                     "tracy_widom"), "laws"),
    "SpectrumRecorder": "recording",
    **dict.fromkeys(("LayerSelection", "iter_layers", "list_layers", "load_spectra", "read_layers"),
                    "sources"),
    **dict.fromkeys(("Spectrum", "eigenvalues", "spectrum"), "spectrum"),
    **dict.fromkeys(("compact", "open_spectra", "to_netcdf"), "store"),
    **dict.fromkeys(("ForecastResult", "TransitionResult", "alignment", "forecast_transition",
                     "transition_time"), "transition"),
    **dict.fromkeys(("analyze", "analyze_zoo"), "zoo"),
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'bbpfit' has no attribute {name!r}")
    module = _LAZY[name]
    if module is None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps a public function whose name is also a subpackage's (``spectrum``) from being
    replaced by that subpackage when the import system binds it on first import."""

    def __setattr__(self, name, value):
        if _LAZY.get(name) is not None and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # static analysers see the eager imports
    from . import simulate
    from ._warnings import BBPFitWarning, FitWarning, RecordingWarning
    from .fit import MPFit, MPFitArrays, PowerLawFit, fit_mp, fit_mp_array, fit_powerlaw
    from .inference import SpikeTestResult, adjust_pvalues, spike_test, spike_tests
    from .laws import (  # type: ignore[no-redef]
        MarchenkoPastur,
        SpikeOverlaps,
        TracyWidom,
        bbp_threshold,
        marchenko_pastur,
        spike_eigenvalue,
        spike_overlaps,
        spike_strength,
        tracy_widom,
    )
    from .recording import SpectrumRecorder
    from .sources import LayerSelection, iter_layers, list_layers, load_spectra, read_layers
    from .spectrum import Spectrum, eigenvalues, spectrum
    from .store import compact, open_spectra, to_netcdf
    from .transition import ForecastResult, TransitionResult, alignment, forecast_transition, transition_time  # type: ignore[no-redef]
    from .zoo import analyze, analyze_zoo  # type: ignore[no-redef]

__all__ = [
    "BBPFitWarning",
    "FitWarning",
    "ForecastResult",
    "LayerSelection",
    "MPFit",
    "MPFitArrays",
    "MarchenkoPastur",
    "PowerLawFit",
    "RecordingWarning",
    "Spectrum",
    "SpikeOverlaps",
    "SpikeTestResult",
    "SpectrumRecorder",
    "TracyWidom",
    "TransitionResult",
    "__version__",
    "adjust_pvalues",
    "alignment",
    "analyze",
    "analyze_zoo",
    "bbp_threshold",
    "compact",
    "eigenvalues",
    "fit_mp",
    "fit_mp_array",
    "fit_powerlaw",
    "forecast_transition",
    "iter_layers",
    "list_layers",
    "load_spectra",
    "marchenko_pastur",
    "open_spectra",
    "read_layers",
    "simulate",
    "spectrum",
    "spike_eigenvalue",
    "spike_overlaps",
    "spike_strength",
    "spike_test",
    "spike_tests",
    "to_netcdf",
    "tracy_widom",
    "transition_time",
]
