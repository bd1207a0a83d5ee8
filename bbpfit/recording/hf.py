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
    log_loss : bool, default True
        Ask the Trainer to log at every recorded step (``control.should_log``, on every process
        alike), so that each recorded step gets a loss whatever ``logging_steps`` is (not with
        ``logging_strategy="no"``, which is respected). False leaves the logging cadence alone:
        recorded steps that are not logging steps get NaN.
    **recorder_kwargs
        Passed to :class:`bbpfit.SpectrumRecorder` (``layers``, ``top_k_vectors``,
        ``vectors_every``, ``vectors_dtype``, ...), except ``optimizer``.

    Notes
    -----
    Only the world-process-zero records. The learning rate comes from the optimizer's first
    parameter group. The ``loss`` of a recorded step is the one the Trainer logs at that step
    (``logs["loss"]``: the mean training loss since its previous log, so with ``log_loss`` the
    mean over the last ``every`` steps or fewer); the Trainer hands callbacks no per-step loss
    otherwise. To receive it, the spectra of step ``s`` are taken when that step's log arrives,
    or at the start of the next step (or the end of training) if none does: the weights are
    those after optimizer step ``s`` either way. The store is closed (flushed and compacted)
    in ``on_train_end``.

    Examples
    --------
    ``Trainer(model, args, train_dataset=ds, callbacks=[SpectrumCallback("run.bbp", every=50)])``
    """

    def __init__(self, path, *, every: int = 100, log_loss: bool = True, **recorder_kwargs):
        if "optimizer" in recorder_kwargs:
            raise TypeError("`optimizer` is not accepted: the callback records from the trainer")
        if not isinstance(log_loss, bool):
            raise TypeError(f"`log_loss` must be True or False, got {type(log_loss).__name__}")
        self.path = path
        self.every = check_int(every, "every", minimum=1)
        self.log_loss = log_loss
        self.recorder_kwargs = recorder_kwargs
        self.recorder: SpectrumRecorder | None = None
        self._pending = None

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        if not state.is_world_process_zero:
            return
        self.recorder = SpectrumRecorder(model, self.path, every=self.every, **self.recorder_kwargs)
        self._pending = None
        if self.recorder.last_step is None:
            self.recorder.record(state.global_step, lr=_lr(optimizer))

    def on_step_end(self, args, state, control, optimizer=None, **kwargs):
        rec, step = self.recorder, state.global_step
        self._record_pending()
        if self.log_loss and step % self.every == 0 and _logging(args):
            control.should_log = True  # every process alike: the loss log gathers across them
        if rec is None or step % self.every or (rec.last_step is not None and step <= rec.last_step):
            return
        self._pending = (step, _lr(optimizer))  # recorded when this step's loss is logged

    def on_log(self, args, state, control, logs=None, **kwargs):
        pending = self._pending
        if pending is None or state.global_step != pending[0] or not logs or "loss" not in logs:
            return
        self._record_pending(loss=float(logs["loss"]))

    def on_step_begin(self, args, state, control, **kwargs):
        self._record_pending()  # no log came for the recorded step: weights still unchanged

    def on_train_end(self, args, state, control, **kwargs):
        self._record_pending()
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None

    def _record_pending(self, loss=None):
        pending, self._pending = self._pending, None
        if pending is not None and self.recorder is not None:
            self.recorder.record(pending[0], loss=loss, lr=pending[1])


def _logging(args) -> bool:
    strategy = getattr(args, "logging_strategy", None)
    return str(getattr(strategy, "value", strategy)) != "no"


def _lr(optimizer):
    return optimizer.param_groups[0].get("lr") if optimizer is not None else None
