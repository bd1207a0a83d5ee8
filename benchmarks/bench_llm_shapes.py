"""`bbpfit check` on LLM-shaped layers: wall time against the bare eigenvalues, and peak memory.

Writes a synthetic sharded bfloat16 safetensors checkpoint with Llama-7B block shapes (per block:
q, k, v, o ``d x d``; gate, up ``f x d``; down ``d x f``; ``d = 4096``, ``f = 11008``; divided by
``--scale``), one shard per block plus ``model.safetensors.index.json``. Entries: Student-t(5)
noise of standard deviation 0.02 (trained layers are heavy-tailed, so ``auto`` takes its rank
path) plus planted spikes of strengths 3.0 and 2.0 (noise units; the BBP threshold is
``(m/n)^(1/4) <= 1``).

Timed (one BLAS thread everywhere):

- ``bare``: read each layer and compute float64 ``eigvalsh`` of its Gram matrix, in this process;
- ``bbpfit check FOLDER`` (default ``--method auto``) and ``--method tw``, each in a new process
  whose resident memory is polled every 0.1 s (``/proc``): wall time and peak RSS; the peak over
  the first and the second half of the run (two identical blocks) shows whether memory grows
  with the number of layers;
- with ``--baseline-src DIR``: the same ``bbpfit check`` runs from another source tree (e.g. the
  main branch) in the same session, for ratios measured under the same load.

Nulls are simulated once before timing (a warm-up ``check`` of the same shapes).

Usage::

    OPENBLAS_NUM_THREADS=1 nice python benchmarks/bench_llm_shapes.py [--blocks 2] [--scale 1]
        [--folder /tmp/llm_shapes] [--baseline-src /work/main] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy: one BLAS thread, as bbpfit check uses

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def shapes(scale: int) -> dict[str, tuple[int, int]]:
    d, f = 4096 // scale, 11008 // scale
    return {"q_proj": (d, d), "k_proj": (d, d), "v_proj": (d, d), "o_proj": (d, d),
            "gate_proj": (f, d), "up_proj": (f, d), "down_proj": (d, f)}


def bf16_bytes(w: np.ndarray) -> bytes:
    """float32 -> bfloat16 bits (round to nearest even), little endian."""
    bits = np.ascontiguousarray(w, dtype=np.float32).view(np.uint32)
    bits = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    return bits.astype("<u2").tobytes()


def write_shard(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header, offset, blobs = {}, 0, []
    for name, w in tensors.items():
        blob = bf16_bytes(w)
        header[name] = {"dtype": "BF16", "shape": list(w.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)))
        fh.write(text)
        for blob in blobs:
            fh.write(blob)


def layer(rng, rows, cols, thetas=(3.0, 2.0), sd=0.02) -> np.ndarray:
    n = max(rows, cols)
    w = rng.standard_t(5, (rows, cols)).astype(np.float32) * np.float32(sd / np.sqrt(5 / 3))
    for theta in thetas:
        u, v = rng.standard_normal(rows), rng.standard_normal(cols)
        w += np.float32(theta * sd * np.sqrt(n)) * np.outer(u / np.linalg.norm(u),
                                                            v / np.linalg.norm(v)).astype(np.float32)
    return w


def make_checkpoint(folder: Path, blocks: int, scale: int, seed: int = 0) -> int:
    """Write the sharded checkpoint; returns the largest layer's float32 size in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    weight_map, largest = {}, 0
    for b in range(blocks):
        shard = f"model-{b + 1:05d}-of-{blocks:05d}.safetensors"
        tensors = {}
        for name, (rows, cols) in shapes(scale).items():
            part = "mlp" if name in ("gate_proj", "up_proj", "down_proj") else "self_attn"
            key = f"model.layers.{b}.{part}.{name}.weight"
            tensors[key] = layer(rng, rows, cols)
            weight_map[key] = shard
            largest = max(largest, rows * cols * 4)
        write_shard(folder / shard, tensors)
        del tensors
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return largest


def bare(folder: Path) -> float:
    from bbpfit.sources import iter_layers

    t = time.perf_counter()
    for _, w in iter_layers(folder):
        a = np.asarray(w, dtype=np.float64)
        a = a if a.shape[0] >= a.shape[1] else a.T
        np.linalg.eigvalsh(a.T @ a)
        del a, w
    return time.perf_counter() - t


def run_check(folder: Path, method: str, src: Path, cache: Path) -> dict:
    """``bbpfit check`` in a new process; wall time and RSS timeline (polled from /proc)."""
    env = {**os.environ, "PYTHONPATH": str(src), "BBPFIT_CACHE_DIR": str(cache),
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = Path(tempfile.mkdtemp()) / "table.csv"
    cmd = [sys.executable, "-m", "bbpfit", "check", str(folder), "--method", method, "--out",
           str(out), "-q"]
    t0 = time.perf_counter()
    # cwd=src: ``python -m`` puts the working directory first on sys.path, ahead of PYTHONPATH,
    # so a run started from another source tree would otherwise import that tree's bbpfit
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=src)
    trace = []
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            text = status.read_text()
            rss = int(next(ln for ln in text.splitlines() if ln.startswith("VmRSS")).split()[1])
            trace.append((time.perf_counter() - t0, rss * 1024))
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    _, err = proc.communicate()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd} failed: {err.decode()[-2000:]}")
    rss = np.array([r for _, r in trace] or [0])
    half = len(rss) // 2
    import pandas as pd

    table = pd.read_csv(out)
    return {"wall": wall, "peak_rss": int(rss.max()),
            "peak_first_half": int(rss[:max(half, 1)].max()),
            "peak_second_half": int(rss[half:].max()), "spikes": table["n_spikes"].tolist(),
            "paths": sorted(set(table["path"]))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--folder", type=Path,
                        default=Path(tempfile.gettempdir()) / "bbpfit_llm_shapes")
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--methods", default="auto,tw")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    folder = args.folder / f"b{args.blocks}_s{args.scale}"
    if not (folder / "model.safetensors.index.json").exists():
        t = time.perf_counter()
        make_checkpoint(folder, args.blocks, args.scale)
        print(f"wrote {folder} in {time.perf_counter() - t:.1f} s", flush=True)
    largest = max(r * c for r, c in shapes(args.scale).values()) * 4
    cache = args.folder / "nulls"
    srcs = {"this": ROOT} | ({"baseline": args.baseline_src} if args.baseline_src else {})
    methods = args.methods.split(",")
    for name, src in srcs.items():  # warm-up: nulls of these shapes, Numba caches
        for method in methods:
            run_check(folder, method, src, cache / name)
    rows = []
    for _ in range(args.repeats):
        b = bare(folder)
        rows.append(("bare eigenvalues (float64 eigvalsh, this process)", None, b, None))
        print(f"bare {b:.1f} s", flush=True)
        for name, src in srcs.items():
            for method in methods:
                r = run_check(folder, method, src, cache / name)
                rows.append((f"{name}: bbpfit check --method {method}", r, r["wall"], b))
                print(f"{name} {method}: {r['wall']:.1f} s ({r['wall'] / b:.2f}x bare), peak RSS "
                      f"{r['peak_rss'] / 2**30:.2f} GiB (halves {r['peak_first_half'] / 2**30:.2f}/"
                      f"{r['peak_second_half'] / 2**30:.2f}), spikes {r['spikes']}, {r['paths']}",
                      flush=True)
    print(f"\nlargest layer float32: {largest / 2**30:.3f} GiB; memory goal 3x + 1 GiB = "
          f"{(3 * largest + 2**30) / 2**30:.2f} GiB; load average {os.getloadavg()[0]:.1f}")
    print("| run | wall (s) | / bare | peak RSS (GiB) | first / second half (GiB) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, r, wall, b in rows:
        if r is None:
            print(f"| {label} | {wall:.1f} | 1 | | |")
        else:
            print(f"| {label} | {wall:.1f} | {wall / b:.2f} | {r['peak_rss'] / 2**30:.2f} | "
                  f"{r['peak_first_half'] / 2**30:.2f} / {r['peak_second_half'] / 2**30:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
