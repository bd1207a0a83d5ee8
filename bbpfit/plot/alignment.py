"""Singular-vector alignment of one layer over training, beside the BBP prediction."""

from __future__ import annotations

import numpy as np


def plot_alignment(al, layer, *, axes=None, ranks=3, title=None):
    """Persistence of the top singular vectors, their degenerate-subspace version and the BBP
    prediction, for the left and the right vectors of one layer.

    Parameters
    ----------
    al : xarray.Dataset
        The result of :func:`bbpfit.alignment`.
    layer : str
        The layer to draw.
    axes : pair of matplotlib.axes.Axes, optional
        Where to draw the left and the right vectors; a new figure otherwise.
    ranks : int, default 3
        How many ranks to draw.
    title : str, optional

    Returns
    -------
    pair of matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if layer not in [str(x) for x in al["layer"].values]:
        raise ValueError(f"`layer` {layer!r} is not in the alignment result")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), sharey=True, layout="constrained")
    w = al.sel(layer=layer)
    steps = w["step"].values
    nxt = str(w["next_layer"].values) if "next_layer" in w.coords else ""
    short = nxt if len(nxt) <= 24 else "..." + nxt[-21:]
    for ax, side in zip(axes, ("left", "right"), strict=True):
        for k in range(min(ranks, w.sizes["rank"])):
            c = f"C{k}"
            ax.plot(steps, w[f"persistence_{side}_last"].isel(rank=k), color=c, lw=1.6,
                    label=f"rank {k}: vs last record")
            ax.plot(steps, w[f"subspace_{side}"].isel(rank=k), color=c, lw=0.9, ls=":",
                    label=f"rank {k}: vs previous (subspace)" if k == 0 else None)
            if f"predicted_{side}" in w and np.isfinite(w[f"predicted_{side}"].isel(rank=k)).any():
                ax.plot(steps, w[f"predicted_{side}"].isel(rank=k), color=c, lw=1.2, ls="--",
                        label=f"rank {k}: BBP prediction" if k == 0 else None)
                lo = w[f"predicted_{side}_low"].isel(rank=k).values
                hi = w[f"predicted_{side}_high"].isel(rank=k).values
                ok = np.isfinite(lo) & np.isfinite(hi)
                if ok.any():
                    ax.fill_between(steps, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan),
                                    color=c, alpha=0.15, lw=0)
        if side == "left" and nxt:
            ax.plot(steps, w["next_layer_overlap"].isel(rank=0), color="0.3", lw=1.2, ls="-.",
                    label=f"rank 0 vs {short} (right)")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("optimizer step")
        ax.set_title(f"{side} singular vectors", fontsize=9)
        ax.legend(fontsize=6.5, frameon=False, loc="best")
    axes[0].set_ylabel(r"squared overlap $|\langle v, v'\rangle|^2$")
    if title is not None:
        axes[0].figure.suptitle(title, fontsize=10)
    return axes
