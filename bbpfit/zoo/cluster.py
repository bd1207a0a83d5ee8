"""The dask.distributed client a zoo run uses: given, connected by address, or a new LocalCluster.

Owns the cluster policy. A new cluster runs one single-threaded worker process per core (never
more workers than checkpoints): the analysis of a checkpoint is numpy/LAPACK and Numba code that
holds the GIL part of the time, so processes, not threads, give the parallelism, and BLAS,
OpenMP and Numba are limited to one thread per worker (environment of the worker processes) so
that workers do not oversubscribe the cores. dask is imported only here, and only when called.
"""

from __future__ import annotations

import contextlib
import logging
import os

#: Environment of the worker processes of a new LocalCluster: one thread per library.
WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "BLIS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ImportError("analyze_zoo needs dask.distributed: pip install 'bbpfit[dask]' (or "
                          "pass workers=0 to analyse the checkpoints one after another in this "
                          "process)") from None
    return distributed


@contextlib.contextmanager
def zoo_client(*, client=None, scheduler: str | None = None, workers: int | None = None,
               n_tasks: int | None = None):
    """Yield a ``distributed.Client``; close what was opened here when done.

    Parameters
    ----------
    client : distributed.Client, optional
        Used as is (not closed).
    scheduler : str, optional
        Address of a running scheduler (``"tcp://host:8786"``) to connect to.
    workers : int, optional
        Workers of a new LocalCluster; default one per available core, at most ``n_tasks``.
    n_tasks : int, optional
        Number of tasks to run (caps the default number of workers).
    """
    if client is not None:
        if scheduler is not None:
            raise ValueError("pass either `client` or `scheduler`, not both")
        yield client
        return
    distributed = _import_distributed()
    if scheduler is not None:
        with distributed.Client(scheduler) as c:
            yield c
        return
    n = workers if workers is not None else max(1, min(available_cores(), n_tasks or 1))
    with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR,
                                  env=dict(WORKER_ENV)) as cluster, \
            distributed.Client(cluster) as c:
        yield c

