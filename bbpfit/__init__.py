"""bbpfit: statistical inference for the eigenvalue spectra of neural-network weight matrices.

Conventions (DESIGN.md): a weight matrix has ``n = max(rows, cols)``, ``m = min(rows, cols)``,
``ratio q = m / n``; eigenvalues are ``s_i**2 / n``, descending; spike strengths are in noise
units with threshold ``q**0.25``. ``import bbpfit`` never imports torch, dask or matplotlib.
"""

from . import simulate
from ._version import __version__
from ._warnings import BBPFitWarning, FitWarning, RecordingWarning
from .fit import MPFit, MPFitArrays, PowerLawFit, fit_mp, fit_mp_array, fit_powerlaw
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
from .recording import SpectrumRecorder
from .sources import LayerSelection, iter_layers, list_layers, load_spectra, read_layers
from .spectrum import Spectrum, eigenvalues, spectrum
from .store import compact, open_spectra, to_netcdf
from .transition import TransitionResult, transition_time
from .zoo import analyze, analyze_zoo

__all__ = [
    "BBPFitWarning",
    "FitWarning",
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
    "analyze",
    "analyze_zoo",
    "bbp_threshold",
    "compact",
    "eigenvalues",
    "fit_mp",
    "fit_mp_array",
    "fit_powerlaw",
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
