"""The `MPFit` result of a Marchenko-Pastur bulk fit, and `MPFitArrays` of a batch of fits."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from .._text import key_value_table
from ..laws.marchenko_pastur import MarchenkoPastur, marchenko_pastur


@dataclass(frozen=True, eq=False)
class MPFitArrays:
    """Fits of a batch of spectra (:func:`bbpfit.fit.fit_mp_array`); every field has the batch shape.

    A frozen dataclass; it unpacks in field order like the tuple it used to be.
    """

    sigma2: np.ndarray
    ratio: np.ndarray
    lower_edge: np.ndarray
    upper_edge: np.ndarray
    n_excluded: np.ndarray
    ks: np.ndarray

    def __iter__(self):
        return iter(tuple(getattr(self, f.name) for f in fields(self)))

    def to_dict(self) -> dict:
        """Plain-Python representation (nested lists)."""
        return {f.name: np.asarray(getattr(self, f.name)).tolist() for f in fields(self)}


@dataclass(frozen=True, repr=False)
class MPFit:
    """A Marchenko-Pastur law fitted to the bulk of one spectrum.

    Attributes
    ----------
    sigma2 : float
        Estimated entry variance (the MP scale).
    ratio : float
        The MP ratio used: ``m / n``, the value passed, or the fitted effective ratio.
    lower_edge, upper_edge : float
        Support of the fitted law, ``sigma2 (1 -+ sqrt(ratio))^2``.
    n_excluded : int
        Top eigenvalues left out of the bulk as outliers.
    ks : float
        Kolmogorov-Smirnov distance of the kept bulk (the ``m - n_excluded`` smallest eigenvalues)
        to the fitted law with its outliers removed, ``MP((m - k)/(n' - k), sigma2 (n' - k)/n')``
        with ``n' = m / ratio`` (just ``law`` when nothing is excluded). Eigenvalues are rigid, so
        its iid p-value would be meaningless (pure noise with m = 1000 gives about 0.003).
    method : str
        Estimator name (a key of :data:`bbpfit.fit.FIT_METHODS`).
    n, m : int
        Long and short side of the matrix.
    ratio_fitted : bool
        Whether ``ratio`` was estimated (``ratio="fit"``).
    name : str or None
        The layer's name, when the input was a named :class:`bbpfit.Spectrum`.
    gof_pvalue, gof_statistic : float
        Goodness of fit of the bulk left after the top ``gof_k`` eigenvalues to the MP law
        (:func:`bbpfit.fit.gof.mp_gof`: Cramer-von Mises distance, null simulated exactly with the
        scale fit and the removal inside it); NaN unless asked for (``fit_mp(..., gof=True)``,
        or filled by :func:`bbpfit.spike_test` with ``gof_k`` = its spike count).
    gof_k : int
        Top eigenvalues set aside for that test (-1 when it was not run).
    """

    sigma2: float
    ratio: float
    lower_edge: float
    upper_edge: float
    n_excluded: int
    ks: float
    method: str
    n: int
    m: int
    ratio_fitted: bool = False
    name: str | None = None
    gof_pvalue: float = math.nan
    gof_statistic: float = math.nan
    gof_k: int = -1

    @property
    def law(self) -> MarchenkoPastur:
        """The fitted law, ``bf.marchenko_pastur(ratio, sigma2)``."""
        return marchenko_pastur(self.ratio, self.sigma2)

    @property
    def sigma(self) -> float:
        """The noise standard deviation ``sqrt(sigma2)``."""
        return math.sqrt(self.sigma2)

    def to_dict(self) -> dict:
        """Plain-Python representation (numbers and strings)."""
        return asdict(self)

    def summary(self) -> str:
        """A table a person can read."""
        rows = [
            ("method", self.method + (" (ratio fitted)" if self.ratio_fitted else "")),
            ("n x m", f"{self.n} x {self.m}"),
            ("sigma2", f"{self.sigma2:.6g}"),
            ("ratio", f"{self.ratio:.6g}"
             + (" (fitted)" if self.ratio_fitted else f"  (m/n = {self.m / self.n:.6g})")),
            ("bulk edges", f"[{self.lower_edge:.6g}, {self.upper_edge:.6g}]"),
            ("outliers excluded", str(self.n_excluded)),
            ("KS distance of bulk", f"{self.ks:.4g}"),
        ]
        if self.gof_k >= 0:
            rows.append(("MP goodness of fit", f"p = {self.gof_pvalue:.3g} after {self.gof_k} "
                                               f"spikes (CvM {self.gof_statistic:.3g})"))
        title = "Marchenko-Pastur bulk fit" + (f": {self.name}" if self.name else "")
        return key_value_table(title, rows)

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        return (f"MPFit({name}method={self.method!r}, sigma2={self.sigma2:.6g}, "
                f"ratio={self.ratio:.4g}{' (fitted)' if self.ratio_fitted else ''}, "
                f"edges=[{self.lower_edge:.4g}, {self.upper_edge:.4g}], "
                f"n_excluded={self.n_excluded}, ks={self.ks:.3g}, n={self.n}, m={self.m})")
