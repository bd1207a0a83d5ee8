"""`spike_test`: input checks, the method registry and the assembly of the result.

Owns the public entry point of the inference layer. The work is done elsewhere: preprocessing in
:mod:`.pipeline`, step tests in :mod:`.methods`, null samples in :mod:`.null_cache`, strengths
in :mod:`.strengths`.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from .._validation import (
    as_real_array,
    check_alpha,
    check_int,
    check_method,
    check_positive,
    check_real_dtype,
)
from ..fit import fit_mp, fit_mp_array
from ..fit.gof import GOF_LEVEL, mp_gof
from ..fit.kritchman_nadler import kn_sigma2
from ..spectrum import Spectrum, eigenvalues, matrix_shape, spectrum
from ..spectrum.eigenvalues import _is_torch
from ..spectrum.fast import partial_spectrum
from .confirm import confirm_on_untransformed, winsorised_spectrum
from .diagnostics import BULK_KS_MAX, Diagnostics
from .methods import STEP_TESTS, run_sequential
from .null_cache import N_NULL, NullCache
from .pipeline import PREPARE
from .result import SpikeTestResult
from .strengths import bbp_strengths, optshrink_strengths

#: Smallest testable matrix side ``m``.
MIN_M = 10
#: Eigenvalues that must stay in the bulk after the last tested candidate.
MIN_BULK = 5

#: Methods by name: ``(preprocessing, step test)``; see :func:`spike_test`.
METHODS = {
    "auto": ("auto", "tw"),
    "tw": (None, "tw"),
    "tw-asymptotic": (None, "tw-asymptotic"),
    "ratio": (None, "ratio"),
    "rank": ("rank", "tw"),
    "biwhiten": ("biwhiten", "tw"),
}
_NO_ENTRIES = ("entries unavailable (Spectrum input): tails and row/column scales could not be "
               "checked, so no rank-Gaussianisation or biwhitening; the Gaussian null is assumed")


def _tested_steps(test, matrix, *, alpha, kmax, n_null, cache):
    """Sequential steps on a transformed matrix from the top of its spectrum only.

    ``(steps, spectrum, full)``: the steps need the top ``k + 1`` eigenvalues and the trace
    (:func:`bbpfit.spectrum.fast.partial_spectrum`); ``k`` starts at 16 and grows fourfold while
    every step rejects. ``full``: whether the spectrum returned is the whole one.
    """
    n = matrix.shape[0]
    k = min(kmax, 16)
    while True:
        lam, full = partial_spectrum(matrix, k)
        steps = run_sequential(test, lam, n, alpha=alpha, kmax=kmax if full else k,
                               n_null=n_null, cache=cache)
        if full or k >= kmax or len(steps) < k or not steps[-1].pvalue <= alpha:
            return steps, lam, full
        k = min(kmax, 4 * k)


def _renamed(err: Exception) -> Exception:
    return type(err)(str(err).replace("`W`", "`x`"))


def read_input(x, need_entries: bool, name, raw: Spectrum | None = None):
    """``(entries n x m float64 or None, untransformed Spectrum)`` of a matrix or a Spectrum.

    ``raw``, the matrix's spectrum when the caller has computed it already, is used instead of
    computing it again (its ``n`` and ``m`` must match the matrix).
    """
    if isinstance(x, Spectrum):
        return None, x if name is None else dataclasses.replace(x, name=name)
    if _is_torch(x):
        try:
            spec = spectrum(x, name=name) if raw is None else raw
        except (TypeError, ValueError) as err:
            raise _renamed(err) from None
        if not need_entries:
            return None, spec
        t = x.detach().to("cpu")
        a = (t.float() if t.is_floating_point() and t.dtype.itemsize <= 4 else t.double()).numpy()
        shape = tuple(x.shape)
    else:
        arr = np.asarray(x)
        check_real_dtype(arr.dtype, "x")
        if arr.ndim == 1:
            raise ValueError("`x` must be a matrix, a conv kernel or a Spectrum, got a 1-D array; "
                             "wrap eigenvalues as bf.Spectrum.from_eigenvalues(lam, n)")
        a = as_real_array(arr, "x", min_ndim=2, keep_float32=True)
        shape = a.shape
        spec = None
    _, rows, cols = matrix_shape(shape)
    a = a.reshape(rows, cols)
    if rows < cols:
        a = a.T
    if raw is not None:
        if (raw.n, raw.m) != a.shape:
            raise ValueError(f"the given spectrum is of an ({raw.n}, {raw.m}) matrix, `x` is "
                             f"{a.shape[0]} x {a.shape[1]}")
        spec = raw if name is None else dataclasses.replace(raw, name=name)
    if spec is None and min(rows, cols) >= MIN_M:
        lam = eigenvalues(a, check_finite_values=False)
        spec = Spectrum(lam, n=a.shape[0], m=a.shape[1], name=name, shape=shape)
    return a, spec


def _as_cache(null_cache):
    if null_cache is None or isinstance(null_cache, NullCache):
        return null_cache
    if isinstance(null_cache, str | os.PathLike):
        return NullCache(directory=null_cache)
    raise TypeError("`null_cache` must be a NullCache, a directory or None, got "
                    f"{type(null_cache).__name__}")


def _check_size(m: int, what: str = "x") -> None:
    if m < MIN_M:
        raise ValueError(f"`{what}` is too small to test: m = min(rows, cols) = {m} < {MIN_M}")


def spike_test(x, *, alpha=0.05, method="auto", max_spikes=None, rng=None, sigma2=None,
               n_null=N_NULL, null_cache=None, name=None, gof=True,
               n_gof=None) -> SpikeTestResult:
    """Count the eigenvalues that stand out of the noise bulk, with family-wise error control.

    Parameters
    ----------
    x : array_like, torch.Tensor or Spectrum
        A weight matrix (rows, cols), a conv kernel (out, in, *k) read as (out, in * prod(k)), or
        a :class:`bbpfit.Spectrum` (then only ``"tw"``, ``"tw-asymptotic"`` and ``"ratio"`` can
        run; ``"auto"`` falls back to ``"tw"`` and says so).
    alpha : float, default 0.05
        Family-wise level: ``P(n_spikes > true number of spikes) <= alpha``.
    method : {"auto", "tw", "tw-asymptotic", "ratio", "rank", "biwhiten"}
        ``"tw"``: ``T_k = l_{k+1} / sigma2_KN(k+1)`` against its exact finite-n null (Monte
        Carlo, Dumitriu-Edelman sampler, cached per shape). ``"tw-asymptotic"``: the same
        statistic on Ma's (2012) Tracy-Widom scale (fast, anti-conservative at small n).
        ``"ratio"``: Onatski's (2009) eigen-gap ratio (no noise level needed). ``"rank"``:
        rank-Gaussianise the entries, then ``"tw"`` (heavy-tailed or discrete entries).
        ``"biwhiten"``: equalise row/column noise scales, then ``"tw"``. ``"auto"``: choose
        from diagnostics (entry tails, row/column scale spread, bulk fit); see ``.reasons``.
    max_spikes : int, optional
        Most candidates tested; default ``m // 2``, at most ``m - 5``.
    rng : None, int or numpy.random.Generator, optional
        Breaks ties when ranking discrete entries (the only randomness; nulls are seeded).
    sigma2 : float, optional
        A known noise variance (``"tw"``/``"tw-asymptotic"`` only): test ``l_{k+1} / sigma2``.
    n_null : int, default 9999
        Null draws ``B`` for the first step (``alpha (B + 1)`` an integer makes the test exact);
        the deflation steps (``k >= 1``) use ``min(n_null, 1999)`` draws per shape.
    null_cache : NullCache, str or path-like, optional
        Where null samples are kept: a :class:`~bbpfit.inference.NullCache`, or a directory for
        ``.npy`` files shared across processes (default: a process-wide in-memory LRU).
    name : str, optional
        Layer name kept on the result (default: the Spectrum's name).
    gof : bool, default True
        Also test whether the bulk left after the spikes is Marchenko-Pastur (``.bulk_gof``,
        ``.mp_pvalue``, ``.spikes_interpretable``, and ``.fit.gof_pvalue`` for the untransformed
        spectrum): a parametric bootstrap from the exact sampler, simulated once per deflated
        shape ``(n - k, m - k)`` (about 0.4 s at m = 384, 2 s at m = 1000) and cached.
    n_gof : int, optional
        Null draws of that test (default 99 up to m = 1000, fewer above:
        :func:`bbpfit.fit.gof.default_draws`).

    Returns
    -------
    SpikeTestResult

    Raises
    ------
    ValueError
        ``x`` 1-D, empty, with NaN/Inf, or with ``m < 10``; ``alpha`` not in (0, 1); an unknown
        ``method``; ``max_spikes`` out of range; a method needing entries with a Spectrum.
    TypeError
        Complex, boolean, object or string data; non-numeric ``alpha``/``max_spikes``.

    Notes
    -----
    Candidate ``k + 1`` is tested once the top ``k`` are significant, against the null of an
    ``(n, m - k)`` bulk (deflation; the noise is re-estimated with ``k + 1`` signals), and the
    procedure stops at the first non-rejection. For ``k = 0`` and Gaussian entries the ``"tw"``
    null is exact at every n: the size is ``alpha`` up to the Monte Carlo error of the cached
    null (sd 0.2% at alpha = 0.05). Calibration and power: ``docs/validation.md``.

    References
    ----------
    S. Kritchman and B. Nadler, "Non-parametric detection of the number of signals: hypothesis
    testing and random matrix theory", IEEE Trans. Signal Process. 57(10):3930-3941 (2009).
    doi:10.1109/TSP.2009.2022897

    I. M. Johnstone, "On the distribution of the largest eigenvalue in principal components
    analysis", Ann. Statist. 29(2):295-327 (2001). doi:10.1214/aos/1009210544

    A. Onatski, "Testing hypotheses about the number of factors in large factor models",
    Econometrica 77(5):1447-1479 (2009). doi:10.3982/ECTA6964

    Examples
    --------
    >>> import numpy as np, bbpfit as bf
    >>> rng = np.random.default_rng(0)
    >>> n, m = 1000, 500
    >>> u, v = rng.standard_normal(n), rng.standard_normal(m)
    >>> spike = 1.5 * np.sqrt(n) * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    >>> res = bf.spike_test(0.02 * (rng.standard_normal((n, m)) + spike))
    >>> res.n_spikes, res.path, np.round(res.strengths, 1).tolist()
    (1, ('tw',), [1.5])
    >>> bf.spike_test(rng.standard_t(3, (400, 200))).path
    ('rank-gaussianize', 'tw')
    """
    return _spike_test(x, None, alpha=alpha, method=method, max_spikes=max_spikes, rng=rng,
                       sigma2=sigma2, n_null=n_null, null_cache=null_cache, name=name, gof=gof,
                       n_gof=n_gof)


def spike_test_given_spectrum(x, spectrum: Spectrum, *, gram=None, **options) -> SpikeTestResult:
    """:func:`spike_test` of a matrix whose untransformed spectrum is already computed.

    ``spectrum`` (of ``x`` itself, e.g. from :func:`bbpfit.spectrum`) replaces the first
    eigendecomposition; ``gram``, the float64 Gram matrix of ``x`` oriented ``n x m`` or its
    factor (:func:`bbpfit.spectrum.fast.fast_spectrum` with ``with_gram`` or ``with_factor``),
    is reused for its top singular vectors;
    ``options`` are :func:`spike_test`'s. Used by :func:`bbpfit.analyze`, which reports the
    spectrum too.
    """
    if not isinstance(spectrum, Spectrum):
        raise TypeError(f"`spectrum` must be a Spectrum, got {type(spectrum).__name__}")
    if gram is not None and gram.shape != (spectrum.m, spectrum.m):
        raise ValueError(f"`gram` must be {spectrum.m} x {spectrum.m}, got {gram.shape}")
    return _spike_test(x, spectrum, gram=gram, **options)


def _spike_test(x, raw, *, gram=None, alpha=0.05, method="auto", max_spikes=None, rng=None,
                sigma2=None, n_null=N_NULL, null_cache=None, name=None, gof=True,
                n_gof=None) -> SpikeTestResult:
    alpha = check_alpha(alpha)
    prep, test_name = check_method(method, METHODS)
    known = sigma2 is not None
    if known:
        if prep is not None or test_name == "ratio":
            raise ValueError("`sigma2` (a known noise variance) applies to method='tw' or "
                             f"'tw-asymptotic' only, got method={method!r}")
        sigma2 = check_positive(sigma2, "sigma2")
    n_null = check_int(n_null, "n_null", minimum=19)
    null_cache = _as_cache(null_cache)
    entries, raw = read_input(x, prep is not None, name, raw)
    _check_size(raw.m if raw is not None else entries.shape[1])
    if not raw.eigenvalues[0] > 0:
        raise ValueError("`x` is zero: there is no spectrum to test")
    path, reasons, diag, biwhitened, tested = (), [], None, False, None
    lam, n = raw.eigenvalues, raw.n
    if prep is not None and entries is None:
        if prep != "auto":
            raise ValueError(f"method {method!r} needs the matrix entries, but `x` is a "
                             "Spectrum; pass the matrix or use method='tw'")
        reasons.append(_NO_ENTRIES)
        diag = Diagnostics(entries_available=False)
    elif prep is not None:
        prepared = PREPARE[prep](entries, rng, raw, gram=gram)
        path, reasons, diag = prepared.path, list(prepared.reasons), prepared.diagnostics
        biwhitened = prepared.biwhitened
        if prepared.matrix is not entries:
            _check_size(prepared.matrix.shape[1])
            lam = prepared.eigenvalues
            n = prepared.matrix.shape[0]
            tested = prepared.matrix if lam is None else None
    m = tested.shape[1] if tested is not None else lam.shape[0]
    kmax = m // 2 if max_spikes is None else check_int(max_spikes, "max_spikes", minimum=1)
    if kmax > m - MIN_BULK:
        raise ValueError(f"`max_spikes` must be <= m - {MIN_BULK} = {m - MIN_BULK}, got {kmax}")
    test = STEP_TESTS[test_name]
    full = True
    if tested is not None:
        steps, lam, full = _tested_steps(test, tested, alpha=alpha, kmax=kmax,
                                         n_null=n_null, cache=null_cache)
    else:
        steps = run_sequential(test, lam, n, alpha=alpha, kmax=kmax, n_null=n_null,
                               cache=null_cache, sigma2=sigma2)
    pre = prepared.entries if entries is not None and prep is not None else None
    if pre is not None:
        lam_pre = raw.eigenvalues if pre is entries else None
        steps, note = confirm_on_untransformed(
            test, steps, lambda k: winsorised_spectrum(pre, prepared.noise, lam_pre, k),
            pre.shape[0], alpha=alpha, kmax=kmax, n_null=n_null, cache=null_cache)
        reasons.append(note)
    n_spikes = sum(1 for s in steps if s.pvalue <= alpha)
    if lam is not raw.eigenvalues and full:
        ks_tested = float(fit_mp_array(lam, n).ks)
        if ks_tested > BULK_KS_MAX:
            reasons.append(f"the tested bulk deviates from Marchenko-Pastur (KS {ks_tested:.3g}): "
                           "'spikes' may reflect a deformed bulk (correlated noise) rather than "
                           "low-rank signal")
    lam_raw, n_raw, m_raw = raw.eigenvalues, raw.n, raw.m
    s2 = sigma2 if known else float(kn_sigma2(lam_raw, float(n_raw), min(n_spikes, m_raw - 2)))
    fit = fit_mp(raw, max_spikes=m_raw - 2)  # no cap warning: the test counts the spikes
    bulk_mp = bool(fit.ks <= BULK_KS_MAX) and not biwhitened
    spikes = lam_raw[:n_spikes]
    if bulk_mp or known:
        strengths, how = bbp_strengths(spikes, n_raw, m_raw, s2), "bbp"
    else:
        strengths, how = optshrink_strengths(lam_raw, n_raw, n_spikes, s2), "optshrink"
        why = "biwhitened" if biwhitened else f"KS {fit.ks:.3g} > {BULK_KS_MAX:g}"
        reasons.append(f"the untransformed bulk is not Marchenko-Pastur ({why}): strengths from "
                       "the D-transform of the empirical bulk (OptShrink)")
    if diag is not None:
        diag = dataclasses.replace(diag, bulk_ks=fit.ks, bulk_mp=bulk_mp)
    bulk_gof = None
    if gof:
        n_gof = None if n_gof is None else check_int(n_gof, "n_gof", minimum=19)
        k_gof = min(n_spikes, m - 3)
        bulk_gof = mp_gof(lam, n, k_gof, n_null=n_gof, cache=null_cache)
        raw_gof = bulk_gof if lam is lam_raw else mp_gof(lam_raw, n_raw, min(n_spikes, m_raw - 3),
                                                         n_null=n_gof, cache=null_cache)
        fit = dataclasses.replace(fit, gof_pvalue=raw_gof.pvalue, gof_statistic=raw_gof.statistic,
                                  gof_k=raw_gof.k)
        if bulk_gof.pvalue < GOF_LEVEL:
            reasons.append(f"the bulk left after the {n_spikes} spike(s) is not Marchenko-Pastur "
                           f"(goodness-of-fit p = {bulk_gof.pvalue:.3g} < {GOF_LEVEL:g}): the "
                           "count is of eigenvalues above an MP edge that does not describe this "
                           "layer, not a number of signals")
    if len(steps) == kmax and n_spikes == kmax:
        reasons.append(f"every tested candidate was significant: the cap max_spikes={kmax} may "
                       "hide more spikes" + ("" if bulk_gof is None or bulk_gof.pvalue >= GOF_LEVEL
                                             else " (or rather: the bulk is not MP, see above)"))
    return SpikeTestResult(
        n_spikes=n_spikes,
        pvalues=[s.pvalue for s in steps],
        statistics=[s.statistic for s in steps],
        critical_values=[s.critical_value for s in steps],
        spikes=spikes,
        strengths=strengths,
        fit=fit,
        alpha=alpha,
        method=method,
        test=test_name,
        path=tuple(path) + (test_name,),
        reasons=tuple(reasons),
        null=test.null_description(n_null, known),
        sigma2=s2,
        strength_method=how,
        n=n_raw,
        m=m_raw,
        max_spikes=kmax,
        name=raw.name,
        diagnostics=diag,
        known_sigma2=known,
        bulk_gof=bulk_gof,
    )
