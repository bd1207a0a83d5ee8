"""Benchmarks of the spectrum recorder: training overhead (CPU, CUDA) and storage size.

Run ``python benchmarks/bench_recorder.py [overhead|vectors|serial|profile|solve|storage|cuda ...]
[--threads N] [--width W ...]`` (on a shared machine: ``--threads 1`` and compare CPU ratios).

(a) overhead: a 4-layer MLP of width 512 trained on CPU, recorded every 50 steps, against the
    same training without the recorder; runs alternate in one process and the ratio of the
    median wall times is reported (target <= 1.10). The timed span is the training loop plus
    ``recorder.flush()`` (all spectra computed and written); the recorder's construction (which
    records step 0 and starts the worker: the first call) and the one-off compaction at close
    are reported separately. ``cpu_ratio`` compares process CPU time instead: the wall-time ratio
    to expect when no core is left for the recorder's thread (e.g. torch using every core).
(a') vectors: (a) with three recorders alternating against plain training in the same process:
    eigenvalues only, top-8 vectors at the default cadence (``vectors_every = 10 * every``), and
    top-8 vectors at every recorded step (``vectors_every = every = 50``, the worst case); paired
    per-repeat ratios of wall time, process CPU and training-thread CPU (:func:`bench_vectors`).
    ``serial``: the same with the recorder computing in the training thread.
    ``profile``: CPU milliseconds per recorded step by stage (:func:`bench_profile`).
(a'') solve: the per-matrix cost behind (a'): eigenvalues alone, eigenvalues plus the partial
    top-k vectors (one shared Gram matrix), and eigenvalues plus a full ``eigh`` with vectors
    (what the recorder did before), on the trained-like 512 x 512 layer of (a) and a spiked one.
(b) storage: 100 steps of a 12-block model with a 768x768 and a 768x3072 matrix per block,
    written through the store layer with synthetic (MP-like, drifting) eigenvalues, since the
    size does not depend on where the values came from. Reports bytes on disk (compacted zarr)
    over the raw float32 eigenvalue bytes (target < 1.5).
(c) cuda: (a) on a CUDA device with width 4096; skipped without one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import numpy as np


def _mlp(width: int, device: str):
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10)).to(device)


def _run(width, steps, device, path=None, every=50, batch=128, **vector_kw):
    """One training run: (wall s, process CPU s, training-thread CPU s, close s, construction s).

    The timed span is the training loop plus ``recorder.flush()`` (every spectrum computed and
    written). Process CPU counts every thread (training, the recorder's worker, BLAS threads);
    the training thread's own CPU time shows what recording costs the training thread itself
    (snapshot copies, hand-off, and any slowdown from sharing caches with the worker).
    """
    import torch

    from bbpfit.recording import SpectrumRecorder

    model = _mlp(width, device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    g = torch.Generator(device=device).manual_seed(1)
    x = torch.randn(batch, width, device=device, generator=g)
    y = torch.randint(0, 10, (batch,), device=device, generator=g)
    t_start = time.perf_counter()
    rec = SpectrumRecorder(model, path, every=every, optimizer=opt, **vector_kw) if path else None
    t_start = time.perf_counter() - t_start
    if device == "cuda":
        torch.cuda.synchronize()
    t0, c0, th0 = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        if rec is not None:
            rec.log(loss=loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if rec is not None:
        rec.flush()
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    thread_cpu = time.thread_time() - th0
    t1 = time.perf_counter()
    if rec is not None:
        rec.close()
    return elapsed, cpu, thread_cpu, time.perf_counter() - t1, t_start


def bench_overhead(device="cpu", width=512, steps=500, repeats=5, every=50) -> dict:
    """Median time with / without the recorder over alternating runs in one process."""
    import xarray  # noqa: F401 - imported before timing (the store needs it at close)

    folder = tempfile.mkdtemp(prefix="bbpfit-bench-")
    _run(width, 50, device)  # warm-up
    plain, recorded = [], []
    for i in range(repeats):
        plain.append(_run(width, steps, device))
        recorded.append(_run(width, steps, device, os.path.join(folder, f"r{i}.bbp"), every=every))

    def med(runs, k):
        return statistics.median(r[k] for r in runs)

    return {"bench": f"overhead-{device}", "width": width, "steps": steps, "every": every,
            "plain_s": [round(r[0], 3) for r in plain],
            "recorded_s": [round(r[0], 3) for r in recorded],
            "ratio": round(med(recorded, 0) / med(plain, 0), 3), "target": 1.10,
            # CPU seconds of the whole process: the overhead when no core is spare.
            "cpu_ratio": round(med(recorded, 1) / med(plain, 1), 3),
            "close_s_median": round(med(recorded, 3), 3)}


def bench_vectors(width=512, steps=500, repeats=5, every=50, k=8, background=True) -> dict:
    """Overhead without vectors and with top-k vectors at two cadences, against plain training.

    All variants run in one process; each repeat runs plain training and the three recorders
    in a rotated order (so no variant always follows another), and every recorded run is compared
    with the plain run of its own repeat (paired ratios, robust to load drifting between repeats).
    Reported per variant: the median paired ratio of wall time (``*_ratio``), of process CPU time
    (``*_cpu_ratio``: the overhead when no core is spare for the recorder's worker thread) and of
    the training thread's own CPU time (``*_train_cpu_ratio``: what recording costs the training
    thread itself). Load averages before and after say how contended the machine was.
    ``background=False`` computes in the training thread: the recorder's own CPU cost without
    the interference of two busy threads sharing caches (all ratios then measure the same).
    """
    import xarray  # noqa: F401

    folder = tempfile.mkdtemp(prefix="bbpfit-bench-")
    variants = {"eigenvalues": {"background": background},
                f"vectors_every_{10 * every}": {"top_k_vectors": k, "background": background},
                f"vectors_every_{every}": {"top_k_vectors": k, "vectors_every": every,
                                            "background": background}}
    load_before = os.getloadavg()
    _run(width, 50, "cpu")  # warm-up (torch)
    _run(width, 50, "cpu", os.path.join(folder, "warm.bbp"), every=every, top_k_vectors=k)
    names = ["plain", *variants]
    runs: dict[str, list] = {name: [] for name in names}
    for i in range(repeats):
        for name in names[i % len(names):] + names[: i % len(names)]:
            path = None if name == "plain" else os.path.join(folder, f"{name}{i}.bbp")
            runs[name].append(_run(width, steps, "cpu", path, every=every,
                                   **variants.get(name, {})))

    def paired(name, j):
        return statistics.median(r[j] / p[j] for r, p in zip(runs[name], runs["plain"],
                                                             strict=True))

    out = {"bench": "overhead-vectors-cpu" + ("" if background else "-serial"), "width": width,
           "steps": steps, "every": every, "k": k,
           "repeats": repeats, "plain_s": round(statistics.median(r[0] for r in runs["plain"]), 3),
           "plain_cpu_s": round(statistics.median(r[1] for r in runs["plain"]), 3)}
    for name in variants:
        out[f"{name}_ratio"] = round(paired(name, 0), 3)
        out[f"{name}_cpu_ratio"] = round(paired(name, 1), 3)
        out[f"{name}_train_cpu_ratio"] = round(paired(name, 2), 3)
        out[f"{name}_cpu_ratios"] = [round(r[1] / p[1], 3) for r, p in
                                     zip(runs[name], runs["plain"], strict=True)]
        out[f"{name}_first_call_s"] = round(statistics.median(r[4] for r in runs[name]), 3)
    out["target"] = 1.10
    out["load_average"] = [round(load_before[0], 1), round(os.getloadavg()[0], 1)]
    return out


#: Stages of a recorded step in the cProfile of ``profile``: (label, file suffix, function,
#: "ct" cumulative or "tt" own time). The Gram product ``a.T @ a`` is an operator, not a call: it
#: is in the own time of the function that forms it.
_STAGES = (
    ("snapshot (weight copies, training thread)", "recording/compute.py", "snapshot", "ct"),
    ("conversions (astype) + finite check", "", "<method 'astype' of 'numpy.ndarray' objects>",
     "tt"),
    ("conversions (astype) + finite check", "_validation.py", "check_finite", "ct"),
    ("Gram matrix (BLAS)", "spectrum/eigenvalues.py", "_gram_numpy", "tt"),
    ("Gram matrix (BLAS)", "recording/vectors.py", "spectrum_and_vectors", "tt"),
    ("eigenvalues (LAPACK eigvalsh)", "numpy/linalg/_linalg.py", "eigvalsh", "ct"),
    ("eigenvalues, m <= 32 (SVD)", "numpy/linalg/_linalg.py", "svd", "ct"),
    ("top-k vectors (partial method)", "recording/vectors.py", "top_singular_vectors", "ct"),
    ("store: checks + fragments (npz, fsync)", "store/writer.py", "_checked", "ct"),
    ("store: checks + fragments (npz, fsync)", "store/writer.py", "_publish", "ct"),
)


def bench_profile(width=512, steps=1000, every=50, k=8) -> dict:
    """CPU milliseconds per recorded step by stage (cProfile on CPU time, one thread).

    The recorder runs with ``background=False`` so that its whole cost is in the profiled thread;
    the stages come from :data:`_STAGES`, ``recorder`` is everything the recorder did
    (``_record`` and the final ``flush``), ``train_step`` the rest divided by ``steps``.
    """
    import cProfile
    import pstats

    import xarray  # noqa: F401

    folder = tempfile.mkdtemp(prefix="bbpfit-bench-")
    _run(width, 50, "cpu")
    out = {"bench": "recorder-profile", "width": width, "steps": steps, "every": every, "k": k,
           "load_average": round(os.getloadavg()[0], 1)}
    for name, kw in (("eigenvalues", {}), (f"vectors_every_{every}",
                                          {"top_k_vectors": k, "vectors_every": every})):
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        _, cpu, *_ = _run(width, steps, "cpu", os.path.join(folder, f"{name}.bbp"), every=every,
                          background=False, **kw)
        prof.disable()
        stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
        records = steps // every

        def ms(file, func, kind, stats=stats, records=records):
            total = sum(v[3] if kind == "ct" else v[2] for (f, _, fn), v in stats.items()
                        if fn == func and f.replace(os.sep, "/").endswith(file))
            return 1e3 * total / records

        row: dict[str, float] = {}
        for label, file, func, kind in _STAGES:
            row[label] = row.get(label, 0.0) + ms(file, func, kind)
        recorder = ms("recording/recorder.py", "_record", "ct") + ms("recording/recorder.py",
                                                                    "flush", "ct")
        row = {key: round(val, 2) for key, val in row.items()}
        row["recorder_ms_per_record"] = round(recorder, 2)
        row["train_step_ms"] = round(1e3 * (cpu - 1e-3 * recorder * records) / steps, 3)
        row["cpu_ratio_estimate"] = round(cpu / (cpu - 1e-3 * recorder * records), 3)
        out[name] = row
    return out


def bench_solve(width=512, k=8, repeats=7) -> dict:
    """Milliseconds per matrix: eigenvalues; + partial top-k vectors; + full eigh vectors."""
    from bbpfit import eigenvalues
    from bbpfit.recording.vectors import SINGLE_CHUNK_RATIO, plan, spectrum_and_vectors

    rng = np.random.default_rng(0)
    model = _mlp(width, "cpu")  # PyTorch's default init: the recorder's first matrix
    init = model[2].weight.detach().double().numpy()
    spiked = rng.standard_normal((width, width)) / np.sqrt(width)
    for s in (4.0, 3.0, 2.5, 2.2):
        spiked += s * np.outer(rng.standard_normal(width) / np.sqrt(width),
                               rng.standard_normal(width) / np.sqrt(width))

    def full(a):
        lam = eigenvalues(a)
        np.linalg.eigh(a.T @ a)
        return lam

    out = {"bench": "vector-solve", "width": width, "k": k}
    for label, a in (("init", init), ("spiked", spiked)):
        mu = np.linalg.eigvalsh(a.T @ a)[::-1]
        out[f"{label}_plan"] = plan(mu, k, ratio=SINGLE_CHUNK_RATIO)  # (block, degree) of round 1
        for name, fn in (("eig", eigenvalues), ("partial", lambda a: spectrum_and_vectors(a, k)),
                         ("full_eigh", full)):
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn(a)
                times.append(time.perf_counter() - t0)
            out[f"{label}_{name}_ms"] = round(1e3 * statistics.median(times), 2)
    return out


def _dir_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


def bench_storage(blocks=12, steps=100, seed=0) -> dict:
    """Bytes on disk of a 100-step store of 24 matrices vs the raw float32 eigenvalues."""
    from bbpfit import eigenvalues
    from bbpfit.store import LayerInfo, SpectraWriter, compact

    rng = np.random.default_rng(seed)
    layers = []
    for b in range(blocks):
        layers += [LayerInfo(f"h.{b}.attn.weight", (768, 768), 768, 768),
                   LayerInfo(f"h.{b}.mlp.weight", (3072, 768), 3072, 768)]
    base = {shape: eigenvalues(rng.standard_normal(shape) * 0.02)
            for shape in ((768, 768), (3072, 768))}
    path = os.path.join(tempfile.mkdtemp(prefix="bbpfit-bench-"), "store.bbp")
    t0 = time.perf_counter()
    with SpectraWriter(path, layers, flush_every=10) as w:
        for s in range(steps):
            drift = 1 + 0.01 * s
            lam = [base[x.shape] * drift * (1 + 1e-3 * rng.standard_normal(x.m)) for x in layers]
            lam = [np.sort(v)[::-1] for v in lam]
            w.append(s * 100, lam, loss=1.0 / (s + 1), lr=1e-3)
            if s == steps - 1:
                w.flush()
                fragment_bytes = _dir_bytes(os.path.join(path, "fragments"))
        w.close(compact=False)
    t_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    compact(path)
    t_compact = time.perf_counter() - t0
    raw = sum(x.m for x in layers) * steps * 4
    disk = _dir_bytes(path)
    return {"bench": "storage", "layers": len(layers), "steps": steps, "raw_bytes": raw,
            "fragments_bytes": fragment_bytes, "fragments_ratio": round(fragment_bytes / raw, 3),
            "compacted_bytes": disk, "ratio": round(disk / raw, 3), "target": 1.5,
            "write_s": round(t_write, 2), "compact_s": round(t_compact, 2)}


def bench_cuda() -> dict:
    import torch

    if not torch.cuda.is_available():
        return {"bench": "overhead-cuda", "skipped": "no CUDA device"}
    return bench_overhead("cuda", width=4096, steps=500, repeats=5)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", default=["overhead", "vectors", "solve", "storage",
                                                     "cuda"])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=500, help="steps per overhead run")
    parser.add_argument("--width", type=int, nargs="+", default=[512],
                        help="MLP widths for overhead, vectors, profile and solve")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    runs = {"overhead": lambda w: bench_overhead(width=w, steps=args.steps, repeats=args.repeats),
            "vectors": lambda w: bench_vectors(width=w, steps=args.steps, repeats=args.repeats),
            "serial": lambda w: bench_vectors(width=w, steps=args.steps, repeats=args.repeats,
                                              background=False),
            "profile": lambda w: bench_profile(width=w, steps=2 * args.steps),
            "solve": lambda w: bench_solve(width=w), "storage": lambda w: bench_storage(),
            "cuda": lambda w: bench_cuda()}
    for name in args.which:
        for width in (args.width if name in ("overhead", "vectors", "serial", "profile", "solve")
                      else [0]):
            print(json.dumps(runs[name](width)), flush=True)


if __name__ == "__main__":
    main()
