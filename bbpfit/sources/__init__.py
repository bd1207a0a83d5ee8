"""Sources layer: weight matrices from modules, state dicts, safetensors, torch files and HF folders.

:func:`iter_layers` yields ``(name, weight)`` one layer at a time; :class:`LayerSelection`
(``selection.py``) says which tensors count as layers. torch is imported only when a torch
object or a torch file is read; safetensors files are read with numpy alone.
"""

from .api import iter_layers, list_layers, load_spectra, read_layers
from .formats import FORMATS, detect_format
from .selection import LayerSelection, TensorInfo

__all__ = ["FORMATS", "LayerSelection", "TensorInfo", "detect_format", "iter_layers", "list_layers",
           "load_spectra", "read_layers"]
