"""``bbpfit zoo PATHS... --out FILE``: every layer of every checkpoint, in parallel (dask).

Exit codes: 0 every checkpoint analysed; 1 ``--fail-on-spikes`` and a significant spike was
found (and no checkpoint failed); 2 bad input, nothing run (missing path, no checkpoint found,
bad ``--out``, bad option); 3 some checkpoints could not be analysed: their rows in FILE say why,
the others are complete.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .check import (
    EXIT_SOME_FAILED,
    EXIT_SPIKES,
    InputError,
    cli_message,
    selection_from_flags,
    selection_options,
    spike_test_options,
)


def _short(path: str) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else path


def per_model(table):
    """One line per checkpoint: layers, layers with a significant spike, spikes, error."""
    rows = []
    for model, rows_of in table.groupby("model", sort=False):
        ok = (rows_of["status"] == "ok").all()
        rows.append((_short(model), len(rows_of) if ok else 0,
                     int(rows_of["significant"].sum()),
                     int(rows_of["n_spikes_adjusted"].fillna(0).sum()),
                     "" if ok else cli_message(rows_of["error"].iloc[0])))
    return rows


def _print_summary(table, quiet: bool):
    rows = per_model(table)
    if not quiet:
        width = max([len(r[0]) for r in rows] + [5])
        click.echo(f"{'model':<{width}}  {'layers':>6}  {'w/ spike':>8}  {'spikes':>6}  status")
        for name, layers, sig, spikes, error in rows:
            status = "ok" if not error else f"error: {error}"
            click.echo(f"{name:<{width}}  {layers:>6}  {sig:>8}  {spikes:>6}  {status}")
    return sum(1 for r in rows if r[4])


@click.command("zoo", short_help="Analyse many checkpoints in parallel into one table.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output table (.csv, or .parquet with pyarrow); re-running with the same "
                   "file skips the checkpoints already in it.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Worker processes of a local dask cluster [default: one per core]; 0 runs "
                   "in this process without dask.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Use the dask cluster whose scheduler runs at ADDRESS (tcp://host:8786).")
@spike_test_options
@click.option("--retry-errors", is_flag=True, help="Analyse again the checkpoints that failed "
                                                   "in an earlier run.")
@click.option("--fail-on-spikes", is_flag=True,
              help="Exit with code 1 when a significant spike is found.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr [default: when stderr is a terminal].")
@selection_options
@click.option("-q", "--quiet", is_flag=True, help="Only the closing line.")
def zoo(paths, out, workers, scheduler, alpha, method, correction, retry_errors, fail_on_spikes,
        progress, include, exclude, embeddings, input_format, allow_unsafe_pickle, quiet):
    """Analyse every checkpoint in PATHS (files, model folders, folders of them) into --out.

    One dask task per checkpoint; a checkpoint that cannot be read (corrupt, empty, NaN weights,
    unknown format, unsafe pickle) becomes an error row with the reason, and the others finish.

    Exit codes: 0 all analysed; 1 with --fail-on-spikes when a spike is found; 2 bad input,
    nothing run; 3 some checkpoints failed (see their rows).
    """
    from ..zoo import analyze_zoo

    if workers is not None and scheduler is not None:
        raise click.UsageError("give --workers or --scheduler, not both")
    try:
        table = analyze_zoo(paths, scheduler=scheduler, workers=workers, out=out, alpha=alpha,
                            method=method, correction=correction, retry_errors=retry_errors,
                            progress=progress,
                            selection=selection_from_flags(include, exclude, embeddings),
                            format=input_format,
                            allow_unsafe_pickle=allow_unsafe_pickle)
    except (FileNotFoundError, ValueError, TypeError) as exc:
        raise InputError(cli_message(exc)) from None
    except ImportError as exc:
        raise InputError(str(exc)) from None
    failed = _print_summary(table, quiet)
    n_models = table["model"].nunique()
    skipped = len(table.attrs.get("skipped", []))
    ignored = table.attrs.get("ignored", [])
    click.echo(f"{n_models} checkpoint(s): {n_models - failed} ok, {failed} failed"
               + (f" ({skipped} taken from the earlier run in {out})" if skipped else "")
               + f"; table: {out}")
    if ignored and not quiet:
        click.echo(f"ignored {len(ignored)} file(s) that are not checkpoints, e.g. "
                   f"{_short(ignored[0])}", err=True)
    if failed:
        sys.exit(EXIT_SOME_FAILED)
    if fail_on_spikes and bool(table["significant"].any()):
        sys.exit(EXIT_SPIKES)
