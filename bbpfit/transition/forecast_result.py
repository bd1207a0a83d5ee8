"""The result of :func:`bbpfit.forecast_transition`: one row per (layer, spike rank)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["ForecastResult", "SpikeForecast"]

_COLS = ("layer", "rank", "status", "warning", "probability", "step", "pi_low", "pi_high",
         "pvalue", "w_last", "law")


def _f(x, spec=".1f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return format(x, spec)


@dataclass(frozen=True)
class SpikeForecast:
    """The forecast of one spike rank of one layer.

    Attributes
    ----------
    layer : str
    rank : int
    status : {"forecast", "crossed"}
        ``"crossed"``: the spike is already significant at the last step (the transition has
        happened; see :func:`bbpfit.transition_time`): ``probability`` is 1, no prediction.
    warning : bool
        A rise toward the threshold significant at ``alpha`` (false-warning rate at most
        ``alpha`` on records without a spike) *and* a crossing probability of at least 1/2
        within the horizon. False for ``"crossed"``.
    probability : float
        Of crossing the BBP threshold within ``horizon`` steps after the last recorded step.
    step : float
        Predicted crossing step (``inf`` when the fitted trend does not rise, NaN when crossed).
    pi_low, pi_high : float
        Prediction interval of the crossing at the result's ``confidence_level`` (``pi_high``
        may be ``inf``: no crossing within the bootstrap's reach).
    pvalue : float
        One-sided p-value of the rise (trend of the window parameter ``w``).
    w_last : float
        Fitted window parameter at the last step: ``theta / theta_c = 1 + w n^(-1/3)``.
    law : str
        Growth law of the trend (``"linear"``: a line in ``w``).
    details : dict
        ``slope`` (``dw/dstep``), ``rho`` (AR(1) of the scores), ``window`` (steps of the trend
        fit), ``ess`` (effective sample size per step of the posterior), ``prior`` (low end, median
        and high end of the crossing under the prior alone: what the record added),
        ``information`` (Kullback-Leibler divergence of the crossing's posterior from that
        prior, nats: 0 when the eigenvalues said nothing and the forecast is the prior's),
        ``pvalue_last`` (spike test at the last step).
    """

    layer: str
    rank: int
    status: str
    warning: bool
    probability: float
    step: float
    pi_low: float
    pi_high: float
    pvalue: float
    w_last: float
    law: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        d = {c: getattr(self, c) for c in _COLS}
        d["details"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.details.items()}
        return d


@dataclass(frozen=True, repr=False)
class ForecastResult:
    """Early warning of BBP transitions for every analysed layer and spike rank.

    Attributes
    ----------
    forecasts : tuple of SpikeForecast
    horizon : float
        Steps after ``last_step`` of the crossing probability.
    last_step : float
        The store's last recorded step.
    alpha : float
        Level of the warning (false warnings on records without a spike).
    confidence_level : float
        Of the prediction intervals.
    """

    forecasts: tuple
    horizon: float
    last_step: float
    alpha: float
    confidence_level: float

    def __len__(self) -> int:
        return len(self.forecasts)

    def __iter__(self):
        return iter(self.forecasts)

    def __getitem__(self, key):
        """``res[i]`` -> row ``i``; ``res["fc1.weight", 0]`` -> that layer's rank 0."""
        if isinstance(key, tuple):
            for f in self.forecasts:
                if (f.layer, f.rank) == key:
                    return f
            raise KeyError(f"no forecast for layer {key[0]!r} rank {key[1]}")
        return self.forecasts[key]

    @property
    def warning(self) -> bool:
        """Whether any layer and rank warns."""
        return any(f.warning for f in self.forecasts)

    def to_dataframe(self):
        """A pandas DataFrame, one row per (layer, rank)."""
        import pandas as pd

        return pd.DataFrame([{c: getattr(f, c) for c in _COLS} for f in self.forecasts],
                            columns=list(_COLS))

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {"horizon": self.horizon, "last_step": self.last_step, "alpha": self.alpha,
                "confidence_level": self.confidence_level,
                "forecasts": [f.to_dict() for f in self.forecasts]}

    def summary(self) -> str:
        """A table a person can read."""
        lc = f"{self.confidence_level:.0%}"
        title = (f"Transition forecast: horizon {self.horizon:g} steps after step "
                 f"{self.last_step:g}; warning level {self.alpha:g}; {lc} prediction intervals")
        w = max([len("layer")] + [len(f.layer) for f in self.forecasts])
        head = (f"{'layer':<{w}}  {'rank':>4}  {'status':>8}  {'warning':>7}  {'P(cross)':>8}  "
                f"{'step':>9}  {'pi_low':>9}  {'pi_high':>9}  {'p(rise)':>8}  {'w_last':>7}")
        lines = [title, "=" * len(head), head, "-" * len(head)]
        for f in self.forecasts:
            lines.append(f"{f.layer:<{w}}  {f.rank:>4}  {f.status:>8}  "
                         f"{'YES' if f.warning else 'no':>7}  {f.probability:>8.2f}  "
                         f"{_f(f.step):>9}  {_f(f.pi_low):>9}  {_f(f.pi_high):>9}  "
                         f"{_f(f.pvalue, '.3g'):>8}  {_f(f.w_last, '.2f'):>7}")
        lines.append("-" * len(head))
        lines.append("w: theta / theta_c = 1 + w n^(-1/3) (critical window; 0 is the threshold)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        rows = ", ".join(f"{f.layer}[{f.rank}]: " + (
            "crossed" if f.status == "crossed" else
            f"P={f.probability:.2f}{' WARNING' if f.warning else ''}")
            for f in self.forecasts[:6])
        more = ", ..." if len(self.forecasts) > 6 else ""
        return f"ForecastResult(horizon={self.horizon:g}, {rows}{more})"
