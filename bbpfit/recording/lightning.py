"""PyTorch Lightning callback writing a spectra store (imports ``lightning`` on import).

Uses ``lightning.pytorch`` if installed, else the older ``pytorch_lightning`` package; the
callback must come from the same package as your ``Trainer``.
"""

from __future__ import annotations

try:
    import lightning.pytorch as pl
except ImportError:  # pragma: no cover - depends on which package is installed
    import pytorch_lightning as pl

from .._validation import check_int
from .recorder import SpectrumRecorder


class SpectrumCallback(pl.Callback):
    """Record weight spectra every ``every`` optimizer steps (``trainer.global_step``).

    Parameters
    ----------
    path : str or os.PathLike
        The store directory (see :class:`bbpfit.SpectrumRecorder`).
    every : int, default 100
        Record when ``trainer.global_step`` is a multiple of ``every`` (and at the start of
        ``fit`` on a fresh store). With gradient accumulation a step is recorded once.
    **recorder_kwargs
        Passed to :class:`bbpfit.SpectrumRecorder` (``layers``, ``top_k_vectors``,
        ``vectors_every``, ``vectors_dtype``, ...), except
        ``optimizer``: the callback records by hand from ``on_train_batch_end``.

    Notes
    -----
    Only the global-zero process records. The loss is taken from the ``training_step`` output
    (a tensor or a dict with ``"loss"``), the learning rate from the first optimizer's first
    parameter group. The store is closed (flushed and compacted) at the end of ``fit`` and on
    an exception.
    """

    def __init__(self, path, *, every: int = 100, **recorder_kwargs):
        super().__init__()
        if "optimizer" in recorder_kwargs:
            raise TypeError("`optimizer` is not accepted: the callback records from the trainer")
        self.path = path
        self.every = check_int(every, "every", minimum=1)
        self.recorder_kwargs = recorder_kwargs
        self.recorder: SpectrumRecorder | None = None

    def on_fit_start(self, trainer, pl_module):
        if not trainer.is_global_zero:
            return
        self.recorder = SpectrumRecorder(pl_module, self.path, every=self.every,
                                         **self.recorder_kwargs)
        if self.recorder.last_step is None:
            self.recorder.record(trainer.global_step, lr=_lr(trainer))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        rec, step = self.recorder, trainer.global_step
        if rec is None or step % self.every or (rec.last_step is not None and step <= rec.last_step):
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        rec.record(step, loss=loss, lr=_lr(trainer))

    def on_fit_end(self, trainer, pl_module):
        self._close()

    def on_exception(self, trainer, pl_module, exception):
        self._close()

    def _close(self):
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None


def _lr(trainer):
    optimizers = trainer.optimizers
    return optimizers[0].param_groups[0].get("lr") if optimizers else None
