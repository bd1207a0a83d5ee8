"""The README's code blocks and the examples run as written (issue #14: the README never drifts).

- Each ``python`` block runs as a script in a fresh temporary folder.
- The ``bash`` block of ``bbpfit`` commands runs line by line, as written, in a fresh temporary
  folder holding the files it names (``model.safetensors``, ``checkpoints/*.pt``, and
  ``run.bbp`` as written by the README's recording block).
- The two install-and-run blocks are not executed (each builds a venv and downloads ~2 GB, minutes
  per run): ``.ci/run`` performs them on every CI run, so the test checks that they say what
  ``.ci/run`` does (same installs in the same order, torch pinned first, the same pytest call) and
  that each uses a venv of its own.
- Each example runs with its documented (quick) command line.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", README, flags=re.S | re.M)
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
BASH = [code for lang, code in BLOCKS if lang == "bash"]
INSTALL = [code for code in BASH if "pip install" in code]
COMMANDS = [code for code in BASH if "pip install" not in code]


def _env(tmp_path):
    """PATH with a ``bbpfit`` that runs this checkout; the checkout first on PYTHONPATH."""
    bin_dir = tmp_path.parent / f"{tmp_path.name}-bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "bbpfit"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bbpfit "$@"\n')
    shim.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               PATH=os.pathsep.join([str(bin_dir), os.environ["PATH"]]), MPLBACKEND="Agg")
    return env


def _run(args, cwd, *, shell=False, timeout=900):
    proc = subprocess.run(args, cwd=cwd, env=_env(Path(cwd)), capture_output=True, text=True,
                          shell=shell, timeout=timeout)
    assert proc.returncode == 0, f"{args!r} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_readme_has_the_blocks_this_file_runs():
    assert len(PYTHON) == 2 and len(INSTALL) == 2 and len(COMMANDS) == 1
    assert "..." not in PYTHON[1], "the recording block must be a real loop, not '...'"


def test_tour_block_runs(tmp_path):
    out = _run([sys.executable, "-c", PYTHON[0]], tmp_path).stdout
    assert "MPFit" in out or "sigma2" in out
    assert "spike" in out.lower()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The README's recording block, run in its own fresh folder."""
    pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("readme-record")
    proc = _run([sys.executable, "-c", PYTHON[1]], folder)
    return folder, proc.stdout


def test_recording_block_runs(recorded):
    folder, out = recorded
    assert (folder / "run.bbp").is_dir()
    assert "0.weight" in out and "Transition steps" in out


def test_command_block_runs_line_by_line(tmp_path, recorded):
    torch = pytest.importorskip("torch")
    from bbpfit.sources.safetensors_file import save_safetensors

    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(300), rng.standard_normal(120)
    spike = 4.0 * np.sqrt(300) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    save_safetensors(tmp_path / "model.safetensors",
                     {"fc1.weight": rng.standard_normal((300, 120)) + spike,
                      "fc2.weight": rng.standard_normal((80, 200))})
    (tmp_path / "checkpoints").mkdir()
    for i in range(2):
        torch.save({"fc.weight": torch.randn(120, 60), "fc.bias": torch.zeros(120)},
                   tmp_path / "checkpoints" / f"step{i}.pt")
    for name in ("run.bbp", "seed0.bbp", "seed1.bbp"):  # the several-runs line pools two copies
        shutil.copytree(recorded[0] / "run.bbp", tmp_path / name)
    lines = [line.split("#")[0].strip() for line in COMMANDS[0].splitlines()]
    lines = [line for line in lines if line]
    assert [line.split()[1] for line in lines] == ["check", "zoo", "transition", "transition",
                                                     "demo"]
    for line in lines:
        _run(line, tmp_path, shell=True)
    assert (tmp_path / "zoo.csv").is_file()
    assert sorted(p.name for p in (tmp_path / "figures").glob("spectrum_*.png")) == [
        "spectrum_fc1.weight.png", "spectrum_fc2.weight.png"]
    assert list((tmp_path / "figures").glob("spectrogram_*.png"))
    assert (tmp_path / "bbpfit-demo" / "layers.csv").is_file()


def _steps(block: str) -> list[str]:
    """The commands of a one-line install block, normalised as .ci/run writes them."""
    steps = []
    for part in block.strip().split("&&"):
        part = " ".join(part.split())
        part = part.replace("python -m pip", "pip").replace(" -q", "")
        steps.append(part)
    return steps


def _ci_steps() -> list[str]:
    text = (ROOT / ".ci" / "run").read_text()
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("python -m pip install") and "--upgrade pip" not in line:
            steps.append(" ".join(line.replace("python -m pip", "pip").replace(" -q", "").split()))
        if line == "python -m pytest":
            steps.append(line)
    return [s.replace('"$VENV', "VENV").replace('"', "") for s in steps]


def test_install_blocks_say_what_ci_runs():
    demo, tests = (_steps(block) for block in INSTALL)
    venv_demo = shlex.split(demo[0])[-1]
    venv_tests = shlex.split(tests[0])[-1]
    assert demo[0].startswith("python3 -m venv") and tests[0].startswith("python3 -m venv")
    assert venv_demo != venv_tests, "each command must build a venv of its own"
    ci = _ci_steps()
    readme = [s.replace(venv_tests, "VENV") for s in tests[2:]]
    readme = [re.sub(r"^BBPFIT_MINILM_DIR=\S+ ", "", s).replace('"', "") for s in readme]
    assert readme == ci, f"README test command {readme} != .ci/run {ci}"
    assert f"BBPFIT_MINILM_DIR={venv_tests}/minilm" in tests[-1]
    assert 'export BBPFIT_MINILM_DIR="$VENV/minilm"' in (ROOT / ".ci" / "run").read_text()
    # the main job: torch pinned first, then bbpfit, then the demo
    assert demo[2] == "pip install torch==2.13.0" and demo[3] == 'pip install ".[dev]"'
    assert demo[-1] == "bbpfit demo"


EXAMPLES = {
    "teacher_student.py": [],
    "record_digits.py": ["store.bbp"],
    "phase_diagram.py": ["--quick", "--out", "phase.png"],
}


def test_every_example_is_run_here():
    assert sorted(p.name for p in (ROOT / "examples").glob("*.py")) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs(tmp_path, name):
    if name == "record_digits.py":
        pytest.importorskip("torch")
        pytest.importorskip("sklearn")
    _run([sys.executable, str(ROOT / "examples" / name), *EXAMPLES[name]], tmp_path)
    if name == "phase_diagram.py":
        assert (tmp_path / "phase.png").stat().st_size > 10_000
