"""Spike strengths theta-hat (noise units) of detected outliers, with confidence intervals.

Owns three estimators of the strength ``theta`` of ``W = noise + sigma sqrt(n) theta u v^T``:

* :func:`bbp_strengths` -- the inverse BBP map at the noise estimate (MP bulk), censored at the
  threshold ``theta_c`` for an outlier that sits at or below the bulk edge;
* :func:`optshrink_strengths` -- Nadakuditi's (2014) D-transform of the empirical bulk, valid
  when the bulk is not Marchenko-Pastur (heterogeneous or correlated noise);
* :func:`strength_interval` -- a confidence interval by test inversion, from the exact rank-one
  spiked sampler (:func:`bbpfit.laws.wishart.top_eigenvalues` with ``theta``) and a monotone
  root search in ``theta``; common random numbers make the simulated quantiles monotone.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import UNSET, renamed
from ..laws.bbp import spike_strength
from ..laws.wishart import top_eigenvalues
from .statistics import kn_statistic_draws


def bbp_strengths(spikes, n: int, m: int, sigma2: float) -> np.ndarray:
    """Inverse BBP map of outlier eigenvalues, ``theta_c = (m/n)^(1/4)`` for those at the edge.

    References
    ----------
    F. Benaych-Georges and R. R. Nadakuditi, "The singular values and vectors of low rank
    perturbations of large rectangular random matrices", J. Multivariate Anal. 111:120-135
    (2012). doi:10.1016/j.jmva.2012.04.019

    Examples
    --------
    >>> import bbpfit as bf
    >>> from bbpfit.inference.strengths import bbp_strengths
    >>> lam = bf.spike_eigenvalue(2.0, 0.5, sigma2=3.0)
    >>> bbp_strengths([lam], 2000, 1000, 3.0).round(6).tolist()
    [2.0]
    """
    q = m / n
    y = np.maximum(np.asarray(spikes, dtype=np.float64), sigma2 * (1.0 + math.sqrt(q)) ** 2)
    if y.size == 0:
        return np.empty(0)
    return np.atleast_1d(spike_strength(y, q, sigma2))


def optshrink_strengths(lam, n: int, r: int, sigma2: float) -> np.ndarray:
    """D-transform (OptShrink) strengths of the top ``r`` eigenvalues, in units of ``sigma2``.

    With the bulk ``l_j, j > r`` of a descending spectrum ``l = s^2 / n`` and ``z = sqrt(l_i)``:
    ``phi(z) = mean_j z / (z^2 - l_j)``,
    ``phibar(z) = [sum_j z / (z^2 - l_j) + (n - m) / z] / (n - r)``, ``D = phi phibar`` and
    ``theta_i = 1 / sqrt(D(z) sigma2)``. No MP assumption on the bulk.

    References
    ----------
    R. R. Nadakuditi, "OptShrink: an algorithm for improved low-rank signal matrix denoising by
    optimal, data-driven singular value shrinkage", IEEE Trans. Inf. Theory 60(5):3002-3018
    (2014). doi:10.1109/TIT.2014.2311661

    Examples
    --------
    >>> import numpy as np
    >>> from bbpfit.laws.wishart import null_eigenvalues
    >>> from bbpfit.inference.strengths import optshrink_strengths
    >>> lam = null_eigenvalues(4000, 2000, theta=2.0, rng=np.random.default_rng(0))
    >>> round(float(optshrink_strengths(lam, 4000, 1, 1.0)[0]), 1)
    2.0
    """
    lam = np.asarray(lam, dtype=np.float64)
    m = lam.shape[0]
    bulk = lam[r:]
    z = np.sqrt(lam[:r])[:, None]
    s = np.sum(z / (z * z - bulk[None, :]), axis=1)
    z = z[:, 0]
    d = (s / (m - r)) * ((s + (n - m) / z) / (n - r))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0) * sigma2), np.nan)


def _simulated_quantiles(theta, n, m, probs, n_draws, seed, known):
    top, trace = top_eigenvalues(n, m, n_draws, theta=theta, rng=np.random.default_rng(seed),
                                 return_trace=True)
    top1 = np.ascontiguousarray(top[:, 0])
    stat = top1 if known else kn_statistic_draws(top1, trace, m, float(n))
    return np.quantile(stat, probs)


def strength_interval(y: float, n: int, m: int, *, confidence_level: float = 0.95,
                      n_draws: int = 1000, rng=UNSET, known: bool = False, seed=UNSET,
                      ) -> tuple[float, float]:
    """Confidence interval for ``theta`` from an observed ``y = l / sigma2_hat``, by inversion.

    The interval is ``{theta : q_{a/2}(theta) <= y <= q_{1-a/2}(theta)}`` with ``q_p(theta)``
    the ``p``-quantile of the same statistic (``l_1 / sigma2_KN(1)``, or ``l_1`` when the noise
    is ``known``) under an exact rank-one spike of strength ``theta`` in an ``n x m`` Gaussian
    matrix (``a = 1 - confidence_level``), estimated from ``n_draws`` draws with common random
    numbers (the same seed for every ``theta``, so ``q_p`` is monotone in ``theta``). Each end
    is found by Brent's method to a relative tolerance of 1e-3, starting from a bracket around
    the BBP inverse of ``y``. The lower end is 0 when ``y`` is compatible with no spike.
    ``rng`` (default 0; old name ``seed``) seeds the common random numbers.

    References
    ----------
    I. Dumitriu and A. Edelman, "Matrix models for beta ensembles", J. Math. Phys.
    43(11):5830-5847 (2002). doi:10.1063/1.1507823 (the exact spiked sampler); G. Casella and
    R. L. Berger, *Statistical Inference*, 2nd ed., section 9.2.1 (test inversion).

    Examples
    --------
    >>> import bbpfit as bf
    >>> from bbpfit.inference.strengths import strength_interval
    >>> y = bf.spike_eigenvalue(2.0, 0.5)
    >>> lo, hi = strength_interval(y, 1000, 500, n_draws=500)
    >>> bool(lo < 2.0 < hi), bool(hi - lo < 0.5)
    (True, True)
    """
    from scipy.optimize import brentq  # lazy: scipy.optimize costs 0.3 s at import

    rng = renamed(rng, seed, "rng", "seed", 0)
    a = 1.0 - confidence_level
    probs = (1.0 - a / 2.0, a / 2.0)
    seed = int(np.random.default_rng(rng).integers(2**62))
    memo: dict[float, np.ndarray] = {}

    def excess(theta, i):
        theta = max(theta, 1e-9)  # theta = 0 would draw a central chi-square: other numbers
        if theta not in memo:
            memo[theta] = _simulated_quantiles(theta, n, m, probs, n_draws, seed, known)
        return float(memo[theta][i]) - y

    q = m / n
    guess = float(bbp_strengths([y], n, m, 1.0)[0])
    bounds = []
    for i in (0, 1):
        if excess(0.0, i) >= 0.0:
            bounds.append(0.0)
            continue
        lo, hi = guess * 0.9, guess * 1.1
        while lo > q**0.25 / 4.0 and excess(lo, i) > 0.0:
            lo *= 0.8
        if excess(lo, i) > 0.0:
            lo = 0.0
        while excess(hi, i) < 0.0:
            hi *= 1.25
        bounds.append(brentq(excess, lo, hi, args=(i,), xtol=1e-6, rtol=1e-3))
    return bounds[0], bounds[1]
