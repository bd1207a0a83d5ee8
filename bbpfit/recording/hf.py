"""Hugging Face ``transformers`` callback writing a spectra store (imports transformers)."""

from __future__ import annotations

from transformers import TrainerCallback

from .._validation import check_int
from .recorder import SpectrumRecorder


class SpectrumCallback(TrainerCallback):
    """Record weight spectra every ``every`` optimizer steps (``state.global_step``).

    Parameters
    ----------
    path : str or os.PathLike
        The store directory (see :class:`bbpfit.SpectrumRecorder`).
    every : int, default 100
        Record when ``state.global_step`` is a multiple of ``every`` (and at the start of
        training on a fresh store).
    **recorder_kwargs
        Passed to :class:`bbpfit.SpectrumRecorder` (``layers``, ``top_k_vectors``, ...), except
        ``optimizer``.

    Notes
    -----
    Only the world-process-zero records. The learning rate comes from the optimizer's first
    parameter group. The ``loss`` variable stays NaN: the Trainer hands no per-step loss to
    callbacks at step end (it logs its running loss later, every ``logging_steps``). The store
    is closed (flushed and compacted) in ``on_train_end``.

    Examples
    --------
    ``Trainer(model, args, train_dataset=ds, callbacks=[SpectrumCallback("run.bbp", every=50)])``
    """

    def __init__(self, path, *, every: int = 100, **recorder_kwargs):
        if "optimizer" in recorder_kwargs:
            raise TypeError("`optimizer` is not accepted: the callback records from the trainer")
        self.path = path
        self.every = check_int(every, "every", minimum=1)
        self.recorder_kwargs = recorder_kwargs
        self.recorder: SpectrumRecorder | None = None

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        if not state.is_world_process_zero:
            return
        self.recorder = SpectrumRecorder(model, self.path, every=self.every, **self.recorder_kwargs)
        if self.recorder.last_step is None:
            self.recorder.record(state.global_step, lr=_lr(optimizer))

    def on_step_end(self, args, state, control, optimizer=None, **kwargs):
        rec, step = self.recorder, state.global_step
        if rec is None or step % self.every or (rec.last_step is not None and step <= rec.last_step):
            return
        rec.record(step, lr=_lr(optimizer))

    def on_train_end(self, args, state, control, **kwargs):
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None


def _lr(optimizer):
    return optimizer.param_groups[0].get("lr") if optimizer is not None else None
