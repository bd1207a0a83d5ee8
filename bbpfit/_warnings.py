"""Warning classes raised by bbpfit (so users can filter them by category)."""


class BBPFitWarning(UserWarning):
    """Base class of every warning bbpfit emits."""


class FitWarning(BBPFitWarning):
    """A bulk fit converged poorly or its assumptions look violated."""


class RecordingWarning(BBPFitWarning):
    """A requested step was not recorded (it is not after the last recorded step)."""
