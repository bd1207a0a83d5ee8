"""Where the exact null samples of the spike tests are kept between runs: an on-disk cache.

Owns the choice of the default :class:`~bbpfit.inference.NullCache` used by :func:`bbpfit.analyze`
and :func:`bbpfit.analyze_zoo`. A spike test needs one simulated null sample per matrix shape
``(n, m - k)`` it tests (about 0.3-0.7 s each); a model with many spikes needs dozens of them, so
the first analysis of a model is dominated by simulation. Every sample is a deterministic
function of its key (:func:`bbpfit.inference.null_cache.null_seed`), so samples written by one
process are exactly those any other would simulate; keeping them as ``.npy`` files (written
atomically) lets later runs, other CLI calls and the worker processes of a zoo share them.

The directory is ``$BBPFIT_CACHE_DIR/nulls`` if that variable is set (the values ``""``, ``"0"``
and ``"none"`` turn the disk cache off), else ``$XDG_CACHE_HOME/bbpfit/nulls``, else
``~/.cache/bbpfit/nulls``. When it cannot be created the in-memory cache is used.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from ..inference import DEFAULT_NULL_CACHE, NullCache

#: Environment variable naming bbpfit's cache directory.
CACHE_ENV = "BBPFIT_CACHE_DIR"


def null_cache_dir() -> Path | None:
    """The directory of the on-disk null cache, or None when it is turned off."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        if value.strip().lower() in ("", "0", "none"):
            return None
        return Path(value).expanduser() / "nulls"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bbpfit" / "nulls"


@functools.lru_cache(maxsize=8)
def _cache_for(directory: str | None) -> NullCache:
    if directory is None:
        return DEFAULT_NULL_CACHE
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
        probe = Path(directory) / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError:
        return DEFAULT_NULL_CACHE
    return NullCache(directory=directory)


def default_null_cache() -> NullCache:
    """The process-wide null cache backed by :func:`null_cache_dir` (memory only if unusable)."""
    directory = null_cache_dir()
    return _cache_for(None if directory is None else str(directory))
