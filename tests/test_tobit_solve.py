"""The Tobit kernel's small linear solve (written out instead of Numba's ``np.linalg.solve``, which
costs seconds of compilation) against numpy's LAPACK solve, and the errors it keeps."""

from __future__ import annotations

import numpy as np
import pytest

from bbpfit.transition.tobit import _solve, tobit_fit


def test_solve_matches_lapack_on_the_kernels_sizes():
    rng = np.random.default_rng(3)
    for p in (1, 2, 3, 4):
        for _ in range(200):
            A = rng.standard_normal((p, p))
            if rng.random() < 0.5:  # the kernel's matrices: normal equations and (minus) Hessians
                A = -(A @ A.T + 0.1 * np.eye(p))
            b = rng.standard_normal(p)
            ref = np.linalg.solve(A, b)
            got = _solve(A, b)
            cond = np.linalg.cond(A)
            np.testing.assert_allclose(got, ref, rtol=0.0, atol=1e-12 * cond * (1 + np.abs(ref).max()))


def test_solve_needs_pivoting_and_leaves_its_inputs_alone():
    A = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [4.0, -3.0, 8.0]])  # zero first pivot
    b = np.array([1.0, 2.0, 3.0])
    A0, b0 = A.copy(), b.copy()
    np.testing.assert_allclose(_solve(A, b), np.linalg.solve(A, b), rtol=1e-13)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("A, b", [
    (np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([1.0, 1.0])),  # exactly singular
    (np.zeros((3, 3)), np.ones(3)),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones(2)),  # as Numba's solve: no NaN/Inf
    (np.eye(2), np.array([np.inf, 1.0])),
])
def test_solve_raises_linalgerror_like_numpy(A, b):
    with pytest.raises(np.linalg.LinAlgError):
        _solve(A, b)


def test_tobit_fit_raises_linalgerror_on_a_degenerate_design():
    # every observed row has the same x: the least-squares start is singular (growth.py relies
    # on LinAlgError for such bootstrap replicates)
    X = np.ascontiguousarray(np.stack([np.ones(6), np.full(6, 2.0)], axis=1))
    y = np.linspace(1.0, 2.0, 6)
    with pytest.raises(np.linalg.LinAlgError):
        tobit_fit(X, y, np.zeros(6), np.ones(6), np.ones(6, dtype=bool))
