"""The ``bbpfit`` command group and its entry point.

Exit codes of every command: 0 success; 1 ``--fail-on-spikes`` found a significant spike; 2 bad
input or usage (the one-line message says what to do); 3 some layers (``check``) or checkpoints
(``zoo``) could not be analysed while the others were: their rows say why.
"""

from __future__ import annotations

import importlib

import click

from .._version import __version__

#: Sub-commands: name -> (module under bbpfit.cli, click command attribute, short help). Imported
#: lazily so that ``bbpfit --help`` stays fast and numpy/torch/dask load only for the commands
#: that need them; the short help is repeated here for the same reason (a test keeps it equal to
#: each command's own).
COMMANDS = {
    "cache": ("cache", "cache", "Show, fill or clear the caches (null samples, kernels)."),
    "check": ("check", "check", "Per-layer bulk fit and spike test of one checkpoint."),
    "compact": ("compact", "compact", "Merge a spectra store's fragments into one zarr part."),
    "demo": ("demo", "demo", "Train a teacher-student model, record, test, plot (no download)."),
    "transition": ("transition", "transition", "When each layer's spikes crossed the BBP threshold."),
    "zoo": ("zoo", "zoo", "Analyse many checkpoints in parallel into one table."),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported when first used."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"bbpfit.cli.{module}"), attr)

    def invoke(self, ctx):
        """Run the command; a file that cannot be read or written is a one-line error (exit 2)."""
        try:
            return super().invoke(ctx)
        except OSError as exc:
            from .check import InputError, cli_message

            raise InputError(cli_message(exc)) from None

    def format_commands(self, ctx, formatter):
        """The command list from :data:`COMMANDS`, without importing the commands."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Exit codes: 0 success; 1 --fail-on-spikes found a spike; 2 bad input or usage "
                    "(the message says what to do); 3 some layers or checkpoints failed (their rows "
                    "say why), the others were analysed. Caches: see 'bbpfit cache info'.")
@click.version_option(__version__, prog_name="bbpfit")
def cli():
    """bbpfit: statistical inference for the eigenvalue spectra of weight matrices."""


def main(argv=None):
    """Console-script entry point (``bbpfit``) and ``python -m bbpfit``."""
    return cli.main(args=argv, prog_name="bbpfit")
