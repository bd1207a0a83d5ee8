"""`run_demo`: train, test the final weights, time the transitions, draw the figures.

Owns the sequence behind ``bbpfit demo``: :func:`bbpfit.demo.task.train` records the spectra,
:func:`bbpfit.analyze` tests the final weights, :func:`bbpfit.transition.transition_time` (when
installed) estimates when each spike crossed the BBP threshold, and :mod:`bbpfit.plot` draws a
spectrum and a spectrogram per layer. No statistics of its own.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from .._validation import UNSET, check_int, renamed
from ..zoo.layer import iter_reports
from ..zoo.nulls import default_null_cache
from ..zoo.table import frame_from_reports
from ..zoo.threads import blas_threads
from .task import train


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` produced.

    Attributes
    ----------
    out : pathlib.Path
        The output folder.
    store : pathlib.Path
        The recorded spectra (open with :func:`bbpfit.open_spectra`).
    table : pandas.DataFrame
        :func:`bbpfit.analyze` of the final weights.
    transitions : pandas.DataFrame or None
        ``layer, rank, step, ci_low, ci_high, detected`` and what the result adds (e.g.
        ``first_detected``); ``attrs["confidence_level"]`` of the intervals. None without
        :mod:`bbpfit.transition`.
    theory : pandas.DataFrame
        Teacher strength and predicted crossing step of each teacher direction.
    figures : list of pathlib.Path
        PNG files written.
    seconds : dict
        Wall time of each stage and in total.
    notes : list of str
    """

    out: Path
    store: Path
    table: pd.DataFrame
    transitions: pd.DataFrame | None
    theory: pd.DataFrame
    figures: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def _as_list(value, size):
    arr = np.atleast_1d(np.asarray(value))
    return list(arr.reshape(-1))[:size] if arr.size else []


def transition_table(result, layers) -> pd.DataFrame:
    """Rows ``layer, rank, step, ci_low, ci_high, detected`` from a transition result.

    Accepts a result with ``to_frame()``/``to_dataframe()``, a mapping ``layer -> result``, or
    a result whose fields are arrays over (layer, rank) or (rank,).
    """
    for attr in ("to_frame", "to_dataframe"):
        if hasattr(result, attr):
            frame = getattr(result, attr)()
            return frame.reset_index() if "layer" not in frame.columns else frame
    items = result.items() if hasattr(result, "items") else (
        [(layers[0], result)] if len(layers) == 1 else None)
    rows = []
    if items is None:  # arrays over (layer, rank)
        items = [(layer, SimpleNamespace(**{k: np.atleast_2d(getattr(result, k))[i]
                                            for k in ("step", "ci_low", "ci_high", "detected")}))
                 for i, layer in enumerate(layers)]
    for layer, r in items:
        steps = np.atleast_1d(np.asarray(r.step, dtype=float))
        for k in range(steps.size):
            rows.append({"layer": str(layer), "rank": k, "step": steps[k],
                         "ci_low": float(np.atleast_1d(r.ci_low)[k]),
                         "ci_high": float(np.atleast_1d(r.ci_high)[k]),
                         "detected": bool(np.atleast_1d(r.detected)[k])})
    return pd.DataFrame(rows, columns=["layer", "rank", "step", "ci_low", "ci_high", "detected"])


def _transitions(ds, alpha, notes):
    """``(table, result)`` of :func:`bbpfit.transition_time`, or ``(None, None)`` with a note."""
    try:
        from ..transition import transition_time
    except ImportError:
        notes.append("transition steps skipped: bbpfit.transition is not installed")
        return None, None
    try:
        result = transition_time(ds, alpha=alpha, null_cache=default_null_cache())
        table = transition_table(result, [str(v) for v in ds["layer"].values])
        table.attrs["confidence_level"] = getattr(result, "confidence_level", float("nan"))
        return table, result
    except Exception as exc:  # the demo reports, it does not stop
        notes.append(f"transition steps skipped: transition_time failed ({type(exc).__name__}: "
                     f"{exc})")
        return None, None


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)


def _figures(out: Path, ds, reports, transitions, result) -> list[Path]:
    from matplotlib.figure import Figure

    from ..plot import plot_spectrogram, plot_spectrum

    paths = []
    for rep in reports:
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        plot_spectrum(rep.spectrum, rep.result if rep.result is not None else rep.fit,
                      ax=fig.add_subplot())
        paths.append(out / f"spectrum_{_safe(rep.name)}.png")
        fig.savefig(paths[-1], dpi=120)
    for layer in (str(v) for v in ds["layer"].values):
        edge = band = None
        if result is not None and layer in result.layers:
            # the edge of the null each step's test used and the value it calls significant, so
            # an eigenvalue is drawn above the band exactly when a spike is reported
            diag = result.diagnostics.sel(layer=layer)
            edge = diag["test_edge"].values
            band = (edge, diag["test_crit"].values)
        crossings = []  # every detected rank's transition, not only rank 0's
        if transitions is not None:
            hit = transitions[(transitions["layer"] == layer) & transitions["detected"]]
            crossings = [SimpleNamespace(**row) for row in hit.sort_values("rank")[
                ["rank", "step", "ci_low", "ci_high", "detected"]].to_dict("records")]
        fig = Figure(figsize=(7.0, 4.0), layout="constrained")
        plot_spectrogram(ds, layer, ax=fig.add_subplot(), edge=edge, band=band,
                         transition=crossings, edge_label="edge of the test's null",
                         title=f"{layer}: top eigenvalues over training")
        paths.append(out / f"spectrogram_{_safe(layer)}.png")
        fig.savefig(paths[-1], dpi=120)
    return paths


def run_demo(out=None, *, steps: int = 400, every: int = 5, rng=UNSET, method: str = "tw",
             alpha: float = 0.05, figures: bool = True, echo=None, seed=UNSET) -> DemoResult:
    """Run the demo end to end and write its outputs to ``out``.

    Parameters
    ----------
    out : str or path-like, optional
        Output folder (created); default ``./bbpfit-demo``. An existing store in it is replaced.
    steps, every, rng
        Training length, recording interval and the integer seed of the run (old name
        ``seed``; :func:`bbpfit.demo.task.train`).
    method : str, default "tw"
        Spike-test method for the final weights. The students' noise is Gaussian by
        construction, so the exact Gaussian null applies to the spectra as they are.
    alpha : float, default 0.05
        Level of the spike tests and of the transition estimates.
    figures : bool, default True
        Write the PNG figures (needs matplotlib).
    echo : callable, optional
        Called with a line of text at each stage (e.g. ``print``).

    Returns
    -------
    DemoResult
    """
    import shutil

    from ..store import open_spectra

    seed = check_int(renamed(rng, seed, "rng", "seed", 0), "rng", minimum=0)
    say = echo or (lambda _line: None)
    out = Path("bbpfit-demo" if out is None else out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    store = out / "spectra.bbp"
    if store.exists():
        shutil.rmtree(store)
    seconds, notes = {}, []
    start = time.perf_counter()
    say(f"training two linear students ({steps} SGD steps, spectra every {every}) ...")
    task = train(str(store), steps=steps, every=every, rng=seed)
    seconds["train"] = task.seconds
    theory = pd.DataFrame({"layer": "signal.weight", "rank": range(len(task.teacher)),
                           "teacher_strength": task.teacher,
                           "t_cross_theory": task.t_cross_theory})
    say(f"testing the final weights for spikes (method {method!r}) ...")
    t0 = time.perf_counter()
    with blas_threads(1):
        reports = list(iter_reports(task.model, alpha=alpha, method=method, rng=seed,
                                    null_cache=default_null_cache()))
    table = frame_from_reports(reports, alpha=alpha)
    seconds["spike_tests"] = time.perf_counter() - t0
    say("estimating transition steps ...")
    t0 = time.perf_counter()
    ds = open_spectra(store)
    transitions, transition_result = _transitions(ds, alpha, notes)
    seconds["transitions"] = time.perf_counter() - t0
    paths = []
    if figures:
        say("drawing figures ...")
        t0 = time.perf_counter()
        paths = _figures(out, ds, reports, transitions, transition_result)
        seconds["figures"] = time.perf_counter() - t0
    table.to_csv(out / "layers.csv", index=False)
    if transitions is not None:
        transitions.to_csv(out / "transitions.csv", index=False)
    seconds["total"] = time.perf_counter() - start
    return DemoResult(out, store, table, transitions, theory, paths, seconds, notes)
