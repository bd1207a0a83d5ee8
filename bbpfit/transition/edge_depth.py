"""The soft-edge test that other spikes cannot mask: the edge fitted at several depths.

Owns :func:`depth_tests`, the per-step soft-edge test of :mod:`bbpfit.transition.significance`.
The edge statistic of :mod:`bbpfit.transition.edge` judges rank ``k`` against the edge fitted on
the ``K`` eigenvalues right below it. When a layer has several spikes, the ones below rank ``k``
sit in that fit and lift the edge to them (masking): on the demo's teacher-student run the
second spike was not significant for 280 steps because the third sat in its fit. Here rank
``k`` is also judged against the edge fitted ``d`` ranks deeper (ranks ``k + d + 1 .. k + d +
K``, at Airy positions ``xi_(d+2) .. xi_(d+K+1)``, as if rank ``k`` were the top of the bulk and
the ``d`` ranks right below it were other spikes), for ``d`` in :data:`DEPTHS`: a spike masked
by up to ``max(DEPTHS)`` others is found by the fit that goes below them.

Each depth has its own null law (a deeper fit extrapolates further, so ``T_d`` has a heavier
tail), and the depths are combined by the smallest marginal p-value ``U``, whose null law is
tabulated too, per number of depths that fit in the layer below rank ``k``. The p-value of rank
``k`` is ``P(U_null <= U)``, whatever depth decides. The tables come from simulated Gaussian
bulks (``data/edge_depth_null.npz``, made by ``scripts/make_edge_depth_table.py``; depth 0 is
the table of :mod:`bbpfit.transition.edge_null`). The statistics are free of location and
scale, but the deeper fits reach past the edge's Airy regime in small bulks, so their null
drifts with the size; the tables are envelopes over six shapes from 96 x 48 to 2000 x 1000,
conservative at each (a fresh 200 x 100 simulation: 3.3% at a nominal 5%).
``tests/test_transition_edge_depth.py`` checks the per-step false-positive rate on deformed
bulks of several shapes and the table against a fresh simulation by ``numpy.linalg``.
Beyond the simulated range (``p < 1e-3``) a depth's survival
function follows its fitted power-law tail, and ``P(U <= u)`` is ``u`` times its ratio at the
end of the table (between 1 and the number of depths: the Bonferroni bound).
"""

from __future__ import annotations

import numpy as np

from .._data import load_npz
from .edge import edge_fit, edge_statistics
from .edge_null import _LOG_SF, AIRY_MEANS, EDGE_K, edge_critical, edge_pvalue

__all__ = ["DEPTHS", "depth_tests", "marginal_pvalue", "n_depths"]

#: Ranks skipped below the tested one by each edge fit (the deepest reaches ``xi_24``).
DEPTHS = (0, 1, 3, 7)
_SCRIPT = "scripts/make_edge_depth_table.py"


def _table():
    return load_npz("edge_depth_null.npz", "soft-edge depth null", _SCRIPT)


def n_depths(k, m: int):
    """How many of :data:`DEPTHS` fit below rank ``k`` of ``m`` eigenvalues (0 for none)."""
    k = np.asarray(k)
    return sum((k + d + 1 + EDGE_K <= m).astype(np.int64) for d in DEPTHS)


def _increasing(t: np.ndarray) -> np.ndarray:
    """The quantiles with ``-inf`` (degenerate fits) replaced by a strictly increasing ramp."""
    t = np.array(t, dtype=np.float64)
    bad = ~np.isfinite(t)
    if bad.any():
        first = t[~bad][0]
        t[bad] = first - (np.flatnonzero(bad)[::-1] + 1) * 1e-6 - 1.0
    return t


def marginal_pvalue(t, tq, tail) -> np.ndarray:
    """``P(T_d >= t)`` from the quantiles ``tq`` of ``T_d`` at ``exp(_LOG_SF)`` (NaN gives 1)."""
    t = np.asarray(t, dtype=np.float64)
    tq = _increasing(tq)
    logp = np.interp(t, tq, _LOG_SF, left=0.0)
    beyond = t > tq[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        far = _LOG_SF[-1] - float(tail) * np.log(np.where(beyond, t, tq[-1]) / tq[-1])
    return np.where(np.isnan(t), 1.0, np.exp(np.where(beyond, far, logp)))


def _marginal_critical(level: float, i: int) -> float:
    """The ``t`` with ``P(T_(DEPTHS[i]) >= t) = level``."""
    if i == 0:
        return edge_critical(level)
    tab = _table()
    tq = _increasing(tab["t"][i])
    lp = float(np.log(level))
    if lp >= _LOG_SF[-1]:
        return float(np.interp(-lp, -_LOG_SF, tq))
    return float(tq[-1] * np.exp((_LOG_SF[-1] - lp) / float(tab["tail"][i])))


def _marginal_pvalues(T: np.ndarray) -> np.ndarray:
    """Marginal p-values of ``T`` (..., len(DEPTHS)) depth by depth."""
    tab = _table()
    out = np.empty(T.shape)
    out[..., 0] = edge_pvalue(T[..., 0])
    for i in range(1, len(DEPTHS)):
        out[..., i] = marginal_pvalue(T[..., i], tab["t"][i], tab["tail"][i])
    return out


def _combined(u: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``P(U_j <= u)`` under the null, ``j`` depths available (``j = 0``: 1)."""
    logu_tab = _table()["log_u"]
    lu = np.log(np.clip(u, 1e-300, 1.0))
    out = np.ones(u.shape)
    for jj in range(1, len(DEPTHS) + 1):
        sel = j == jj
        if not sel.any():
            continue
        q = logu_tab[jj - 1][::-1]  # ascending log u at ascending log P
        lp = _LOG_SF[::-1]
        x = lu[sel]
        val = np.interp(x, q, lp, right=0.0)
        low = x < q[0]
        val[low] = lp[0] + (x[low] - q[0])
        out[sel] = np.minimum(np.exp(val), 1.0)
    return out


def _combined_level(level: float, j: int) -> float:
    """The smallest marginal p-value ``u`` with ``P(U_j <= u) = level``."""
    q = _table()["log_u"][j - 1][::-1]
    lp = _LOG_SF[::-1]
    x = float(np.log(level))
    if x < lp[0]:
        return float(np.exp(q[0] + (x - lp[0])))
    return float(np.exp(np.interp(x, lp, q)))


def depth_tests(lam2d: np.ndarray, ranks: int, kmax: int, crit_level: float) -> dict:
    """Soft-edge tests of the top ``ranks`` ranks of descending spectra (rows, m), all depths.

    Parameters
    ----------
    lam2d : numpy.ndarray, shape (rows, m)
        Descending spectra, C-contiguous.
    ranks : int
        Ranks with a p-value (the spike count goes this deep).
    kmax : int
        Ranks (``<= ranks``) that also get a critical eigenvalue.
    crit_level : float
        Level of the critical eigenvalue.

    Returns
    -------
    dict
        ``pvalue`` (rows, ranks): ``P(U_null <= U)``, calibrated; ``depth`` (rows, ranks): the
        depth whose fit gave the smallest marginal p-value (NaN when none fits); ``crit`` (rows,
        kmax): the smallest eigenvalue rank ``k`` would need to be significant at
        ``crit_level`` (the minimum over depths of ``b_d + s_d t_d``); ``edge`` (rows, kmax): the
        ``b_d`` of the depth that gives ``crit``; ``crit_depth`` (rows, kmax): that depth.
    """
    rows, m = lam2d.shape
    T = np.stack([edge_statistics(lam2d, EDGE_K, ranks, AIRY_MEANS, d) for d in DEPTHS], axis=-1)
    j = n_depths(np.arange(ranks), m)
    avail = np.arange(len(DEPTHS))[None, :] < j[:, None]  # (ranks, depths)
    P = np.where(avail[None], _marginal_pvalues(T), 1.0)
    best = np.argmin(P, axis=-1)
    depth = np.where(np.isnan(T).all(axis=-1) | (j[None] == 0), np.nan, np.asarray(DEPTHS)[best])
    pvalue = _combined(P.min(axis=-1), np.broadcast_to(j[None], (rows, ranks)))
    crit = np.full((rows, kmax), np.nan)
    edge = np.full((rows, kmax), np.nan)
    crit_depth = np.full((rows, kmax), np.nan)
    for k in range(kmax):
        if j[k] == 0:
            continue
        u = _combined_level(crit_level, int(j[k]))
        for i in range(int(j[k])):
            t = _marginal_critical(u, i)
            d = DEPTHS[i]
            for r in range(rows):
                b, s = edge_fit(lam2d[r], k + d + 1, EDGE_K, d + 1, AIRY_MEANS)
                c = b + s * t
                if s > 0 and not c >= crit[r, k]:
                    crit[r, k], edge[r, k], crit_depth[r, k] = c, b, d
    return {"pvalue": pvalue, "depth": depth, "crit": crit, "edge": edge, "crit_depth": crit_depth}
