"""Per-step diagnostics of each layer: bulk fit, edge, tests, strengths and level statistics.

Owns :func:`layer_diagnostics` (a numpy kernel over one layer's spectra, steps x m) and
:func:`step_diagnostics`, its thin :func:`xarray.apply_ufunc` wrapper over a store. Per step:
the Marchenko-Pastur fit (``sigma2``, ``mp_edge``), the soft edge of the bulk the layer actually
has (``edge``, ``edge_scale``) and its BBP threshold ``theta_c`` (:mod:`.dtransform`), the
spike count at ``alpha``, the spacing ratio and the DBM fluctuation (:mod:`.levels`). Per step
and spike rank: the TW-scaled gap, the p-value of the test valid for that bulk
(:mod:`.significance`), ``theta_hat`` and the ratio ``theta_hat / theta_c`` with its censoring
point. Strengths come from the exact MP inverse while the bulk's edge is MP, from the empirical
D-transform otherwise (with a finite-size correction of the threshold, ``1 + 0.13 m^(-1/3)``,
calibrated on MP bulks from 100 to 2000 ranks where the raw estimate is 1-4% low).
"""

from __future__ import annotations

import numpy as np

from ..fit import fit_mp_array
from ..laws import spike_strength
from .dtransform import d_transform_strengths
from .edge_null import AIRY_MEANS, EDGE_K
from .levels import fluctuation, spacing_ratio
from .significance import step_tests

__all__ = ["MIN_M", "layer_diagnostics", "step_diagnostics"]

#: Smallest layer (``m = min(rows, cols)``) with a soft-edge fit; smaller layers (down to
#: ``m = 3``) get the exact Marchenko-Pastur test only (their bulk's shape cannot be checked).
MIN_M = 24
#: Finite-size correction of the empirical threshold: ``theta_c * (1 + _FS m^(-1/3))``.
_FS = 0.13

_PER_STEP = ("sigma2", "mp_edge", "edge", "edge_scale", "theta_c", "n_spikes", "spacing_ratio",
             "fluctuation", "bulk_offset", "bulk_offset_smooth", "null_mp", "test_edge",
             "test_crit")
_PER_RANK = ("gap", "pvalue", "pvalue_seq", "mp_test", "edge_depth", "theta_hat", "ratio",
             "ratio_crit")


def _bbp_ratio(lam, n, m, s2):
    """``theta-hat / theta_c`` by the MP inverse of ``lam / s2`` (arrays), the edge maps to 1."""
    q = m / n
    y = np.maximum(np.where(np.isfinite(lam), lam, 0.0) / s2, (1.0 + q**0.5) ** 2)
    out = np.atleast_1d(spike_strength(y, q)) / q**0.25
    return np.where(np.isfinite(lam), out, np.nan)


def n_ranks(m: int, max_spikes: int) -> int:
    """Ranks examined in a layer of ``m`` eigenvalues: ``max_spikes``, at most ``m - 20`` (soft
    edge) or ``m - 2`` for a layer below :data:`MIN_M`."""
    room = m - 2 if m < MIN_M else m - EDGE_K - 4
    return max(1, min(max_spikes, room))


def layer_diagnostics(lam, steps, n, *, max_spikes=3, alpha=0.05, crit_level=None,
                      n_null=9999, cache=None) -> dict:
    """Per-step diagnostics of one layer from its descending spectra ``lam`` (steps, m).

    Parameters
    ----------
    lam : array_like, shape (steps, m)
        Descending eigenvalues ``s**2 / n`` per recorded step.
    steps : array_like, shape (steps,)
        The recorded steps (increasing).
    n : int
        The long side of the matrix.
    max_spikes : int, default 3
        Ranks examined (at most ``m - 20``; ``m - 2`` when ``m < 24``).
    alpha : float, default 0.05
        Per-step level of the spike count (and of the censoring point by default).
    crit_level : float, optional
        Level at which the censoring point ``ratio_crit`` is computed.
    n_null, cache
        Draws and cache of the exact MP null (:func:`bbpfit.inference.null_distribution`).

    Returns
    -------
    dict
        Numpy arrays: per step (steps,) ``sigma2, mp_edge, edge, edge_scale, theta_c, n_spikes,
        spacing_ratio, fluctuation, bulk_offset, bulk_offset_smooth, null_mp, test_edge,
        test_crit`` (``null_mp`` 1 where the step used the MP null, 0 the soft edge;
        ``test_edge`` to ``test_crit``: the null's edge up to the eigenvalue rank 0 needs;
        ``n_spikes`` is not capped at ``max_spikes``, see
        :func:`~bbpfit.transition.significance.step_tests`); per step and rank
        (steps, max_spikes) ``gap, pvalue, pvalue_seq, mp_test, edge_depth, theta_hat, ratio,
        ratio_crit`` (``edge_depth``: on soft-edge steps, how many ranks below rank ``k`` the
        edge fit that decided its p-value skipped, 0, 1, 3 or 7; NaN on MP steps).
        Rows with NaN eigenvalues (a step the layer was not recorded at) are NaN throughout.

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.simulate import spike_trajectory
    >>> from bbpfit.transition import layer_diagnostics
    >>> tr = spike_trajectory(400, 200, 30, lambda t: 0.1 * t, rng=np.random.default_rng(0))
    >>> d = layer_diagnostics(tr.eigenvalues, tr.steps, 400)
    >>> bool(d["pvalue"][-1, 0] < 1e-6), bool(d["pvalue"][0, 0] > 0.01), d["ratio"].shape
    (True, True, (30, 3))
    """
    lam = np.asarray(lam, dtype=np.float64)
    S, m = lam.shape
    crit_level = alpha if crit_level is None else crit_level
    kmax = n_ranks(m, max_spikes)
    out = {k: np.full(S, np.nan) for k in _PER_STEP}
    out.update({k: np.full((S, kmax), np.nan) for k in _PER_RANK})
    good = np.all(np.isfinite(lam), axis=1) & (lam[:, 0] > 0)
    out["spacing_ratio"] = spacing_ratio(lam)
    out["fluctuation"][good] = fluctuation(lam[good], np.asarray(steps)[good])
    if not good.any() or m < 3:
        return out
    L = np.ascontiguousarray(lam[good])
    fit = fit_mp_array(L, n, distance=False)
    out["sigma2"][good], out["mp_edge"][good] = fit.sigma2, fit.upper_edge
    tests = step_tests(L, n, kmax=kmax, crit_level=crit_level, alpha=alpha, n_null=n_null,
                       cache=cache)
    n_sp = np.sum(np.cumprod(tests["pvalue_seq"] <= alpha, axis=1), axis=1).astype(np.int64)
    crit = np.where(np.isfinite(tests["crit"]), tests["crit"], np.nan)
    corr = 1.0 + _FS * m ** (-1.0 / 3.0)
    if m >= MIN_M:
        edge, scale, tc, th, tck, tcr = d_transform_strengths(L, float(n), n_sp, EDGE_K,
                                                              AIRY_MEANS, np.ascontiguousarray(crit))
        ratio, ratio_c = th / (tck * corr), tcr / (tck * corr)
    else:  # no soft-edge fit: the MP inverse only
        edge = scale = tc = np.full(L.shape[0], np.nan)
        ratio = ratio_c = np.full((L.shape[0], kmax), np.nan)
    mp = tests["mp"]
    s2 = tests["sigma2"]
    for k in range(kmax if m >= MIN_M else 0):  # a small layer has no bulk to measure strengths
        rows = np.flatnonzero(mp[:, k] & (s2[:, k] > 0))
        if rows.size == 0:
            continue
        ratio[rows, k] = _bbp_ratio(L[rows, k], n, m, s2[rows, k])
        ratio_c[rows, k] = _bbp_ratio(crit[rows, k], n, m, s2[rows, k])
    sigma = np.sqrt(fit.sigma2)
    theta_c = np.where(mp[:, 0], (m / n) ** 0.25, tc * corr / sigma)
    out["edge"][good], out["edge_scale"][good], out["theta_c"][good] = edge, scale, theta_c
    out["n_spikes"][good] = tests["n_spikes"]
    out["bulk_offset"][good], out["bulk_offset_smooth"][good] = tests["offset"], tests["offset_smooth"]
    out["null_mp"][good] = tests["mp_null"]
    out["test_edge"][good], out["test_crit"][good] = tests["edge0"], crit[:, 0]
    out["gap"][good] = (L[:, :kmax] - edge[:, None]) / scale[:, None]
    out["pvalue"][good], out["pvalue_seq"][good] = tests["pvalue"], tests["pvalue_seq"]
    out["mp_test"][good] = mp
    out["edge_depth"][good] = tests["edge_depth"]
    out["theta_hat"][good] = ratio * theta_c[:, None]
    out["ratio"][good], out["ratio_crit"][good] = ratio, ratio_c
    return out


def step_diagnostics(eigenvalues, n, *, max_spikes=3, alpha=0.05, crit_level=None, cache=None):
    """Per-step diagnostics of one layer as an :class:`xarray.Dataset` (dims ``step``, ``spike``).

    Parameters
    ----------
    eigenvalues : xarray.DataArray
        One layer's spectra ``(step, rank)``, descending, the ranks beyond its ``m`` removed.
    n : int
        The long side of the matrix.
    max_spikes, alpha, crit_level, cache
        As in :func:`layer_diagnostics` (``cache``: the MP test's null cache).

    Returns
    -------
    xarray.Dataset
        The variables of :func:`layer_diagnostics`, each with a ``long_name``.
    """
    import xarray as xr

    names = _PER_STEP + _PER_RANK
    kmax = n_ranks(eigenvalues.sizes["rank"], max_spikes)

    def kernel(lam, steps):
        d = layer_diagnostics(lam, steps, n, max_spikes=max_spikes, alpha=alpha,
                              crit_level=crit_level, cache=cache)
        return tuple(d[k] for k in names)

    res = xr.apply_ufunc(
        kernel, eigenvalues, eigenvalues["step"],
        input_core_dims=[["step", "rank"], ["step"]],
        output_core_dims=[["step"]] * len(_PER_STEP) + [["step", "spike"]] * len(_PER_RANK),
        dask_gufunc_kwargs={"output_sizes": {"spike": kmax}},
    )
    ds = xr.Dataset(dict(zip(names, res, strict=True)))
    ds = ds.assign_coords(spike=np.arange(ds.sizes.get("spike", kmax)))
    ds["mp_test"] = ds["mp_test"] == 1.0
    attrs = {"sigma2": "MP noise variance (Kritchman-Nadler)", "mp_edge": "MP upper edge",
             "edge": "soft-edge fit of the bulk (TW centring)", "edge_scale": "one TW unit",
             "theta_c": "BBP threshold of the bulk, noise units",
             "n_spikes": "ranks significant at alpha (fixed sequence over all ranks down to m - 20, "
                         "not capped at max_spikes)",
             "bulk_offset": "mean TW offset of the K eigenvalues below the MP fit's outliers from "
                            "their MP positions (NaN: no bulk left below the outliers)",
             "bulk_offset_smooth": "running median of bulk_offset over 5 records",
             "test_edge": "TW centring of the step's null for rank 0 (MP or soft edge)",
             "test_crit": "eigenvalue rank 0 must exceed to be significant at crit_level",
             "null_mp": "1: the step used the exact MP null (bulk_offset_smooth <= 1.5 TW units, "
                        "or m < 24); 0: the soft-edge null (bulk deformed)",
             "spacing_ratio": "mean spacing ratio <r> of the central bulk",
             "fluctuation": "step-to-step variance of the central bulk per optimizer step",
             "gap": "(lambda_k - edge) / edge_scale", "pvalue": "rank k as the top of its bulk",
             "pvalue_seq": "max of pvalue over ranks <= k", "mp_test": "exact MP test used",
             "edge_depth": "soft-edge steps: ranks skipped below rank k by the edge fit that "
                           "decided its p-value (0, 1, 3, 7; deeper fits see past other spikes)",
             "theta_hat": "strength, noise units", "ratio": "theta_hat / theta_c",
             "ratio_crit": "ratio the test would call significant (censoring point)"}
    for key, text in attrs.items():
        ds[key].attrs["long_name"] = text
    small = eigenvalues.sizes["rank"] < MIN_M
    mp_name = "mp (m < 24: bulk shape not checked)" if small else "mp"
    null = np.where(ds["null_mp"].values == 1.0, mp_name,
                    np.where(ds["null_mp"].values == 0.0, "soft-edge", ""))
    ds["null"] = (ds["null_mp"].dims, null.astype(object))
    ds["null"].attrs["long_name"] = ("the step's null: 'mp' (bulk edge at its MP position, "
                                     "bulk_offset_smooth <= 1.5), 'soft-edge' (bulk deformed)")
    return ds
