"""Null and spiked random matrices: iid noise plus planted low-rank signal, in noise units.

Owns :func:`spiked_matrix`, the additive (information-plus-noise) model of DESIGN.md,
``W = sigma (Z + sqrt(n) sum_i theta_i u_i v_i^T)`` with ``n = max(rows, cols)``, and the Haar
draw of the planted orthonormal directions.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_real_array, check_int, check_positive
from .noise import noise_entries

__all__ = ["random_orthonormal", "spiked_matrix"]


def random_orthonormal(dim: int, k: int, rng) -> np.ndarray:
    """A Haar-distributed ``dim x k`` matrix with orthonormal columns (``k <= dim``)."""
    q, r = np.linalg.qr(rng.standard_normal((dim, k)))
    return q * np.sign(np.diag(r))  # sign fix makes the draw exactly Haar


def check_strengths(values, name: str) -> np.ndarray:
    """Return non-negative finite strengths as a 1-D float array (possibly empty)."""
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0)
    arr = np.atleast_1d(as_real_array(arr, name, min_ndim=0))
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be a scalar or 1-D sequence, got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError(f"`{name}` must be >= 0, got {arr.tolist()}")
    return arr


def spiked_matrix(n_rows, n_cols, thetas=(), *, sigma2=1.0, noise="gaussian", df=5.0, p=0.1,
                  rng=None, return_factors=False):
    """Draw ``W = sigma (Z + sqrt(n) sum_i theta_i u_i v_i^T)``, a noise matrix plus planted spikes.

    Parameters
    ----------
    n_rows, n_cols : int
        Shape of ``W``; ``n = max(n_rows, n_cols)`` sets the spike units whatever the orientation.
    thetas : float or sequence of float, default ()
        Spike strengths ``theta_i >= 0`` in noise units (rank ``r = len(thetas) <= min side``);
        empty for the null. The BBP threshold is ``(m / n)**0.25``.
    sigma2 : float, default 1.0
        Entry variance of the noise, ``sigma = sqrt(sigma2)``.
    noise : str, default "gaussian"
        Entry law of ``Z``, a key of :data:`bbpfit.simulate.NOISE` (unit variance).
    df, p : float
        Parameters of the ``"student-t"`` and ``"sparse"`` laws (see
        :func:`bbpfit.simulate.noise_entries`).
    rng : None, int or numpy.random.Generator
        Seed or generator.
    return_factors : bool, default False
        Also return the planted directions.

    Returns
    -------
    W : numpy.ndarray
        float64, shape ``(n_rows, n_cols)``.
    U, V : numpy.ndarray
        Only with ``return_factors=True``: orthonormal columns ``u_i`` (``(n_rows, r)``) and
        ``v_i`` (``(n_cols, r)``), Haar-distributed and independent of ``Z``.

    Raises
    ------
    ValueError
        Non-positive sizes or ``sigma2``, negative or non-finite ``thetas``, more spikes than the
        smaller side, an unknown ``noise`` name.

    Notes
    -----
    With ``lambda = s^2 / n`` and ``q = m / n``, each ``theta_i > q^(1/4)`` produces an outlier
    near ``sigma2 (1 + theta^2)(q + theta^2) / theta^2`` and the rest of the spectrum fills the
    Marchenko-Pastur bulk ``[sigma2 (1 - sqrt q)^2, sigma2 (1 + sqrt q)^2]`` [1]_; weaker spikes
    leave no outlier. The limits hold for every unit-variance entry law; heavy tails
    (``"student-t"``, ``"sparse"``) converge slowly.

    References
    ----------
    .. [1] F. Benaych-Georges and R. R. Nadakuditi, "The singular values and vectors of low rank
       perturbations of large rectangular random matrices", J. Multivariate Anal. 111:120-135,
       2012. doi:10.1016/j.jmva.2012.04.019

    Examples
    --------
    >>> import numpy as np
    >>> import bbpfit as bf
    >>> from bbpfit.simulate import spiked_matrix
    >>> W = spiked_matrix(1000, 500, [2.0], rng=np.random.default_rng(0))
    >>> lam = bf.eigenvalues(W)
    >>> round(bf.spike_eigenvalue(2.0, 0.5), 3), bool(abs(lam[0] / 5.625 - 1) < 0.1)
    (5.625, True)
    """
    rows = check_int(n_rows, "n_rows", minimum=1)
    cols = check_int(n_cols, "n_cols", minimum=1)
    sigma = check_positive(sigma2, "sigma2") ** 0.5
    theta = check_strengths(thetas, "thetas")
    r = theta.size
    if r > min(rows, cols):
        raise ValueError(f"`thetas` has {r} spikes but the smaller side is {min(rows, cols)}")
    rng = np.random.default_rng(rng)
    W = noise_entries((rows, cols), noise, df=df, p=p, rng=rng)
    U = random_orthonormal(rows, r, rng)
    V = random_orthonormal(cols, r, rng)
    if r:
        W += (U * (np.sqrt(max(rows, cols)) * theta)) @ V.T
    W *= sigma
    return (W, U, V) if return_factors else W
