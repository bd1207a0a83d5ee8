"""Pickles a newcomer meets (issue #14 item 3): a class of the training script, a class from a
module that is not installed, a text file renamed ``.pt``. Each gets a message that says what the
file is and what would load it; with ``allow_unsafe_pickle`` the tensors load."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from bbpfit.sources import iter_layers  # noqa: E402

SCRIPT = textwrap.dedent("""
    import torch, mymod
    from dataclasses import dataclass

    @dataclass
    class MyCfg:
        lr: float = 0.1

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(64, 128)
            self.head = torch.nn.Linear(128, 10)

    torch.manual_seed(0)
    net = Net()
    torch.save({"cfg": MyCfg(), "state_dict": net.state_dict()}, "ckpt_cfg.pt")
    torch.save(net, "whole_net.pt")
    torch.save({"cfg": mymod.Cfg(), "model": net.state_dict()}, "ckpt_mymod.pt")
    torch.save(net.state_dict(), "reference.pt")
""")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Files written by a training script run as __main__, with a module only it can import."""
    folder = tmp_path_factory.mktemp("pickles")
    (folder / "lib").mkdir()
    (folder / "lib" / "mymod.py").write_text("class Cfg:\n    def __init__(self):\n        self.depth = 3\n")
    (folder / "train.py").write_text(SCRIPT)
    subprocess.run([sys.executable, "train.py"], cwd=folder, check=True,
                   env={"PYTHONPATH": str(folder / "lib"), "PATH": ""})
    return folder


def _weights(path, **kw):
    return {name: np.asarray(w) for name, w in iter_layers(path, **kw)}


@pytest.mark.parametrize("name, needs", [("ckpt_cfg.pt", "__main__.MyCfg"),
                                         ("whole_net.pt", "__main__.Net")])
def test_class_of_the_training_script(saved, name, needs):
    with pytest.raises(ValueError) as err:
        list(iter_layers(saved / name))
    text = str(err.value)
    assert f"`{needs}`, a class defined in the script that saved it" in text
    assert "does not exist" not in text and "corrupt" not in text  # the old, wrong diagnosis
    assert "allow_unsafe_pickle=True" in text and "torch.save(model.state_dict()" in text
    ref = torch.load(saved / "reference.pt")
    got = _weights(saved / name, allow_unsafe_pickle=True)
    assert list(got) == ["fc.weight", "head.weight"]
    for key, value in got.items():
        np.testing.assert_array_equal(value, ref[key].numpy())


def test_class_from_a_module_that_is_not_installed(saved):
    with pytest.raises(ValueError, match=r"needs `mymod.Cfg`.*PYTHONPATH"):
        list(iter_layers(saved / "ckpt_mymod.pt"))
    # was a bare ModuleNotFoundError with the flag
    assert list(_weights(saved / "ckpt_mymod.pt", allow_unsafe_pickle=True)) == ["fc.weight",
                                                                                 "head.weight"]


@pytest.mark.parametrize("content, says", [
    (b"hello, these are my notes\nnot weights\n", "it is text ('hello, these are my notes"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n", "git lfs pull"),
    (b"<!DOCTYPE html><html><body>404</body></html>", "an HTML page"),
    (bytes(range(200, 256)) * 2, "neither a zip archive nor a pickle"),
])
def test_not_a_checkpoint_says_what_it_is(tmp_path, content, says):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    for unsafe in (False, True):
        with pytest.raises(ValueError, match="not a readable PyTorch checkpoint") as err:
            list(iter_layers(path, allow_unsafe_pickle=unsafe))
        assert says in str(err.value) and "KeyError" not in str(err.value)
