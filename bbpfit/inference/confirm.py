"""The rank paths' count, confirmed on the untransformed spectrum (an intersection-union rule).

Owns :func:`confirm_on_untransformed`. Rank-Gaussianisation ``g`` makes the exact Gaussian null
hold for any iid entry law, but it is nonlinear: with a strong low-rank signal ``S``,
``g(S + Z)`` carries harmonics of ``S`` (entrywise powers of a rank-r matrix have rank above r),
real structure of the transformed matrix that the weights do not have, and the sequential test on
``g(W)`` counts them as extra spikes (400 x 200, thetas (30, 20, 12), Student-t 5 noise: 4-6
instead of 3). The untransformed matrix has no harmonics, and its heavy-tailed noise makes fewer
outliers of single entries once winsorised (:func:`winsorize_noise`: the noise, i.e. the matrix
less its delocalised outlier components, clipped at the level the largest of as many Gaussian
entries would reach; the low-rank part is kept whole, so the signal is not distorted). So the
rank paths declare a second, third, ... spike only when both sequential tests do:
``n_spikes = min(n_scores, max(n_winsorised, 1))`` when the rank scores find at least one, with
the step p-value of steps ``k >= 1`` the larger of the two (the p-value of an intersection-union
test). The first step is not confirmed: a harmonic is never stronger than its fundamental, so the
top rank-score component is never one, and confirming it would only cost power near the
threshold (Rademacher noise at 1.2 theta_c: 0.88 against 1.00). Because ``n_spikes <= n_scores``
and step 0 is the rank test's own, the size under pure noise is exactly the rank test's, and the
family-wise error ``P(n_spikes > true count)`` is at most the rank test's.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..spectrum import eigenvalues
from ..spectrum.fast import LANCZOS_MIN_M, as_float64, gram_eigenvalues, partial_spectrum
from .diagnostics import Residual, outlier_count, signal_residual
from .methods import Step, run_sequential


def winsorize_noise(a: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """``a`` with its noise part ``residual`` clipped at ``mean +- sd sqrt(2 ln N)``.

    ``a - residual`` (the delocalised outlier components, see
    :func:`bbpfit.inference.diagnostics.signal_residual`) is kept whole; ``sqrt(2 ln N)`` is about
    where the largest of ``N`` Gaussian entries lies, so Gaussian noise is nearly untouched and
    only the extreme entries of heavy-tailed noise are pulled in. Returns ``a`` itself when
    nothing is clipped.
    """
    lo, hi = _clip_levels(float(residual.mean()), float(residual.std()), residual.size)
    if not (residual.min() < lo or residual.max() > hi):
        return a
    return (a - residual) + np.clip(residual, lo, hi)


def winsorised_spectrum(entries: np.ndarray, noise, lam=None, k: int | None = None) -> np.ndarray:
    """Descending spectrum of :func:`winsorize_noise` applied to ``entries`` (n x m, n >= m).

    ``noise`` is ``entries`` less its delocalised outlier components, a
    :class:`~bbpfit.inference.diagnostics.Residual` or an array (computed here when None);
    ``lam``, the spectrum of ``entries`` itself, is returned when nothing is clipped. With ``k``
    (the steps the confirmation may take), a stand-in exact for ``k`` sequential steps
    (:func:`bbpfit.spectrum.fast.partial_spectrum`: only the top ``k + 1`` eigenvalues and the
    trace, by Lanczos on large matrices). The winsorised matrix's Gram matrix is accumulated by
    blocks of rows from a :class:`Residual`: the matrix itself is never formed.
    """
    if noise is None:
        lam_e = eigenvalues(entries, check_finite_values=False) if lam is None else lam
        noise = signal_residual(entries, outlier_count(lam_e, entries.shape[0]))[0]
    n, m = entries.shape
    lanczos = k is not None and m >= LANCZOS_MIN_M and 8 * (k + 1) <= m
    if not isinstance(noise, Residual) or k is None or lanczos:
        whole = noise if not isinstance(noise, Residual) else _whole(noise)
        w = winsorize_noise(entries, whole)
        if w is entries and lam is not None:
            return lam
        if k is None:
            return eigenvalues(w, check_finite_values=False)
        return partial_spectrum(w, k)[0]
    lo, hi = _clip_levels(noise.mean(), noise.std(), noise.size)
    low, high = noise.bounds()
    clipped = low < lo or high > hi
    if not clipped and lam is not None:
        return lam
    gram = None
    for rows, r in noise.blocks():
        w = as_float64(entries[rows])
        if clipped:
            w = (w - r) + np.clip(r, lo, hi)
        gram = w.T @ w if gram is None else gram + w.T @ w
    return gram_eigenvalues(gram, n)


def _whole(noise: Residual) -> np.ndarray:
    out = np.empty(noise.shape)
    for rows, r in noise.blocks():
        out[rows] = r
    return out


def _clip_levels(mu: float, sd: float, size: int) -> tuple[float, float]:
    c = sd * math.sqrt(2.0 * math.log(max(size, 2)))
    return mu - c, mu + c


def confirm_on_untransformed(test, steps: list[Step], spectrum, n: int, *, alpha, kmax, n_null,
                             cache) -> tuple[list[Step], str]:
    """Combine the rank-score steps with the same sequential test on the untransformed spectrum.

    Parameters
    ----------
    test
        The step test (:data:`bbpfit.inference.methods.STEP_TESTS`).
    steps : list of Step
        The sequential steps on the rank scores.
    spectrum : numpy.ndarray or callable
        The descending spectrum of the winsorised matrix before rank-Gaussianisation (``n``
        rows), or a function of the number of steps ``k`` to take returning it (or a stand-in
        exact for ``k`` steps, e.g. :func:`winsorised_spectrum`), only called when there are at
        least two rank-score spikes to confirm.
    alpha, kmax, n_null, cache
        As in :func:`bbpfit.inference.methods.run_sequential`.

    Returns
    -------
    steps : list of Step
        The rank steps, from step 1 on with ``pvalue = max(p_scores, p_winsorised)``, up to the
        first step that either test does not reject.
    note : str
        What was done, for the result's ``reasons``.
    """
    n_scores = sum(1 for s in steps if s.pvalue <= alpha)
    if n_scores == 0:
        return steps, ("count confirmed on the untransformed spectrum, noise winsorised: "
                       "nothing to confirm")
    if n_scores == 1:
        return steps, ("one rank-score spike: the top component needs no confirmation (a "
                       "harmonic is never stronger than its fundamental)")
    lam = spectrum(min(kmax, n_scores)) if callable(spectrum) else spectrum
    raw = run_sequential(test, lam, n, alpha=alpha, kmax=min(kmax, n_scores), n_null=n_null,
                         cache=cache)  # the winsorised spectrum
    out = []
    for k, step in enumerate(steps):
        p_raw = 0.0 if k == 0 else (raw[k].pvalue if k < len(raw) else 1.0)
        out.append(replace(step, pvalue=max(step.pvalue, p_raw)))
        if not out[-1].pvalue <= alpha:
            break
    n_spikes = sum(1 for s in out if s.pvalue <= alpha)
    if n_spikes == n_scores:
        return out, (f"all {n_scores} rank-score spikes confirmed on the untransformed "
                     "spectrum, noise winsorised (p-values from the second spike on: the larger "
                     "of the two tests)")
    return out, (f"{n_scores} rank-score spike(s), {n_spikes} confirmed on the untransformed "
                 "spectrum, noise winsorised: the others are taken for harmonics of a strong "
                 "signal made by the rank transform (p-values from the second spike on: the "
                 "larger of the two tests)")
