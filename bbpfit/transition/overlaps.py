"""Numpy kernels of singular-vector alignment: persistence, degenerate subspaces, projections.

Owns the array arithmetic behind :func:`bbpfit.transition.alignment.alignment`. Vectors come as
``(steps, k, d)`` float arrays of unit rows (NaN rows for steps a layer was not recorded at);
every overlap is a squared cosine, so the sign of a singular vector never matters.

* :func:`persistence` -- ``|<v_k(t), v_k(t')>|^2`` against the previous record and the last one;
* :func:`degenerate_groups` and :func:`subspace_persistence` -- ranks whose eigenvalues lie
  within a relative gap ``tol`` of each other form one group (chained), and the group is
  compared as a subspace: the mean squared cosine of the principal angles,
  ``||A_C^T B_C||_F^2 / |C|``. Two close spikes that swap order keep a value near 1, where the
  rank-by-rank persistence drops to near 0;
* :func:`projection` -- ``|<v_k, d_j>|^2`` for fixed unit directions ``d_j`` (a teacher, the next
  layer's vectors) and the part of ``d_j`` captured by the top-k span.
"""

from __future__ import annotations

import numpy as np

__all__ = ["degenerate_groups", "persistence", "projection", "subspace_persistence"]


def persistence(vec: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``|<vec[t, k], ref[t, k]>|^2`` over the last axis; shapes (..., k, d) -> (..., k)."""
    return np.einsum("...d,...d->...", vec, ref) ** 2


def degenerate_groups(lam: np.ndarray, tol: float) -> np.ndarray:
    """Group labels (k,) of descending eigenvalues: a new group starts where the relative gap
    ``(lam[j-1] - lam[j]) / lam[j-1]`` exceeds ``tol`` (or either value is not finite)."""
    lam = np.asarray(lam, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = (lam[:-1] - lam[1:]) / np.abs(lam[:-1])
    cut = ~(np.isfinite(gap) & (gap <= tol))
    return np.concatenate([[0], np.cumsum(cut)]).astype(np.int64)


def _joint_groups(g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """The finest grouping coarser than both: a boundary stays only where both have one."""
    cut = (np.diff(g1) != 0) & (np.diff(g2) != 0)
    return np.concatenate([[0], np.cumsum(cut)]).astype(np.int64)


def subspace_persistence(a: np.ndarray, b: np.ndarray, lam_a: np.ndarray, lam_b: np.ndarray,
                         tol: float) -> np.ndarray:
    """Per rank, the mean squared cosine of the principal angles between the spans of its
    near-degenerate group at the two records (groups joined over both records).

    Parameters
    ----------
    a, b : numpy.ndarray, shape (k, d)
        Unit vectors at two records (rows in descending eigenvalue order).
    lam_a, lam_b : numpy.ndarray, shape (k,)
        Their eigenvalues (for the groups).
    tol : float
        Relative eigenvalue gap below which ranks are one group (0: every rank alone).

    Returns
    -------
    numpy.ndarray, shape (k,)
        ``||A_C^T B_C||_F^2 / |C|`` for the group ``C`` holding each rank; equals
        :func:`persistence` for a rank alone in its group. NaN for a rank missing at either
        record (not recorded, or beyond the layer's ``m``).
    """
    out = np.full(a.shape[0], np.nan)
    ok = np.flatnonzero(np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1))
    if ok.size == 0:
        return out
    groups = _joint_groups(degenerate_groups(lam_a[ok], tol), degenerate_groups(lam_b[ok], tol))
    cross = a[ok] @ b[ok].T
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        out[ok[idx]] = np.sum(cross[np.ix_(idx, idx)] ** 2) / idx.size
    return out


def projection(vec: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared overlaps of vectors with fixed unit directions, and the part of each direction
    captured by the vectors' span.

    Parameters
    ----------
    vec : numpy.ndarray, shape (steps, k, d)
        Orthonormal rows per step.
    directions : numpy.ndarray, shape (j, d) or (steps, j, d)
        Unit directions (the same at every step, or one set per step).

    Returns
    -------
    overlap : numpy.ndarray, shape (steps, k, j)
        ``|<vec_k, d_j>|^2``.
    captured : numpy.ndarray, shape (steps, j)
        ``sum_k |<vec_k, d_j>|^2``: the squared norm of ``d_j``'s projection on the span (chance
        level ``k / d`` for a random direction).
    """
    if directions.ndim == 2:
        ov = np.einsum("skd,jd->skj", vec, directions) ** 2
    else:
        ov = np.einsum("skd,sjd->skj", vec, directions) ** 2
    return ov, ov.sum(axis=1)
