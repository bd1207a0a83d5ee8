"""``bbpfit transition STORE``: when each layer's spikes crossed the BBP threshold."""

from __future__ import annotations

import json
import math
import re
import warnings

import click

_COLUMNS = ("layer", "rank", "detected", "step", "ci_low", "ci_high", "censored", "method")


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return "-" if math.isnan(x) else f"{x:.1f}"
    return str(x)


def _table(res) -> str:
    rows = [[_fmt(getattr(t, c)) for c in _COLUMNS] for t in res.transitions]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(_COLUMNS)]
    line = "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                     for i, (c, w) in enumerate(zip(_COLUMNS, widths, strict=True)))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                             for i, (v, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(out)


def _clean(x):
    """NaN -> None (JSON has no NaN), numpy scalars -> Python, tuples -> lists."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def _plot(spectra, res, folder) -> list[str]:
    import os

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot import plot_spectrogram

    os.makedirs(folder, exist_ok=True)
    written = []
    for name in res.layers:
        lead = res[name, 0]
        diag = res.diagnostics.sel(layer=name)
        # the MP edge where the bulk is Marchenko-Pastur, the soft-edge fit where it is deformed
        edge = np.where(diag["mp_test"].isel(spike=0).values, diag["mp_edge"].values,
                        diag["edge"].values)
        ok = lead.detected and math.isfinite(lead.step) and lead.censored is None
        title = (f"{name}: transition at step {lead.step:.0f} "
                 f"[{lead.ci_low:.0f}, {lead.ci_high:.0f}] ({res.method})" if ok else
                 f"{name}: no transition before step {lead.ci_low:.0f}" if not lead.detected
                 else f"{name}: transition at or before the first recorded step "
                      f"({lead.bound}; {res.method})")
        fig, ax = plt.subplots(figsize=(7.0, 4.0), layout="constrained")
        plot_spectrogram(spectra, name, ax=ax, edge=edge, transition=lead if ok else None,
                         title=title)
        path = os.path.join(folder, "spectrogram_" + re.sub(r"[^\w.-]+", "_", name) + ".png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


@click.command("transition", short_help="When each layer's spikes crossed the BBP threshold.")
@click.argument("store", type=click.Path(exists=True, file_okay=False))
@click.option("--method", type=click.Choice(["bbp", "detect", "changepoint"]), default="bbp",
              show_default=True, help="Estimator of the crossing step.")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="Level of the detection over the whole sequence of steps.")
@click.option("--confidence", type=float, default=0.9, show_default=True,
              help="Confidence level of the intervals.")
@click.option("--layer", "layers", multiple=True, help="Layer to analyse (repeatable; "
              "default: all).")
@click.option("--max-spikes", type=int, default=3, show_default=True,
              help="Spike ranks examined per layer.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False), default=None,
              help="Write a spectrogram per layer (PNG) into this folder.")
def transition(store, method, alpha, confidence, layers, max_spikes, fmt, plot_dir):
    """Estimate the training step at which each spike of each layer of STORE detached from the
    bulk (the BBP transition), with a confidence interval.

    A layer without a crossing is reported as not detected with step '-' and ci_low the last
    recorded step (a lower bound; censored 'right'). A crossing at or before the first recorded
    step has censored 'left': step is the first recorded step, or '-' when the spike was already
    out of the bulk there, and ci_high bounds the crossing from above. Warnings (e.g. a layer too
    small to analyse) are printed as one 'warning:' line each on stderr.
    """
    from ..store import open_spectra
    from ..transition import transition_time

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spectra = open_spectra(store)
            res = transition_time(spectra, layer=list(layers) or None, alpha=alpha, method=method,
                                  confidence_level=confidence, max_spikes=max_spikes)
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    for text in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
        click.echo(f"warning: {text}", err=True)  # one clean line, no source line
    if fmt == "table":
        click.echo(_table(res))
    elif fmt == "csv":
        frame = res.to_dataframe()[list(_COLUMNS)]
        click.echo(frame.to_csv(index=False, na_rep=""), nl=False)
    else:
        click.echo(json.dumps(_clean(res.to_dict()), indent=2))
    if plot_dir:
        for path in _plot(spectra, res, plot_dir):
            click.echo(f"wrote {path}", err=True)
