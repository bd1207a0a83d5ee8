"""Hugging Face folders (single and sharded, safetensors and torch) and format detection errors."""

import json

import numpy as np
import pytest

from bbpfit.sources import FORMATS, detect_format, iter_layers, list_layers, read_layers

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def weights(seed=0):
    rng = np.random.default_rng(seed)
    return {f"layers.{i}.{p}.weight": rng.standard_normal((12, 8)).astype(np.float32)
            for i in range(3) for p in ("q", "k")}


def write_sharded(folder, tensors, extra_in_shard1=()):
    names = list(tensors)
    shards = {"model-00001-of-00002.safetensors": names[:3], "model-00002-of-00002.safetensors": names[3:]}
    for shard, members in shards.items():
        part = {n: tensors[n] for n in members}
        if shard.startswith("model-00001"):
            part.update({n: np.zeros((12, 8), np.float32) for n in extra_in_shard1})
        safetensors_numpy.save_file(part, folder / shard)
    weight_map = {n: s for s, members in shards.items() for n in members}
    (folder / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": 0}, "weight_map": weight_map}))
    (folder / "config.json").write_text("{}")


def test_sharded_safetensors_folder(tmp_path):
    tensors = weights()
    # a tensor also stored (stale) in shard 1 is read once, from the shard the index names
    write_sharded(tmp_path, tensors, extra_in_shard1=["layers.1.k.weight"])
    got = read_layers(tmp_path)
    assert sorted(got) == sorted(tensors)
    for name, w in got.items():
        np.testing.assert_array_equal(w, tensors[name])
    assert detect_format(tmp_path) == "hf-folder"


def test_name_listed_twice_in_index_is_read_once(tmp_path):
    tensors = weights()
    write_sharded(tmp_path, tensors)
    index = tmp_path / "model.safetensors.index.json"
    text = index.read_text()
    dup = '"layers.0.q.weight": "model-00001-of-00002.safetensors", '
    index.write_text(text.replace('"weight_map": {', '"weight_map": {' + dup))
    assert text != index.read_text()
    assert [n for n, _ in iter_layers(tmp_path)].count("layers.0.q.weight") == 1


def test_single_file_folders_and_preference(tmp_path):
    torch = pytest.importorskip("torch")
    tensors = weights()
    (tmp_path / "st").mkdir()
    safetensors_numpy.save_file(tensors, tmp_path / "st" / "model.safetensors")
    torch.save({k: torch.from_numpy(v) for k, v in weights(1).items()}, tmp_path / "st" / "pytorch_model.bin")
    got = read_layers(tmp_path / "st")  # model.safetensors wins over pytorch_model.bin
    np.testing.assert_array_equal(got["layers.0.q.weight"], tensors["layers.0.q.weight"])

    (tmp_path / "bin").mkdir()
    torch.save({k: torch.from_numpy(v) for k, v in tensors.items()}, tmp_path / "bin" / "pytorch_model.bin")
    assert sorted(read_layers(tmp_path / "bin")) == sorted(tensors)

    (tmp_path / "other").mkdir()
    torch.save({k: torch.from_numpy(v) for k, v in tensors.items()}, tmp_path / "other" / "ckpt.pth")
    assert len(list_layers(tmp_path / "other")) == 6


def test_sharded_torch_folder(tmp_path):
    torch = pytest.importorskip("torch")
    tensors = {k: torch.from_numpy(v) for k, v in weights().items()}
    names = list(tensors)
    weight_map = {}
    for i, members in enumerate((names[:2], names[2:])):
        shard = f"pytorch_model-0000{i + 1}-of-00002.bin"
        torch.save({n: tensors[n] for n in members}, tmp_path / shard)
        weight_map.update({n: shard for n in members})
    (tmp_path / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    got = read_layers(tmp_path)
    assert list(got) == names
    torch.testing.assert_close(got[names[-1]], tensors[names[-1]], rtol=0, atol=0)


def test_folder_errors(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="contains no checkpoint"):
        iter_layers(tmp_path)
    for name in ("a.safetensors", "b.safetensors"):
        safetensors_numpy.save_file({"w.weight": np.eye(3, dtype=np.float32)}, tmp_path / name)
    with pytest.raises(ValueError, match="holds 2 checkpoints and no single index"):
        iter_layers(tmp_path)
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"w.weight": "missing.safetensors"}}))
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        iter_layers(tmp_path)
    index.write_text("{oops")
    with pytest.raises(ValueError, match="not a valid index file: not JSON"):
        iter_layers(tmp_path)
    index.write_text(json.dumps({"metadata": {}}))
    with pytest.raises(ValueError, match='needs a non-empty "weight_map"'):
        iter_layers(tmp_path)
    index.write_text(json.dumps({"weight_map": {"w.weight": "../escape.safetensors"}}))
    with pytest.raises(ValueError, match="outside its folder"):
        iter_layers(tmp_path)


def test_detection_by_content_then_extension(tmp_path):
    st = tmp_path / "weights.bin"  # safetensors content under a torch extension
    safetensors_numpy.save_file({"w.weight": np.eye(3, dtype=np.float32)}, st)
    assert detect_format(st) == "safetensors"
    assert [n for n, _ in iter_layers(st)] == ["w.weight"]
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 64)
    assert detect_format(garbage) == "safetensors"  # by extension, so its error is precise
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        list(iter_layers(garbage))


def test_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist: '.*nowhere.pt'"):
        iter_layers(tmp_path / "nowhere.pt")
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a model")
    with pytest.raises(ValueError, match="notes.txt.*valid formats: safetensors .*torch .*hf-folder"):
        iter_layers(text)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.onnx' is empty"):
        iter_layers(empty)
    with pytest.raises(ValueError, match="unknown format 'onnx'; valid names are 'safetensors', 'torch'"):
        iter_layers(text, format="onnx")
    with pytest.raises(ValueError, match="does not apply to .* which is a directory"):
        iter_layers(tmp_path, format="safetensors")
    assert set(FORMATS) == {"safetensors", "torch", "hf-folder"}
