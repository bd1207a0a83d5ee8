"""`alignment`: what a store's recorded singular vectors say, with the BBP prediction beside it.

Owns the public entry point over a store with vectors (``left_vectors(layer, vector_step, k,
row)`` and ``right_vectors(layer, vector_step, k, col)``; older stores index them by ``step``,
renamed here): per layer, recorded vector step and rank, the persistence of each vector over
training, its near-degenerate subspace version (:mod:`.overlaps`), the BBP prediction of the
overlap with the unknown population direction from theta-hat (:mod:`bbpfit.laws.overlap`, with
an interval from :func:`bbpfit.inference.strengths.strength_interval`), the alignment between
chained layers and the overlap with user-given directions.
"""

from __future__ import annotations

import os

import numpy as np

from .._validation import check_int, check_positive
from ..inference.strengths import strength_interval
from ..laws.overlap import predicted_overlaps
from .api import _select
from .diagnostics import step_diagnostics
from .null_table import TRANSITION_NULL_CACHE
from .overlaps import persistence, projection, subspace_persistence

__all__ = ["alignment"]

_SIDES = {"left": ("left_vectors", "row", "rows"), "right": ("right_vectors", "col", "cols")}


def _open(spectra):
    import xarray as xr

    if isinstance(spectra, (str, os.PathLike)):
        from ..store import open_spectra

        spectra = open_spectra(spectra)
    if not isinstance(spectra, xr.Dataset):
        raise TypeError("`spectra` must be a spectra Dataset (bbpfit.open_spectra) or a store "
                        f"path, got {type(spectra).__name__}")
    missing = [v for v in ("eigenvalues", "left_vectors", "right_vectors") if v not in spectra]
    if missing:
        raise ValueError(f"`spectra` has no {' / '.join(missing)}: record with "
                         "SpectrumRecorder(..., top_k_vectors=k) to store singular vectors")
    for var in ("left_vectors", "right_vectors"):
        if "vector_step" not in spectra[var].dims:
            spectra = spectra.assign({var: spectra[var].rename(step="vector_step")})
    return spectra


def _unit_vectors(ds, name, side):
    """(steps, k, d) float64 unit rows of one layer, NaN rows where not recorded."""
    var, dim, size = _SIDES[side]
    d = int(ds[size].sel(layer=name))
    v = ds[var].sel(layer=name).transpose("vector_step", "k", dim).values[..., :d].astype(np.float64)
    finite = np.isfinite(v)
    partial = finite.any(-1) & ~finite.all(-1)
    if partial.any() or np.isinf(v).any():
        raise ValueError(f"`spectra` {var} of layer {name!r} holds NaN/Inf inside recorded vectors")
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, v / norm, np.nan)


def _directions(directions, ds, names, side):
    """{layer: (side, (j, d) unit array)} checked against the layers' shapes."""
    if directions is None:
        return {}
    if not isinstance(directions, dict):
        raise TypeError("`directions` must be a dict {layer name: array (d,) or (j, d)}")
    if side not in ("auto", "left", "right"):
        raise ValueError(f"`direction_side` must be 'auto', 'left' or 'right', got {side!r}")
    out = {}
    for name, arr in directions.items():
        if name not in names:
            raise ValueError(f"`directions`: layer {name!r} not among the analysed layers {names}")
        a = np.atleast_2d(np.asarray(arr, dtype=np.float64))
        rows, cols = int(ds["rows"].sel(layer=name)), int(ds["cols"].sel(layer=name))
        if a.ndim != 2 or a.size == 0 or not np.isfinite(a).all():
            raise ValueError(f"`directions[{name!r}]` must be a finite array (d,) or (j, d)")
        s = side
        if s == "auto":
            if rows == cols or a.shape[1] not in (rows, cols):
                raise ValueError(f"`directions[{name!r}]` has length {a.shape[1]}; layer {name!r} is "
                                 f"{rows}x{cols}: give length {rows} (left) or {cols} (right)"
                                 + (" and direction_side=" if rows == cols else ""))
            s = "left" if a.shape[1] == rows else "right"
        want = rows if s == "left" else cols
        if a.shape[1] != want:
            raise ValueError(f"`directions[{name!r}]` has length {a.shape[1]}, {s} vectors of layer "
                             f"{name!r} have length {want}")
        norm = np.linalg.norm(a, axis=1, keepdims=True)
        if np.any(norm == 0):
            raise ValueError(f"`directions[{name!r}]` holds a zero vector")
        out[name] = (s, a / norm)
    return out


def _prediction(ds, name, vsteps, K, alpha, interval, confidence_level, n_draws, rng):
    """theta-hat / theta_c (steps, K), theta_c (steps,), p-values (steps, K) and predicted
    overlaps with interval (6, steps, K)."""
    n, m = int(ds["n"].sel(layer=name)), int(ds["m"].sel(layer=name))
    rows, cols = int(ds["rows"].sel(layer=name)), int(ds["cols"].sel(layer=name))
    S = vsteps.size
    theta = np.full((S, K), np.nan)
    lo, hi, pv, ratio = theta.copy(), theta.copy(), theta.copy(), theta.copy()
    lam = ds["eigenvalues"].sel(layer=name).isel(rank=slice(0, m)).dropna("step", how="all")
    tc = np.full(S, np.nan)
    if lam.sizes["step"] >= 1 and m >= 3:
        diag = step_diagnostics(lam, n, max_spikes=max(K, 1), alpha=alpha,
                                cache=TRANSITION_NULL_CACHE)
        diag = diag.reindex(step=vsteps)
        kk = min(K, diag.sizes["spike"])
        q = m / n
        # theta-hat is read only where the sequential test finds the rank significant (an
        # eigenvalue not significantly above the edge carries no strength: theta_c, overlap 0)
        pv[:, :kk] = diag["pvalue_seq"].values[:, :kk]
        sig = np.where(np.isfinite(pv[:, :kk]), pv[:, :kk] <= alpha, False)
        raw = diag["ratio"].values[:, :kk]
        ratio[:, :kk] = np.where(sig, raw, np.minimum(raw, 1.0))
        theta[:, :kk] = ratio[:, :kk] * q**0.25  # MP-equivalent strength
        tc = diag["theta_c"].values
        if interval:
            lam_v = lam.reindex(step=vsteps).values
            s2 = diag["sigma2"].values
            mp = np.asarray(diag["mp_test"].fillna(False).values, dtype=bool)  # reindexed: NaN
            seeds = np.random.default_rng(rng).integers(2**62, size=(S, kk))
            for s, k in zip(*np.nonzero(np.isfinite(theta[:, :kk]) & mp[:, :kk]), strict=True):
                lo[s, k], hi[s, k] = strength_interval(
                    float(lam_v[s, k]) / s2[s], n, m - k, confidence_level=confidence_level,
                    n_draws=n_draws, rng=int(seeds[s, k]))
    p = predicted_overlaps(theta, rows, cols, theta_low=lo, theta_high=hi)
    return ratio, tc, pv, np.stack([p.left, p.left_low, p.left_high, p.right, p.right_low,
                                    p.right_high])


def alignment(spectra, *, layer=None, directions=None, direction_side="auto", degenerate_tol=0.05,
              predict=True, interval=True, alpha=0.05, confidence_level=0.9, n_draws=200, rng=0):
    """Alignment of the recorded top singular vectors over training, with the BBP prediction.

    Parameters
    ----------
    spectra : xarray.Dataset or str or os.PathLike
        A store with vectors (:class:`bbpfit.SpectrumRecorder` with ``top_k_vectors``), or its
        path.
    layer : str or list of str, optional
        Layers to analyse (default: all). Chaining follows the store's layer order (a layer's
        next layer is the next one in the store, analysed or not).
    directions : dict, optional
        ``{layer: array (d,) or (j, d)}`` of directions to compare with (a teacher's singular
        vectors, class-mean differences, data principal components); normalised here.
    direction_side : {"auto", "left", "right"}, default "auto"
        Which vectors the directions are compared with: "auto" decides by length (left vectors
        have length ``rows``, e.g. ``out`` of a torch Linear weight), and needs the side for a
        square layer.
    degenerate_tol : float, default 0.05
        Ranks whose eigenvalues are within this relative gap of each other (chained) are
        compared as one subspace in ``subspace_*`` (0: rank by rank).
    predict : bool, default True
        Compute the BBP prediction from theta-hat
        (:func:`bbpfit.transition.step_diagnostics`, the transition layer's strengths).
    interval : bool, default True
        Also its interval, from theta-hat's test-inversion interval (MP bulk steps only).
    alpha, confidence_level, n_draws, rng
        Level of the per-step spike tests; level, draws and seed of theta-hat's interval.

    Returns
    -------
    xarray.Dataset
        Dims ``layer``, ``step`` (the recorded vector steps), ``rank`` (0..k-1), and
        ``direction`` when directions are given. Per (layer, step, rank): ``eigenvalues``;
        ``persistence_left/right`` (``|<v_k(t), v_k(t_prev)>|^2``, previous record; NaN at
        the first) and ``persistence_left_last/right_last`` (against the last record);
        ``subspace_*`` (the same through near-degenerate groups: a swap of two close spikes
        stays near 1); ``predicted_left/right`` with ``_low``/``_high`` (BBP, 0 below
        ``theta_c``, computed at the MP-equivalent strength ``ratio * q^(1/4)``), ``ratio``
        (the transition layer's theta-hat / theta_c of the bulk the layer has, set to at most
        1 where ``pvalue``, the sequential test's per rank, exceeds ``alpha``), ``theta_hat``
        (``ratio * theta_c``, noise units) and ``pvalue``; ``next_layer_overlap``
        (``|<u_k^l, v_k^{l+1}>|^2``, layer l's left vs the next layer's right vectors where
        ``rows_l == cols_{l+1}``, NaN otherwise; coord ``next_layer``) and
        ``next_layer_captured`` (part of ``u_k^l`` in the span of the next layer's top-k right
        vectors; chance ``k / rows``). With directions:
        ``direction_overlap(layer, step, rank, direction)`` and
        ``direction_captured(layer, step, direction)``. Per (layer, step): ``theta_c``.

    Raises
    ------
    ValueError
        A store without vectors, unknown layers, directions of the wrong length or not finite,
        NaN/Inf inside recorded vectors, bad options.
    TypeError
        ``spectra`` or ``directions`` of the wrong type.

    Notes
    -----
    The prediction is the overlap of a sample vector with its population direction, which a
    trained network does not reveal; persistence against a late record is its observable
    stand-in (for independent noise at two records, ``E|<v(t), v(t')>|^2 = ov(t) ov(t')``).

    Examples
    --------
    >>> import numpy as np, tempfile, os, bbpfit as bf
    >>> from bbpfit.store import LayerInfo, SpectraWriter
    >>> rng = np.random.default_rng(0)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.bbp")
    >>> u, v = rng.standard_normal(60), rng.standard_normal(30)
    >>> with SpectraWriter(path, [LayerInfo("w", (60, 30), 60, 30)], top_k=2) as wr:
    ...     for t in range(4):
    ...         W = rng.standard_normal((60, 30)) / 60**0.5 + 0.1 * t * np.outer(u, v) / 50
    ...         U, s, Vt = np.linalg.svd(W, full_matrices=False)
    ...         wr.append(t, [s**2 / 60], left_vectors=[U[:, :2].T], right_vectors=[Vt[:2]])
    >>> al = bf.alignment(path, predict=False)
    >>> al["persistence_right_last"].sel(layer="w", rank=0).values.round(2).tolist()[-1]
    1.0
    """
    import xarray as xr

    ds = _open(spectra)
    names = _select(ds, layer)
    tol = 0.0 if degenerate_tol == 0 else check_positive(degenerate_tol, "degenerate_tol")
    n_draws = check_int(n_draws, "n_draws", minimum=10)
    dirs = _directions(directions, ds, names, direction_side)
    vsteps = np.asarray(ds["vector_step"].values, np.int64)
    if vsteps.size == 0:
        raise ValueError("`spectra` holds no recorded vector step")
    K = ds.sizes["k"]
    S, L = vsteps.size, len(names)
    shape = (L, S, K)
    out = {key: np.full(shape, np.nan) for key in (
        "eigenvalues", "persistence_left", "persistence_right", "persistence_left_last",
        "persistence_right_last", "subspace_left", "subspace_right", "subspace_left_last",
        "subspace_right_last", "predicted_left", "predicted_left_low", "predicted_left_high",
        "predicted_right", "predicted_right_low", "predicted_right_high",
        "theta_hat", "ratio", "pvalue", "next_layer_overlap", "next_layer_captured")}
    theta_c = np.full((L, S), np.nan)
    J = max((a.shape[0] for _, a in dirs.values()), default=0)
    d_ov, d_cap = np.full((L, S, K, J), np.nan), np.full((L, S, J), np.nan)
    vecs = {}
    for i, name in enumerate(names):
        lam = ds["eigenvalues"].sel(layer=name).reindex(step=vsteps).values[:, :K]
        out["eigenvalues"][i, :, : lam.shape[1]] = lam
        for side in ("left", "right"):
            v = vecs[name, side] = _unit_vectors(ds, name, side)
            out[f"persistence_{side}"][i, 1:] = persistence(v[1:], v[:-1])
            out[f"persistence_{side}_last"][i] = persistence(v, v[-1:])
            for s in range(S):
                if s:
                    out[f"subspace_{side}"][i, s] = subspace_persistence(v[s], v[s - 1], lam[s],
                                                                         lam[s - 1], tol)
                out[f"subspace_{side}_last"][i, s] = subspace_persistence(v[s], v[-1], lam[s],
                                                                          lam[-1], tol)
        if predict:
            ratio, tc, pv, pred = _prediction(ds, name, vsteps, K, alpha, interval,
                                              confidence_level, n_draws, rng)
            out["ratio"][i], theta_c[i], out["pvalue"][i] = ratio, tc, pv
            out["theta_hat"][i] = ratio * tc[:, None]
            for key, arr in zip(("predicted_left", "predicted_left_low", "predicted_left_high",
                                 "predicted_right", "predicted_right_low", "predicted_right_high"),
                                pred, strict=True):
                out[key][i] = arr
        if name in dirs:
            side, a = dirs[name]
            ov, cap = projection(vecs[name, side], a)
            d_ov[i, :, :, : a.shape[0]], d_cap[i, :, : a.shape[0]] = ov, cap
    nxt = np.array([""] * L, dtype=object)
    order = [str(x) for x in ds["layer"].values]  # chaining follows the store, not the selection
    for i, a in enumerate(names):
        j = order.index(a) + 1
        if j == len(order):
            continue
        b = order[j]
        if int(ds["rows"].sel(layer=a)) == int(ds["cols"].sel(layer=b)):
            nxt[i] = b
            if (b, "right") not in vecs:
                vecs[b, "right"] = _unit_vectors(ds, b, "right")
            u, v = vecs[a, "left"], vecs[b, "right"]
            out["next_layer_overlap"][i] = persistence(u, v)
            out["next_layer_captured"][i] = projection(u, v)[0].sum(axis=2)
    dims = ("layer", "step", "rank")
    data = {k: (dims, v) for k, v in out.items()}
    data["theta_c"] = (("layer", "step"), theta_c)
    if dirs:
        data["direction_overlap"] = ((*dims, "direction"), d_ov)
        data["direction_captured"] = (("layer", "step", "direction"), d_cap)
    coords = {"layer": names, "step": vsteps, "rank": np.arange(K), "next_layer": ("layer", nxt)}
    if dirs:
        coords["direction"] = np.arange(J)
    return xr.Dataset(data, coords=coords, attrs={"degenerate_tol": tol, "alpha": alpha,
                                                  "confidence_level": confidence_level})
