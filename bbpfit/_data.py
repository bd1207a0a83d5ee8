"""The numerical tables shipped in ``bbpfit.data``, read once each.

Owns :func:`load_npz`: a table comes from the installed package ``bbpfit.data`` (the repository's
top-level ``data/`` folder, mapped there by ``pyproject.toml``) or, in a source checkout that was
not installed, from ``data/`` itself; a missing table is an error naming the script that rebuilds
it.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

import numpy as np

_SOURCE_DATA = Path(__file__).resolve().parents[1] / "data"


@functools.cache
def load_npz(name: str, what: str, script: str) -> dict[str, np.ndarray]:
    """The arrays of table ``name`` (an ``.npz`` file), by key.

    Parameters
    ----------
    name : str
        File name inside ``bbpfit.data``, e.g. ``"tracy_widom.npz"``.
    what, script : str
        What the table is and the script that regenerates it (for the error message).

    Raises
    ------
    FileNotFoundError
        The table is neither in the installed package nor in the source tree.
    """
    try:
        res = importlib.resources.files("bbpfit.data") / name
        if res.is_file():
            with res.open("rb") as fh, np.load(fh) as npz:
                return {k: npz[k] for k in npz.files}
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    path = _SOURCE_DATA / name
    if not path.is_file():
        raise FileNotFoundError(f"the {what} table {name} is missing from bbpfit.data and "
                                f"{path.parent}; regenerate it with {script}")
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}
