"""Recording layer: torch hooks and trainer callbacks that write spectra stores during training.

:class:`SpectrumRecorder` is the entry point; :mod:`bbpfit.recording.lightning` and
:mod:`bbpfit.recording.hf` hold thin callbacks for PyTorch Lightning and Hugging Face
``transformers`` (imported only when those modules are). torch is imported lazily.
"""

from .layers import select_layers
from .recorder import RecordingWarning, SpectrumRecorder

__all__ = ["RecordingWarning", "SpectrumRecorder", "select_layers"]
