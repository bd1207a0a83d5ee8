"""A layer's spectrum on log-log axes with its fitted power-law tail and x_min."""

from __future__ import annotations

import numpy as np


def plot_powerlaw(spectrum, fit, *, ax=None, title=None):
    """Empirical complementary CDF of the eigenvalues (log-log) with the fitted power-law tail.

    Parameters
    ----------
    spectrum : bbpfit.Spectrum or array_like
        The eigenvalues (zeros are left out, as in the fit).
    fit : bbpfit.PowerLawFit
        The tail fit (:func:`bbpfit.fit_powerlaw`) of the same eigenvalues.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure otherwise.
    title : str, optional
        Default: the layer's name with alpha and its interval.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The tail's law is drawn as ``P(X >= x) = (n_tail / n) (x / xmin)^(1 - alpha)``, a straight
    line of slope ``1 - alpha`` that starts at the empirical CCDF at ``xmin``; a power-law tail
    follows it, an MP edge bends away from it.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    lam = getattr(spectrum, "eigenvalues", spectrum)
    x = np.sort(np.asarray(lam, dtype=np.float64))
    x = x[x > 0]
    ccdf = 1.0 - np.arange(x.shape[0]) / x.shape[0]
    ax.loglog(x, ccdf, ".", ms=3, color="0.35", label="eigenvalues (empirical CCDF)")
    grid = np.geomspace(fit.xmin, x[-1], 100)
    frac = fit.n_tail / fit.n
    ax.loglog(grid, frac * (grid / fit.xmin) ** (1.0 - fit.alpha), "-", color="C3", lw=2,
              label=f"power law, alpha = {fit.alpha:.3g}")
    ax.axvline(fit.xmin, color="C0", ls="--", lw=1, label=f"xmin = {fit.xmin:.3g} "
                                                          f"({fit.n_tail} in the tail)")
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("P(X >= x)")
    if title is None:
        ci = "" if np.isnan(fit.alpha_low) else \
            f", {100 * fit.confidence_level:g}% CI [{fit.alpha_low:.3g}, {fit.alpha_high:.3g}]"
        p = "" if np.isnan(fit.pvalue) else f", GoF p = {fit.pvalue:.2g}"
        title = (f"{fit.name}: " if fit.name else "") + f"alpha = {fit.alpha:.3g}{ci}{p}"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    return ax
