"""Thread limits for the analysis: numpy's BLAS (threadpoolctl, optional) and torch.

Owns :func:`blas_threads` and :func:`one_torch_thread`. A model's analysis is a sequence of
small dense eigenproblems
(``m`` of a few hundred to a few thousand), where extra BLAS threads gain little; on a machine
whose cores are busy, OpenBLAS threads that spin while waiting made ``eigvalsh`` of a 384 x 384
Gram matrix 50 times slower here (0.52 s instead of 0.01 s, load average 7 on 2 cores). So
:func:`bbpfit.analyze` runs with one BLAS thread by default, as the recorder computes its spectra.
The limit is process-wide while it holds (threadpoolctl's rule) and is lifted afterwards; without
threadpoolctl installed it is a no-op.
"""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def blas_threads(limit: int | None):
    """Limit numpy's BLAS/OpenMP pools to ``limit`` threads inside the block (None: no limit)."""
    if limit is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional dependency: BLAS keeps its threads
        yield
        return
    with threadpool_limits(limits=limit):
        yield


@contextlib.contextmanager
def one_torch_thread():
    """Inside a zoo task: one thread for torch too, restored afterwards.

    Only an already imported torch is limited (bbpfit never imports it for this). The caller's
    thread count comes back on leaving the block, so ``analyze_zoo(workers=0)`` leaves the
    process as it found it.
    """
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else 1
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
