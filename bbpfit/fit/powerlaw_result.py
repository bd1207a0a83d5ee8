"""The `PowerLawFit` result of :func:`bbpfit.fit_powerlaw`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .._text import key_value_table
from .powerlaw_compare import LikelihoodRatio


@dataclass(frozen=True, repr=False)
class PowerLawFit:
    """A continuous power law ``p(x) ~ x^-alpha`` fitted to the tail ``x >= xmin`` of a spectrum.

    Attributes
    ----------
    alpha : float
        Maximum-likelihood exponent ``1 + n_tail / sum(log(x_i / xmin))``.
    xmin : float
        Start of the tail (KS-minimising, or the value passed).
    n_tail, n : int
        Points in the tail; positive points in the data.
    sigma : float
        Asymptotic standard error of alpha, ``(alpha - 1) / sqrt(n_tail)``.
    ks : float
        KS distance ``D`` of the tail to the fitted law.
    alpha_low, alpha_high : float
        Percentile bootstrap interval of alpha at ``confidence_level`` (nonparametric resamples,
        each refitted with the x_min search); NaN when ``n_boot == 0``.
    confidence_level : float
        Level of that interval.
    pvalue : float
        Goodness of fit by the semiparametric bootstrap, ``(1 + #{D* >= D}) / (n_gof + 1)``:
        small values reject the power law (Clauset et al. use 0.1); NaN when ``n_gof == 0``.
    comparisons : dict of str to LikelihoodRatio
        The power law against each alternative (empty when not asked for).
    xmin_fixed : bool
        Whether ``xmin`` was given rather than searched.
    n_boot, n_gof : int
        Bootstrap sizes used.
    name : str or None
        The layer's name, when the input was a named :class:`bbpfit.Spectrum`.
    """

    alpha: float
    xmin: float
    n_tail: int
    n: int
    sigma: float
    ks: float
    alpha_low: float
    alpha_high: float
    confidence_level: float
    pvalue: float
    comparisons: dict = field(default_factory=dict)
    xmin_fixed: bool = False
    n_boot: int = 0
    n_gof: int = 0
    name: str | None = None

    @property
    def plausible(self) -> bool:
        """Whether the power law survives its goodness-of-fit test (``pvalue >= 0.1``, CSN 2009)."""
        return bool(self.pvalue >= 0.1)

    def to_dict(self) -> dict:
        """Plain-Python representation (numbers, strings, nested dicts)."""
        out = {k: getattr(self, k) for k in (
            "name", "alpha", "xmin", "n_tail", "n", "sigma", "ks", "alpha_low", "alpha_high",
            "confidence_level", "pvalue", "xmin_fixed", "n_boot", "n_gof")}
        out["comparisons"] = {k: v.to_dict() for k, v in self.comparisons.items()}
        return out

    def summary(self) -> str:
        """A table a person can read."""
        pct = f"{100 * self.confidence_level:g}%"
        rows = [
            ("tail", f"{self.n_tail} of {self.n} points, x >= xmin = {self.xmin:.6g}"
                     + (" (given)" if self.xmin_fixed else " (KS-minimising)")),
            ("alpha", f"{self.alpha:.4f} +- {self.sigma:.4f} (asymptotic s.e.)"),
            (f"{pct} bootstrap CI", "-" if math.isnan(self.alpha_low) else
             f"[{self.alpha_low:.4f}, {self.alpha_high:.4f}] ({self.n_boot} resamples)"),
            ("KS distance", f"{self.ks:.4g}"),
            ("GoF p-value", "-" if math.isnan(self.pvalue) else
             f"{self.pvalue:.3g} ({self.n_gof} semiparametric draws; < 0.1 rejects)"),
        ]
        for name, lr in self.comparisons.items():
            rows.append((f"vs {name}", f"R = {lr.statistic:+.3g}, p = {lr.pvalue:.3g} "
                                       f"-> {lr.favoured}"))
        title = "Power-law tail fit" + (f": {self.name}" if self.name else "")
        return key_value_table(title, rows)

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        return (f"PowerLawFit({name}alpha={self.alpha:.4g}, xmin={self.xmin:.4g}, "
                f"n_tail={self.n_tail}, ci=[{self.alpha_low:.4g}, {self.alpha_high:.4g}], "
                f"pvalue={self.pvalue:.3g}, n={self.n})")


__all__ = ["LikelihoodRatio", "PowerLawFit"]
