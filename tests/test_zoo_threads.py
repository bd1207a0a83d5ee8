"""`analyze_zoo(workers=0)` runs in the caller's process: it must leave torch's threads as it found them."""

import numpy as np
import pytest

from bbpfit.sources.safetensors_file import save_safetensors
from bbpfit.zoo import analyze_zoo
from bbpfit.zoo.nulls import CACHE_ENV

torch = pytest.importorskip("torch")


def test_in_process_zoo_restores_torch_threads(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    path = tmp_path / "m.safetensors"
    save_safetensors(path, {"fc.weight": rng.standard_normal((40, 20)).astype(np.float32)})
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # a caller with more than one thread (the CI machine has 2 cores)
    try:
        seen = []
        real_analyze = analyze_zoo.__globals__["analyze"]

        def spy(*args, **kwargs):
            seen.append(torch.get_num_threads())
            return real_analyze(*args, **kwargs)

        monkeypatch.setitem(analyze_zoo.__globals__, "analyze", spy)
        table = analyze_zoo([str(path)], workers=0, method="tw")
        assert (table["status"] == "ok").all()
        assert seen == [1]  # the analysis itself ran on one thread
        assert torch.get_num_threads() == 2  # and the caller got its two back
    finally:
        torch.set_num_threads(before)
