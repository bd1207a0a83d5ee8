"""A layer's eigenvalue histogram with the fitted Marchenko-Pastur density, edge and spikes."""

from __future__ import annotations

import numpy as np

#: Spikes beyond this multiple of the bulk edge switch the x-axis to a log scale.
LOG_X_BEYOND = 4.0
#: Eigenvalues beyond this multiple of the edge that are not significant spikes are drawn as marks.
OUTLIER_BEYOND = 1.5
#: Title lines longer than this are wrapped at the dots of the layer name.
TITLE_WIDTH = 60


def wrap_name(text: str, width: int = TITLE_WIDTH) -> str:
    """Break a long title (a Hugging Face layer name) at its dots so it fits above the axes."""
    if len(text) <= width:
        return text
    lines, line = [], ""
    for part in text.replace(".", ".\x00").split("\x00"):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    lines.append(line)
    return "\n".join(lines)


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    return ax


def _label_positions(spikes: np.ndarray, span: float, most: int = 3) -> list[float]:
    """The top ``most`` spikes, skipping any closer than 10% of ``span`` to the previous label."""
    chosen: list[float] = []
    for s in spikes:
        if len(chosen) == most:
            break
        if not chosen or abs(chosen[-1] - s) > 0.10 * span:
            chosen.append(float(s))
    return chosen


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

    Notes
    -----
    The y-axis is capped at 1.3 times the tallest bar, so the MP density's pole at 0 for square
    layers (ratio 1) does not flatten the histogram. When spikes lie more than four times beyond
    the bulk edge the x-axis is logarithmic, with log-spaced bins, so bulk and spikes both show.
    """
    ax = _axes(ax)
    fit = getattr(result, "fit", result)
    spikes = np.sort(np.asarray(getattr(result, "spikes", ()), dtype=float))[::-1]
    lam = np.asarray(spectrum.eigenvalues, dtype=float)
    rest = lam[len(spikes):]
    # eigenvalues well above the fitted edge that are not significant spikes (or not tested):
    # drawn as their own marks, not as histogram bars stretched over an empty axis
    far = rest[rest > OUTLIER_BEYOND * fit.upper_edge]
    bulk = rest[rest <= OUTLIER_BEYOND * fit.upper_edge]
    marked = np.concatenate([spikes, far])
    hi = max(fit.upper_edge * 1.15, float(bulk.max()) if bulk.size else 0.0)
    log_x = marked.size > 0 and marked.max() > LOG_X_BEYOND * fit.upper_edge
    top = max(hi, float(marked.max()) * (1.6 if log_x else 1.08)) if marked.size else hi
    nbins = bins or max(20, int(np.sqrt(spectrum.m)))
    if log_x:
        positive = lam[lam > 0]
        lo = max(float(positive.min()) if positive.size else fit.upper_edge * 1e-3,
                 fit.upper_edge * 1e-4)
        edges = np.geomspace(lo, hi, nbins + 1)
        x = np.geomspace(max(fit.lower_edge, lo), fit.upper_edge, 400)
    else:
        edges = np.linspace(0.0, hi, nbins + 1)
        x = np.linspace(max(fit.lower_edge, 1e-12), fit.upper_edge, 400)
    # density with respect to the whole bulk (not only the part inside the bins: on a log axis
    # the smallest eigenvalues fall below the first bin), comparable with the MP density
    counts, _ = np.histogram(bulk, bins=edges)
    heights = counts / (max(rest.size, 1) * np.diff(edges))
    ax.bar(edges[:-1], heights, width=np.diff(edges), align="edge", color="0.75",
           edgecolor="0.55", linewidth=0.4, label=f"bulk eigenvalues ({bulk.size})")
    pdf = fit.law.pdf(x)
    ax.plot(x, pdf, color="C0", lw=1.8,
            label=f"MP fit: $\\sigma^2$={fit.sigma2:.3g}, q={fit.ratio:.3g}")
    ymax = 1.3 * float(np.max(heights)) if np.size(heights) and np.max(heights) > 0 else 1.0
    # the whole MP curve stays in view, except the pole at 0 of (nearly) square layers
    away = x >= fit.lower_edge + 0.05 * (fit.upper_edge - fit.lower_edge)
    if np.any(away & np.isfinite(pdf)):
        ymax = max(ymax, 1.08 * float(np.max(pdf[away & np.isfinite(pdf)])))
    ax.set_ylim(0.0, ymax)
    ax.axvline(fit.upper_edge, color="C0", ls="--", lw=1.0, label="fitted bulk edge")
    if far.size:
        ax.vlines(far, 0, 0.15 * ymax, color="0.3", lw=1.5,
                  label=f"above the edge, not significant ({far.size})")
    if spikes.size:
        ax.vlines(spikes, 0, 0.25 * ymax, color="C3", lw=2.0,
                  label=f"significant spikes ({spikes.size})")
        span = np.log(top / edges[0]) if log_x else top
        labels = _label_positions(np.log(spikes / edges[0]) if log_x else spikes, span)
        for i, s in enumerate(labels):  # staggered heights: neighbours never overlap
            value = float(edges[0] * np.exp(s)) if log_x else s
            ax.annotate(f"{value:.3g}", (value, (0.27 + 0.07 * (i % 2)) * ymax), color="C3",
                        fontsize=8, ha="center")
    if log_x:
        ax.set_xscale("log")
        ax.set_xlim(edges[0], top)
    else:
        ax.set_xlim(0.0, top)
    ax.set_xlabel(r"eigenvalue $\lambda = s^2/n$")
    ax.set_ylabel("density")
    name = spectrum.name or "layer"
    ax.set_title(title or wrap_name(f"{name}  ({spectrum.n}×{spectrum.m})"), fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return ax
