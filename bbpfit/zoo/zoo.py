"""`analyze_zoo`: many checkpoints, one table, computed in parallel with dask.distributed.

Owns the zoo run: finding the checkpoints, skipping those already in the output file, one task
per checkpoint on the cluster, turning a failed checkpoint into an error row, appending rows as
they arrive, and the progress bar.

One task per checkpoint, not per layer: a task opens its file once (a legacy torch file must be
unpickled whole, so per-layer tasks would each load it again), its layers form the family that
is adjusted together, and only a small table travels back, never a weight. Checkpoints are
submitted largest first so that the last task to finish is a small one. The cost is that one
huge checkpoint runs on one worker; a zoo has many checkpoints, so the workers stay busy.
"""

from __future__ import annotations

import hashlib
import os
import time

import pandas as pd

from ..sources.api import as_selection
from .analyze import analyze, check_options
from .checkpoints import find_checkpoints, fingerprint
from .cluster import zoo_client
from .output import ZOO_COLUMNS, ZooOutput, normalize
from .progress import ProgressBar
from .threads import one_torch_thread


def error_frame(model: str, print_: str, exc: BaseException, seconds: float = float("nan")):
    """The single row that stands for a checkpoint that could not be analysed."""
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return normalize(pd.DataFrame([{"model": model, "fingerprint": print_, "significant": False,
                                    "model_rows": 1, "seconds": seconds, "error": reason,
                                    "status": "error"}]))


def run_fingerprint(model: str, options: dict) -> str:
    """The checkpoint's fingerprint and a digest of the options: what was analysed, and how.

    A row is reused on a re-run only if both match, so changing ``alpha``, ``method``, the
    selection, ... re-analyses the checkpoints (and replaces their rows) instead of mixing runs.
    """
    digest = hashlib.sha1(repr(sorted(options.items())).encode()).hexdigest()[:8]
    return f"{fingerprint(model)}|{digest}"


def analyze_checkpoint(model: str, options: dict) -> pd.DataFrame:
    """The task run on a worker: :func:`bbpfit.analyze` of one checkpoint, never raising.

    Returns the checkpoint's rows (``status="ok"``), or one error row whose ``error`` column
    gives the reason (``status="error"``).
    """
    print_ = run_fingerprint(model, options)
    start = time.perf_counter()
    try:
        with one_torch_thread():
            frame = analyze(model, **options)
    except Exception as exc:  # every failure becomes a row: the other checkpoints go on
        return error_frame(model, print_, exc, time.perf_counter() - start)
    frame.insert(0, "model", model)
    frame.insert(1, "fingerprint", print_)
    frame["model_rows"] = len(frame)
    frame["seconds"] = time.perf_counter() - start
    frame["error"] = ""
    frame["status"] = "ok"
    return normalize(frame)


def _pending(checkpoints, previous: pd.DataFrame, retry_errors: bool, options: dict):
    done = {}
    for (model, print_), rows in previous.groupby(["model", "fingerprint"], sort=False):
        done[model] = (print_, (rows["status"] == "ok").all())
    todo, kept = [], []
    for model in checkpoints:
        print_ = run_fingerprint(model, options)
        if model in done and done[model][0] == print_ and (done[model][1] or not retry_errors):
            kept.append(model)
        else:
            todo.append(model)
    return todo, kept


def _run_local(todo, options, emit):
    for model in todo:
        emit(model, analyze_checkpoint(model, options))


def _run_dask(todo, options, emit, client, scheduler, workers):
    from distributed import as_completed

    with zoo_client(client=client, scheduler=scheduler, workers=workers, n_tasks=len(todo)) as c:
        by_size = sorted(todo, key=_size, reverse=True)
        futures = {c.submit(analyze_checkpoint, model, options, pure=False,
                            key=f"bbpfit-zoo-{i}-{os.path.basename(model)}"): model
                   for i, model in enumerate(by_size)}
        for future in as_completed(futures):
            model = futures[future]
            if future.status == "finished":
                emit(model, future.result())
            else:  # the worker died (out of memory, crash): KilledWorker and the like
                exc = future.exception()
                emit(model, error_frame(model, run_fingerprint(model, options), exc))
            future.release()


def _size(path: str) -> int:
    try:
        if os.path.isdir(path):
            return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
        return os.path.getsize(path)
    except OSError:
        return 0


def analyze_zoo(paths, *, client=None, scheduler: str | None = None, workers: int | None = None,
                out=None, alpha: float = 0.05, method: str = "auto", correction: str = "fdr_bh",
                max_spikes: int | None = None, rng=0, retry_errors: bool = False, progress=None,
                selection=None, include=None, exclude=None, embeddings: bool = False,
                others: bool = False,
                min_side: int = 2, format: str | None = None,
                allow_unsafe_pickle: bool = False) -> pd.DataFrame:
    """Analyse every layer of every checkpoint of a model zoo, in parallel; one table.

    Parameters
    ----------
    paths : str, path-like or sequence of them
        Checkpoint files, model folders, or folders of them (searched recursively; see
        :mod:`bbpfit.zoo.checkpoints`).
    client : distributed.Client, optional
        Run on this client's cluster.
    scheduler : str, optional
        Or connect to the scheduler at this address (``"tcp://host:8786"``).
    workers : int, optional
        Or start a ``LocalCluster`` with this many single-threaded worker processes (default: one
        per core, at most one per checkpoint). ``0`` runs in this process without dask.
    out : str or path-like, optional
        A ``.csv`` (or ``.parquet``, with pyarrow) file. Rows are added as checkpoints finish;
        a checkpoint already there with the same fingerprint (size and modification time of the
        file, and the same options) is skipped, so re-running the same command resumes an
        interrupted run; a checkpoint rewritten since, or other options, are analysed again.
    alpha, method, correction, max_spikes, rng
        As in :func:`bbpfit.analyze`; p-values are adjusted within each checkpoint.
    retry_errors : bool, default False
        Analyse again the checkpoints that are error rows in ``out``.
    progress : bool, optional
        Show a progress bar on stderr; default: when stderr is a terminal.
    selection, include, exclude, embeddings, others, min_side, format, allow_unsafe_pickle
        Layer selection (a :class:`~bbpfit.LayerSelection`, or its fields as keywords) and file
        reading, as in :func:`bbpfit.analyze`.

    Returns
    -------
    pandas.DataFrame
        ``model`` (absolute path), ``fingerprint`` (:func:`run_fingerprint`), the columns of
        :func:`bbpfit.analyze`,
        ``model_rows`` (rows of the checkpoint), ``seconds`` (time spent on the checkpoint),
        ``error`` and ``status`` (``"ok"`` or
        ``"error"``), one row per (model, layer) in the order of ``paths``; a checkpoint that
        failed (corrupt, empty, NaN weights, unknown format, unsafe pickle, ...) is one row with
        ``status="error"`` and the reason in ``error``. Rows of ``out`` from earlier runs are
        included. ``attrs["skipped"]`` lists the checkpoints taken from ``out``,
        ``attrs["ignored"]`` the files that were not checkpoints.

    Raises
    ------
    FileNotFoundError
        A path does not exist.
    ValueError
        No checkpoint found, a bad ``out`` extension, a bad option; nothing is run then.

    Examples
    --------
    >>> import numpy as np, tempfile, os, torch
    >>> from bbpfit.zoo import analyze_zoo
    >>> folder = tempfile.mkdtemp()
    >>> for seed in range(2):
    ...     w = torch.from_numpy(np.random.default_rng(seed).standard_normal((40, 20)))
    ...     torch.save({"fc.weight": w}, os.path.join(folder, f"model{seed}.pt"))
    >>> open(os.path.join(folder, "broken.pt"), "wb").close()
    >>> table = analyze_zoo(folder, workers=0, method="tw")
    >>> table[["status", "n_spikes"]].value_counts(dropna=False).sort_index().to_dict()
    {('error', <NA>): 1, ('ok', 0): 2}
    """
    alpha = check_options(alpha, method, correction)
    as_selection(selection, {"include": include, "exclude": exclude, "embeddings": embeddings,
                             "others": others, "min_side": min_side})  # bad ones: nothing is run
    output = None if out is None else ZooOutput(out)
    checkpoints, ignored = find_checkpoints(paths)
    previous = output.read() if output is not None else normalize(pd.DataFrame())
    options = {"alpha": alpha, "method": method, "correction": correction,
               "max_spikes": max_spikes, "rng": rng, "include": include, "exclude": exclude,
               "embeddings": embeddings, "others": others, "min_side": min_side,
               "format": format, "allow_unsafe_pickle": allow_unsafe_pickle}
    if selection is not None:  # only then: the fingerprints of earlier runs stay valid
        options["selection"] = selection
    todo, kept = _pending(checkpoints, previous, retry_errors, options)
    results: dict[str, pd.DataFrame] = {}
    bar = ProgressBar(len(todo), enabled=progress)

    def emit(model, frame):
        results[model] = frame
        if output is not None:
            output.append(frame)
        bar.update(errors=int((frame["status"] == "error").any()))

    try:
        if todo and workers == 0:
            _run_local(todo, options, emit)
        elif todo:
            _run_dask(todo, options, emit, client, scheduler, workers)
    except BaseException:
        if output is not None:
            output.flush()
        raise
    finally:
        bar.close()
    kept_set = set(kept)
    old = previous[previous["model"].isin(kept_set)]
    frames = [old[old["model"] == m] for m in checkpoints if m in kept_set]
    frames += [results[m] for m in checkpoints if m in results]
    order = {m: i for i, m in enumerate(checkpoints)}
    table = normalize(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
    table = table.iloc[table["model"].map(order).argsort(kind="stable")].reset_index(drop=True)
    if output is not None:
        output.flush()
        superseded = previous["model"].isin(results)
        if results or superseded.any() or output.dropped:
            # one complete entry per model, this run's checkpoints in the order of `paths`
            # (appended in completion order while running)
            others_rows = previous[~previous["model"].isin(order)]
            output.rewrite(pd.concat([others_rows, table], ignore_index=True))
    table.attrs.update({"alpha": alpha, "method": method, "correction": correction,
                        "skipped": kept, "ignored": ignored, "analysed": list(results)})
    return table


__all__ = ["ZOO_COLUMNS", "analyze_checkpoint", "analyze_zoo", "error_frame", "run_fingerprint"]
