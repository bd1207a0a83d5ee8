"""Likelihood-ratio comparisons of a power-law tail with other tails (Vuong 1989; CSN 2009).

Owns the maximum-likelihood fits, on the tail ``x >= x_min`` with ``x_min`` held fixed, of the three
alternatives of Clauset, Shalizi & Newman (2009, sec. 5): an exponential, a lognormal and a
truncated power law (power law with exponential cut-off), and the :class:`LikelihoodRatio` test of
each against the power law. Non-nested pairs use Vuong's normalised log-likelihood ratio; the
power law is nested in the truncated power law, so that pair uses the chi-square(1) law of ``2R``
(as the ``powerlaw`` package does).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import integrate, optimize, special, stats

#: Alternatives, by name: a description for the summary.
ALTERNATIVES = {
    "truncated_power_law": "x^-a exp(-lambda x) (nested: chi-square(1) test)",
    "lognormal": "lognormal truncated at x_min (Vuong test)",
    "exponential": "exp(-lambda (x - x_min)) (Vuong test)",
}
_BIG = 1e300  # objective outside the parameter box (finite, so Nelder-Mead stays quiet)


@dataclass(frozen=True)
class LikelihoodRatio:
    """Log-likelihood ratio of the power law against one alternative, on the fitted tail.

    Attributes
    ----------
    alternative : str
        A key of :data:`ALTERNATIVES`.
    statistic : float
        ``R = sum_i log p_PL(x_i) - log p_alt(x_i)``: positive favours the power law.
    normalized : float
        ``R / (sqrt(n) s)`` with ``s`` the standard deviation of the pointwise differences.
    pvalue : float
        Significance of the sign of ``R`` (Vuong: ``erfc(|R| / sqrt(2 n s^2))``; nested:
        ``chi2(1).sf(2 |R|)``). Above about 0.1 the data cannot tell the two laws apart.
    nested : bool
        Whether the power law is a special case of the alternative.
    parameters : tuple of float
        The alternative's fitted parameters (``lambda``; ``mu, sigma`` of ``log x``;
        ``a, lambda``).
    """

    alternative: str
    statistic: float
    normalized: float
    pvalue: float
    nested: bool
    parameters: tuple[float, ...]

    @property
    def favoured(self) -> str:
        """``"power_law"``, the alternative's name, or ``"neither"`` (p > 0.1)."""
        if not self.pvalue <= 0.1:
            return "neither"
        return "power_law" if self.statistic > 0 else self.alternative

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        out = asdict(self)
        out["parameters"] = list(self.parameters)
        out["favoured"] = self.favoured
        return out


def powerlaw_loglik(x, xmin, alpha):
    """Pointwise log density of the continuous power law above ``xmin``."""
    return math.log((alpha - 1.0) / xmin) - alpha * np.log(x / xmin)


def _exponential(x, xmin):
    lam = 1.0 / max(float(np.mean(x - xmin)), np.finfo(float).tiny)
    return np.log(lam) - lam * (x - xmin), (lam,)


def _lognormal_ll(params, logx, lxmin):
    mu, log_s = params
    s = math.exp(log_s)
    z = (logx - mu) / s
    tail = special.log_ndtr(-(lxmin - mu) / s)  # log P(log X >= log x_min)
    return -0.5 * z * z - math.log(s * math.sqrt(2 * math.pi)) - logx - tail


def _lognormal(x, xmin):
    logx, lxmin = np.log(x), math.log(xmin)
    start = np.array([float(np.mean(logx)), math.log(max(float(np.std(logx)), 1e-3))])

    def objective(p):
        if not (-50.0 < p[1] < 10.0 and abs(p[0]) < 1e4):
            return _BIG
        val = -float(np.sum(_lognormal_ll(p, logx, lxmin)))
        return val if math.isfinite(val) else _BIG

    best = optimize.minimize(objective, start, method="Nelder-Mead",
                             options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000})
    for shift in (-2.0, -5.0):  # the MLE can sit far below x_min (a power-law-like lognormal)
        trial = optimize.minimize(objective, start + np.array([shift * math.exp(start[1]), 0.5]),
                                  method="Nelder-Mead",
                                  options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000})
        if trial.fun < best.fun:
            best = trial
    mu, log_s = best.x
    return _lognormal_ll(best.x, logx, lxmin), (float(mu), float(math.exp(log_s)))


def _log_tpl_norm(a, lam, xmin):
    """``log of integral_{xmin}^inf x^-a exp(-lam x) dx`` (on the log scale, by quadrature)."""
    lx = math.log(xmin)
    shift = (1.0 - a) * lx - lam * xmin  # log of the integrand at u = log xmin

    def f(u):
        t = (1.0 - a) * u - lam * math.exp(min(u, 700.0)) - shift
        return math.exp(t) if t > -745.0 else 0.0

    val, _ = integrate.quad(f, lx, np.inf, limit=200, epsabs=0.0, epsrel=1e-11)
    return shift + math.log(val)


def _truncated_power_law(x, xmin, alpha):
    logx = np.log(x)
    sum_log, sum_x, n = float(np.sum(logx)), float(np.sum(x)), x.shape[0]

    def objective(p):
        a, log_lam = p
        if not (-20.0 < log_lam < 20.0 and -10.0 < a < 50.0):
            return _BIG
        lam = math.exp(log_lam) / xmin
        try:
            norm = _log_tpl_norm(a, lam, xmin)
        except (OverflowError, ValueError, ZeroDivisionError):
            return _BIG
        val = a * sum_log + lam * sum_x + n * norm
        return val if math.isfinite(val) else _BIG

    best = None
    for start in ((alpha, math.log(1e-3)), (alpha * 0.8, math.log(0.1)), (1.0, math.log(1.0))):
        res = optimize.minimize(objective, np.array(start), method="Nelder-Mead",
                                options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    a, log_lam = best.x
    lam = math.exp(log_lam) / xmin
    ll = -a * logx - lam * x - _log_tpl_norm(a, lam, xmin)
    return ll, (float(a), float(lam))


def compare_tail(x, xmin: float, alpha: float) -> dict[str, LikelihoodRatio]:
    """:class:`LikelihoodRatio` of the power law against each of :data:`ALTERNATIVES`.

    Parameters
    ----------
    x : numpy.ndarray
        The tail, ``x >= xmin`` (at least 2 points).
    xmin, alpha : float
        The fitted power law.

    References
    ----------
    Q. H. Vuong, "Likelihood ratio tests for model selection and non-nested hypotheses",
    Econometrica 57(2):307-333 (1989). doi:10.2307/1912557
    """
    x = np.asarray(x, dtype=np.float64)
    l_pl = powerlaw_loglik(x, xmin, alpha)
    n = x.shape[0]
    out = {}
    fits = {
        "truncated_power_law": lambda: _truncated_power_law(x, xmin, alpha),
        "lognormal": lambda: _lognormal(x, xmin),
        "exponential": lambda: _exponential(x, xmin),
    }
    for name, fit in fits.items():
        l_alt, params = fit()
        diff = l_pl - l_alt
        r = float(np.sum(diff))
        sd = float(np.sqrt(np.mean((diff - diff.mean()) ** 2)))
        nested = name == "truncated_power_law"
        if nested:
            r = min(r, 0.0)  # the nested MLE cannot be worse; clip optimiser noise
            p = float(stats.chi2.sf(2.0 * abs(r), 1))
        else:
            p = float(special.erfc(abs(r) / math.sqrt(2.0 * n * sd * sd))) if sd > 0 else 1.0
        norm = r / (math.sqrt(n) * sd) if sd > 0 else 0.0
        out[name] = LikelihoodRatio(name, r, norm, p, nested, params)
    return out
