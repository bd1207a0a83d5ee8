"""Spectrum layer: weight matrices (numpy or torch, any device) to descending eigenvalues."""

from .eigenvalues import eigenvalues, matrix_shape
from .spectrum import Spectrum, spectrum

__all__ = ["Spectrum", "eigenvalues", "matrix_shape", "spectrum"]
