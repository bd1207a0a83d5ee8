"""Demo: the paper's linear teacher-student model trained with a recorder, end to end.

:func:`run_demo` (behind ``bbpfit demo``) trains, tests the final weights, estimates transition
steps and draws figures; :mod:`.task` holds the training task. Needs torch (and matplotlib for
the figures); nothing is downloaded.
"""

from .run import DemoResult, run_demo, transition_table
from .task import TrainedTask, train

__all__ = ["DemoResult", "TrainedTask", "run_demo", "train", "transition_table"]
