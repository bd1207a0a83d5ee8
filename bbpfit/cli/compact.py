"""``bbpfit compact STORE``: merge a spectra store's fragments into its zarr part."""

from __future__ import annotations

import click


@click.command("compact", short_help="Merge a spectra store's fragments into one zarr part.")
@click.argument("store", type=click.Path(exists=True, file_okay=False))
def compact(store):
    """Merge the flushed fragments of STORE (e.g. left by a killed run) into one zarr part.

    Crash-safe: the merged part is written and published before any fragment is deleted.
    Refused while a recorder is writing STORE.
    """
    from ..store import compact as compact_store

    try:
        result = compact_store(store)
    except (ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{result.path}: {result.n_steps} steps x {result.n_layers} layers; "
               f"merged {result.n_fragments} fragment(s)")
