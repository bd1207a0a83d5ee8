"""The result of :func:`bbpfit.transition_time` over several runs: per-run rows and pooled crossings."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .result import SpikeTransition, TransitionResult, _f

__all__ = ["PooledTransition", "RunTransition", "RunsTransitionResult"]


@dataclass(frozen=True)
class RunTransition:
    """One (layer, rank) crossing of one run, in steps and on the chosen time axis.

    Attributes
    ----------
    run, group : str
        The run's name and the group it is pooled in.
    transition : SpikeTransition
        The run's own estimate (exactly what ``transition_time`` of that store alone gives).
    time, time_low, time_high, time_first : float
        ``step``, ``ci_low``, ``ci_high``, ``first_detected`` mapped onto the time axis (equal to
        them when the axis is ``"step"``).
    """

    run: str
    group: str
    transition: SpikeTransition
    time: float
    time_low: float
    time_high: float
    time_first: float

    @property
    def pooled(self) -> bool:
        """Whether this run's crossing enters the pooled estimate (detected, not censored)."""
        t = self.transition
        return t.detected and t.censored is None and math.isfinite(self.time)

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {"run": self.run, "group": self.group, "time": self.time,
                "time_low": self.time_low, "time_high": self.time_high,
                "time_first": self.time_first, **self.transition.to_dict()}


@dataclass(frozen=True)
class PooledTransition:
    """The crossing of one (layer, rank) pooled over the runs of one group.

    Attributes
    ----------
    group, layer : str
    rank : int
    n_runs : int
        Runs in the group.
    n_pooled : int
        Runs whose crossing was detected within their recorded steps (not censored): the
        pooled values use these only.
    time : float
        Mean crossing over the pooled runs, on the time axis (NaN when none).
    ci_low, ci_high : float
        Between-run interval of the mean: ``time -+ t_{k-1} sd / sqrt(k)`` (Student t at the
        result's confidence level, k = ``n_pooled``), at least as wide on each side as the
        runs' own intervals give for a mean of k (root-mean-square half-width / ``sqrt(k)``),
        and kept within the recorded time; with one pooled run, that run's own
        interval. NaN when none.
    sd : float
        Standard deviation of the pooled runs' crossings (NaN below two).
    note : str
        What was left out (runs not detected or censored).
    """

    group: str
    layer: str
    rank: int
    n_runs: int
    n_pooled: int
    time: float
    ci_low: float
    ci_high: float
    sd: float
    note: str = ""

    @property
    def detected(self) -> bool:
        """Whether at least one run of the group crossed within its recorded steps."""
        return self.n_pooled > 0

    def to_dict(self) -> dict:
        """Plain-Python representation."""
        return {"group": self.group, "layer": self.layer, "rank": self.rank,
                "n_runs": self.n_runs, "n_pooled": self.n_pooled, "detected": self.detected,
                "time": self.time, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "sd": self.sd, "note": self.note}


@dataclass(frozen=True, repr=False)
class RunsTransitionResult:
    """Transition times of several runs (seeds, learning rates), per run and pooled per group.

    Attributes
    ----------
    runs : tuple of str
        Run names, in the order given.
    groups : tuple of str
        The group of each run (pooled together).
    results : tuple of TransitionResult
        Each run's own result, identical to ``transition_time`` of that store alone.
    rows : tuple of RunTransition
        One per (run, layer, rank), with values on the time axis.
    pooled : tuple of PooledTransition
        One per (group, layer, rank).
    time : str
        The time axis (``"step"``, ``"lr*step"``, a per-step variable, or ``"custom"``).
    method : str
    alpha, confidence_level : float
    """

    runs: tuple
    groups: tuple
    results: tuple
    rows: tuple
    pooled: tuple
    time: str
    method: str
    alpha: float
    confidence_level: float

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, run) -> TransitionResult:
        """``res["seed0"]`` -> that run's TransitionResult (an int indexes the runs)."""
        if isinstance(run, int):
            return self.results[run]
        if run not in self.runs:
            raise KeyError(f"run {run!r} not in the result; runs: {list(self.runs)}")
        return self.results[self.runs.index(run)]

    def pooled_for(self, layer: str, rank: int = 0, group: str | None = None) -> PooledTransition:
        """The pooled crossing of ``(layer, rank)`` in ``group`` (the only group by default)."""
        groups = tuple(dict.fromkeys(self.groups))
        if group is None:
            if len(groups) != 1:
                raise ValueError(f"the result has {len(groups)} groups {list(groups)}; pass group=")
            group = groups[0]
        for p in self.pooled:
            if p.group == group and p.layer == layer and p.rank == rank:
                return p
        raise KeyError(f"no pooled crossing for group {group!r}, layer {layer!r}, rank {rank}")

    def to_dataframe(self):
        """A pandas DataFrame, one row per (run, layer, rank): the run's estimate in steps
        (``step``, ``ci_low``, ``ci_high``, ``first_detected``, ``censored``) and on the time
        axis (``time``, ``time_low``, ``time_high``)."""
        import pandas as pd

        cols = ("run", "group", "layer", "rank", "detected", "step", "ci_low", "ci_high",
                "censored", "first_detected", "time", "time_low", "time_high", "method")
        recs = []
        for r in self.rows:
            t = r.transition
            recs.append({"run": r.run, "group": r.group, "layer": t.layer, "rank": t.rank,
                         "detected": t.detected, "step": t.step, "ci_low": t.ci_low,
                         "ci_high": t.ci_high, "censored": t.censored,
                         "first_detected": t.first_detected, "time": r.time,
                         "time_low": r.time_low, "time_high": r.time_high, "method": t.method})
        return pd.DataFrame(recs, columns=list(cols))

    def pooled_dataframe(self):
        """A pandas DataFrame, one row per (group, layer, rank) of :attr:`pooled`."""
        import pandas as pd

        cols = ("group", "layer", "rank", "n_runs", "n_pooled", "detected", "time", "ci_low",
                "ci_high", "sd", "note")
        return pd.DataFrame([p.to_dict() for p in self.pooled], columns=list(cols))

    def to_dict(self) -> dict:
        """Plain-Python representation (without the per-run diagnostics)."""
        return {"method": self.method, "alpha": self.alpha,
                "confidence_level": self.confidence_level, "time": self.time,
                "runs": list(self.runs), "groups": list(self.groups),
                "rows": [r.to_dict() for r in self.rows],
                "pooled": [p.to_dict() for p in self.pooled]}

    def summary(self) -> str:
        """Two tables a person can read: per run, then pooled per group."""
        lc = f"{self.confidence_level:.0%}"
        out = [f"Transition times of {len(self.runs)} runs ({self.method}; time axis "
               f"{self.time!r}; {lc} intervals)"]
        wl = max([len("layer")] + [len(r.transition.layer) for r in self.rows])
        wr = max([len("run")] + [len(x) for x in self.runs])
        head = (f"{'run':<{wr}}  {'layer':<{wl}}  {'rank':>4}  {'step':>22}  {'time':>12}  "
                f"{'time_low':>12}  {'time_high':>12}")
        out += ["=" * len(head), head, "-" * len(head)]
        for r in self.rows:
            t = r.transition
            out.append(f"{r.run:<{wr}}  {t.layer:<{wl}}  {t.rank:>4}  {t.bound:>22}  "
                       f"{_f(r.time, '.6g'):>12}  {_f(r.time_low, '.6g'):>12}  "
                       f"{_f(r.time_high, '.6g'):>12}")
        wg = max([len("group")] + [len(p.group) for p in self.pooled])
        head = (f"{'group':<{wg}}  {'layer':<{wl}}  {'rank':>4}  {'runs':>6}  {'time':>12}  "
                f"{'ci_low':>12}  {'ci_high':>12}  {'sd':>10}  note")
        out += ["", f"Pooled over the runs of each group (mean; between-run {lc} t-interval "
                    "of the mean)", "=" * len(head), head, "-" * len(head)]
        for p in self.pooled:
            out.append(f"{p.group:<{wg}}  {p.layer:<{wl}}  {p.rank:>4}  "
                       f"{f'{p.n_pooled}/{p.n_runs}':>6}  {_f(p.time, '.6g'):>12}  "
                       f"{_f(p.ci_low, '.6g'):>12}  {_f(p.ci_high, '.6g'):>12}  "
                       f"{_f(p.sd, '.4g'):>10}  {p.note}")
        return "\n".join(out)

    def __repr__(self) -> str:
        rows = ", ".join(f"{p.group}/{p.layer}[{p.rank}]: " +
                         (f"{_f(p.time, '.4g')} [{_f(p.ci_low, '.4g')}, {_f(p.ci_high, '.4g')}]"
                          if p.detected else "not detected")
                         for p in self.pooled[:4])
        more = ", ..." if len(self.pooled) > 4 else ""
        return (f"RunsTransitionResult(runs={len(self.runs)}, time={self.time!r}, "
                f"method={self.method!r}, {rows}{more})")
