"""The law of the top eigenvalue in the BBP critical window, at finite ``(n, m)``, by simulation.

Owns :func:`critical_window_law` and its result :class:`CriticalWindowLaw`: for a rank-one
additive spike of strength ``theta = theta_c (1 + w n^(-1/3))`` (``theta_c = q^(1/4)``), the law
of the top eigenvalue on the Tracy-Widom scale of the null,

    ``x = (n l_1 / sigma2-hat - mu) / s``,  with Ma's (2012) real-case ``mu``, ``s`` for ``(n, m)``

and the noise level estimated as real data need it, by the mean eigenvalue ``sigma2-hat =
tr(W^T W) / (n m)`` (the moment fit of the MP scale), tabulated over a grid of ``w``
(quantiles, mean, sd). The estimate matters: below the threshold the spike's energy
``theta^2 sigma2`` spreads over the bulk, so any scale fitted to the bulk is inflated by
``theta^2 / m`` and pulls ``x`` down by about ``0.4`` TW units at ``w = 0`` for 100 x 50; the
law includes this, and the trace's own noise, exactly (the sampler gives the exact trace of
each draw). As ``w -> -inf`` it tends to TW1, as
``w -> +inf`` to the Gaussian fluctuations of an outlier; in between it is the one-parameter
crossover family of Baik, Ben Arous & Peche (2005) (complex case) and Bloemendal & Virag
(2013, 2016) (real case, a stochastic Airy operator with a boundary parameter), for which no
closed form or published table exists in the real case: the finite-``(n, m)`` law is simulated
with the exact bidiagonal spiked sampler (:func:`bbpfit.laws.wishart.top_eigenvalues`,
``O(m^(1/3))`` per draw), the same random numbers at every ``w`` (common random numbers: the
quantile curves are smooth and monotone in ``w``), and cached per shape in memory.

The inverse, :meth:`CriticalWindowLaw.estimate_w`, turns an observed standardised top eigenvalue
into a median-unbiased estimate of ``w`` with a Neyman interval (the quantile curves are
increasing in ``w``): the sub-threshold evidence of a spike, and a correction of the upward bias
of ``theta-hat`` near the threshold. The grid starts at ``theta = 0`` (``w = -n^(1/3)``, clipped
at :data:`W_LOW`) and ends at :data:`W_HIGH`; estimates beyond it are clipped to the grid and
flagged by the interval touching the end.

References
----------
J. Baik, G. Ben Arous and S. Peche, "Phase transition of the largest eigenvalue for nonnull
complex sample covariance matrices", Ann. Probab. 33(5):1643-1697 (2005).
doi:10.1214/009117905000000233

A. Bloemendal and B. Virag, "Limits of spiked random matrices I", Probab. Theory Relat. Fields
156:795-825 (2013). doi:10.1007/s00440-012-0443-2

Z. Ma, "Accuracy of the Tracy-Widom limits for the extreme eigenvalues in white Wishart
matrices", Bernoulli 18(1):322-359 (2012). doi:10.3150/10-BEJ334
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from .._validation import check_int
from .bbp import bbp_threshold
from .wishart import top_eigenvalues

__all__ = ["CriticalWindowLaw", "W_HIGH", "W_LOW", "critical_window_law", "ma_scale"]

#: Lowest ``w`` of the grid (or ``-n^(1/3)``, ``theta = 0``, if that is higher): below it the law
#: is TW1 to within the simulation error (mean shift < 0.03 TW units at ``n = 100-400``).
W_LOW = -8.0
#: Highest ``w`` of the grid: the outlier stands ~15 TW units out (``n = 400``, ``q = 1/2``).
W_HIGH = 6.0
#: Probability levels tabulated.
PROBS = np.concatenate([[0.001, 0.0025], np.linspace(0.005, 0.995, 199), [0.9975, 0.999]])
#: Draws per ``w`` by default.
N_DRAWS = 4000

_CACHE: dict = {}
_LOCK = threading.Lock()


def ma_scale(n: float, m: float) -> tuple[float, float]:
    """Ma's (2012) centring ``mu`` and scale ``s`` of ``n l_1`` for an ``n x m`` Gaussian matrix:
    ``mu = (sqrt(n - 1/2) + sqrt(m - 1/2))^2``, ``s = sqrt(mu) (1/sqrt(n - 1/2) + 1/sqrt(m -
    1/2))^(1/3)``."""
    a, b = math.sqrt(max(n - 0.5, 0.5)), math.sqrt(max(m - 0.5, 0.5))
    return (a + b) ** 2, (a + b) * (1.0 / a + 1.0 / b) ** (1.0 / 3.0)


def _grid(n: int) -> np.ndarray:
    lo = max(W_LOW, -n ** (1.0 / 3.0))
    fine = np.arange(-4.0, W_HIGH + 1e-9, 0.25)
    coarse = np.linspace(lo, -4.0, 5)[:-1] if lo < -4.0 else np.empty(0)
    return np.concatenate([coarse, fine[fine >= lo]])


@dataclass(frozen=True, repr=False)
class CriticalWindowLaw:
    """Simulated law of the standardised top eigenvalue ``x`` against the window parameter ``w``.

    Attributes
    ----------
    n, m : int
        Shape (``n >= m``).
    w : numpy.ndarray
        Grid of the window parameter, increasing.
    probs : numpy.ndarray
        Probability levels of ``quantiles``.
    quantiles : numpy.ndarray
        ``(len(w), len(probs))``, the quantiles of ``x`` at each ``w`` (increasing in both).
    means, sds : numpy.ndarray
        Mean and standard deviation of ``x`` at each ``w``.
    n_draws : int
        Draws per ``w``.
    """

    n: int
    m: int
    w: np.ndarray
    probs: np.ndarray
    quantiles: np.ndarray
    means: np.ndarray
    sds: np.ndarray
    n_draws: int

    @property
    def theta_c(self) -> float:
        """``(m / n)^(1/4)``."""
        return bbp_threshold(self.m / self.n)

    def theta(self, w):
        """``theta_c (1 + w n^(-1/3))``."""
        return self.theta_c * (1.0 + np.asarray(w, dtype=np.float64) * self.n ** (-1.0 / 3.0))

    def w_of_theta(self, theta):
        """Inverse of :meth:`theta`: ``(theta / theta_c - 1) n^(1/3)``."""
        return (np.asarray(theta, dtype=np.float64) / self.theta_c - 1.0) * self.n ** (1.0 / 3.0)

    def standardise(self, lam, sigma2):
        """``x = (n lam / sigma2 - mu) / s`` (Ma's constants of this shape); ``sigma2`` must be
        the mean eigenvalue of the same matrix (the estimate the law was simulated with)."""
        mu, s = ma_scale(self.n, self.m)
        return (self.n * np.asarray(lam, dtype=np.float64) / sigma2 - mu) / s

    def _at(self, table, w):
        """Linear interpolation of a per-``w`` table (rows) at ``w`` (clipped to the grid)."""
        w = np.clip(np.asarray(w, dtype=np.float64), self.w[0], self.w[-1])
        j = np.clip(np.searchsorted(self.w, w, side="right") - 1, 0, self.w.size - 2)
        f = (w - self.w[j]) / (self.w[j + 1] - self.w[j])
        if table.ndim == 1:
            return (1.0 - f) * table[j] + f * table[j + 1]
        return (1.0 - f)[..., None] * table[j] + f[..., None] * table[j + 1]

    def mean(self, w):
        """Mean of ``x`` at ``w``."""
        return self._at(self.means, w)

    def sd(self, w):
        """Standard deviation of ``x`` at ``w``."""
        return self._at(self.sds, w)

    def quantile(self, q, w):
        """Quantile ``q`` (in [0.001, 0.999]) of ``x`` at ``w`` (arrays broadcast)."""
        q, w = np.broadcast_arrays(np.asarray(q, dtype=np.float64), np.asarray(w, dtype=np.float64))
        rows = self._at(self.quantiles, w.reshape(-1))
        qq = np.clip(q.reshape(-1), self.probs[0], self.probs[-1])
        j = np.clip(np.searchsorted(self.probs, qq, side="right") - 1, 0, self.probs.size - 2)
        f = (qq - self.probs[j]) / (self.probs[j + 1] - self.probs[j])
        i = np.arange(qq.size)
        out = (1.0 - f) * rows[i, j] + f * rows[i, j + 1]
        return out.reshape(q.shape) if q.ndim else float(out[0])

    def cdf(self, x, w):
        """``P(X <= x)`` at ``w``, clipped to [0.001, 0.999] (the tabulated range)."""
        x, w = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64))
        rows = self._at(self.quantiles, w.reshape(-1))
        out = np.array([np.interp(xx, r, self.probs) for xx, r in zip(x.reshape(-1), rows, strict=True)])
        return out.reshape(x.shape) if x.ndim else float(out[0])

    def sample(self, w, u):
        """``x`` with uniform scores ``u`` at ``w`` (quantile transform; a Gaussian copula
        through ``u = Phi(e)`` gives dependent draws)."""
        return self.quantile(np.clip(u, self.probs[0], self.probs[-1]), w)

    def _invert(self, x, p):
        """``w`` with ``quantile(p, w) = x``, clipped to the grid (vectorised over ``x``)."""
        col = np.array([np.interp(p, self.probs, r) for r in self.quantiles])
        col = np.maximum.accumulate(col)  # increasing in w (Monte Carlo ties)
        return np.interp(x, col, self.w)

    def estimate_w(self, x, *, confidence_level=0.9):
        """Median-unbiased estimate of ``w`` from observed standardised top eigenvalues ``x``.

        Parameters
        ----------
        x : float or array_like
            Standardised top eigenvalues (:meth:`standardise`); NaN gives NaN.
        confidence_level : float, default 0.9

        Returns
        -------
        w_hat, low, high : numpy.ndarray (or floats)
            ``quantile(0.5, w_hat) = x``; the Neyman interval ``{w : x`` between the
            ``(1 -+ confidence_level) / 2`` quantiles at ``w}``. Clipped to the grid: an
            interval touching ``w[0]`` says "no evidence of a spike" (TW-like), one touching
            ``w[-1]`` an outlier beyond the table.
        """
        if not 0.0 < confidence_level < 1.0:
            raise ValueError(f"`confidence_level` must be in (0, 1), got {confidence_level!r}")
        x = np.asarray(x, dtype=np.float64)
        a = (1.0 - confidence_level) / 2.0
        out = [np.where(np.isnan(x), np.nan, self._invert(x, p)) for p in (0.5, 1.0 - a, a)]
        return tuple(o if o.ndim else float(o) for o in out)

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {"n": self.n, "m": self.m, "w": self.w.tolist(), "probs": self.probs.tolist(),
                "quantiles": self.quantiles.tolist(), "means": self.means.tolist(),
                "sds": self.sds.tolist(), "n_draws": self.n_draws}

    def summary(self) -> str:
        """Mean, sd and the 5/50/95% quantiles of ``x`` at a few ``w``."""
        lines = [f"Critical-window law of the top eigenvalue, n={self.n}, m={self.m} "
                 f"({self.n_draws} draws per w)", f"{'w':>6} {'theta/theta_c':>13} {'mean':>7} "
                 f"{'sd':>6} {'q05':>7} {'q50':>7} {'q95':>7}"]
        for w in (-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0):
            if self.w[0] <= w <= self.w[-1]:
                q = self.quantile([0.05, 0.5, 0.95], [w] * 3)
                lines.append(f"{w:>6.1f} {1 + w * self.n ** (-1 / 3):>13.3f} {self.mean(w):>7.3f} "
                             f"{self.sd(w):>6.3f} {q[0]:>7.3f} {q[1]:>7.3f} {q[2]:>7.3f}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"CriticalWindowLaw(n={self.n}, m={self.m}, w=[{self.w[0]:.2f}..{self.w[-1]:.2f}], "
                f"n_draws={self.n_draws})")


def critical_window_law(n, m, *, n_draws=N_DRAWS, rng=0) -> CriticalWindowLaw:
    """The simulated critical-window law of the top eigenvalue of an ``n x m`` matrix (cached).

    Parameters
    ----------
    n, m : int
        Shape; the sides are sorted (``n`` the long one), ``m >= 2``.
    n_draws : int, default 4000
        Draws per grid value of ``w`` (cost: about 0.06 s per 4000 draws at 400 x 200).
    rng : int, default 0
        Seed (the table is cached per ``(n, m, n_draws, rng)``).

    Returns
    -------
    CriticalWindowLaw

    Examples
    --------
    >>> from bbpfit.laws.critical_window import critical_window_law
    >>> law = critical_window_law(200, 100, n_draws=2000)
    >>> bool(abs(law.mean(law.w[0]) + 1.21) < 0.1)   # TW1 mean far below the threshold
    True
    >>> w_hat, lo, hi = law.estimate_w(law.quantile(0.5, 1.0))   # the median at w = 1
    >>> round(w_hat, 2)
    1.0
    """
    n = check_int(n, "n", minimum=1)
    m = check_int(m, "m", minimum=1)
    n, m = max(n, m), min(n, m)
    if m < 2:
        raise ValueError(f"`m` must be >= 2 (the short side), got {m}")
    n_draws = check_int(n_draws, "n_draws", minimum=200)
    seed = check_int(rng, "rng", minimum=0)
    key = (n, m, n_draws, seed)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    w = _grid(n)
    theta_c = bbp_threshold(m / n)
    mu, s = ma_scale(n, m)
    qs, means, sds = [], [], []
    for wi in w:
        th = max(theta_c * (1.0 + wi * n ** (-1.0 / 3.0)), 0.0)
        top, trace = top_eigenvalues(n, m, size=n_draws, theta=th, rng=seed, return_trace=True)
        x = (top[:, 0] * n * m / trace - mu) / s
        qs.append(np.quantile(x, PROBS))
        means.append(x.mean())
        sds.append(x.std(ddof=1))
    quant = np.maximum.accumulate(np.array(qs), axis=0)  # monotone in w (common random numbers)
    law = CriticalWindowLaw(n=n, m=m, w=w, probs=PROBS.copy(), quantiles=quant,
                            means=np.array(means), sds=np.array(sds), n_draws=n_draws)
    with _LOCK:
        _CACHE[key] = law
    return law
