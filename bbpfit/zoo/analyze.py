"""`analyze`: one model (module, state dict, checkpoint file or folder) to a per-layer table."""

from __future__ import annotations

import pandas as pd

from .._validation import check_alpha, check_int, check_method
from .._version import __version__
from ..inference import CORRECTIONS, METHODS
from .layer import iter_reports
from .nulls import default_null_cache
from .table import frame_from_reports
from .threads import blas_threads as _blas_threads

#: The error when nothing in the source is a layer under the selection.
NO_LAYER = ("no layer selected: the source has no 2-D or conv weight matching the selection "
            "(see `include`, `exclude`, `embeddings`, `others`)")


class NoLayerError(ValueError):
    """Nothing in the source is a layer under the selection (a ``ValueError``)."""


def check_options(alpha, method, correction) -> float:
    """Validate the options shared by :func:`analyze` and :func:`analyze_zoo`; return alpha."""
    alpha = check_alpha(alpha)
    check_method(method, METHODS)
    check_method(correction, CORRECTIONS, "correction")
    return alpha


def analyze(model_or_path, *, alpha: float = 0.05, method: str = "auto",
            correction: str = "fdr_bh", max_spikes: int | None = None, rng=0, null_cache=None,
            selection=None, include=None, exclude=None, embeddings: bool = False,
            others: bool = False, min_side: int = 2, format: str | None = None,
            allow_unsafe_pickle: bool = False, blas_threads: int | None = 1,
            errors: str = "raise", workers: int = 1) -> pd.DataFrame:
    """Bulk fit and spike test of every layer of a model, one row per layer.

    Parameters
    ----------
    model_or_path : nn.Module, mapping, str or path-like
        A torch module, a state dict, a ``.safetensors`` or torch checkpoint file, or a Hugging
        Face model folder (see :func:`bbpfit.sources.iter_layers`).
    alpha : float, default 0.05
        Level of each layer's test and of the family of layers.
    method : str, default "auto"
        Spike-test method (:func:`bbpfit.spike_test`): ``"auto"`` checks the entries and
        biwhitens or rank-Gaussianises when needed; ``"tw"``, ``"tw-asymptotic"`` and
        ``"ratio"`` use the eigenvalues only (faster: one eigendecomposition per layer).
    correction : str, default "fdr_bh"
        Adjustment of the layer p-values across layers (a key of
        :data:`bbpfit.inference.CORRECTIONS`; Benjamini-Hochberg by default).
    max_spikes : int, optional
        Most candidates tested per layer (default ``m // 2``; capped at ``m - 5``).
    rng : None, int or numpy.random.Generator, default 0
        Seeds the tie-breaking of discrete entries (the only randomness); the default makes the
        table reproducible.
    null_cache : bbpfit.inference.NullCache, optional
        Where the exact null samples are kept; default an on-disk cache shared by later runs
        (:func:`bbpfit.zoo.nulls.default_null_cache`, ``$BBPFIT_CACHE_DIR``).
    selection : bbpfit.LayerSelection, optional
        Which tensors are layers: the one rule shared with the recorder and the command line
        (:mod:`bbpfit.sources.selection`). Default ``LayerSelection()``.
    include, exclude, embeddings, others, min_side
        The fields of a :class:`~bbpfit.LayerSelection`, as keywords (not with ``selection``).
    format, allow_unsafe_pickle
        How files are read: see :func:`bbpfit.sources.iter_layers`.
    blas_threads : int or None, default 1
        Threads numpy's BLAS may use during the analysis (with threadpoolctl installed; None:
        leave it as configured). One thread is fastest for these small eigenproblems on a busy
        machine; see :mod:`bbpfit.zoo.threads`.
    errors : {"raise", "report"}, default "raise"
        A layer that cannot be analysed (NaN or infinite weights): raise its ``ValueError``, or
        give it a row whose ``notes`` start with ``"error: "`` and whose ``significant`` is
        empty (NA), and finish the other layers (what ``bbpfit check`` does).
    workers : int, default 1
        Processes analysing the layers in parallel (:mod:`bbpfit.zoo.parallel`; about 1.8x with
        2 on two cores). Each layer then gets its own generator seeded from ``rng`` in layer
        order, so the table does not depend on ``workers`` (it may differ from ``workers=1``
        only in how ties of discrete entries are broken).

    Returns
    -------
    pandas.DataFrame
        One row per layer, in the model's order, with the columns of
        :data:`bbpfit.zoo.table.COLUMNS`: ``layer, shape, n, m, ratio, sigma2, ratio_eff,
        lower_edge, upper_edge, ks, lambda_max, n_spikes, n_spikes_adjusted, pvalue,
        pvalue_adjusted, significant, theta_hat, method, path, notes``. Layers too small to test
        (``m < 10``) or all zero have NaN p-values and a note. ``attrs`` records the options.

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    ValueError
        Unknown format, empty or corrupt file, a folder without checkpoints, a pickle that needs
        ``allow_unsafe_pickle=True``, NaN/Inf weights (naming the layer), no layer selected, or
        a bad option (``alpha``, ``method``, ``correction``).

    Notes
    -----
    Layers are read lazily and each weight is dropped after its spectrum and test, so memory is
    bounded by the largest layer. The first-step p-values of the layers form one family; the
    spike counts in ``n_spikes_adjusted`` follow Benjamini & Bogomolov (2014), see
    :mod:`bbpfit.zoo.table`.

    References
    ----------
    Y. Benjamini and M. Bogomolov, "Selective inference on multiple families of hypotheses",
    J. R. Stat. Soc. B 76(1):297-318 (2014). doi:10.1111/rssb.12028

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.zoo import analyze
    >>> rng = np.random.default_rng(0)
    >>> u, v = rng.standard_normal(300), rng.standard_normal(100)
    >>> spike = 3.0 * np.sqrt(300) * np.outer(u, v) / np.linalg.norm(u) / np.linalg.norm(v)
    >>> state = {"a.weight": rng.standard_normal((300, 100)) + spike,
    ...          "b.weight": rng.standard_normal((300, 100)), "b.bias": np.zeros(300)}
    >>> table = analyze(state, method="tw")
    >>> table[["layer", "n_spikes", "significant"]].to_string(index=False)
    '   layer  n_spikes  significant\\na.weight         1         True\\nb.weight         0        False'
    """
    frame, _ = analyze_with_reports(
        model_or_path, alpha=alpha, method=method, correction=correction, max_spikes=max_spikes,
        rng=rng, null_cache=null_cache, selection=selection, include=include, exclude=exclude,
        embeddings=embeddings, others=others, min_side=min_side, format=format,
        allow_unsafe_pickle=allow_unsafe_pickle, blas_threads=blas_threads, errors=errors,
        workers=workers)
    return frame


def analyze_with_reports(model_or_path, *, alpha: float = 0.05, method: str = "auto",
                         correction: str = "fdr_bh", max_spikes: int | None = None, rng=0,
                         null_cache=None, selection=None, include=None, exclude=None,
                         embeddings: bool = False,
                         others: bool = False, min_side: int = 2, format: str | None = None,
                         allow_unsafe_pickle: bool = False, blas_threads: int | None = 1,
                         errors: str = "raise", workers: int = 1) -> tuple[pd.DataFrame, list]:
    """:func:`analyze`'s table and the :class:`~bbpfit.zoo.layer.LayerReport` s it was built from.

    The one implementation of :func:`analyze` (which returns the table only); the command line's
    ``check --plot`` draws the reports' spectra. Same parameters and errors as :func:`analyze`.
    """
    alpha = check_options(alpha, method, correction)
    workers = check_int(workers, "workers", minimum=1)
    cache = default_null_cache() if null_cache is None else null_cache
    selection = {"selection": selection, "include": include, "exclude": exclude,
                 "embeddings": embeddings, "others": others, "min_side": min_side, "format": format,
                 "allow_unsafe_pickle": allow_unsafe_pickle}
    if workers > 1:
        from .parallel import iter_reports_parallel

        reports = list(iter_reports_parallel(
            model_or_path, workers=workers, alpha=alpha, method=method, max_spikes=max_spikes,
            rng=rng, null_cache=cache, blas_threads=blas_threads, errors=errors, **selection))
    else:
        with _blas_threads(blas_threads):
            reports = list(iter_reports(
                model_or_path, alpha=alpha, method=method, max_spikes=max_spikes, rng=rng,
                null_cache=cache, errors=errors, **selection))
    if not reports:
        raise NoLayerError(NO_LAYER)
    frame = frame_from_reports(reports, alpha=alpha, correction=correction)
    frame.attrs.update({"method": method, "bbpfit_version": __version__})
    return frame, reports
