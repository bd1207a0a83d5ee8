"""Eigenvalues of one layer over training steps, with the bulk edge and a transition estimate."""

from __future__ import annotations

import numpy as np

from .spectrum import wrap_name


def plot_spectrogram(spectra, layer, *, ax=None, top=5, edge=None, band=None, transition=None,
                     title=None, edge_label="fitted bulk edge"):
    """Top eigenvalues and the bulk quantile band of one layer over the recorded steps.

    Parameters
    ----------
    spectra : xarray.Dataset
        A store from :func:`bbpfit.open_spectra` (``eigenvalues(layer, step, rank)``).
    layer : str
        The layer to draw.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure otherwise.
    top : int, default 5
        How many leading eigenvalues to draw as lines.
    edge : array_like, optional
        A fitted upper bulk edge per step (e.g. from a transition result's diagnostics).
    transition : object or sequence of objects with ``step``, ``ci_low``, ``ci_high``, ``detected``, optional
        Estimated transition steps, each drawn as a vertical line with its confidence band, in
        the colour of its eigenvalue's line when it has a ``rank`` (0 for lambda_1).
    band : (array_like, array_like), optional
        A lower and upper curve per step drawn as a shaded band above the edge, e.g. the test's
        edge and the eigenvalue its spike test calls significant (``test_edge``, ``test_crit``
        of :func:`bbpfit.transition_time`'s diagnostics).
    edge_label : str, default "fitted bulk edge"
        Legend of ``edge``.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.0), layout="constrained")
    da = spectra["eigenvalues"].sel(layer=layer)
    steps = np.asarray(da["step"].values)
    lam = np.asarray(da.values, dtype=float)
    m = int(spectra["m"].sel(layer=layer)) if "m" in spectra else lam.shape[-1]
    lam = lam[:, :m]
    q10, q50, q90 = np.nanquantile(lam, [0.1, 0.5, 0.9], axis=-1)
    ax.fill_between(steps, q10, q90, color="0.85", label="bulk 10–90% quantiles")
    ax.plot(steps, q50, color="0.5", lw=1.0, label="bulk median")
    for r in range(min(top, m)):
        ax.plot(steps, lam[:, r], lw=1.4 if r == 0 else 0.9, color=f"C{r}",
                label=f"$\\lambda_{{{r + 1}}}$")
    if band is not None:
        lo, hi = (np.asarray(b, dtype=float) for b in band)
        ax.fill_between(steps, lo, hi, color="C9", alpha=0.35, lw=0,
                        label="edge to critical value")
        ax.plot(steps, hi, color="C9", lw=0.8, ls=":")
    if edge is not None:
        ax.plot(steps, np.asarray(edge, dtype=float), color="k", ls="--", lw=1.0,
                label=edge_label)
    many = isinstance(transition, list | tuple)
    for i, tr in enumerate(transition if many else [transition]):
        if tr is None or not getattr(tr, "detected", False) or not np.isfinite(tr.step):
            continue
        rank = int(getattr(tr, "rank", i)) if many else None
        color = f"C{rank}" if rank is not None else "C3"
        which = f"$\\lambda_{{{rank + 1}}}$ " if rank is not None else ""
        ax.axvspan(tr.ci_low, tr.ci_high, color=color, alpha=0.12,
                   label=f"{which}transition CI" if i == 0 or rank is None else None)
        ax.axvline(tr.step, color=color, lw=1.5, ls=":" if many else "-",
                   label=f"{which}transition ≈ {tr.step:.0f}")
    ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(r"eigenvalue $\lambda = s^2/n$")
    ax.set_title(wrap_name(title or str(layer)), fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncol=2)
    return ax
