"""safetensors files read without torch: equality with the reference readers, bf16, laziness, errors."""

import json
import struct
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import bbpfit.sources.safetensors_file as stf
from bbpfit.sources import detect_format, iter_layers, list_layers, read_layers

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def tensors(rng):
    return {
        "enc.0.fc.weight": rng.standard_normal((48, 16)).astype(np.float32),
        "enc.0.fc.bias": rng.standard_normal(48).astype(np.float32),
        "enc.0.half.weight": rng.standard_normal((8, 24)).astype(np.float16),
        "enc.0.double.weight": rng.standard_normal((5, 7)),
        "conv.weight": rng.standard_normal((6, 3, 3, 3)).astype(np.float32),
        "embed.weight": rng.standard_normal((40, 16)).astype(np.float32),
        "position_ids": np.arange(10, dtype=np.int64)[None],
    }


def test_same_arrays_as_safetensors_numpy(tmp_path):
    path = tmp_path / "m.safetensors"
    safetensors_numpy.save_file(tensors(np.random.default_rng(0)), path)
    ref = safetensors_numpy.load_file(path)
    got = read_layers(path, embeddings=True)
    assert set(got) == {"enc.0.fc.weight", "enc.0.half.weight", "enc.0.double.weight",
                        "conv.weight", "embed.weight"}
    for name, arr in got.items():
        assert arr.dtype == ref[name].dtype and arr.shape == ref[name].shape
        np.testing.assert_array_equal(arr, ref[name])
    assert detect_format(path) == "safetensors"


def test_bfloat16_equals_torch_float(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(0)
    w = torch.randn(33, 17, generator=g).to(torch.bfloat16)
    special = torch.tensor([[0.0, -0.0, float("inf"), -float("inf")], [float("nan"), 1e-40, -3e38, 7.0]],
                           dtype=torch.bfloat16)
    path = tmp_path / "bf16.safetensors"
    save_file({"a.weight": w, "b.weight": special, "c.weight": w.to(torch.float16)}, path)
    got = read_layers(path)
    assert got["a.weight"].dtype == np.float32
    np.testing.assert_array_equal(got["a.weight"], w.float().numpy())
    np.testing.assert_array_equal(got["b.weight"], special.float().numpy())
    np.testing.assert_array_equal(got["c.weight"], w.to(torch.float16).numpy())
    assert [t.dtype for t in list_layers(path)] == ["bfloat16", "bfloat16", "float16"]


def test_iteration_is_lazy_and_memory_is_bounded_by_one_layer(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    layers = {f"l{i}.weight": rng.standard_normal((512, 512)).astype(np.float32) for i in range(8)}
    path = tmp_path / "big.safetensors"
    safetensors_numpy.save_file(layers, path)
    del layers
    calls = []
    real = stf.read_tensor
    monkeypatch.setattr(stf, "read_tensor", lambda f, p, name, *a: calls.append(name) or real(f, p, name, *a))

    assert len(list_layers(path)) == 8 and calls == []  # the header only
    it = iter_layers(path)
    assert calls == []
    next(it)
    assert len(calls) == 1
    next(it)
    assert len(calls) == 2
    it.close()

    one_layer = 512 * 512 * 4
    tracemalloc.start()
    for _, w in iter_layers(path):
        assert w.nbytes == one_layer
        del w
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2.5 * one_layer, peak


def test_reading_needs_no_torch(tmp_path):
    path = tmp_path / "m.safetensors"
    safetensors_numpy.save_file({"fc.weight": np.eye(4, dtype=np.float32)}, path)
    code = (f"import sys; from bbpfit.sources import read_layers; r = read_layers({str(path)!r}); "
            "print(sorted(r), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['fc.weight'] False"


def header_file(path, header, data=b""):
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"\x05\x00\x00", "fewer than the 8-byte header length"),
    (struct.pack("<Q", 500) + b'{"a": 1', "header declares 500 bytes"),
    (struct.pack("<Q", 9) + b"{not json", "not valid JSON"),
    (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
])
def test_corrupt_headers_raise_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as err:
        list(iter_layers(path))
    assert "bad.safetensors" in str(err.value)


def test_truncated_data_is_reported_before_any_layer(tmp_path):
    path = tmp_path / "t.safetensors"
    safetensors_numpy.save_file({"a.weight": np.ones((64, 64), np.float32),
                                 "b.weight": np.ones((64, 64), np.float32)}, path)
    path.write_bytes(path.read_bytes()[:-100])
    it = iter_layers(path)
    with pytest.raises(ValueError, match="truncated file"):
        next(it)


def test_inconsistent_and_unreadable_entries(tmp_path):
    bad = header_file(tmp_path / "size.safetensors",
                      {"w.weight": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 60]}}, bytes(64))
    with pytest.raises(ValueError, match="should take 64 bytes, its offsets give 60"):
        list(iter_layers(bad))
    no_offsets = header_file(tmp_path / "keys.safetensors", {"w.weight": {"dtype": "F32", "shape": [2]}})
    with pytest.raises(ValueError, match="lacks dtype/shape/data_offsets"):
        list(iter_layers(no_offsets))
    fp8 = header_file(tmp_path / "fp8.safetensors",
                      {"w.weight": {"dtype": "F8_E4M3", "shape": [4, 4], "data_offsets": [0, 16]}}, bytes(16))
    assert [t.dtype for t in list_layers(fp8)] == ["float8_e4m3fn"]
    with pytest.raises(ValueError, match="dtype F8_E4M3, which bbpfit cannot read"):
        list(iter_layers(fp8))


def test_save_safetensors_round_trips_and_checks_dtype(tmp_path):
    from bbpfit.sources.safetensors_file import save_safetensors

    a = np.arange(12.0).reshape(3, 4) / 7
    for dt in (np.float64, np.float32, np.float16):
        f = save_safetensors(tmp_path / f"{np.dtype(dt).name}.safetensors", {"w": a}, dtype=dt)
        got = read_layers(f)["w"]
        np.testing.assert_array_equal(np.asarray(got), a.astype(dt))
    with pytest.raises(ValueError, match="`dtype`"):
        save_safetensors(tmp_path / "x.safetensors", {"w": a}, dtype=np.int32)
