"""Loader for recorded stores saved as one ``.npz`` under ``tests/data`` (not a test module).

``load_npz_store("digits_vectors")`` returns the :class:`xarray.Dataset` that
:func:`bbpfit.open_spectra` gave for the store (``scripts/make_digits_vectors.py`` made it):
eigenvalues over (layer, step, rank), and ``left_vectors``/``right_vectors`` over
(layer, vector_step, k, row/col), float32 in memory (float16 in the file, as in the store).
Import it from a test module as ``from recorded_data import load_npz_store`` (pytest puts
``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import json
import os

import numpy as np

from bbpfit.store.schema import LayerInfo, build_dataset

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def load_npz_store(name: str):
    """The spectra Dataset kept in ``tests/data/<name>.npz``."""
    with np.load(os.path.join(DATA, name + ".npz"), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    layers = [LayerInfo(str(n), tuple(int(s) for s in str(shape).split("x")), int(r), int(c))
              for n, shape, r, c in zip(arrays["layer"], arrays["shape"], arrays["rows"],
                                        arrays["cols"], strict=True)]
    attrs = json.loads(str(arrays.pop("attrs")))
    return build_dataset(layers, arrays, attrs)
