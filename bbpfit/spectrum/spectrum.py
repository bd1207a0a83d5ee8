"""The `Spectrum` record: a layer's eigenvalues with the shape they came from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import as_real_array, check_int
from .eigenvalues import _is_torch, eigenvalues, matrix_shape


@dataclass(frozen=True, repr=False, eq=False)
class Spectrum:
    """Eigenvalues ``s_i**2 / n`` of one weight matrix, descending, with its dimensions.

    Behaves as the array of its eigenvalues: ``np.asarray(s)``, ``len(s)`` (= m), ``s[0]``
    (the top eigenvalue) and iteration read :attr:`eigenvalues`. Two spectra are equal when
    their eigenvalues, dimensions, shape and name are; spectra are hashable.

    Attributes
    ----------
    eigenvalues : numpy.ndarray
        float64, shape (m,), descending, read-only.
    n, m : int
        ``max(rows, cols)`` and ``min(rows, cols)``.
    name : str or None
        The layer's parameter name, if known.
    shape : tuple of int
        The shape of the array the spectrum was computed from.
    """

    eigenvalues: np.ndarray
    n: int
    m: int
    name: str | None = None
    shape: tuple[int, ...] = field(default=())

    def __post_init__(self):
        n = check_int(self.n, "n", minimum=1)
        m = check_int(self.m, "m", minimum=1)
        if m > n:
            raise ValueError(f"`m` must be <= `n` (m = min side, n = max side), got m={m}, n={n}")
        lam = as_real_array(self.eigenvalues, "eigenvalues")
        if lam.ndim != 1 or lam.shape[0] != m:
            raise ValueError(f"`eigenvalues` must have shape ({m},), got {lam.shape}")
        if np.any(lam < 0):
            raise ValueError("`eigenvalues` must be >= 0 (they are squared singular values / n)")
        lam = np.sort(lam)[::-1].copy()
        lam.setflags(write=False)
        object.__setattr__(self, "eigenvalues", lam)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "m", m)
        object.__setattr__(self, "shape", tuple(self.shape) or (n, m))

    @property
    def ratio(self) -> float:
        """``q = m / n`` in (0, 1]."""
        return self.m / self.n

    @classmethod
    def from_eigenvalues(cls, eigenvalues, n: int, *, name: str | None = None) -> Spectrum:
        """Wrap precomputed eigenvalues (convention ``s**2 / n``) of an n x m matrix, m = len."""
        lam = np.asarray(eigenvalues)
        return cls(lam, n=n, m=lam.shape[-1] if lam.ndim else 0, name=name)

    def __array__(self, dtype=None, copy=None):
        if copy is False and dtype is not None and np.dtype(dtype) != self.eigenvalues.dtype:
            raise ValueError("converting a Spectrum to another dtype needs a copy")
        lam = self.eigenvalues if dtype is None else self.eigenvalues.astype(dtype, copy=False)
        return lam.copy() if copy else lam

    def __len__(self) -> int:
        return self.m

    def __getitem__(self, index):
        return self.eigenvalues[index]

    def __iter__(self):
        return iter(self.eigenvalues)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Spectrum):
            return NotImplemented
        return (self.n == other.n and self.m == other.m and self.name == other.name
                and self.shape == other.shape
                and bool(np.array_equal(self.eigenvalues, other.eigenvalues)))

    def __hash__(self) -> int:
        return hash((self.n, self.m, self.name, self.shape, self.eigenvalues.tobytes()))

    def to_dict(self) -> dict:
        """Plain-Python representation (lists and numbers)."""
        return {"name": self.name, "n": self.n, "m": self.m, "ratio": self.ratio,
                "shape": list(self.shape), "eigenvalues": self.eigenvalues.tolist()}

    def __repr__(self) -> str:
        lam = self.eigenvalues
        head = ", ".join(f"{v:.4g}" for v in lam[:3]) + (", ..." if self.m > 3 else "")
        name = f"{self.name!r}, " if self.name else ""
        return (f"Spectrum({name}n={self.n}, m={self.m}, ratio={self.ratio:.4g}, "
                f"eigenvalues=[{head}])")


def spectrum(W, name: str | None = None) -> Spectrum:
    """Compute the :class:`Spectrum` of one weight matrix or conv kernel.

    Parameters
    ----------
    W : array_like or torch.Tensor
        A matrix (rows, cols) or a conv kernel (out, in, *k); see :func:`bbpfit.eigenvalues`.
    name : str, optional
        The layer's name, kept on the result.

    Examples
    --------
    >>> import numpy as np, bbpfit as bf
    >>> s = bf.spectrum(np.random.default_rng(0).standard_normal((300, 100)), name="fc.weight")
    >>> (s.n, s.m, round(s.ratio, 3))
    (300, 100, 0.333)
    """
    shape = tuple(int(d) for d in W.shape) if _is_torch(W) else np.shape(W)
    _, rows, cols = matrix_shape(shape)
    lam = eigenvalues(W)
    return Spectrum(lam, n=max(rows, cols), m=min(rows, cols), name=name, shape=shape)
