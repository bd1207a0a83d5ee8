"""Simulate layer: null and spiked ensembles, spike trajectories and teacher-student SGD.

Synthetic spectra with known ground truth, for validating the statistics: noise matrices with
planted spikes (:func:`spiked_matrix`), spectrograms whose spike crosses the BBP threshold at a
known step (:func:`spike_trajectory`), and students trained by online SGD on a low-rank teacher
(:func:`teacher_student`, :func:`two_layer_teacher_student`) with the exact signal strength of
each teacher direction over time. Pure numpy; imports only ``laws`` and ``spectrum``.
"""

from .bulk import edge_excess
from .ensembles import spiked_matrix
from .mean_dynamics import (
    MeanDynamics,
    critical_learning_rate,
    mean_dynamics,
    overshoot_learning_rate,
)
from .noise import NOISE, noise_entries
from .result import TeacherStudentResult
from .teacher_student import teacher_student
from .trajectory import SpikeTrajectory, spike_trajectory
from .two_layer import ACTIVATIONS, two_layer_teacher_student

__all__ = [
    "ACTIVATIONS",
    "NOISE",
    "MeanDynamics",
    "SpikeTrajectory",
    "TeacherStudentResult",
    "critical_learning_rate",
    "edge_excess",
    "mean_dynamics",
    "noise_entries",
    "overshoot_learning_rate",
    "spike_trajectory",
    "spiked_matrix",
    "teacher_student",
    "two_layer_teacher_student",
]
