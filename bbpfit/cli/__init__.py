"""Command line (click): one file per command, registered on the ``bbpfit`` group here.

No statistics live here: commands parse arguments, call the public API and format its results.
"""

from .main import cli, main

__all__ = ["cli", "main"]
