"""Plots (matplotlib, imported only here): pictures of results, no statistics of their own."""

from .spectrogram import plot_spectrogram
from .spectrum import plot_spectrum

__all__ = ["plot_spectrogram", "plot_spectrum"]
