"""The layer table holds: imports inside bbpfit flow one way (DESIGN.md; README.md's Layout).

A module may import its own part, the parts its part may import by DESIGN.md's table (and what
those may import in turn), and the package's private base modules (``bbpfit/_*.py``). ``plot``,
``cli`` and ``demo`` are applications side by side above everything: the command line runs the
demo and draws plots; neither the demo nor the plots import the command line.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "bbpfit"
# DESIGN.md, "Layers of the code": part -> the parts it may import
TABLE = {
    "laws": set(), "spectrum": {"laws"}, "fit": {"laws", "spectrum"},
    "inference": {"fit", "spectrum", "laws"}, "simulate": {"spectrum", "laws"}, "store": set(),
    "transition": {"inference", "fit", "laws", "store"}, "sources": {"spectrum"},
    "recording": {"sources", "store"}, "zoo": {"inference", "fit", "spectrum", "sources"},
}
APPS = {"plot": set(), "demo": {"plot"}, "cli": {"plot", "demo"}}  # above every other part


def _allowed(part: str) -> set[str]:
    if part in APPS:
        return set(TABLE) | APPS[part]
    out, todo = set(), list(TABLE[part])
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo += TABLE[p]
    return out


def _part(module: str) -> str | None:
    """``bbpfit.zoo.table`` -> ``zoo``; base modules and the package root -> None."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1].startswith("_"):
        return None
    return parts[1]


def _imports(path: Path):
    pkg = ["bbpfit", *path.relative_to(ROOT).with_suffix("").parts]
    if pkg[-1] == "__init__":
        pkg = pkg[:-1]
    else:
        pkg = pkg[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("bbpfit"):
                yield name


def test_imports_flow_down_the_layer_table():
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        own = _part("bbpfit." + ".".join(path.relative_to(ROOT).with_suffix("").parts))
        if own is None:
            continue
        assert own in TABLE or own in APPS, f"{path}: part {own!r} is not in the layer table"
        allowed = _allowed(own)
        for name in _imports(path):
            other = _part(name)
            if other is not None and other != own and other not in allowed:
                bad.append(f"{path.relative_to(ROOT.parent)} imports {name}")
    assert not bad, "\n".join(bad)
