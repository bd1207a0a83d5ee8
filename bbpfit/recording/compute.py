"""Weight snapshots to spectra, off the training thread.

Owns the snapshot (a copy of each weight taken right after the optimizer step, since optimizers
update weights in place), the computation of eigenvalues and optional top-k singular vectors from
it, and the background worker thread.

Where the work runs:

- CUDA weights: the snapshot is a device copy made on the training stream and marked by a CUDA
  event; the worker computes on the same device on its own side stream after waiting for that
  event, so the host synchronisation inside ``eigvalsh`` blocks the worker, not training.
- CPU weights: the worker computes with numpy/LAPACK, which in the torch wheels is a different
  BLAS from the one torch trains with. ``torch.set_num_threads`` is never called (it is
  process-global); instead numpy's BLAS is limited to ``blas_threads`` with ``threadpoolctl`` while
  the worker computes. That limit is process-wide too, so numpy BLAS calls the training thread
  makes in that time also run with ``blas_threads`` threads (torch's own threads are untouched).
"""

from __future__ import annotations

import contextlib
import queue
import threading

import numpy as np

from ..spectrum import eigenvalues
from .vectors import spectrum_and_vectors, top_singular_vectors  # noqa: F401 - re-exported

_STOP = object()


def snapshot(modules):
    """Copy the current ``weight`` of each module (on its device), plus CUDA events to wait on.

    Returns ``(tensors, events)`` where ``events`` maps a CUDA device to an event recorded on its
    current stream after the copies (empty for CPU weights).
    """
    import torch

    with torch.no_grad():
        snaps = [m.weight.detach().clone() for m in modules]
    events = {}
    for w in snaps:
        if w.device.type == "cuda" and w.device not in events:
            events[w.device] = torch.cuda.Event()
            events[w.device].record(torch.cuda.current_stream(w.device))
    return snaps, events


def _cpu_array(w) -> np.ndarray:
    import torch

    if w.dtype not in (torch.float32, torch.float64):
        w = w.to(torch.float32)
    return w.numpy()


class Computer:
    """Turns a snapshot into eigenvalues (and vectors), on the snapshot's device.

    Parameters
    ----------
    top_k : int
        Singular-vector pairs per layer (0: none).
    blas_threads : int or None
        Limit for numpy's BLAS while computing CPU snapshots (None: no limit).
    """

    def __init__(self, top_k: int, blas_threads: int | None):
        self.top_k = top_k
        self.blas_threads = blas_threads
        self._controller = None
        self._streams = {}

    def __call__(self, snaps, events, scalars, vectors: bool = True):
        """Return ``(eigenvalues, left, right, floats)``; ``scalars`` (loss, lr) become floats.

        ``left``/``right`` are None unless ``top_k`` and ``vectors`` (this step keeps vectors).
        """
        vectors = bool(self.top_k and vectors)
        if events:
            return self._cuda(snaps, events, scalars, vectors)
        with self._limit():
            out = [self._one(_cpu_array(w), vectors) for w in snaps]
        return self._pack(out, scalars, vectors)

    def _one(self, a, vectors):
        if vectors:
            return spectrum_and_vectors(a, self.top_k)
        return eigenvalues(a), None, None

    def _pack(self, out, scalars, vectors):
        lam, left, right = (list(x) for x in zip(*out, strict=True))
        floats = [None if s is None else float(s) for s in scalars]
        return lam, (left if vectors else None), (right if vectors else None), floats

    def _cuda(self, snaps, events, scalars, vectors):
        import torch

        out = []
        for w in snaps:
            if w.device.type != "cuda":
                with self._limit():
                    out.append(self._one(_cpu_array(w), vectors))
                continue
            stream = self._streams.get(w.device)
            if stream is None:
                stream = self._streams[w.device] = torch.cuda.Stream(w.device)
            with torch.cuda.device(w.device), torch.cuda.stream(stream):
                stream.wait_event(events[w.device])
                w.record_stream(stream)  # the caching allocator must not reuse it early
                out.append(self._one(w, vectors))
        device = next(iter(events))
        with torch.cuda.device(device), torch.cuda.stream(self._streams[device]):
            return self._pack(out, scalars, vectors)  # tensor loss/lr are read after the event, here

    def _limit(self):
        if self.blas_threads is None:
            return contextlib.nullcontext()
        if self._controller is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:  # optional: without it numpy's BLAS keeps its threads
                self.blas_threads = None
                return contextlib.nullcontext()
            self._controller = ThreadpoolController()
        return self._controller.limit(limits=self.blas_threads, user_api="blas")


class Worker:
    """A daemon thread running ``fn(item)`` for queued items, in order.

    ``submit`` blocks while ``max_pending`` items wait (back-pressure: snapshots are never
    dropped). An exception in ``fn`` is kept and re-raised in the caller's thread by
    :meth:`check`; items after a failure are discarded.
    """

    def __init__(self, fn, max_pending: int):
        self._fn = fn
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bbpfit-spectrum-recorder",
                                        daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if self.error is None:
                    self._fn(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the training thread
                self.error = exc
            finally:
                self._queue.task_done()

    def check(self):
        """Re-raise a failure of the worker as ``RuntimeError`` (chained to the cause)."""
        if self.error is not None:
            raise RuntimeError(f"spectrum recording failed in the background thread: "
                               f"{type(self.error).__name__}: {self.error}") from self.error

    def submit(self, item):
        """Queue one item (blocks while the queue is full)."""
        self.check()
        self._queue.put(item)

    def drain(self):
        """Wait until every queued item is processed."""
        self._queue.join()

    def stop(self):
        """Process what is queued, then end the thread (idempotent)."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
