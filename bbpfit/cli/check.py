"""``bbpfit check PATH``: the per-layer table of one checkpoint, for people and for CI.

Exit codes: 0 analysed; 1 ``--fail-on-spikes`` and some layer has a significant spike (after
adjustment across layers); 2 bad input (missing path, unknown format, folder without
checkpoints, a pickle that needs ``--allow-unsafe-pickle``, no layer selected, bad option);
3 some layers could not be analysed (NaN or infinite weights): their rows say why, the other
layers are complete.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import click

#: Exit code for input that cannot be analysed (click uses 2 for usage errors too).
EXIT_BAD_INPUT = 2
#: Exit code of ``--fail-on-spikes`` when a significant spike is found.
EXIT_SPIKES = 1
#: Exit code when some layers (check) or checkpoints (zoo) failed and the others were analysed.
EXIT_SOME_FAILED = 3
OUTPUT_FORMATS = ("table", "csv", "json", "markdown")
_UNSAFE = re.compile(r"[^\w.-]+")
_EXTENSIONS = {".csv": "csv", ".json": "json", ".md": "markdown", ".markdown": "markdown"}


class InputError(click.ClickException):
    """Input that cannot be analysed; exits with :data:`EXIT_BAD_INPUT`."""

    exit_code = EXIT_BAD_INPUT


def cli_message(exc: BaseException) -> str:
    """A library error as a command-line message (library keyword names become flags)."""
    if isinstance(exc, OSError) and exc.filename is not None:
        what = {"FileNotFoundError": "check that the path and its folder exist",
                "PermissionError": "check that you may read or write there",
                "IsADirectoryError": "give a file, not a folder",
                "NotADirectoryError": "a part of the path is a file, not a folder",
                "FileExistsError": "a file of that name is in the way of a folder"}
        hint = what.get(type(exc).__name__, "check the path")
        return f"{exc.strerror or type(exc).__name__}: '{exc.filename}' ({hint})"
    text = str(exc) or type(exc).__name__
    text = re.sub(r"pass allow_unsafe_pickle=True", "pass --allow-unsafe-pickle", text)
    return text.replace("allow_unsafe_pickle=True", "--allow-unsafe-pickle")


def selection_options(f):
    """The layer-selection and file-reading options shared by ``check`` and ``zoo``."""
    from .options import FORMAT_NAMES

    options = [
        click.option("--include", multiple=True, metavar="GLOB",
                     help="Only layers whose name matches (repeatable), e.g. '*attention*'."),
        click.option("--exclude", multiple=True, metavar="GLOB",
                     help="Skip layers whose name matches (repeatable)."),
        click.option("--embeddings", is_flag=True, help="Also analyse embedding tables."),
        click.option("--input-format", type=click.Choice(FORMAT_NAMES), default=None,
                     help="Force the checkpoint format instead of detecting it."),
        click.option("--allow-unsafe-pickle", is_flag=True,
                     help="Load torch files that need full unpickling. Only for files you "
                          "trust: unpickling can execute arbitrary code."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def selection_from_flags(include, exclude, embeddings):
    """The :class:`bbpfit.LayerSelection` that ``--include/--exclude/--embeddings`` describe."""
    from ..sources import LayerSelection

    return LayerSelection(include=tuple(include or ()), exclude=tuple(exclude or ()),
                          embeddings=bool(embeddings))


def spike_test_options(f):
    """``--alpha``, ``--method``, ``--correction``."""
    from .options import CORRECTION_NAMES, METHOD_NAMES

    options = [
        click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     default=0.05, show_default=True, help="Level of the tests."),
        click.option("--method", type=click.Choice(METHOD_NAMES), default="auto",
                     show_default=True, help="Spike-test method (see bbpfit.spike_test)."),
        click.option("--correction", type=click.Choice(CORRECTION_NAMES), default="fdr_bh",
                     show_default=True, help="Adjustment of the layer p-values across layers."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def why_nothing_selected(path, *, include, exclude, embeddings, input_format,
                         allow_unsafe_pickle) -> str:
    """Why no tensor of ``path`` is a layer under the selection: each matrix and its reason."""
    from ..sources import LayerSelection, list_layers

    try:
        infos = list_layers(path, others=True, embeddings=True, min_side=1, format=input_format,
                            allow_unsafe_pickle=allow_unsafe_pickle)
    except (ValueError, TypeError, OSError):
        infos = []
    sel = LayerSelection(include=include or (), exclude=exclude or (), embeddings=embeddings)
    reasons = {"small": "a side shorter than 2", "embedding": "an embedding (see --embeddings)",
               "other": "not named like a weight (a buffer, or no 'weight'/'kernel' in its name)"}
    parts = []
    for info in infos[:5]:
        cat = sel.category(info)
        why = reasons.get(cat) or ("not matched by --include/--exclude" if cat == "weight"
                                   else cat)
        parts.append(f"'{info.name}' ({'x'.join(map(str, info.shape))}): {why}")
    head = (f"no layer selected in '{path}': " + "; ".join(parts) + (", ..." if len(infos) > 5 else "")
            if parts else f"no layer selected in '{path}': it has no matrix or conv weight")
    return head + " (see --include, --exclude, --embeddings)"


def render(frame, fmt: str, source: str) -> str:
    """The table in one of :data:`OUTPUT_FORMATS`."""
    from ..zoo.table import notes_lines, summary_line, to_markdown, to_text

    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        meta = {k: v for k, v in frame.attrs.items() if isinstance(v, str | int | float)}
        layers = json.loads(frame.to_json(orient="records"))
        return json.dumps({"source": source, **meta, "layers": layers}, indent=1) + "\n"
    notes = "".join(f"\nnote: {line}" for line in notes_lines(frame))
    if fmt == "markdown":
        return to_markdown(frame) + "\n\n" + summary_line(frame) + "\n" + notes.replace("\n", "\n\n")
    return to_text(frame) + "\n\n" + summary_line(frame) + notes + "\n"


def _plots(reports, folder: Path) -> list[Path]:
    from matplotlib.figure import Figure

    from ..plot import plot_powerlaw, plot_spectrum

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for rep in reports:
        what = rep.result if rep.result is not None else rep.fit
        if what is None:  # too small or all zero: nothing to draw
            continue
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        plot_spectrum(rep.spectrum, what, ax=fig.add_subplot())
        path = folder / f"spectrum_{_UNSAFE.sub('_', rep.name)}.png"  # as the demo names them
        fig.savefig(path, dpi=110, metadata={"Software": None})
        paths.append(path)
        if rep.powerlaw is not None and rep.bulk_law == "power-law tail":
            fig = Figure(figsize=(6.4, 4.0), layout="constrained")
            plot_powerlaw(rep.spectrum, rep.powerlaw, ax=fig.add_subplot())
            path = folder / f"powerlaw_{_UNSAFE.sub('_', rep.name)}.png"
            fig.savefig(path, dpi=110, metadata={"Software": None})
            paths.append(path)
    return paths


@click.command("check", short_help="Per-layer bulk fit and spike test of one checkpoint.")
@click.argument("path", type=click.Path(path_type=str))
@spike_test_options
@click.option("--format", "fmt", type=click.Choice(OUTPUT_FORMATS), default=None,
              help="Output format [default: table on the terminal; for --out, from its "
                   "extension: .csv, .json, .md, else table].")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the table to this file.")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write one spectrum figure (PNG) per layer into this folder, "
                                 "and a log-log one with the fitted tail for power-law bulks.")
@click.option("--fail-on-spikes", is_flag=True,
              help="Exit with code 1 when any layer has a significant spike (after adjustment).")
@selection_options
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="BLAS threads for the eigenvalues (more rarely helps: the problems are "
                   "small, and busy machines slow down a lot).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes analysing the layers in parallel (ties of discrete weights are "
                   "then broken per layer).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success (with --out).")
def check(path, alpha, method, correction, fmt, out, plot_dir, fail_on_spikes, include, exclude,
          embeddings, input_format, allow_unsafe_pickle, threads, quiet, workers=1):
    """Fit the bulk and test for spikes in every layer of the checkpoint at PATH.

    PATH is a .safetensors file, a torch file (.pt/.pth/.bin/.ckpt) or a Hugging Face model
    folder. The table goes to stdout, notes to stderr.

    Exit codes: 0 analysed; 1 with --fail-on-spikes when a layer has a significant spike;
    2 the input cannot be analysed (the message says why); 3 some layers could not be analysed
    (NaN or infinite weights): their rows say why, the others are complete.
    """
    from ..zoo.analyze import NoLayerError, analyze_with_reports
    from ..zoo.table import summary_line

    start = time.perf_counter()
    try:
        frame, reports = analyze_with_reports(
            path, alpha=alpha, method=method, correction=correction,
            selection=selection_from_flags(include, exclude, embeddings), format=input_format,
            allow_unsafe_pickle=allow_unsafe_pickle, blas_threads=threads, errors="report",
            workers=workers)
    except NoLayerError:
        raise InputError(why_nothing_selected(
            path, include=include, exclude=exclude, embeddings=embeddings,
            input_format=input_format, allow_unsafe_pickle=allow_unsafe_pickle)) from None
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError, ValueError,
            TypeError) as exc:
        raise InputError(cli_message(exc)) from None
    if out is not None:
        out_fmt = fmt or _EXTENSIONS.get(out.suffix.lower(), "table")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(frame, out_fmt, path), encoding="utf-8")
    if not (quiet and out is not None):
        shown = fmt if (fmt and out is None) else "table"
        click.echo(render(frame, shown, path), nl=False)
        if shown in ("csv", "json"):
            click.echo(summary_line(frame), err=True)
    if plot_dir is not None:
        paths = _plots(reports, plot_dir)
        click.echo(f"wrote {len(paths)} figure(s) to {plot_dir}", err=True)
    if not quiet:
        click.echo(f"analysed in {time.perf_counter() - start:.2f} s", err=True)
    failed = [r.name for r in reports if r.error is not None]
    if failed:
        click.echo(f"error: {len(failed)} layer(s) could not be analysed ({', '.join(failed[:5])}"
                   f"{', ...' if len(failed) > 5 else ''}); their rows say why, the other layers "
                   f"are complete (exit code {EXIT_SOME_FAILED})", err=True)
        sys.exit(EXIT_SOME_FAILED)
    significant = frame["significant"].fillna(False).astype(bool)
    if fail_on_spikes and bool(significant.any()):
        layers = ", ".join(frame.loc[significant, "layer"].head(5))
        click.echo(f"significant spikes in {int(significant.sum())} layer(s) "
                   f"({layers}{', ...' if significant.sum() > 5 else ''})", err=True)
        sys.exit(EXIT_SPIKES)
