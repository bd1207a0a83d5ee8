"""``bbpfit demo``: the whole pipeline on an embedded task, no download (about 30 s once the caches
are warm, see ``bbpfit cache``; the first run also compiles the kernels and simulates the nulls)."""

from __future__ import annotations

import time

import click


def _fmt(value, spec):
    try:
        return "-" if value != value else format(value, spec)
    except (TypeError, ValueError):
        return str(value)


@click.command("demo", short_help="Train a teacher-student model, record, test, plot (no download).")
@click.option("--out", type=click.Path(file_okay=False), default="bbpfit-demo", show_default=True,
              help="Folder for the spectra store, the tables and the figures.")
@click.option("--steps", type=click.IntRange(min=20), default=400, show_default=True,
              help="SGD steps.")
@click.option("--every", type=click.IntRange(min=1), default=5, show_default=True,
              help="Record the spectra every this many steps.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--method", default="tw", show_default=True,
              help="Spike-test method for the final weights.")
@click.option("--no-figures", is_flag=True, help="Skip the figures (no matplotlib needed).")
def demo(out, steps, every, seed, method, no_figures):
    """Train the paper's linear teacher-student model while recording spectra, then report.

    Two linear students (400x200) are trained together by online SGD: one learns a rank-3
    teacher (singular values 4, 2.5, 1.5), so three eigenvalues detach from the bulk one after
    the other (BBP transitions); the other learns from pure-noise labels (a control with no
    spike). bbpfit then tests the final weights for spikes, estimates the step at which each
    spike crossed the BBP threshold (bbpfit.transition), compares with the exact mean-dynamics
    prediction, and draws a spectrum and a spectrogram per layer.
    """
    from ..demo import run_demo
    from ..zoo.table import to_text

    start = time.perf_counter()
    try:
        res = run_demo(out, steps=steps, every=every, rng=seed, method=method,
                       figures=not no_figures, echo=lambda line: click.echo(line, err=True))
    except ImportError as exc:
        raise click.ClickException(
            f"the demo needs torch (and matplotlib for figures): {exc}") from None
    click.echo("\nSpike tests of the final weights")
    click.echo(to_text(res.table))
    click.echo("\nBBP transition steps (signal.weight: predicted by the mean dynamics)")
    est = res.transitions
    level = est.attrs.get("confidence_level", float("nan")) if est is not None else float("nan")
    ci_head = f"{level:.0%} CI" if level == level else "CI"
    click.echo(f"{'layer':<15} {'rank':>4} {'teacher s':>9} {'predicted':>9} {'estimated':>9} "
               f"{ci_head:>14} {'detected at':>11}")
    theory = res.theory
    for layer in dict.fromkeys(list(theory["layer"]) + list(res.table["layer"])):
        ranks = theory[theory["layer"] == layer]
        found = est[est["layer"] == layer] if est is not None else est
        n_rows = max(len(ranks), 0 if found is None else len(found), 1)
        for k in range(n_rows):
            s = ranks["teacher_strength"].iloc[k] if k < len(ranks) else float("nan")
            t = ranks["t_cross_theory"].iloc[k] if k < len(ranks) else float("nan")
            row = found[found["rank"] == k] if found is not None else None
            step, ci, seen = "-", "-", "-"
            if row is not None and len(row):
                r = row.iloc[0]
                lo, hi = _fmt(r["ci_low"], ".0f"), _fmt(r["ci_high"], ".0f")
                step = _fmt(r["step"], ".1f") if r["detected"] else f"> {lo}"
                ci = f"[{lo}, {hi}]" if r["detected"] else "not detected"
                seen = _fmt(r.get("first_detected", float("nan")), ".0f")
            elif found is not None:
                ci = "not reported"
            click.echo(f"{layer:<15} {k:>4} {_fmt(s, '.3g'):>9} {_fmt(t, '.1f'):>9} "
                       f"{step:>9} {ci:>14} {seen:>11}")
    for note in res.notes:
        click.echo(f"note: {note}")
    click.echo(f"\nwrote {res.store} (spectra), {res.out / 'layers.csv'}"
               + (f", {res.out / 'transitions.csv'}" if res.transitions is not None else ""))
    for path in res.figures:
        click.echo(f"wrote {path}")
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in res.seconds.items() if k != "total")
    click.echo(f"done in {time.perf_counter() - start:.1f} s ({parts})")
