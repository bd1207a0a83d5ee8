"""Routes from a weight matrix to the matrix that is tested: as is, biwhitened, rank-Gaussianised.

Owns the preprocessing of each ``spike_test`` method and the choices ``method="auto"`` makes
from :mod:`bbpfit.inference.diagnostics`, with the path taken and the reason for every choice:

1. all-zero rows and columns (dead units) are dropped: they carry no noise;
2. row/column noise scales that differ (rank test with the outliers projected out, level 1e-3)
   are equalised by biwhitening;
3. entries whose tails are not Gaussian (kurtosis or largest-entry test, level 1e-3; after
   biwhitening if it was done) are rank-Gaussianised, which makes the exact Gaussian null hold
   for any exchangeable entry law;
4. on the rank paths, the entries' grand mean (a constant offset ``c 1 1^T``, which ranking all
   entries together removes exactly) is put back in noise units (:func:`restore_mean`), so the
   step test counts it as the untransformed test would;
5. the step test is ``"tw"`` (exact finite-n null).

With a Spectrum only (no entries), steps 1-3 are impossible; ``"auto"`` tests the spectrum with
``"tw"`` and records that the Gaussian-entry assumption could not be checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..spectrum import eigenvalues
from ..spectrum.fast import LANCZOS_MIN_M, top_eigenvalues
from .biwhiten import biwhiten
from .diagnostics import (
    DIAGNOSTIC_LEVEL,
    MAX_PROJECTED,
    Diagnostics,
    Residual,
    entry_tails,
    gram_spectrum,
    make_diagnostics,
    outlier_count,
    scale_heterogeneity,
    scores_of,
    signal_residual,
)
from .rank_gauss import normal_scores


@dataclass(frozen=True)
class Prepared:
    """The matrix to test (``n >= m`` orientation) with the path and the reasons.

    ``eigenvalues`` is the tested matrix's spectrum when it was computed on the way (else None);
    ``entries``, on the rank paths, the matrix before rank-Gaussianisation (else None), on which
    :func:`bbpfit.inference.confirm.confirm_on_untransformed` confirms the count; ``noise`` its
    part without the delocalised outlier components when it was computed on the way.
    """

    matrix: np.ndarray
    path: tuple[str, ...]
    reasons: tuple[str, ...]
    diagnostics: Diagnostics | None
    biwhitened: bool
    eigenvalues: np.ndarray | None = None
    entries: np.ndarray | None = None
    noise: Residual | None = None


def _oriented(a):
    return a.T if a.shape[0] < a.shape[1] else a


def drop_zero_lines(a, path, reasons):
    """Drop all-zero rows and columns, recording it."""
    rows = np.any(a != 0, axis=1)
    cols = np.any(a != 0, axis=0)
    if rows.all() and cols.all():
        return a
    path.append("drop-zero-lines")
    reasons.append(f"dropped {int((~rows).sum())} all-zero row(s) and {int((~cols).sum())} "
                   "all-zero column(s) (dead units carry no noise)")
    return _oriented(a[rows][:, cols])


#: A grand mean is put back on the rank scores when its strength ``theta = |mean| sqrt(m) / sd``
#: (a rank-one ``theta sqrt(n) u v^T`` in noise units) is at least this fraction of the BBP
#: threshold ``q^(1/4)``: below 0.8 theta_c the exact test's power equals its size
#: (docs/validation.md: 0.045 at 0.8 theta_c, alpha = 0.05), so nothing detectable is left out,
#: and a sub-threshold offset does not perturb the rank scores' other spikes (pure noise gives
#: ``theta ~ n^(-1/2)``: its scores are left exactly as they were).
MEAN_FRACTION = 0.8
#: Largest strength (noise units) at which a grand mean is put back; stronger ones are capped.
MAX_MEAN_STRENGTH = 1e4


def mean_shift(a: np.ndarray, noise: Residual | None = None) -> float:
    """The entries' grand mean in noise units, ``mean(a) / sd(noise)``, or 0 when negligible.

    ``noise`` is ``a`` less its delocalised outlier components (an offset is one of them, so
    its standard deviation is the noise's, not inflated by the offset); default ``a``.
    Returns 0 when the offset's strength is below :data:`MEAN_FRACTION` of the BBP threshold.
    """
    n, m = a.shape
    mu = Residual(a).mean()
    sd = (Residual(a) if noise is None else noise).std()
    if not sd > 0:
        return 0.0
    delta = mu / sd
    if abs(delta) * math.sqrt(m) < MEAN_FRACTION * (m / n) ** 0.25:
        return 0.0
    # A strength above MAX_MEAN_STRENGTH is certain to be found; capping it keeps the rank
    # scores resolvable in float64 (a constant matrix has noise ~1e-16 left after the offset).
    return math.copysign(min(abs(delta), MAX_MEAN_STRENGTH / math.sqrt(m)), delta)


def restore_mean(scores: np.ndarray, a: np.ndarray, noise: Residual | None, path, reasons
                 ) -> bool:
    """Add ``a``'s grand mean, in noise units, to its rank ``scores`` in place; True if added.

    Ranking all entries together removes a common shift exactly, so ``c 1 1^T + Z`` (a real
    rank-one structure: ``theta = c sqrt(m) / sd`` in noise units) would vanish from the tested
    matrix. Adding ``(c / sd) 1 1^T`` to the unit-variance scores gives the tested matrix the
    same offset, in the same noise units, as the untransformed matrix has, so the step test
    counts it (and its strength comes from the untransformed spectrum, as every spike's does).
    """
    delta = mean_shift(a, noise)
    if delta == 0.0:
        return False
    scores += delta
    path.append("restore-mean")
    reasons.append(f"the entries have a common offset (mean {delta:.3g} noise sd, strength "
                   f"{abs(delta) * math.sqrt(a.shape[1]):.3g} in noise units) that ranking "
                   "removes: put back on the rank scores")
    return True


def prepare_rank(a, rng, raw, gram=None) -> Prepared:
    """``method="rank"``: rank-Gaussianise, restore the grand mean, then test."""
    path, reasons = ["rank-gaussianize"], ["entries rank-Gaussianised (method='rank')"]
    scores = scores_of(a, rng)
    restore_mean(scores, a, None, path, reasons)
    return Prepared(scores, tuple(path), tuple(reasons), None, False, entries=a)


def prepare_biwhiten(a, rng, raw, gram=None) -> Prepared:
    """``method="biwhiten"``: drop dead lines, biwhiten, then test."""
    path, reasons = [], []
    a = drop_zero_lines(a, path, reasons)
    b = biwhiten(a)
    path.append("biwhiten")
    reasons.append(f"biwhitened (method='biwhiten'; Sinkhorn {b.n_iter} sweeps)")
    return Prepared(_oriented(b.matrix), tuple(path), tuple(reasons), None, True)


def scores_outlier_count(scores: np.ndarray) -> int:
    """Outliers of rank scores (``n x m``, ``n >= m``) above the fit layer's trimming edge.

    The large-layer form of :func:`outlier_count` on the scores' spectrum: their noise variance
    is known (the mean square of the normal scores, fixed by ``N``), so only the top
    ``MAX_PROJECTED + 1`` eigenvalues are needed (Lanczos), not the whole spectrum.
    """
    from ..fit.outliers import TW_MARGIN, tw_edge

    n, m = scores.shape
    v = float(np.mean(normal_scores(scores.size) ** 2))
    top = top_eigenvalues(scores, MAX_PROJECTED + 1)
    return int(min(MAX_PROJECTED, np.sum(top > tw_edge(v, float(n), float(m), TW_MARGIN))))


def _tails_text(tails) -> str:
    excess, p_kurt, t, p_max = tails
    return (f"excess kurtosis {excess:.3g} (p = {p_kurt:.2g}), largest |z| {t:.3g} "
            f"(p = {p_max:.2g})")


def _gaussian(tails) -> bool:
    return tails[1] > DIAGNOSTIC_LEVEL and tails[3] > DIAGNOSTIC_LEVEL


def prepare_auto(a, rng, raw, gram=None) -> Prepared:
    """``method="auto"``: the diagnostics decide (module docstring).

    The tail checks run on the matrix less its delocalised outlier components
    (:func:`signal_residual`), so a strong signal does not read as heavy tails. The scale test
    projects out the spectrum's outliers first (:func:`scale_heterogeneity`); they are counted on
    the raw spectrum when the entries look Gaussian and on the rank-Gaussianised one otherwise
    (raw heavy tails make outliers of single entries).
    """
    path, reasons = [], []
    shape = a.shape
    a = drop_zero_lines(a, path, reasons)
    scores = scores_of(a, rng)
    same = a.shape == shape
    lam_raw = raw.eigenvalues if same else eigenvalues(a)
    r = outlier_count(lam_raw, a.shape[0])
    residual, removed = signal_residual(a, r, gram if same else None)
    tails = entry_tails(residual)
    lam_scores = gram = None
    if removed:
        reasons.append(f"entry tails checked after removing {removed} delocalised outlier "
                       "component(s) (a low-rank signal, not the noise law)")
    if not _gaussian(tails):
        if a.shape[1] < LANCZOS_MIN_M:
            lam_scores, gram = gram_spectrum(scores)
            r = outlier_count(lam_scores, a.shape[0])
        else:
            r = scores_outlier_count(scores)
    spread = scale_heterogeneity(scores, r, gram)
    p_het = min(1.0, 2.0 * min(spread))
    kept = f" after projecting out {r} outlier component(s)" if r else ""
    biwhitened = p_het < DIAGNOSTIC_LEVEL
    if biwhitened:
        scores = residual = gram = None  # replaced: not kept beside the biwhitened copy
        bw = biwhiten(a)
        a, lam_scores = _oriented(bw.matrix), None
        path.append("biwhiten")
        reasons.append(f"row/column noise scales differ (rank test{kept}: p = {p_het:.2g} < "
                       f"{DIAGNOSTIC_LEVEL:g}): biwhitened (Sinkhorn, {bw.n_iter} sweeps)")
        residual = signal_residual(a, r)[0]
        tails = entry_tails(residual)
    else:
        reasons.append(f"row/column noise scales are homogeneous (rank test{kept}: "
                       f"p = {p_het:.2g})")
    diag = make_diagnostics(tails, spread, np.nan)
    what = "biwhitened entries" if biwhitened else "entries"
    if diag.gaussian:
        reasons.append(f"{what} look Gaussian: {_tails_text(tails)}; the exact Gaussian null "
                       "applies")
        return Prepared(a, tuple(path), tuple(reasons), diag, biwhitened)
    path.append("rank-gaussianize")
    reasons.append(f"{what} are not Gaussian: {_tails_text(tails)}; rank-Gaussianised so that "
                   "the exact Gaussian null holds for any iid entry law")
    if scores is None:
        scores = scores_of(a, rng)
    if restore_mean(scores, a, residual, path, reasons):
        lam_scores = None
    return Prepared(scores, tuple(path), tuple(reasons), diag, biwhitened, lam_scores, a,
                    residual)


#: Preprocessing by method name: ``f(entries n x m, rng, raw Spectrum, gram=None) -> Prepared``
#: (``gram``: the entries' float64 Gram matrix when the caller has it).
PREPARE = {"auto": prepare_auto, "rank": prepare_rank, "biwhiten": prepare_biwhiten}
