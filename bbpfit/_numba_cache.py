"""Numba on-disk caches that cannot go stale when a kernel's callee in another file changes.

Numba keys a cached kernel on its own source file only: when kernel ``a`` (in ``a.py``) calls
kernel ``b`` (in ``b.py``) and ``b.py`` is edited, the cached ``a`` still holds the old ``b``.
:func:`register` installs cache locators for the functions of one package whose freshness
stamp is a hash of the contents of *every* Python file of the package that uses Numba, so an
edit to any kernel file invalidates every cached kernel of the package (they are rebuilt once,
on next use). The cache files stay where Numba puts them (``__pycache__``, or
``NUMBA_CACHE_DIR``, or the user-wide cache). Imported first by each subpackage that defines
kernels (fit, inference, laws, transition), so the package is registered before any kernel is
defined while ``import bbpfit`` itself loads no Numba.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from numba.core import caching

_REGISTERED: set[str] = set()


@functools.cache
def package_stamp(root: str) -> str:
    """sha256 over the relative paths and contents of the package's Numba-using ``.py`` files."""
    digest = hashlib.sha256()
    base = Path(root)
    for path in sorted(base.rglob("*.py")):
        data = path.read_bytes()
        if b"numba" in data:
            digest.update(path.relative_to(base).as_posix().encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def _locator(base, root: str):
    class PackageLocator(base):
        """``base`` for the functions under ``root``, stamped with :func:`package_stamp`."""

        @classmethod
        def from_function(cls, py_func, py_file):
            try:
                inside = Path(py_file).resolve().is_relative_to(root)
            except (OSError, ValueError):
                return None
            return super().from_function(py_func, py_file) if inside else None

        def get_source_stamp(self):
            return ("bbpfit-package", package_stamp(root))

    PackageLocator.__name__ = f"Package{base.__name__}"
    return PackageLocator


def register(root) -> None:
    """Stamp the Numba caches of every function defined under the folder ``root`` (idempotent)."""
    root = str(Path(root).resolve())
    if root in _REGISTERED:
        return
    bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator,
             caching.UserWideCacheLocator)
    caching.CacheImpl._locator_classes[:0] = [_locator(b, root) for b in bases]
    _REGISTERED.add(root)


register(Path(__file__).parent)
