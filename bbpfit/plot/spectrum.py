"""A layer's eigenvalue histogram with the fitted Marchenko-Pastur density, edge and spikes."""

from __future__ import annotations

import numpy as np


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    return ax


def plot_spectrum(spectrum, result, *, ax=None, bins=None, title=None):
    """Histogram of a spectrum with the fitted MP density, the bulk edge and flagged spikes.

    Parameters
    ----------
    spectrum : bbpfit.Spectrum
        The layer's eigenvalues.
    result : bbpfit.inference.SpikeTestResult or bbpfit.fit.MPFit
        A spike test (its ``fit`` and ``spikes`` are drawn) or a bare bulk fit.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure otherwise.
    bins : int, optional
        Histogram bins (default: about ``sqrt(m)``, at least 20).
    title : str, optional
        Defaults to the layer name and shape.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    fit = getattr(result, "fit", result)
    spikes = np.asarray(getattr(result, "spikes", ()), dtype=float)
    lam = np.asarray(spectrum.eigenvalues, dtype=float)
    bulk = lam[len(spikes):]
    hi = max(fit.upper_edge * 1.15, float(bulk.max()) if bulk.size else 0.0)
    nbins = bins or max(20, int(np.sqrt(spectrum.m)))
    ax.hist(bulk, bins=nbins, range=(0.0, hi), density=True, color="0.75", edgecolor="0.55",
            linewidth=0.4, label=f"bulk eigenvalues ({bulk.size})")
    x = np.linspace(max(fit.lower_edge, 1e-12), fit.upper_edge, 400)
    ax.plot(x, fit.law.pdf(x), color="C0", lw=1.8,
            label=f"MP fit: $\\sigma^2$={fit.sigma2:.3g}, q={fit.ratio:.3g}")
    ax.axvline(fit.upper_edge, color="C0", ls="--", lw=1.0, label="fitted bulk edge")
    if spikes.size:
        ymax = ax.get_ylim()[1]
        ax.vlines(spikes, 0, 0.25 * ymax, color="C3", lw=2.0,
                  label=f"significant spikes ({spikes.size})")
        for s in spikes[:5]:
            ax.annotate(f"{s:.3g}", (s, 0.26 * ymax), color="C3", fontsize=8, ha="center")
        ax.set_xlim(0.0, max(hi, float(spikes.max()) * 1.05))
    ax.set_xlabel(r"eigenvalue $\lambda = s^2/n$")
    ax.set_ylabel("density")
    name = spectrum.name or "layer"
    ax.set_title(title or f"{name}  ({spectrum.n}×{spectrum.m})", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return ax
