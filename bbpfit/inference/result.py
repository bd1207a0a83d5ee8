"""The `SpikeTestResult` of :func:`bbpfit.spike_test`."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np

from ..fit import MPFit
from ..fit.gof import GOF_LEVEL, MPGoF
from .diagnostics import Diagnostics


@dataclass(frozen=True, eq=False)
class StrengthInterval:
    """Confidence limits of the spike strengths, one entry per detected spike.

    A frozen dataclass; it unpacks like the pair it used to be (``low, high = ci``).

    Attributes
    ----------
    low, high : numpy.ndarray
        Lower and upper limits (NaN where not available).
    """

    low: np.ndarray
    high: np.ndarray

    def __iter__(self):
        return iter((self.low, self.high))

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {"low": np.asarray(self.low).tolist(), "high": np.asarray(self.high).tolist()}


def _fmt(values, spec=".4g") -> str:
    return "[" + ", ".join(format(float(v), spec) for v in values) + "]"


@dataclass(frozen=True, repr=False, eq=False)
class SpikeTestResult:
    """Outcome of a sequential spike test on one weight matrix.

    Attributes
    ----------
    n_spikes : int
        Number of eigenvalues found to stand out of the noise bulk; the family-wise error
        ``P(n_spikes > true count)`` is at most ``alpha``.
    pvalues, statistics, critical_values : numpy.ndarray
        One entry per tested candidate, in descending eigenvalue order: candidate ``k + 1`` is
        tested once the top ``k`` are significant, and testing stops at the first ``p > alpha``
        (or after ``max_spikes`` candidates). A step rejects when its statistic exceeds its
        critical value, equivalently when ``p <= alpha``.
    spikes : numpy.ndarray
        The ``n_spikes`` detected eigenvalues of the untransformed matrix (``s**2 / n``).
    strengths : numpy.ndarray
        Their strengths ``theta``-hat in noise units (see ``strength_method``).
    fit : MPFit
        Marchenko-Pastur fit of the untransformed spectrum's bulk.
    alpha : float
        Family-wise level.
    method : str
        The method asked for (``"auto"``, ``"tw"``, ...).
    test : str
        The step test that produced the p-values (``"tw"``, ``"tw-asymptotic"``, ``"ratio"``).
    path : tuple of str
        Preprocessing then the step test, e.g. ``("rank-gaussianize", "tw")``.
    reasons : tuple of str
        Why each choice was made (``"auto"``) and any caveat.
    null : str
        The null distribution used.
    sigma2 : float
        Noise variance used for the strengths: the Kritchman-Nadler estimate with ``n_spikes``
        signals on the untransformed spectrum (or the known value passed).
    strength_method : str
        ``"bbp"`` (inverse BBP map, MP bulk) or ``"optshrink"`` (D-transform, bulk not MP).
    n, m : int
        Long and short side of the untransformed matrix.
    max_spikes : int
        Most candidates that could be tested.
    name : str or None
        The layer's name.
    diagnostics : Diagnostics or None
        The checks behind ``"auto"`` (None for other methods).
    bulk_gof : MPGoF or None
        Goodness of fit to the MP law of the tested spectrum's bulk left after the ``n_spikes``
        spikes (:func:`bbpfit.fit.gof.mp_gof`; None when not run, ``gof=False``). When it fails
        (``mp_pvalue < 0.05``) the bulk is not MP and ``n_spikes`` counts eigenvalues above an
        MP edge that does not describe the layer, not signals: see ``spikes_interpretable``.
    """

    n_spikes: int
    pvalues: np.ndarray
    statistics: np.ndarray
    critical_values: np.ndarray
    spikes: np.ndarray
    strengths: np.ndarray
    fit: MPFit
    alpha: float
    method: str
    test: str
    path: tuple[str, ...]
    reasons: tuple[str, ...]
    null: str
    sigma2: float
    strength_method: str
    n: int
    m: int
    max_spikes: int
    name: str | None = None
    diagnostics: Diagnostics | None = None
    known_sigma2: bool = False
    _ci: dict = field(default_factory=dict, compare=False)
    bulk_gof: MPGoF | None = None

    def __post_init__(self):
        for key in ("pvalues", "statistics", "critical_values", "spikes", "strengths"):
            arr = np.array(getattr(self, key), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, key, arr)

    @property
    def pvalue(self) -> float:
        """p-value of the first step, "no spike at all" (the layer-level p-value)."""
        return float(self.pvalues[0])

    @property
    def statistic(self) -> float:
        """Statistic of the first step."""
        return float(self.statistics[0])

    @property
    def mp_pvalue(self) -> float:
        """p-value of "the bulk after the spikes is Marchenko-Pastur" (NaN when not tested)."""
        return float("nan") if self.bulk_gof is None else self.bulk_gof.pvalue

    @property
    def spikes_interpretable(self) -> bool:
        """False when the bulk fails its MP goodness of fit at 0.05 (then ``n_spikes`` is not a
        count of signals); True when it passes or was not tested."""
        return self.bulk_gof is None or bool(self.bulk_gof.pvalue >= GOF_LEVEL)

    @property
    def ratio(self) -> float:
        """``m / n``."""
        return self.m / self.n

    def confidence_interval(self, confidence_level: float = 0.95, *, n_draws: int = 1000,
                            rng=0) -> StrengthInterval:
        """Confidence intervals of the strengths, by inverting the exact spiked sampler.

        For spike ``i`` (0-based) the observed ``y = l_i / sigma2`` is compared with the law of
        the same statistic under an exact rank-one spike in an ``(n, m - i)`` Gaussian matrix
        (:func:`bbpfit.inference.strengths.strength_interval`); the other spikes are treated as
        removed. NaN for OptShrink strengths (the sampler assumes an MP bulk). Computed on first
        use and cached per arguments; ``rng`` seeds the simulation (fixed by default, so the
        result is reproducible).

        Examples
        --------
        >>> import numpy as np, bbpfit as bf
        >>> from bbpfit.laws.wishart import null_eigenvalues
        >>> lam = null_eigenvalues(1000, 500, theta=2.0, rng=np.random.default_rng(0))
        >>> res = bf.spike_test(bf.Spectrum(lam, n=1000, m=500))
        >>> ci = res.confidence_interval(n_draws=300)
        >>> bool(ci.low[0] < 2.0 < ci.high[0])
        True
        """
        from .strengths import strength_interval

        key = (float(confidence_level), int(n_draws), repr(rng))
        if key not in self._ci:
            low = np.full(self.n_spikes, np.nan)
            high = np.full(self.n_spikes, np.nan)
            if self.strength_method == "bbp":
                for i, lam in enumerate(self.spikes):
                    seed = np.random.default_rng(rng).integers(2**62) + i
                    low[i], high[i] = strength_interval(
                        float(lam) / self.sigma2, self.n, self.m - i,
                        confidence_level=confidence_level, n_draws=n_draws, rng=seed,
                        known=self.known_sigma2)
            self._ci[key] = StrengthInterval(low, high)
        return self._ci[key]

    def to_dict(self) -> dict:
        """Plain-Python representation (lists, numbers, strings, nested dicts)."""
        out = {}
        for key in ("name", "n_spikes", "alpha", "method", "test", "null", "sigma2",
                    "strength_method", "n", "m", "max_spikes", "known_sigma2"):
            out[key] = getattr(self, key)
        for key in ("pvalues", "statistics", "critical_values", "spikes", "strengths"):
            out[key] = getattr(self, key).tolist()
        out["path"] = list(self.path)
        out["reasons"] = list(self.reasons)
        out["fit"] = self.fit.to_dict()
        out["diagnostics"] = None if self.diagnostics is None else self.diagnostics.to_dict()
        out["bulk_gof"] = None if self.bulk_gof is None else self.bulk_gof.to_dict()
        out["spikes_interpretable"] = self.spikes_interpretable
        return out

    def summary(self) -> str:
        """A table a person can read: the header, one row per tested candidate, the reasons."""
        title = "Spike test" + (f": {self.name}" if self.name else "")
        head = [
            ("matrix", f"{self.n} x {self.m} (ratio {self.ratio:.4g})"),
            ("method", f"{self.method} -> {' + '.join(self.path)}"),
            ("null", self.null),
            ("alpha (family-wise)", f"{self.alpha:g}"),
            ("noise sigma2", f"{self.sigma2:.6g}" + (" (known)" if self.known_sigma2 else
                                                    " (Kritchman-Nadler)")),
            ("MP bulk fit", f"sigma2 {self.fit.sigma2:.6g}, edge {self.fit.upper_edge:.6g}, "
                            f"KS {self.fit.ks:.3g}"),
            ("spikes found", str(self.n_spikes)
             + ("" if self.spikes_interpretable else " (not interpretable: the bulk is not MP)")),
        ]
        if self.bulk_gof is not None:
            head.insert(-1, ("MP goodness of fit", f"p = {self.bulk_gof.pvalue:.3g} for the bulk "
                                                   f"after {self.bulk_gof.k} spikes"))
        width = max(len(k) for k, _ in head)
        lines = [title, "=" * 78]
        for key, value in head:
            wrapped = textwrap.wrap(value, 76 - width) or [""]
            lines.append(f"{key:<{width}}  {wrapped[0]}")
            lines += [f"{'':<{width}}  {w}" for w in wrapped[1:]]
        lines.append("-" * 78)
        lines.append(f"{'rank':>4}  {'eigenvalue':>12}  {'statistic':>11}  {'critical':>10}  "
                     f"{'p-value':>9}  {'decision':>8}  {'theta-hat':>9}")
        for k, (t, c, p) in enumerate(zip(self.statistics, self.critical_values, self.pvalues,
                                          strict=True)):
            spike = k < self.n_spikes
            eig = f"{self.spikes[k]:12.6g}" if spike else f"{'':>12}"
            th = f"{self.strengths[k]:9.4g}" if spike else f"{'':>9}"
            shown = "< 1e-300" if p < 1e-300 else f"{p:.3g}"  # below it, 0 would be a false claim
            lines.append(f"{k + 1:>4}  {eig}  {t:11.5g}  {c:10.5g}  {shown:>9}  "
                         f"{'spike' if spike else 'bulk':>8}  {th}")
        lines.append("-" * 78)
        lines.append(f"theta-hat: {self.strength_method} (noise units; threshold "
                     f"{self.ratio ** 0.25:.4g}); confidence intervals: .confidence_interval()")
        for r in self.reasons:
            lines += textwrap.wrap(r, 78, initial_indent="* ", subsequent_indent="  ")
        return "\n".join(lines)

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        p = _fmt(self.pvalues[:4], ".3g")[:-1] + (", ...]" if len(self.pvalues) > 4 else "]")
        return (f"SpikeTestResult({name}n_spikes={self.n_spikes}, pvalues={p}, "
                f"spikes={_fmt(self.spikes[:4])}, strengths={_fmt(self.strengths[:4])}, "
                f"alpha={self.alpha:g}, method={self.method!r}, path={'+'.join(self.path)!r}, "
                f"n={self.n}, m={self.m})")
