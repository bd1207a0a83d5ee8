"""``bbpfit transition STORE``: when each layer's spikes crossed the BBP threshold."""

from __future__ import annotations

import json
import math
import re

import click
import numpy as np

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

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(folder, exist_ok=True)
    written = []
    for name in res.layers:
        fig = plot_layer(spectra, res, name)
        path = os.path.join(folder, re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


def plot_layer(spectra, res, name):
    """Figure of one layer: top eigenvalues with the edge and critical value the step's test
    used (its null: MP or soft edge), the crossing of rank 0, and the spike count per step."""
    import matplotlib.pyplot as plt

    from ..plot import plot_spectrogram

    lead = res[name, 0]
    diag = res.diagnostics.sel(layer=name)
    edge, crit = diag["test_edge"].values, diag["test_crit"].values
    ok = lead.detected and math.isfinite(lead.step) and lead.censored is None
    short = name if len(name) <= 40 else "..." + name[-37:]
    title = (f"{short}: transition at step {lead.step:.0f} "
             f"[{lead.ci_low:.0f}, {lead.ci_high:.0f}] ({res.method})" if ok else
             f"{short}: no transition before step {lead.ci_low:.0f}" if not lead.detected
             else f"{short}: transition between steps {lead.ci_low:.0f} and {lead.ci_high:.0f} "
                  f"({res.method})" if lead.censored is None
             else f"{short}: transition {lead.bound} ({res.method})")
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(7.0, 5.2), sharex=True, layout="constrained",
                                  gridspec_kw={"height_ratios": (3, 1)})
    plot_spectrogram(spectra, name, ax=ax, edge=edge, band=(edge, crit),
                     transition=lead if ok else None, title=title,
                     edge_label="edge of the test's null")
    steps = diag["step"].values
    null = diag["null"].values.astype(str)
    soft = null == "soft-edge"
    if soft.any():
        ax.plot(steps[soft], edge[soft], "k.", ms=2.5, label="soft-edge null (bulk deformed)")
        ax.legend(fontsize=7, frameon=False, ncol=2)
    # the top of the spectrum, where the test acts: from just below the bulk median upwards
    lam = np.asarray(spectra["eigenvalues"].sel(layer=name).values, dtype=float)
    med = np.nanmedian(lam[:, : int(spectra["m"].sel(layer=name))] if "m" in spectra.coords
                       else lam, axis=-1)
    top = np.nanmax(np.concatenate([lam[:, 0], crit[np.isfinite(crit)]]))
    if np.isfinite(med).any() and np.nanmin(med) > 0:
        ax.set_ylim(0.7 * np.nanmin(med), 1.5 * top)
    ax2.step(steps, diag["n_spikes"].values, where="mid", color="C3", lw=1.2)
    ax2.set_ylabel(f"spikes at {res.alpha:g}", fontsize=8)
    ax2.set_xlabel("optimizer step")
    ax.set_xlabel("")
    ax2.set_ylim(0, max(1.0, float(np.nanmax(diag["n_spikes"].values))) * 1.1)
    ax2.yaxis.get_major_locator().set_params(integer=True)
    return fig


@click.command("transition")
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
    step has censored 'left': step and ci_low are that step (an upper bound on the crossing).
    """
    from ..store import open_spectra
    from ..transition import transition_time

    try:
        spectra = open_spectra(store)
        res = transition_time(spectra, layer=list(layers) or None, alpha=alpha, method=method,
                              confidence_level=confidence, max_spikes=max_spikes)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
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
