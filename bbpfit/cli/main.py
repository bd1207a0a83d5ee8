"""The ``bbpfit`` command group and its entry point."""

from __future__ import annotations

import importlib

import click

from .._version import __version__

#: Sub-commands as (module under bbpfit.cli, click command attribute). Imported lazily so that
#: ``bbpfit --help`` stays fast and torch/dask load only for the commands that need them.
COMMANDS = {
    "compact": ("compact", "compact"),
    "transition": ("transition", "transition"),
    "check": ("check", "check"),
    "zoo": ("zoo", "zoo"),
    "demo": ("demo", "demo"),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported when first used."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(f"bbpfit.cli.{module}"), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bbpfit")
def cli():
    """bbpfit: statistical inference for the eigenvalue spectra of weight matrices."""


def main(argv=None):
    """Console-script entry point (``bbpfit``) and ``python -m bbpfit``."""
    return cli.main(args=argv, prog_name="bbpfit")
