"""The per-layer table: its columns, the adjustment across layers, and its text renderings.

Owns :data:`COLUMNS` (the documented schema of :func:`bbpfit.analyze`), :func:`frame_from_reports`
(rows plus the across-layer columns), and the renderers used by the command line: a terminal
table (:func:`to_text`) and a Markdown table (:func:`to_markdown`).

The layers of one model form one family: their first-step p-values ("does this layer have any
spike?") are adjusted with :func:`bbpfit.inference.adjust_pvalues` (Benjamini-Hochberg by
default). The spike counts inside the selected layers are re-read from the same sequential
p-values at the level that keeps the whole report valid, as :func:`bbpfit.inference.spike_tests`
does: ``alpha R / L`` for the FDR corrections (``R`` of ``L`` tested layers selected; Benjamini &
Bogomolov 2014) and ``alpha / L`` for the family-wise ones
(:func:`bbpfit.inference.multitest.selective_counts`, shared with ``spike_tests``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..inference import adjust_pvalues
from ..inference.multitest import selective_counts

#: Columns of :func:`bbpfit.analyze`, in order, with their meaning.
COLUMNS = {
    "layer": "parameter name",
    "shape": "stored shape, e.g. '1536x384' (conv kernels (out, in, *k) read as (out, in*prod(k)))",
    "n": "long side max(rows, cols)",
    "m": "short side min(rows, cols) = number of eigenvalues",
    "ratio": "m / n",
    "sigma2": "noise variance of the fitted Marchenko-Pastur bulk (ratio m/n)",
    "ratio_eff": "effective MP ratio of the bulk, fitted jointly with sigma2 (fit_mp ratio='fit')",
    "lower_edge": "lower edge of the fitted bulk, sigma2 (1 - sqrt(m/n))^2",
    "upper_edge": "upper edge of the fitted bulk, sigma2 (1 + sqrt(m/n))^2",
    "ks": "Kolmogorov-Smirnov distance of the kept bulk to the fitted law",
    "lambda_max": "top eigenvalue s_1^2 / n",
    "n_spikes": "eigenvalues out of the bulk, the layer tested on its own at level alpha",
    "n_spikes_adjusted": "spikes counted at the level that accounts for testing all layers",
    "pvalue": "p-value of the top eigenvalue (H0: no spike in this layer)",
    "pvalue_adjusted": "that p-value adjusted across the model's layers",
    "significant": "pvalue_adjusted <= alpha",
    "theta_hat": "strength of the top spike in noise units (BBP-inverted; threshold (m/n)^0.25)",
    "method": "the spike-test method asked for",
    "path": "what was run: preprocessing steps + the step test (e.g. 'biwhiten+tw')",
    "mp_pvalue": "goodness of fit of the bulk left after the spikes to the MP law (parametric "
                 "bootstrap; < 0.05: the bulk is not MP)",
    "spikes_interpretable": "False when the tested bulk fails that test (n_spikes then counts "
                            "eigenvalues above an MP edge that does not describe the layer) "
                            "or the layer was not tested",
    "alpha": "power-law exponent of the ESD tail (Clauset-Shalizi-Newman MLE, x_min by KS)",
    "alpha_low": "lower end of alpha's 90% bootstrap interval",
    "alpha_high": "upper end of alpha's 90% bootstrap interval",
    "pl_pvalue": "goodness of fit of the power-law tail (semiparametric bootstrap; < 0.1 rejects)",
    "bulk_law": "MP / deformed MP / power-law tail, by the criterion of bbpfit.fit.bulk_law",
    "notes": "why a layer was not tested; bbpfit warnings raised while analysing it",
}

_INT_COLUMNS = ("n", "m", "n_spikes", "n_spikes_adjusted")


def frame_from_reports(reports, *, alpha: float = 0.05, correction: str = "fdr_bh") -> pd.DataFrame:
    """The table of :func:`bbpfit.analyze` from a model's :class:`LayerReport` s.

    Parameters
    ----------
    reports : sequence of LayerReport
        All layers of one model (one family for the adjustment).
    alpha : float
        Level of the family.
    correction : str
        A key of :data:`bbpfit.inference.CORRECTIONS`.

    Returns
    -------
    pandas.DataFrame
        One row per report, columns :data:`COLUMNS`; ``attrs`` records alpha and the correction.
    """
    rows = [r.row() for r in reports]
    pvalues = np.array([row["pvalue"] for row in rows], dtype=float)
    adjusted = np.full(len(rows), np.nan)
    rejected = np.zeros(len(rows), dtype=bool)
    counts = [None if not r.tested else 0 for r in reports]
    tested = np.isfinite(pvalues)
    if tested.any():
        adj = adjust_pvalues(pvalues, method=correction, alpha=alpha)
        adjusted, rejected = adj.adjusted, adj.rejected
        selected = selective_counts([r.result.pvalues if r.tested else () for r in reports],
                                    [r.result.n_spikes if r.tested else 0 for r in reports], adj)
        counts = [int(k) if r.tested else None for k, r in zip(selected, reports, strict=True)]
    failed = [getattr(r, "error", None) is not None for r in reports]
    for i, row in enumerate(rows):
        row["pvalue_adjusted"] = adjusted[i]
        row["significant"] = None if failed[i] else bool(rejected[i])
        row["n_spikes_adjusted"] = counts[i]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["significant"] = frame["significant"].astype("boolean" if any(failed) else bool)
    for col in _INT_COLUMNS:
        frame[col] = frame[col].astype("Int64")
    frame.attrs.update({"alpha": alpha, "correction": correction})
    return frame


#: Smallest p-value printed as a number: below it double precision (and the tail formulas) can
#: no longer tell values apart, so the tables print ``< 1e-300``; CSV/JSON keep the number.
P_FLOOR = 1e-300


def _fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "-"
    if spec == "p":
        return f"< {P_FLOOR:.0e}" if value < P_FLOOR else format(value, ".2g")
    return format(value, spec) or "-"


#: Terminal and Markdown columns: (header, column, format).
DISPLAY = (
    ("layer", "layer", "s"), ("shape", "shape", "s"), ("sigma2", "sigma2", ".4g"),
    ("q_eff", "ratio_eff", ".3g"), ("edge", "upper_edge", ".4g"), ("KS", "ks", ".3f"),
    ("lambda_max", "lambda_max", ".4g"), ("spikes", "n_spikes", "d"),
    ("adj.", "n_spikes_adjusted", "d"), ("p", "pvalue", "p"), ("p_adj", "pvalue_adjusted", "p"),
    ("theta_hat", "theta_hat", ".3g"), ("alpha", "alpha", ".3g"), ("law", "bulk_law", "s"),
    ("path", "path", "s"),
)


def _cells(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    heads = [h for h, _, _ in DISPLAY]
    body = [[_fmt(None if pd.isna(row[c]) else row[c], f) for _, c, f in DISPLAY]
            for _, row in frame.iterrows()]
    return heads, body


def to_text(frame: pd.DataFrame) -> str:
    """A fixed-width table for the terminal (the main columns; CSV/JSON carry them all)."""
    heads, body = _cells(frame)
    widths = [max([len(h)] + [len(r[j]) for r in body]) for j, h in enumerate(heads)]
    left = {0, 1, len(heads) - 1}

    def line(cells):
        return "  ".join(c.ljust(w) if j in left else c.rjust(w)
                         for j, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [line(heads), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in body]
    return "\n".join(out)


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of the main columns."""
    heads, body = _cells(frame)
    align = ["---" if j in (0, 1, len(heads) - 1) else "---:" for j in range(len(heads))]
    rows = [heads, align] + [[c.replace("|", "\\|") for c in r] for r in body]
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def notes_lines(frame: pd.DataFrame, limit: int = 10) -> list[str]:
    """``"layer: note"`` for the layers that have notes (at most ``limit``, then a count)."""
    rows = frame[frame["notes"].astype(str) != ""]
    lines = [f"{row['layer']}: {row['notes']}" for _, row in rows.head(limit).iterrows()]
    if len(rows) > limit:
        lines.append(f"... and {len(rows) - limit} more layers with notes (see the CSV/JSON output)")
    return lines


def summary_line(frame: pd.DataFrame) -> str:
    """One sentence: layers, layers with a significant spike, the level and the correction."""
    alpha = frame.attrs.get("alpha", 0.05)
    correction = frame.attrs.get("correction", "fdr_bh")
    tested = int(frame["pvalue"].notna().sum())
    sig = int(frame["significant"].fillna(False).sum())
    spikes = int(frame["n_spikes_adjusted"].fillna(0).sum())
    failed = int(frame["notes"].astype(str).str.startswith("error: ").sum())
    untested = len(frame) - tested - failed
    text = (f"{_count(len(frame), 'layer')}, {tested} tested: {sig} with a significant spike "
            f"({_count(spikes, 'spike')} in all) at alpha = {alpha:g}, p-values adjusted by "
            f"{correction}")
    if untested:
        text += f"; {untested} not tested (see notes)"
    if failed:
        text += f"; {failed} could not be analysed (see notes)"
    return text


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"
