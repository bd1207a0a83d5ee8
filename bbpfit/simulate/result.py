"""The result of a simulated training run, and the ground-truth signal/noise split it records.

Owns :class:`TeacherStudentResult` (shared by the linear and two-layer teacher-student models)
and the two ways of measuring a student's signal along known teacher directions: the exact
projection onto ``a_i b_i^T`` when both sides are known (linear model), and the debiased
projection onto the teacher's input subspace when only that side is (two-layer model).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["TeacherStudentResult", "split_rank_one", "split_subspace", "vector_overlaps"]


def split_rank_one(W: np.ndarray, A: np.ndarray, B: np.ndarray):
    """Signal ``a_i^T W b_i`` per direction and the entry variance of the remainder.

    ``A`` (rows, r) and ``B`` (cols, r) have orthonormal columns. The remainder
    ``W - sum_i (a_i^T W b_i) a_i b_i^T`` has squared norm ``||W||^2 - sum_i signal_i^2`` over
    ``rows * cols - r`` free entries.
    """
    signal = np.einsum("ir,ij,jr->r", A, W, B)
    rest = np.vdot(W, W) - np.sum(signal**2)
    return signal, max(rest, 0.0) / (W.size - signal.size)


def vector_overlaps(W: np.ndarray, A: np.ndarray, B: np.ndarray, strengths: np.ndarray):
    """Squared overlaps of the student's top singular pairs with the teacher's, per direction.

    Teacher direction ``i`` (columns of ``A`` (rows, r), ``B`` (cols, r)) is matched with the
    student's singular pair of the same rank in decreasing ``strengths`` order. The top ``r``
    pairs come from a partial ``eigh`` of the Gram matrix of the short side (about 0.7 times the
    cost of the full eigenvalues at 400 x 200). Returns ``(left, right)``, each (r,):
    ``|<u_hat, a_i>|^2`` and ``|<v_hat, b_i>|^2``.
    """
    from scipy.linalg import eigh

    rows, cols = W.shape
    r = A.shape[1]
    tall = rows >= cols
    G = W.T @ W if tall else W @ W.T
    k = G.shape[0]
    _, small = eigh(G, subset_by_index=[k - r, k - 1], driver="evr")
    small = small[:, ::-1]                       # descending
    big = W @ small if tall else W.T @ small
    big /= np.maximum(np.linalg.norm(big, axis=0), np.finfo(float).tiny)
    right, left = (small, big) if tall else (big, small)
    rank = np.empty(r, np.int64)
    rank[np.argsort(-np.asarray(strengths), kind="stable")] = np.arange(r)
    return (np.einsum("ir,ir->r", left[:, rank], A) ** 2,
            np.einsum("ir,ir->r", right[:, rank], B) ** 2)


def split_subspace(W: np.ndarray, B: np.ndarray):
    """Debiased signal singular values of ``W`` in the input subspace spanned by ``B``.

    The noise part ``W (I - B B^T)`` gives the entry variance ``sigma2`` over ``rows (cols - r)``
    entries; the singular values ``mu_j`` of ``M = W B`` (rows x r) contain the same noise, which
    adds ``rows sigma2`` to each ``mu_j^2`` on average, so the signal is
    ``sqrt(max(mu_j^2 - rows sigma2, 0))``, descending.
    """
    M = W @ B
    rest = np.vdot(W, W) - np.vdot(M, M)
    rows, cols = W.shape
    sigma2 = max(rest, 0.0) / max(rows * (cols - B.shape[1]), 1)
    mu = np.linalg.svd(M, compute_uv=False)
    return np.sqrt(np.clip(mu**2 - rows * sigma2, 0.0, None)), sigma2


@dataclass(frozen=True, repr=False)
class TeacherStudentResult:
    """Spectra and ground truth of a student trained by online SGD on a low-rank teacher.

    Attributes
    ----------
    model : str
        ``"linear"`` or ``"two-layer tanh"`` / ``"two-layer relu"``.
    shape : tuple of int
        (rows, cols) of the recorded student matrix.
    n, m : int
        ``max(shape)`` and ``min(shape)`` (DESIGN.md convention).
    steps : numpy.ndarray
        int64 (k,), the recorded steps (0 is the initialisation).
    eigenvalues : numpy.ndarray
        (k, m), descending, ``s**2 / n``.
    signal : numpy.ndarray
        (k, r), the student's signal along each teacher direction (see the model's Notes).
    sigma2_noise : numpy.ndarray
        (k,), entry variance of the student's noise part (what is not signal).
    theta : numpy.ndarray
        (k, r), ``signal / sqrt(n sigma2_noise)``: the spike strength in noise units, the quantity
        whose crossing of ``theta_c`` is the BBP transition (exactly so while the noise is MP).
    theta_c : float
        ``(m / n)**0.25``.
    t_cross : numpy.ndarray
        (r,), the first recorded step with ``theta_i > theta_c``, refined by linear
        interpolation from the previous record; NaN if never.
    t_cross_theory : numpy.ndarray
        (r,), the crossing predicted by the mean dynamics (linear model; NaN for two-layer).
    loss : numpy.ndarray
        (k,), population loss at each record (exact for the linear model, estimated on a fixed
        held-out batch for the two-layer model).
    diverged : bool
        Training blew up (non-finite or 1e6 times the initial loss) and was stopped; the records
        end before that step.
    diverged_step : int or None
        The step at which the blow-up was detected.
    params : dict
        The settings of the run.
    overlap_left, overlap_right : numpy.ndarray or None
        (k, r), the squared overlaps ``|<u_hat, a_i>|^2`` and ``|<v_hat, b_i>|^2`` of the student's
        singular pair of the same rank (in decreasing teacher strength) with teacher direction
        ``i`` (linear model; None for two-layer). Compare with :meth:`predicted_overlaps`.
    """

    model: str
    shape: tuple[int, int]
    steps: np.ndarray
    eigenvalues: np.ndarray
    signal: np.ndarray
    sigma2_noise: np.ndarray
    theta: np.ndarray
    theta_c: float
    t_cross: np.ndarray
    t_cross_theory: np.ndarray
    loss: np.ndarray
    diverged: bool
    diverged_step: int | None
    params: dict = field(default_factory=dict)
    overlap_left: np.ndarray | None = None
    overlap_right: np.ndarray | None = None

    @property
    def n(self) -> int:
        """``max(rows, cols)``."""
        return max(self.shape)

    @property
    def m(self) -> int:
        """``min(rows, cols)``."""
        return min(self.shape)

    def predicted_overlaps(self):
        """The BBP prediction of ``overlap_left``/``overlap_right`` from ``theta(t)``.

        Returns
        -------
        bbpfit.laws.overlap.OverlapPrediction
            Fields ``left`` and ``right`` of shape (k, r) (0 while ``theta <= theta_c``).
        """
        from ..laws.overlap import predicted_overlaps

        return predicted_overlaps(np.where(np.isfinite(self.theta), np.abs(self.theta), np.nan),
                                  int(self.shape[0]), int(self.shape[1]))

    def to_dict(self) -> dict:
        """Plain-Python representation (lists and numbers)."""
        out = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()}
        out["shape"] = list(self.shape)
        return out

    def summary(self) -> str:
        """A readable table: settings, then the crossing of each teacher direction."""
        p = ", ".join(f"{k}={v}" for k, v in self.params.items())
        end = (f"diverged at step {self.diverged_step}" if self.diverged
               else f"final loss {self.loss[-1]:.4g}" if self.loss.size else "no records")
        lines = [f"{self.model} teacher-student, W {self.shape[0]}x{self.shape[1]}: {p}",
                 f"{self.steps.size} records to step {self.steps[-1] if self.steps.size else '-'}; "
                 f"{end}; theta_c = {self.theta_c:.4f}",
                 f"{'direction':>9} {'theta_end':>10} {'t_cross':>10} {'theory':>10}"]
        for i in range(self.t_cross.size):
            th = self.theta[-1, i] if self.theta.size else np.nan
            lines.append(f"{i:>9} {th:>10.4g} {self.t_cross[i]:>10.5g} {self.t_cross_theory[i]:>10.5g}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        tc = ", ".join(f"{v:.5g}" for v in self.t_cross)
        return (f"TeacherStudentResult(model={self.model!r}, shape={self.shape}, "
                f"records={self.steps.size}, t_cross=[{tc}], diverged={self.diverged})")
