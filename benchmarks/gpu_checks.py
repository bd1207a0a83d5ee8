"""The checks that need a CUDA device, in one script (run it when a GPU is lent; skips without).

Not run yet: no GPU was lent to the tasks that wrote it (issue #13). Prints a report and, when
``$OUT`` is set, writes ``$OUT/gpu_checks.json``. Exit code 0 when every check passed (or no
CUDA device), 1 otherwise. About a minute on one GPU::

    python benchmarks/gpu_checks.py

Checks:

1. ``bf.eigenvalues`` of CUDA tensors (float32, bfloat16, batched same-shape stacks) against the
   CPU float64 route: relative error below 1e-9 (float64 on the device);
2. ``bbpfit.spectrum.fast.fast_spectrum`` of a CUDA tensor stays on the device route and agrees;
3. ``bbpfit.analyze`` of a module on the GPU gives the CPU table (counts, paths; p-values 1e-6);
4. speed: one 4096 x 4096 and one 11008 x 4096 layer, and a batch of four 4096 x 4096 layers
   (q, k, v, o), on the device against one CPU thread (ratios, for the record; no goal);
5. the recorder's CUDA path: ``pytest tests/test_recording.py -k cuda``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 0
    import bbpfit as bf
    from bbpfit.spectrum.fast import fast_spectrum

    dev = torch.device("cuda")
    report, ok = {"device": torch.cuda.get_device_name(0)}, True
    gen = torch.Generator(device="cpu").manual_seed(0)

    # 1. eigenvalues on the device against CPU float64
    errs = {}
    for shape, dtype in [((1536, 384), torch.float32), ((384, 1536), torch.bfloat16),
                         ((4, 512, 256), torch.float32)]:
        w = torch.randn(*shape, generator=gen).to(dtype)
        batched = len(shape) == 3
        ref = bf.eigenvalues(w.double().numpy(), batched=batched)
        got = bf.eigenvalues(w.to(dev), batched=batched)
        errs[f"{shape} {dtype}"] = float(np.max(np.abs(got - ref) / ref.max(axis=-1, keepdims=True)))
    report["eigenvalues_rel_err"] = errs
    ok &= all(e < 1e-9 for e in errs.values())

    # 2. fast_spectrum keeps device tensors on the device route
    w = torch.randn(1000, 300, generator=gen)
    s_dev, gram = fast_spectrum(w.to(dev), "x", with_gram=True)
    s_cpu = bf.spectrum(w.double().numpy())
    report["fast_spectrum_rel_err"] = float(np.max(np.abs(s_dev.eigenvalues - s_cpu.eigenvalues))
                                            / s_cpu.eigenvalues[0])
    ok &= gram is None and report["fast_spectrum_rel_err"] < 1e-9

    # 3. analyze of a module on the GPU equals the CPU table
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 128))
    cpu = bf.analyze(model)
    gpu = bf.analyze(model.to(dev))
    same = (cpu["n_spikes"].tolist() == gpu["n_spikes"].tolist()
            and cpu["path"].tolist() == gpu["path"].tolist()
            and np.allclose(cpu["pvalue"], gpu["pvalue"], rtol=1e-6, atol=1e-12))
    report["analyze_cpu_equals_gpu"] = bool(same)
    ok &= same

    # 4. speed, for the record
    timings = {}
    for label, shape in [("4096x4096", (4096, 4096)), ("11008x4096", (11008, 4096)),
                         ("4 x 4096x4096 batched", (4, 4096, 4096))]:
        w = torch.randn(*shape, generator=gen)
        batched = len(shape) == 3
        bf.eigenvalues(w[..., :64, :64].to(dev), batched=batched)  # warm-up
        torch.cuda.synchronize()
        t = time.perf_counter()
        bf.eigenvalues(w.to(dev), batched=batched)
        torch.cuda.synchronize()
        t_gpu = time.perf_counter() - t
        torch.set_num_threads(1)
        t = time.perf_counter()
        bf.eigenvalues(w.numpy(), batched=batched)
        timings[label] = {"gpu_s": t_gpu, "cpu_1_thread_s": time.perf_counter() - t}
    report["timings"] = timings

    # 5. the recorder's CUDA tests
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/test_recording.py", "-k", "cuda",
                           "-q", "-rs"], cwd=ROOT, env=env, capture_output=True, text=True)
    report["recorder_cuda_tests"] = proc.stdout.strip().splitlines()[-1:] if proc.stdout else []
    ok &= proc.returncode == 0

    report["ok"] = bool(ok)
    print(json.dumps(report, indent=1))
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_checks.json").write_text(json.dumps(report, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
