"""`SpectrumRecorder`: record weight spectra during torch training into a crash-safe store.

Owns the recording policy: when a step is recorded (every ``every`` optimizer steps through
``Optimizer.register_step_post_hook``, or by hand with :meth:`SpectrumRecorder.record`), what goes
with it (loss, learning rate, wall time), resumption, and the hand-over of snapshots to the
background computation (:mod:`bbpfit.recording.compute`) and the store
(:class:`bbpfit.store.SpectraWriter`). torch is imported only when a recorder is made.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import time
import warnings
import weakref

from .._validation import UNSET, check_int, renamed
from .._warnings import RecordingWarning
from ..store import SpectraWriter
from ..store.schema import check_vectors_dtype
from ..store.writer import check_flush_seconds
from .compute import Computer, Worker, snapshot
from .layers import select_layers

#: Recorders not closed yet; flushed and closed at interpreter exit.
_OPEN: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_open_recorders():
    # Not compacted: compaction imports xarray/zarr, which cannot start threads at shutdown.
    for rec in list(_OPEN):
        with contextlib.suppress(Exception):
            rec.close(compact=False)


class SpectrumRecorder:
    """Record the eigenvalue spectra of a model's weight matrices during training.

    Parameters
    ----------
    model : torch.nn.Module
        The model whose weight matrices are recorded: the layers :func:`bbpfit.analyze` takes
        (the rule of :class:`bbpfit.LayerSelection`: ``Linear``, ``Conv``, attention and
        recurrent weights; no embeddings, biases or norms by default).
    path : str or os.PathLike
        The store directory (created; an existing store is resumed). Read it with
        :func:`bbpfit.open_spectra`.
    every : int, default 100
        Record every ``every`` optimizer steps (hook mode, and the trainer callbacks).
    optimizer : torch.optim.Optimizer, optional
        If given, a step post-hook records automatically after every ``every``-th
        ``optimizer.step()``; the recorder counts steps itself (or asks ``step_fn``). On a fresh
        store without ``step_fn`` it also records the initial weights as step 0. The learning rate
        of the first parameter group and the optimizer class are stored. Without an optimizer,
        call :meth:`record` yourself.
    selection : bbpfit.LayerSelection, optional
        Which tensors are layers (default ``LayerSelection()``, the rule of ``analyze``).
    layers : str, re.Pattern or list of them, optional
        Name patterns selecting layers (fnmatch globs or compiled regexes; see
        :func:`bbpfit.recording.select_layers`). Each must match at least one layer.
    module_types : type or tuple of types, optional
        Keep only the ``weight`` of modules of these classes (default: every layer).
    embeddings : bool, default False
        Also record embedding tables (and the output layers tied to them); the same as
        ``selection=LayerSelection(embeddings=True)``. Old name: ``include_embeddings``.
    flush_every : int, default 10
        Publish a fragment every this many recorded steps.
    flush_seconds : float or None, default 60.0
        Also publish one at the latest this many seconds after a step was recorded, so a crash
        loses at most ``flush_every`` steps and at most ``flush_seconds`` of recording, whichever
        is less (None: by count only).
    top_k_vectors : int, default 0
        Also store the top-k left/right singular vectors per layer (0: none), at the steps
        ``vector_step`` chosen by ``vectors_every``. They come from a partial method on the
        weight's own device that reuses the Gram matrix and eigenvalues computed anyway
        (:func:`bbpfit.recording.vectors.gram_top_vectors`), to ``|<v, v_svd>|^2 >= 1 - 1e-6``
        except inside near-degenerate clusters (where only the cluster's subspace is defined).
    vectors_every : int, optional
        Keep vectors on the first recorded step in each window of ``vectors_every`` steps
        (``step // vectors_every`` increases); in hook mode and with the trainer callbacks, the
        steps that are multiples of ``vectors_every``, step 0 included. Must be a multiple of
        ``every``. Default ``10 * every``: vectors cost one partial solve per layer on one
        recorded step in ten.
    vectors_dtype : {"float32", "float16"}, default "float32"
        On-disk dtype of the vectors. float16 halves their size; it rounds each entry to 2**-12
        relative, so norms read back as 1 +- ~1e-4 and directions within ``1 - |<v, v32>|^2 ~
        1e-7`` (normalise before comparing overlaps at better than 1e-4).
    background : bool, default True
        Compute spectra in a background thread (CPU) or on a side CUDA stream; False computes in
        the calling thread (deterministic timing, simpler debugging).
    step_fn : callable, optional
        Returns the current step in hook mode (e.g. ``lambda: trainer.global_step``) instead of
        the recorder's own count; use it when some steps are skipped (AMP ``GradScaler``).
    blas_threads : int or None, default 1
        Threads numpy's BLAS may use while the worker computes CPU spectra (None: no limit).
    max_pending : int, default 1
        Snapshots that may wait for the worker; recording blocks (never drops) beyond that.

    Raises
    ------
    ValueError
        ``every < 1``; ``flush_seconds`` not > 0; no weight matrices to record; a ``layers``
        pattern matching nothing; ``vectors_every`` not a positive multiple of ``every``, or given
        without ``top_k_vectors``; an unknown ``vectors_dtype``; ``path`` is a file, a non-store
        directory, or a store with another convention, other layers, another ``top_k_vectors``
        or ``vectors_dtype``. Nothing on disk is created or changed then.
    TypeError
        ``model`` is not a module, ``optimizer`` is not a torch optimizer.

    Notes
    -----
    Steps must increase: a step at or before the last recorded one (including on a resumed
    store) is skipped with a :class:`RecordingWarning`, never written twice. On resume in hook
    mode the count continues from the store's last step. ``close()`` (or leaving the ``with``
    block) waits for pending spectra, flushes and compacts the store; a recorder still open at
    interpreter exit is flushed and closed then (without compaction).

    Examples
    --------
    >>> import torch, tempfile, os, bbpfit as bf
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.bbp")
    >>> with bf.SpectrumRecorder(model, path, every=5, optimizer=opt) as rec:
    ...     for _ in range(20):
    ...         loss = model(torch.randn(4, 8)).pow(2).mean()
    ...         rec.log(loss=loss)
    ...         opt.zero_grad(); loss.backward(); opt.step()
    >>> bf.open_spectra(path).step.values.tolist()
    [0, 5, 10, 15, 20]
    """

    def __init__(self, model, path, *, every: int = 100, optimizer=None, selection=None, layers=None,
                 module_types=None, embeddings=UNSET, include_embeddings=UNSET,
                 flush_every: int = 10,
                 flush_seconds: float | None = 60.0,
                 top_k_vectors: int = 0, vectors_every: int | None = None,
                 vectors_dtype: str = "float32", background: bool = True, step_fn=None,
                 blas_threads: int | None = 1, max_pending: int = 1):
        import torch

        self.every = check_int(every, "every", minimum=1)
        check_int(flush_every, "flush_every", minimum=1)
        flush_seconds = check_flush_seconds(flush_seconds)
        top_k_vectors = check_int(top_k_vectors, "top_k_vectors", minimum=0)
        self.vectors_every = _vectors_every(vectors_every, self.every, top_k_vectors)
        vectors_dtype = check_vectors_dtype(vectors_dtype)
        max_pending = check_int(max_pending, "max_pending", minimum=1)
        if blas_threads is not None:
            blas_threads = check_int(blas_threads, "blas_threads", minimum=1)
        if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"`optimizer` must be a torch.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        if step_fn is not None and not callable(step_fn):
            raise TypeError("`step_fn` must be callable (returning the current step)")
        embeddings = renamed(embeddings, include_embeddings, "embeddings", "include_embeddings",
                             False)
        selected = select_layers(model, selection=selection, layers=layers,
                                 module_types=module_types, embeddings=embeddings)
        self.layers = [info for info, _ in selected]
        self._modules = [module for _, module in selected]
        self.optimizer = optimizer
        self.step_fn = step_fn
        settings = {
            "every": self.every, "layers": _describe(layers), "flush_every": flush_every,
            "flush_seconds": flush_seconds,
            "module_types": [t.__name__ for t in (module_types or ())] or "default",
            "include_embeddings": bool(embeddings), "top_k_vectors": top_k_vectors,
            "vectors_every": self.vectors_every, "vectors_dtype": vectors_dtype,
            "selection": repr(selection) if selection is not None else "default",
            "background": bool(background), "blas_threads": blas_threads,
            "step_source": "step_fn" if step_fn else ("optimizer" if optimizer else "record"),
            "conv_mode": "flatten (out, in*prod(k))", "torch_version": torch.__version__,
        }
        attrs = {"model_class": _qualname(model),
                 "optimizer_class": _qualname(optimizer) if optimizer is not None else "",
                 "bbpfit_recorder": json.dumps(settings)}
        self._writer = SpectraWriter(path, self.layers, attrs=attrs, top_k=top_k_vectors,
                                     vectors_dtype=vectors_dtype, flush_every=flush_every,
                                     flush_seconds=flush_seconds)
        self.path = self._writer.path
        self.last_step = self._writer.last_step
        self._last_vector_step = self._writer.last_vector_step
        self._computer = Computer(top_k_vectors, blas_threads)
        self._worker = Worker(self._process, max_pending) if background else None
        self._pending_loss = None
        self._closed = False
        self._handle = None
        self._count = self.last_step or 0
        _OPEN.add(self)
        if optimizer is not None:
            self._handle = optimizer.register_step_post_hook(self._on_step)
            if self.last_step is None and step_fn is None:
                try:
                    self._record(0, None, None)
                    if self._worker is not None:
                        self._worker.drain()
                        self._worker.check()
                except BaseException:
                    self.close(compact=False)
                    raise

    # -- when to record ---------------------------------------------------------------------
    def _on_step(self, optimizer, args, kwargs):
        self._count += 1
        step = int(self.step_fn()) if self.step_fn is not None else self._count
        if step % self.every == 0:
            self._record(step, None, None)

    def record(self, step, *, loss=None, lr=None) -> bool:
        """Record the current weights as ``step`` (manual mode: the recorder has no optimizer).

        Parameters
        ----------
        step : int
            The training step (>= 0), after the last recorded one.
        loss : float or torch.Tensor, optional
            Training loss at this step (default: the value given to :meth:`log` since the last
            record, if any). Tensors are read in the worker, so this does not synchronise CUDA.
        lr : float, optional
            Learning rate at this step (NaN if not given).

        Returns
        -------
        bool
            True if recorded, False if skipped (``step`` not after the last recorded step; a
            :class:`RecordingWarning` says so).

        Raises
        ------
        RuntimeError
            The recorder records through an optimizer hook (mixing both would interleave two
            step counts), is closed, or its background computation failed.
        """
        if self._handle is not None:
            raise RuntimeError("this SpectrumRecorder records on `optimizer` steps by itself; "
                               "call record() only on a recorder made without `optimizer`")
        return self._record(check_int(step, "step", minimum=0), loss, lr)

    def log(self, *, loss=None) -> None:
        """Set the loss stored with the next recorded step (call it before ``optimizer.step()``).

        ``loss`` may be a tensor; it is converted to a float only if and when it is recorded.
        """
        self._pending_loss = _detached(loss)

    def _record(self, step: int, loss, lr) -> bool:
        if self._closed:
            raise RuntimeError("this SpectrumRecorder is closed")
        if self._worker is not None:
            self._worker.check()
        if self.last_step is not None and step <= self.last_step:
            warnings.warn(f"step {step} is not after the last recorded step {self.last_step} "
                          "(resumed store or repeated step); it is skipped", RecordingWarning,
                          stacklevel=3)
            return False
        loss = self._pending_loss if loss is None else loss
        self._pending_loss = None
        if lr is None and self.optimizer is not None:
            lr = self.optimizer.param_groups[0].get("lr")
        loss, lr = _detached(loss), _detached(lr)
        snaps, events = snapshot(self._modules)
        vectors = self._wants_vectors(step)
        item = (step, time.time(), snaps, events, (loss, lr), vectors)
        self.last_step = step
        if vectors:
            self._last_vector_step = step
        if self._worker is None:
            self._process(item)
        else:
            self._worker.submit(item)
        return True

    def _wants_vectors(self, step: int) -> bool:
        if not self.vectors_every:
            return False
        last = self._last_vector_step
        return last is None or step // self.vectors_every > last // self.vectors_every

    def _process(self, item) -> None:
        step, wall, snaps, events, scalars, vectors = item
        lam, left, right, (loss, lr) = self._computer(snaps, events, scalars, vectors)
        self._writer.append(step, lam, wall_time=wall, loss=loss, lr=lr,
                            left_vectors=left, right_vectors=right)

    # -- lifecycle --------------------------------------------------------------------------
    def flush(self) -> None:
        """Wait for pending spectra and publish them as a fragment now."""
        if self._worker is not None:
            self._worker.drain()
            self._worker.check()
        self._writer.flush()

    def close(self, *, compact: bool = True) -> None:
        """Remove the hook, finish pending spectra, flush and (by default) compact the store.

        Idempotent. If the background computation failed, what was computed is still written
        and the failure is raised afterwards as ``RuntimeError``.
        """
        if self._closed:
            return
        self._closed = True
        _OPEN.discard(self)
        if self._handle is not None:
            self._handle.remove()
        if self._worker is not None:
            self._worker.stop()
        self._writer.close(compact=compact)
        if self._worker is not None:
            self._worker.check()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        mode = "optimizer hook" if self._handle is not None else "manual"
        state = "closed" if self._closed else f"last_step={self.last_step}"
        return (f"SpectrumRecorder({self.path!r}, layers={len(self.layers)}, every={self.every}, "
                f"{mode}, {state})")


def _vectors_every(value, every: int, top_k: int) -> int:
    """``vectors_every`` checked against ``every`` (0 when no vectors are kept)."""
    if value is None:
        return 10 * every if top_k else 0
    value = check_int(value, "vectors_every", minimum=1)
    if not top_k:
        raise ValueError(f"`vectors_every`={value} needs `top_k_vectors` > 0 (no vectors are kept)")
    if value % every:
        raise ValueError(f"`vectors_every` must be a multiple of `every`={every} (vectors are "
                         f"taken on recorded steps), got {value}")
    return value


def _detached(value):
    return value.detach() if hasattr(value, "detach") else value


def _qualname(obj) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(layers):
    if layers is None:
        return "all"
    items = [layers] if isinstance(layers, str) or hasattr(layers, "pattern") else list(layers)
    return [f"re:{p.pattern}" if hasattr(p, "pattern") else str(p) for p in items]
