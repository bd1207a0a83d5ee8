"""Level statistics of the bulk over training: the spacing ratio and the step-to-step fluctuation.

Owns two observables of the Dyson-Brownian-motion picture of SGD (Aarts, Lucini & Park 2024),
numpy kernels on the last axis (the rank axis of a descending spectrum):

* :func:`spacing_ratio` -- the mean of ``r_j = min(d_j, d_(j+1)) / max(d_j, d_(j+1))`` with
  ``d_j = l_j - l_(j+1)`` over the central bulk (ranks between the 10% and 90% quantiles), which
  needs no unfolding: GOE (and the Marchenko-Pastur bulk) 0.5307, Poisson ``2 ln 2 - 1 = 0.3863``
  (Atas et al. 2013);
* :func:`fluctuation` -- the DBM "temperature": the mean square of the step-to-step change of
  the central bulk eigenvalues, after removing its smooth part (a line in ``l_j``), per
  optimizer step; it scales as learning rate over batch size.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GOE_SPACING_RATIO", "POISSON_SPACING_RATIO", "fluctuation", "spacing_ratio"]

#: Mean spacing ratio of large GOE matrices (Atas, Bogomolny, Giraud & Roux 2013).
GOE_SPACING_RATIO = 0.5307
#: Mean spacing ratio of independent levels, ``2 ln 2 - 1``.
POISSON_SPACING_RATIO = 2.0 * np.log(2.0) - 1.0

_LOW, _HIGH = 0.1, 0.9


def _central(m: int) -> slice:
    return slice(int(np.floor(_LOW * m)), max(int(np.ceil(_HIGH * m)), int(np.floor(_LOW * m)) + 3))


def spacing_ratio(eigenvalues) -> np.ndarray:
    """Mean spacing ratio ``<r>`` of the central bulk of each spectrum on the last axis.

    Parameters
    ----------
    eigenvalues : array_like, shape (..., m)
        Descending spectra (``m >= 10``).

    Returns
    -------
    numpy.ndarray
        Shape ``(...)``.

    References
    ----------
    Y. Y. Atas, E. Bogomolny, O. Giraud and G. Roux, "Distribution of the ratio of consecutive
    level spacings in random matrix ensembles", Phys. Rev. Lett. 110:084101 (2013).
    doi:10.1103/PhysRevLett.110.084101

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.laws.wishart import null_eigenvalues
    >>> from bbpfit.transition.levels import spacing_ratio
    >>> lam = null_eigenvalues(2000, 1000, 20, rng=np.random.default_rng(0))
    >>> round(float(spacing_ratio(lam).mean()), 2)
    0.53
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    c = lam[..., _central(lam.shape[-1])]
    d = c[..., :-1] - c[..., 1:]
    lo, hi = np.minimum(d[..., :-1], d[..., 1:]), np.maximum(d[..., :-1], d[..., 1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(hi > 0, lo / hi, np.nan)
    return np.nanmean(r, axis=-1) if r.shape[-1] else np.full(lam.shape[:-1], np.nan)


def fluctuation(eigenvalues, steps) -> np.ndarray:
    """Step-to-step fluctuation of the central bulk eigenvalues, per optimizer step.

    For records ``t-1, t`` the changes ``d_j = l_j(t) - l_j(t-1)`` of the central ranks are
    regressed on ``l_j(t-1)`` (removing the bulk's overall shift and stretch); the residual mean
    square divided by ``steps[t] - steps[t-1]`` is the value at record ``t`` (NaN at the first).

    Parameters
    ----------
    eigenvalues : array_like, shape (..., k, m)
        Descending spectra over ``k`` records.
    steps : array_like, shape (k,)
        Increasing steps.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., k)``.

    References
    ----------
    G. Aarts, B. Lucini and C. Park, "Stochastic weight matrix dynamics during learning and Dyson
    Brownian motion", arXiv:2407.16427 (2024). doi:10.48550/arXiv.2407.16427
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.float64)
    c = lam[..., _central(lam.shape[-1])]
    out = np.full(lam.shape[:-1], np.nan)
    if c.shape[-2] < 2:
        return out
    x = c[..., :-1, :]
    y = c[..., 1:, :] - x
    xm = x.mean(axis=-1, keepdims=True)
    ym = y.mean(axis=-1, keepdims=True)
    sxx = np.sum((x - xm) ** 2, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(sxx > 0, np.sum((x - xm) * (y - ym), axis=-1, keepdims=True) / sxx, 0.0)
        resid = y - ym - slope * (x - xm)
        ms = np.sum(resid**2, axis=-1) / max(c.shape[-1] - 2, 1)
    out[..., 1:] = ms / np.diff(steps)
    return out
