"""The layers of one model analysed in parallel processes: :func:`iter_reports_parallel`.

Owns the process pool behind ``analyze(workers=N)`` and ``bbpfit check --workers N``. The parent
reads the layers one at a time (so a file is opened once) and sends each weight, as a numpy
array, to a worker; at most ``2 N`` layers are in flight, so memory stays bounded by a few
layers, not by the model. Reports come back in the model's order. Processes, not threads: the
analysis of a layer records its warnings with ``warnings.catch_warnings``, which is
process-global, and the work is numpy/LAPACK and Python in about equal parts.

Each layer gets its own generator, seeded in layer order from ``rng`` (ties of discrete entries
are the only randomness), so the table does not depend on the number of workers; it can differ
from the one-process analysis only in how ties are broken.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor

import numpy as np

_STATE: dict = {}


def _init(directory, blas_limit):
    from ..inference import NullCache
    from .nulls import default_null_cache
    from .threads import blas_threads

    _STATE["cache"] = default_null_cache() if directory is None else NullCache(directory=directory)
    limits = contextlib.ExitStack()  # held for the worker's life
    limits.enter_context(blas_threads(blas_limit))
    _STATE["limits"] = limits


def _work(name, weight, seed, options):
    from .layer import report_layer

    return report_layer(name, weight, rng=np.random.default_rng(seed),
                        null_cache=_STATE["cache"], **options)


def _as_array(weight):
    """A numpy copy of a weight for pickling (torch tensors, bfloat16 read exactly as float32)."""
    if type(weight).__module__.split(".")[0] == "torch":
        w = weight.detach().to("cpu")
        return (w.float() if w.dtype.itemsize < 4 else w).numpy()
    return np.asarray(weight)


def iter_reports_parallel(source, *, workers: int, alpha: float = 0.05, method: str = "auto",
                          max_spikes: int | None = None, rng=0, null_cache=None,
                          blas_threads: int | None = 1, errors: str = "raise", **selection):
    """Like :func:`bbpfit.zoo.layer.iter_reports`, with the layers analysed by ``workers`` processes.

    ``null_cache``: a :class:`~bbpfit.inference.NullCache` with a directory is reopened in each
    worker over the same directory; otherwise each worker uses
    :func:`bbpfit.zoo.nulls.default_null_cache` (on disk, shared). ``blas_threads``: BLAS threads
    per worker. ``errors``: as in :func:`~bbpfit.zoo.layer.iter_reports`, decided in the worker.
    Other options as in :func:`~bbpfit.zoo.layer.iter_reports`.
    """
    from ..sources import iter_layers

    directory = getattr(null_cache, "directory", None)
    from .layer import check_errors

    options = {"alpha": alpha, "method": method, "max_spikes": max_spikes,
               "errors": check_errors(errors)}
    gen = np.random.default_rng(rng)
    method_name = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method_name)
    pending: deque = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init,
                             initargs=(None if directory is None else os.fspath(directory),
                                       blas_threads)) as pool:
        for name, weight in iter_layers(source, **selection):
            seed = int(gen.integers(2**63))
            pending.append(pool.submit(_work, name, _as_array(weight), seed, options))
            del weight
            while len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
