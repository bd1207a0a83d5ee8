"""bbpfit: statistical inference for the eigenvalue spectra of neural-network weight matrices.

Conventions (DESIGN.md): a weight matrix has ``n = max(rows, cols)``, ``m = min(rows, cols)``,
``ratio q = m / n``; eigenvalues are ``s_i**2 / n``, descending; spike strengths are in noise
units with threshold ``q**0.25``. ``import bbpfit`` never imports torch, dask or matplotlib.
"""

from . import _numba_cache  # noqa: F401  (first: stamps every kernel's cache, see the module)
from ._version import __version__
from ._warnings import BBPFitWarning, FitWarning, RecordingWarning
from .fit import MPFit, MPFitArrays, fit_mp, fit_mp_array
from .inference import SpikeTestResult, adjust_pvalues, spike_test, spike_tests
from .laws import (
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
from .spectrum import Spectrum, eigenvalues, spectrum

#: Public names imported on first use (PEP 562), so that ``import bbpfit`` stays under a second:
#: the model/zoo tools pull in pandas, the transition layer builds Tracy-Widom constants.
_LAZY = {
    "simulate": (".simulate", None),
    "SpectrumRecorder": (".recording", "SpectrumRecorder"),
    "LayerSelection": (".sources", "LayerSelection"),
    "iter_layers": (".sources", "iter_layers"),
    "list_layers": (".sources", "list_layers"),
    "load_spectra": (".sources", "load_spectra"),
    "read_layers": (".sources", "read_layers"),
    "compact": (".store", "compact"),
    "open_spectra": (".store", "open_spectra"),
    "to_netcdf": (".store", "to_netcdf"),
    "TransitionResult": (".transition", "TransitionResult"),
    "transition_time": (".transition", "transition_time"),
    "analyze": (".zoo", "analyze"),
    "analyze_zoo": (".zoo", "analyze_zoo"),
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'bbpfit' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    value = importlib.import_module(module, __name__)
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "BBPFitWarning",
    "FitWarning",
    "LayerSelection",
    "MPFit",
    "MPFitArrays",
    "MarchenkoPastur",
    "RecordingWarning",
    "Spectrum",
    "SpikeOverlaps",
    "SpikeTestResult",
    "SpectrumRecorder",
    "TracyWidom",
    "TransitionResult",
    "__version__",
    "adjust_pvalues",
    "analyze",
    "analyze_zoo",
    "bbp_threshold",
    "compact",
    "eigenvalues",
    "fit_mp",
    "fit_mp_array",
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
