"""The universal null law of the edge statistic, tabulated, and the Airy-1 mean positions.

Owns :data:`AIRY_MEANS` (the expected positions ``E[xi_j]`` of the top points of the Airy-1
process, in Tracy-Widom units: ``-1.2027`` is the TW1 mean) and the null survival function of
the edge statistic ``T`` of :mod:`bbpfit.transition.edge` with ``K =`` :data:`EDGE_K`, with
:func:`edge_pvalue` and :func:`edge_critical` to read it. Both were computed by
:func:`simulate_edge_null` (the exact top eigenvalues of Gaussian matrices, Dumitriu-Edelman
sampler): the means from 20 000 draws at 100 000 x 50 000, the null from 200 000 draws at
2000 x 1000 (``rng`` seeds 12345 and ``[2, i]``, i < 40). Because ``T`` is free of location and
scale and the fit absorbs the finite-size curvature of the edge, the same table holds at every
size: simulated sizes at 5%, 1%, 0.1% are within Monte Carlo error of nominal from 100 x 50 to
768 x 768 (``tests/test_transition_edge.py``). Beyond the simulated range (p < 1e-3) the
survival function is extended by its fitted power-law tail ``P(T > t) ~ t^-2.06`` (the heavy
tail of a ratio whose denominator, the fitted local scale, can be small).

References
----------
I. Dumitriu and A. Edelman, "Matrix models for beta ensembles", J. Math. Phys.
43(11):5830-5847 (2002). doi:10.1063/1.1507823
"""

from __future__ import annotations

import numpy as np

__all__ = ["AIRY_MEANS", "EDGE_K", "edge_critical", "edge_pvalue", "simulate_edge_null"]

#: Eigenvalues fitted below a candidate.
EDGE_K = 16

#: ``E[xi_j]``, j = 1..24: mean positions of the top points of the Airy-1 (GOE edge) process.
AIRY_MEANS = np.array([
    -1.2027, -3.2500, -4.8172, -6.1605, -7.3583, -8.4835, -9.5236, -10.5207, -11.4640, -12.3736,
    -13.2530, -14.1010, -14.9149, -15.7226, -16.5065, -17.2683, -18.0117, -18.7476, -19.4601,
    -20.1640, -20.8565, -21.5327, -22.2032, -22.8610])

# log P(T > _T[i]) = _LOG_SF[i] under the null (K = 16), from 200 000 draws, down to p = 1e-3
_LOG_SF = np.array([
    -0.0010, -0.1684, -0.3359, -0.5033, -0.6708, -0.8382, -1.0057, -1.1731, -1.3405, -1.5080,
    -1.6754, -1.8429, -2.0103, -2.1778, -2.3452, -2.5126, -2.6801, -2.8475, -3.0150, -3.1824,
    -3.3499, -3.5173, -3.6847, -3.8522, -4.0196, -4.1871, -4.3545, -4.5219, -4.6894, -4.8568,
    -5.0243, -5.1917, -5.3592, -5.5266, -5.6940, -5.8615, -6.0289, -6.1964, -6.3638, -6.5313,
    -6.6987, -6.8661])
_T = np.array([
    -3.6090, -2.3511, -1.9497, -1.6319, -1.3470, -1.0846, -0.8306, -0.5887, -0.3463, -0.1105,
    0.1223, 0.3528, 0.5808, 0.8148, 1.0585, 1.3127, 1.5527, 1.8027, 2.0542, 2.3162, 2.5944,
    2.8708, 3.1492, 3.4447, 3.7307, 4.0408, 4.3800, 4.7516, 5.0819, 5.4344, 5.8298, 6.1969,
    6.6364, 7.0458, 7.4665, 7.8936, 8.4083, 9.0237, 9.5603, 10.1260, 10.8045, 11.5934])
#: Power-law exponent of the tail, fitted to the simulated p in [1e-4, 3e-3].
_TAIL = 2.06


def edge_pvalue(t) -> np.ndarray:
    """``P(T >= t)`` under the null (NaN ``t``, a failed fit, gives 1)."""
    t = np.asarray(t, dtype=np.float64)
    logp = np.interp(t, _T, _LOG_SF, left=0.0)
    beyond = t > _T[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = _LOG_SF[-1] - _TAIL * np.log(np.where(beyond, t, _T[-1]) / _T[-1])
    out = np.exp(np.where(beyond, tail, logp))
    return np.where(np.isnan(t), 1.0, out)


def edge_critical(level: float) -> float:
    """The ``t`` with ``P(T >= t) = level`` under the null."""
    lp = float(np.log(level))
    if lp >= _LOG_SF[-1]:
        return float(np.interp(-lp, -_LOG_SF, _T))
    return float(_T[-1] * np.exp((_LOG_SF[-1] - lp) / _TAIL))


def simulate_edge_null(n_draws, *, n=2000, m=1000, rng=None) -> np.ndarray:
    """Draw the edge statistic of rank 0 for ``n x m`` Gaussian matrices (sorted; NaN last).

    The recipe behind the table of this module (``n_draws = 200_000``); slow (about 3 ms per
    draw) because each draw needs the top ``EDGE_K + 2`` eigenvalues.
    """
    from ..laws.wishart import top_eigenvalues
    from .edge import edge_statistics

    top = top_eigenvalues(n, m, n_draws, k=EDGE_K + 2, rng=rng)
    return np.sort(edge_statistics(np.ascontiguousarray(top), EDGE_K, 1, AIRY_MEANS)[:, 0])
