"""Plots (matplotlib, imported only here): pictures of results, no statistics of their own."""

from .alignment import plot_alignment
from .powerlaw import plot_powerlaw
from .spectrogram import plot_spectrogram
from .spectrum import plot_spectrum

__all__ = ["plot_alignment", "plot_powerlaw", "plot_spectrogram", "plot_spectrum"]
