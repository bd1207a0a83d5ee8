"""The result of :func:`bbpfit.transition_time`: one row per (layer, spike rank), plus diagnostics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SpikeTransition", "TransitionResult"]


def _f(x, spec=".6g") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


@dataclass(frozen=True)
class SpikeTransition:
    """The crossing of one spike of one layer.

    Attributes
    ----------
    layer : str
    rank : int
        0 for the largest eigenvalue, 1 for the next, ...
    detected : bool
        Whether the spike crossed within the recorded steps (error-controlled over the
        sequence of steps, see ``"detect"``).
    step : float
        Estimated crossing step; NaN when not detected (then ``ci_low`` is the last step, a
        lower bound) or when the spike was out from the first step (then ``ci_high`` is the
        first step, an upper bound).
    ci_low, ci_high : float
        Confidence interval at ``confidence_level`` of the result (NaN where not applicable).
    method : str
    first_detected : float
        The step of the ``"detect"`` rule (NaN if none): ``first_detected - step`` is the lag
        that ``"bbp"`` removes.
    details : dict
        Method specifics (growth law, observed / censored steps, residual autocorrelation, notes).
    """

    layer: str
    rank: int
    detected: bool
    step: float
    ci_low: float
    ci_high: float
    method: str
    first_detected: float = math.nan
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {"layer": self.layer, "rank": self.rank, "detected": self.detected,
                "step": self.step, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "method": self.method, "first_detected": self.first_detected,
                "details": {k: (list(v) if isinstance(v, tuple) else v)
                            for k, v in self.details.items()}}


@dataclass(frozen=True, repr=False)
class TransitionResult:
    """Transition steps of every analysed layer and spike rank.

    Attributes
    ----------
    transitions : tuple of SpikeTransition
        One per (layer, rank): rank 0 for every layer, more ranks where more spikes were found.
    diagnostics : xarray.Dataset
        Per ``layer`` and ``step`` (and ``spike`` rank): ``sigma2``, ``mp_edge`` (Marchenko-Pastur
        fit), ``edge``, ``edge_scale`` (soft-edge fit of the actual bulk, TW scale), ``theta_c``,
        ``n_spikes``, ``spacing_ratio``, ``fluctuation``; ``gap`` (TW-scaled), ``pvalue``,
        ``pvalue_seq``, ``mp_test``, ``theta_hat``, ``ratio`` (= theta_hat / theta_c) and
        ``ratio_crit`` (censoring point).
    method : str
    alpha : float
        Family-wise level of the detection over the sequence of steps (per layer and rank).
    confidence_level : float
    """

    transitions: tuple
    diagnostics: object
    method: str
    alpha: float
    confidence_level: float

    @property
    def layers(self) -> tuple:
        """Layer names, in order."""
        return tuple(dict.fromkeys(t.layer for t in self.transitions))

    def __len__(self) -> int:
        return len(self.transitions)

    def __iter__(self):
        return iter(self.transitions)

    def __getitem__(self, key):
        """``res["fc1.weight"]`` -> that layer's TransitionResult; ``res["fc1.weight", 1]`` -> a
        SpikeTransition; an int indexes the rows."""
        if isinstance(key, int | np.integer):
            return self.transitions[key]
        if isinstance(key, tuple):
            name, rank = key
            for t in self.transitions:
                if t.layer == name and t.rank == rank:
                    return t
            raise KeyError(f"no transition for layer {name!r} rank {rank}")
        if key not in self.layers:
            raise KeyError(f"layer {key!r} not in the result; layers: {list(self.layers)}")
        diag = self.diagnostics.sel(layer=[key]) if self.diagnostics is not None else None
        return TransitionResult(tuple(t for t in self.transitions if t.layer == key), diag,
                                self.method, self.alpha, self.confidence_level)

    def _lead(self) -> SpikeTransition:
        if len(self.layers) != 1:
            raise ValueError(f"the result holds {len(self.layers)} layers; select one with "
                             f"res[name] (layers: {list(self.layers)}) or use to_dataframe()")
        return self.transitions[0]

    @property
    def step(self) -> float:
        """Crossing step of the leading spike (rank 0) of a single-layer result."""
        return self._lead().step

    @property
    def ci_low(self) -> float:
        """Lower confidence limit of the leading spike of a single-layer result."""
        return self._lead().ci_low

    @property
    def ci_high(self) -> float:
        """Upper confidence limit of the leading spike of a single-layer result."""
        return self._lead().ci_high

    @property
    def detected(self) -> bool:
        """Whether the leading spike of a single-layer result crossed."""
        return self._lead().detected

    def to_dataframe(self):
        """A pandas DataFrame, one row per (layer, rank)."""
        import pandas as pd

        cols = ("layer", "rank", "detected", "step", "ci_low", "ci_high", "method",
                "first_detected")
        return pd.DataFrame([{c: getattr(t, c) for c in cols} for t in self.transitions],
                            columns=list(cols))

    def to_dict(self) -> dict:
        """Plain-Python representation (without the diagnostics Dataset)."""
        return {"method": self.method, "alpha": self.alpha,
                "confidence_level": self.confidence_level,
                "transitions": [t.to_dict() for t in self.transitions]}

    def summary(self) -> str:
        """A table a person can read."""
        lc = f"{self.confidence_level:.0%}"
        title = (f"Transition steps ({self.method}; detection level {self.alpha:g} over the "
                 f"steps; {lc} intervals)")
        w = max([len("layer")] + [len(t.layer) for t in self.transitions])
        head = (f"{'layer':<{w}}  {'rank':>4}  {'detected':>8}  {'step':>10}  {'ci_low':>10}  "
                f"{'ci_high':>10}  {'detect':>8}  note")
        lines = [title, "=" * len(head), head, "-" * len(head)]
        for t in self.transitions:
            note = t.details.get("note", t.details.get("law", ""))
            lines.append(f"{t.layer:<{w}}  {t.rank:>4}  {'yes' if t.detected else 'no':>8}  "
                         f"{_f(t.step, '.1f'):>10}  {_f(t.ci_low, '.1f'):>10}  "
                         f"{_f(t.ci_high, '.1f'):>10}  {_f(t.first_detected, '.0f'):>8}  {note}")
        lines.append("-" * len(head))
        lines.append("not detected: ci_low is the last step (no crossing up to it); "
                     "step '-' with ci_high: out from the first step")
        return "\n".join(lines)

    def __repr__(self) -> str:
        rows = ", ".join(f"{t.layer}[{t.rank}]: " + (f"{_f(t.step, '.1f')} [{_f(t.ci_low, '.1f')}, "
                                                     f"{_f(t.ci_high, '.1f')}]" if t.detected
                                                     else f"not detected (> {_f(t.ci_low, '.0f')})")
                         for t in self.transitions[:6])
        more = ", ..." if len(self.transitions) > 6 else ""
        return f"TransitionResult(method={self.method!r}, {rows}{more})"
