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
    return _columns(_COLUMNS, [[_fmt(getattr(t, c)) for c in _COLUMNS] for t in res.transitions])


def _columns(columns, rows, left=1) -> str:
    """Aligned text table: the first ``left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) if i < left else c.rjust(w)
                     for i, (c, w) in enumerate(zip(columns, widths, strict=True)))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(v.ljust(w) if i < left else v.rjust(w)
                             for i, (v, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(out)


_RUN_COLUMNS = ("run", "group", "layer", "rank", "detected", "step", "ci_low", "ci_high",
                "censored", "time", "time_low", "time_high")
_POOLED_COLUMNS = ("group", "layer", "rank", "n_runs", "n_pooled", "time", "ci_low", "ci_high",
                   "sd", "note")


def _fmt_time(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.6g}"


def _runs_tables(res) -> str:
    """The per-run table and the pooled table of a RunsTransitionResult."""
    rows = []
    for r in res.rows:
        t = r.transition
        rows.append([r.run, r.group, t.layer, str(t.rank), _fmt(t.detected), _fmt(t.step),
                     _fmt(t.ci_low), _fmt(t.ci_high), _fmt(t.censored), _fmt_time(r.time),
                     _fmt_time(r.time_low), _fmt_time(r.time_high)])
    pooled = [[p.group, p.layer, str(p.rank), str(p.n_runs), str(p.n_pooled), _fmt_time(p.time),
               _fmt_time(p.ci_low), _fmt_time(p.ci_high), _fmt_time(p.sd), p.note or "-"]
              for p in res.pooled]
    lc = f"{res.confidence_level:.0%}"
    return "\n".join([
        f"per run (time axis: {res.time})", _columns(_RUN_COLUMNS, rows, left=3), "",
        f"pooled per group (mean over runs crossing within their steps; between-run {lc} "
        "Student-t interval of the mean)", _columns(_POOLED_COLUMNS, pooled, left=2)])


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
        path = os.path.join(folder, "spectrogram_" + re.sub(r"[^\w.-]+", "_", name) + ".png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    if "left_vectors" in spectra and "right_vectors" in spectra:
        written += _plot_alignment(spectra, list(res.layers), folder)
    return written


def _plot_alignment(spectra, layers, folder) -> list[str]:
    """One figure per layer of the store's singular-vector alignment (stores with vectors)."""
    import os

    import matplotlib.pyplot as plt

    from ..plot import plot_alignment
    from ..transition import alignment

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        al = alignment(spectra, layer=layers, n_draws=100)
    written = []
    for name in layers:
        axes = plot_alignment(al, name, title=name if len(name) <= 60 else "..." + name[-57:])
        path = os.path.join(folder, "alignment_" + re.sub(r"[^\w.-]+", "_", name) + ".png")
        axes[0].figure.savefig(path, dpi=120)
        plt.close(axes[0].figure)
        written.append(path)
    return written


def plot_layer(spectra, res, name):
    """Figure of one layer: top eigenvalues with the edge and critical value the step's test
    used (its null: MP or soft edge), the crossing of rank 0, and the spike count per step."""
    import matplotlib.pyplot as plt
    import numpy as np

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


@click.command("transition", short_help="When each layer's spikes crossed the BBP threshold.")
@click.argument("stores", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
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
              help="Write a spectrogram per layer (PNG) into this folder (one subfolder per run "
                   "with several stores).")
@click.option("--time", "time_axis", default=None,
              help="Several stores: time axis of the table and the pooled crossings: 'step' "
                   "(default), 'lr*step' (integrated learning rate), 'elapsed' or a per-step "
                   "variable of the stores.")
@click.option("--group", "group", multiple=True,
              help="Several stores: 'lr' pools runs with the same learning rate; or one label "
                   "per store (repeat the option). Default: pool all runs.")
@click.option("--run", "run_names", multiple=True,
              help="Several stores: a name per store (repeat; default: the folder names).")
def transition(stores, method, alpha, confidence, layers, max_spikes, fmt, plot_dir, time_axis,
               group, run_names):
    """Estimate the training step at which each spike of each layer of STORE detached from the
    bulk (the BBP transition), with a confidence interval.

    A layer without a crossing is reported as not detected with step '-' and ci_low the last
    recorded step (a lower bound; censored 'right'). A crossing at or before the first recorded
    step has censored 'left': step is the first recorded step, or '-' when the spike was already
    out of the bulk there, and ci_high bounds the crossing from above. Warnings (e.g. a layer too
    small to analyse) are printed as one 'warning:' line each on stderr.

    With several STOREs (seeds, learning rates of one model) it prints one table with a run
    column and the crossings pooled over the runs of each group (mean and between-run
    Student-t interval), on the time axis --time.
    """
    from ..store import open_spectra
    from ..transition import transition_time

    if len(stores) > 1 or time_axis or group or run_names:
        _several(stores, method, alpha, confidence, layers, max_spikes, fmt, plot_dir,
                 time_axis, group, run_names)
        return
    store = stores[0]
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


def _several(stores, method, alpha, confidence, layers, max_spikes, fmt, plot_dir, time_axis,
             group, run_names):
    import os

    from ..store import open_spectra
    from ..transition import transition_time

    grouping = None if not group else ("lr" if list(group) == ["lr"] else list(group))
    try:
        spectra = [open_spectra(s) for s in stores]
        names = list(run_names) or None
        if names is None:
            names = [os.path.splitext(os.path.basename(os.path.normpath(s)))[0] for s in stores]
            if len(set(names)) != len(names):
                names = [f"run{i}" for i in range(len(stores))]
        res = transition_time(spectra, runs=names, group=grouping, time=time_axis or "step",
                              layer=list(layers) or None, alpha=alpha, method=method,
                              confidence_level=confidence, max_spikes=max_spikes)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "table":
        click.echo(_runs_tables(res))
    elif fmt == "csv":
        click.echo(res.to_dataframe().to_csv(index=False, na_rep=""), nl=False)
        click.echo("")
        click.echo(res.pooled_dataframe().to_csv(index=False, na_rep=""), nl=False)
    else:
        click.echo(json.dumps(_clean(res.to_dict()), indent=2))
    if plot_dir:
        for ds, run, one in zip(spectra, res.runs, res.results, strict=True):
            for path in _plot(ds, one, os.path.join(plot_dir, re.sub(r"[^A-Za-z0-9_.-]+", "_",
                                                                     run))):
                click.echo(f"wrote {path}", err=True)
