"""Input checks shared by the public functions.

Every public function validates its arguments here, so that errors name the offending parameter
and say what was expected, in one wording across the package.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np


def check_ratio(ratio, name: str = "ratio") -> float:
    """Return ``ratio`` as a float in (0, 1], or raise ``ValueError``."""
    r = check_real_scalar(ratio, name)
    if not 0.0 < r <= 1.0:
        raise ValueError(f"`{name}` must be in (0, 1] (min(rows, cols) / max(rows, cols)), got {r!r}")
    return r


def check_positive(value, name: str) -> float:
    """Return ``value`` as a float > 0, or raise ``ValueError``."""
    v = check_real_scalar(value, name)
    if not v > 0.0:
        raise ValueError(f"`{name}` must be > 0, got {v!r}")
    return v


def check_alpha(alpha, name: str = "alpha") -> float:
    """Return a significance level in the open interval (0, 1)."""
    a = check_real_scalar(alpha, name)
    if not 0.0 < a < 1.0:
        raise ValueError(f"`{name}` must be in (0, 1), got {a!r}")
    return a


def check_real_scalar(value, name: str) -> float:
    """Return ``value`` as a finite Python float; reject bools, complex, arrays and strings."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and np.isrealobj(value):
            value = value.item()
        else:
            raise TypeError(f"`{name}` must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"`{name}` must be finite, got {v!r}")
    return v


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int (numpy integers accepted), optionally >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {type(value).__name__}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {v}")
    return v


def check_method(method, registry: Mapping, name: str = "method"):
    """Look ``method`` up in ``registry``; the error lists the valid names."""
    if not isinstance(method, str):
        raise TypeError(f"`{name}` must be a string, got {type(method).__name__}")
    try:
        return registry[method]
    except KeyError:
        valid = ", ".join(repr(k) for k in registry)
        raise ValueError(f"unknown {name} {method!r}; valid names are {valid}") from None


def as_real_array(x, name: str, *, min_ndim: int = 1, allow_nonfinite: bool = False,
                  keep_float32: bool = False) -> np.ndarray:
    """Convert ``x`` to a float64 numpy array with real values and at least ``min_ndim`` dims.

    ``keep_float32``: a float32 array is returned as it is (no float64 copy of a large layer).

    Raises ``TypeError`` for complex, object, string or boolean data and ``ValueError`` for too few
    dimensions, zero size, or (unless ``allow_nonfinite``) NaN/Inf entries.
    """
    arr = np.asarray(x)
    check_real_dtype(arr.dtype, name)
    if arr.ndim < min_ndim:
        raise ValueError(f"`{name}` must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty (shape {arr.shape})")
    if not (keep_float32 and arr.dtype == np.float32):
        arr = arr.astype(np.float64, copy=False)
    if not allow_nonfinite:
        check_finite(arr, name)
    return arr


def check_real_dtype(dtype, name: str) -> None:
    """Raise ``TypeError`` unless ``dtype`` is a real integer or floating dtype."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise TypeError(f"`{name}` must be real, got complex dtype {dtype}")
    if dtype.kind not in "iuf":
        raise TypeError(f"`{name}` must have a real numeric dtype, got {dtype}")


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` saying how many entries are NaN or infinite."""
    finite = np.isfinite(arr)
    if not finite.all():
        bad = arr.size - int(finite.sum())
        raise ValueError(
            f"`{name}` contains {bad} NaN or infinite value(s) out of {arr.size}; "
            "clean or mask them first"
        )


_UNSET = object()


def renamed(new_value, old_value, new: str, old: str, default):
    """The value of an option that was renamed (``old`` -> ``new``): one name, not both.

    The old name keeps working with a ``DeprecationWarning`` (shown to the code that calls it
    directly); giving both names is a ``TypeError``. Pass :data:`UNSET` as ``new_value`` or
    ``old_value`` when the caller did not give it.
    """
    if old_value is UNSET:
        return default if new_value is UNSET else new_value
    if new_value is not UNSET:
        raise TypeError(f"`{old}` is the old name of `{new}`: pass `{new}` only")
    import warnings

    warnings.warn(f"`{old}` is renamed `{new}`; the old name will be removed", DeprecationWarning,
                  stacklevel=3)
    return old_value


#: Marks an option the caller did not give (see :func:`renamed`).
UNSET = _UNSET
