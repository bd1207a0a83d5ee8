"""`fit_powerlaw`: the Clauset-Shalizi-Newman power-law fit of a spectrum's tail, with error bars.

Owns the public entry point: input checks, the x_min search and MLE (Numba kernels in
:mod:`._powerlaw_kernels`), the bootstrap interval of alpha, the semiparametric goodness-of-fit
p-value, and the likelihood-ratio comparisons (:mod:`.powerlaw_compare`).
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import as_real_array, check_int, check_real_scalar
from ..spectrum import Spectrum
from ._powerlaw_kernels import bootstrap_alpha, gof_distances, scan_xmin
from .powerlaw_compare import compare_tail
from .powerlaw_result import PowerLawFit

#: Default bootstrap sizes (the ``analyze`` table uses these).
N_BOOT = 200
N_GOF = 200


def _data(x):
    name = None
    if isinstance(x, Spectrum):
        name, x = x.name, x.eigenvalues
    arr = as_real_array(x, "x")
    if arr.ndim != 1:
        raise ValueError(f"`x` must be 1-D (a spectrum or a sample), got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError("`x` must be >= 0 (eigenvalues or another positive sample)")
    pos = np.sort(arr[arr > 0])
    if np.unique(pos).shape[0] < 3:
        raise ValueError(f"`x` needs at least 3 distinct positive values for a tail fit, got "
                         f"{np.unique(pos).shape[0]}")
    return pos, name


def fit_powerlaw(x, *, xmin=None, n_boot: int = N_BOOT, n_gof: int = N_GOF,
                 confidence_level: float = 0.9, compare: bool = True, rng=None) -> PowerLawFit:
    """Fit a continuous power law to the tail of a spectrum (Clauset, Shalizi & Newman 2009).

    Parameters
    ----------
    x : Spectrum or array_like
        Eigenvalues (or any positive sample), 1-D, any order; zeros are left out (a
        rank-deficient matrix), as the ``powerlaw`` package does.
    xmin : float, optional
        Start of the tail. Default: the data value minimising the KS distance between the tail
        and its fitted law (every distinct value but the largest is a candidate).
    n_boot : int, default 200
        Nonparametric bootstrap resamples for the interval of alpha (0: no interval). Each
        resample is refitted with the same x_min rule, so the interval includes the uncertainty
        of x_min.
    n_gof : int, default 200
        Semiparametric bootstrap draws for the goodness-of-fit p-value (0: none). Clauset et al.
        recommend 2500 for a p-value good to +-0.01.
    confidence_level : float, default 0.9
        Level of the bootstrap interval.
    compare : bool, default True
        Also compare the power law with a truncated power law, a lognormal and an exponential
        by likelihood ratios (Vuong's test).
    rng : None, int or numpy.random.Generator
        Seeds both bootstraps.

    Returns
    -------
    PowerLawFit

    Raises
    ------
    ValueError
        ``x`` not 1-D, empty, with NaN/Inf or negative values, or fewer than 3 distinct positive
        values; ``xmin`` not positive or leaving fewer than 2 points; ``confidence_level`` not
        in (0, 1).
    TypeError
        Non-numeric ``x`` or options.

    Notes
    -----
    The x_min rule, the MLE and the KS distance are those of the ``powerlaw`` package 2.0
    (Alstott et al. 2014) with ``xmin_distance='D'``, except that its default restriction of
    alpha to (0, 3) and its numerical refits outside (1.5, 3] are not applied: alpha is always
    the closed-form MLE. ``docs/powerlaw.md`` shows the two agree to 1e-12 on every layer of
    all-MiniLM-L6-v2 when the package is run without that restriction, and the interval's
    coverage. Unlike WeightWatcher's ``alpha``, nothing below 1e-5 is dropped and no
    "fingers" are clipped.

    References
    ----------
    A. Clauset, C. R. Shalizi and M. E. J. Newman, "Power-law distributions in empirical data",
    SIAM Review 51(4):661-703 (2009). doi:10.1137/070710111

    J. Alstott, E. Bullmore and D. Plenz, "powerlaw: a Python package for analysis of
    heavy-tailed distributions", PLoS ONE 9(1):e85777 (2014). doi:10.1371/journal.pone.0085777

    Examples
    --------
    >>> import numpy as np, bbpfit as bf
    >>> rng = np.random.default_rng(0)
    >>> x = (1 - rng.random(2000)) ** (-1 / 1.5)          # Pareto, alpha = 2.5, xmin = 1
    >>> fit = bf.fit_powerlaw(x, rng=1, compare=False)
    >>> round(fit.alpha, 1), bool(fit.alpha_low < 2.5 < fit.alpha_high)
    (2.5, True)
    """
    pos, name = _data(x)
    n_boot = check_int(n_boot, "n_boot", minimum=0)
    n_gof = check_int(n_gof, "n_gof", minimum=0)
    level = check_real_scalar(confidence_level, "confidence_level")
    if not 0.0 < level < 1.0:
        raise ValueError(f"`confidence_level` must be in (0, 1), got {level!r}")
    gen = np.random.default_rng(rng)
    logx = np.log(pos)
    nn = pos.shape[0]
    if xmin is None:
        i_min, alpha, d = scan_xmin(logx)
        if i_min < 0:
            raise ValueError("`x`: no x_min candidate gives a finite power-law fit")
        x_min, fixed = float(pos[i_min]), False
    else:
        x_min, fixed = check_real_scalar(xmin, "xmin"), True
        if not x_min > 0:
            raise ValueError(f"`xmin` must be > 0, got {x_min!r}")
        tail_log = np.log(pos[pos >= x_min])
        if tail_log.shape[0] < 2:
            raise ValueError(f"`xmin`={x_min!r} leaves fewer than 2 points in the tail")
        alpha, d = _fit_fixed(tail_log, math.log(x_min))
    n_tail = int(np.sum(pos >= x_min))
    alpha = float(alpha)
    low = high = math.nan
    if n_boot > 0:
        idx = gen.integers(0, nn, size=(n_boot, nn))
        boots = (_boot_fixed(logx, math.log(x_min), idx) if fixed
                 else bootstrap_alpha(logx, idx, i_min))  # hint: only speeds the refits
        boots = boots[np.isfinite(boots)]
        if boots.size:
            low, high = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2]).tolist()
    pvalue = math.nan
    if n_gof > 0:
        if fixed:  # x_min held fixed: pure power-law tails of the same size, alpha refitted
            u = gen.random((n_gof, n_tail))
            d_star = np.array([_fit_fixed(np.sort(math.log(x_min) - np.log1p(-row) / (alpha - 1)),
                                          math.log(x_min))[1] for row in u])
        else:
            i_body = nn - n_tail
            u_pick = gen.random((n_gof, nn))
            u_draw = gen.random((n_gof, nn))
            idx_body = gen.integers(0, max(i_body, 1), size=(n_gof, nn))
            d_star = gof_distances(logx, i_body, alpha, u_pick, u_draw, idx_body)
        pvalue = (1.0 + float(np.sum(d_star >= float(d)))) / (n_gof + 1.0)
    comparisons = compare_tail(pos[pos >= x_min], x_min, alpha) if compare else {}
    return PowerLawFit(alpha=alpha, xmin=x_min, n_tail=n_tail, n=nn,
                       sigma=(alpha - 1.0) / math.sqrt(n_tail), ks=float(d), alpha_low=low,
                       alpha_high=high, confidence_level=level, pvalue=pvalue,
                       comparisons=comparisons, xmin_fixed=fixed, n_boot=n_boot, n_gof=n_gof,
                       name=name)


def _fit_fixed(tail_log, lxmin):
    """``(alpha, D)`` of an ascending tail (logs) with ``x_min = exp(lxmin)`` held fixed."""
    n = tail_log.shape[0]
    alpha = 1.0 + n / float(np.sum(tail_log - lxmin))
    f = -np.expm1((1.0 - alpha) * (tail_log - lxmin))
    first = np.concatenate([[True], tail_log[1:] != tail_log[:-1]])
    t = np.arange(n)[first]
    return alpha, float(np.max(np.abs(f[first] - t / n)))


def _boot_fixed(logx, lxmin, idx):
    """Alpha of each resample with x_min held at the given value."""
    out = np.full(idx.shape[0], np.nan)
    for b in range(idx.shape[0]):
        t = logx[idx[b]]
        t = t[t >= lxmin]
        if t.shape[0] > 1 and np.any(t > lxmin):
            out[b] = 1.0 + t.shape[0] / float(np.sum(t - lxmin))
    return out
