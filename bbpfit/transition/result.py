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
        first step, an upper bound). Never outside the recorded steps: a ``"bbp"`` growth law
        that crosses before the first step gives that step, with ``censored="left"``.
    ci_low, ci_high : float
        Confidence interval at ``confidence_level`` of the result (NaN where not applicable),
        within the recorded steps.
    method : str
    first_detected : float
        The step of the ``"detect"`` rule (NaN if none): ``first_detected - step`` is the lag
        that ``"bbp"`` removes.
    details : dict
        Method specifics (growth law, observed / censored steps, residual autocorrelation, notes);
        ``returned``: the step from which the spike stayed back in the bulk to the end;
        ``raised_to_rank``: the crossing was raised to the previous rank's (ranks are order
        statistics); ``estimate_at_start``: the method put the crossing at the first step
        though the spike was not significant there (then ``step`` is NaN and the interval runs
        from the first step); ``small_layer``: why a layer with ``m < 24`` got the MP test and
        ``"detect"`` only.
    censored : {"left", "right", None}
        ``"left"``: the crossing is at or before the first recorded step (``step`` is that step,
        or NaN when the spike was significant from it; ``ci_high`` bounds it from above).
        ``"right"``: no crossing up to the last recorded step (not detected; ``ci_low`` is that
        step; or, should a ``"bbp"`` growth law still be below the threshold there, ``step`` is
        that step). None: the crossing lies within the recorded steps.
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
    censored: str | None = None

    @property
    def bound(self) -> str:
        """The estimate in words: ``"12.0 [8.0, 15.0]"``, ``"<= 0.0 [0.0, 4.3]"`` (at or before the
        first step), ``"<= 0.0"``, ``"> 790.0"`` (not detected)."""
        if not self.detected:
            return f"> {_f(self.ci_low, '.1f')}"
        ci = f"[{_f(self.ci_low, '.1f')}, {_f(self.ci_high, '.1f')}]"
        if self.censored == "left":
            return f"<= {_f(self.ci_high, '.1f')}" if math.isnan(self.step) else \
                f"<= {_f(self.step, '.1f')} {ci}"
        if math.isnan(self.step):
            return f"- {ci}"
        return f"{_f(self.step, '.1f')} {ci}"

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {"layer": self.layer, "rank": self.rank, "detected": self.detected,
                "step": self.step, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "method": self.method, "first_detected": self.first_detected,
                "censored": self.censored,
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
        ``n_spikes`` (not capped at the ranks examined), ``spacing_ratio``, ``fluctuation``,
        ``null`` ("mp" or "soft-edge": the step's test) with ``bulk_offset`` and
        ``bulk_offset_smooth`` (why), ``test_edge`` and ``test_crit`` (that null's edge and the
        eigenvalue rank 0 must exceed); ``gap`` (TW-scaled), ``pvalue``,
        ``pvalue_seq``, ``mp_test``, ``edge_depth`` (soft-edge steps: how deep below rank k the
        edge was fitted for its p-value), ``theta_hat``, ``ratio`` (= theta_hat / theta_c) and
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
        """A pandas DataFrame, one row per (layer, rank); ``censored`` is "left", "right" or None
        (see :class:`SpikeTransition`)."""
        import pandas as pd

        cols = ("layer", "rank", "detected", "step", "ci_low", "ci_high", "method",
                "first_detected", "censored")
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
                f"{'ci_high':>10}  {'detect':>8}  {'censored':>8}  note")
        lines = [title, "=" * len(head), head, "-" * len(head)]
        for t in self.transitions:
            note = t.details.get("note", t.details.get("law", ""))
            lines.append(f"{t.layer:<{w}}  {t.rank:>4}  {'yes' if t.detected else 'no':>8}  "
                         f"{_f(t.step, '.1f'):>10}  {_f(t.ci_low, '.1f'):>10}  "
                         f"{_f(t.ci_high, '.1f'):>10}  {_f(t.first_detected, '.0f'):>8}  "
                         f"{t.censored or '':>8}  {note}")
        lines.append("-" * len(head))
        lines.append("censored right (not detected): no crossing up to ci_low, the last step; "
                     "censored left: at or before the first step (step, or ci_high if step "
                     "is '-')")
        return "\n".join(lines)

    def __repr__(self) -> str:
        rows = ", ".join(f"{t.layer}[{t.rank}]: " + (t.bound if t.detected else
                                                     f"not detected (> {_f(t.ci_low, '.0f')})")
                         for t in self.transitions[:6])
        more = ", ..." if len(self.transitions) > 6 else ""
        return f"TransitionResult(method={self.method!r}, {rows}{more})"
