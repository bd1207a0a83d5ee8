"""One layer's analysis: its spectrum, bulk fits and spike test, as a :class:`LayerReport`.

Owns the per-layer step of :func:`bbpfit.analyze` and :func:`bbpfit.analyze_zoo`, and the lazy
loop :func:`iter_reports` over a model's layers. Each weight is used for its spectrum and its spike
test and then dropped, so memory is bounded by the largest layer, not by the model. Layers too
small to test, or all zero, still get a report (with a note) instead of stopping the analysis;
NaN or infinite weights are an error naming the layer.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .._warnings import BBPFitWarning
from ..fit import MPFit, PowerLawFit, fit_mp, fit_powerlaw
from ..fit.bulk_law import bulk_law
from ..inference import SpikeTestResult
from ..inference.api import MIN_BULK, MIN_M, spike_test_given_spectrum
from ..sources import iter_layers
from ..spectrum import Spectrum
from ..spectrum.fast import fast_spectrum

#: Methods of :func:`bbpfit.spike_test` that need only the eigenvalues (the spectrum is computed
#: once and passed); the others need the matrix entries.
SPECTRUM_METHODS = ("tw", "tw-asymptotic", "ratio")


@dataclass(frozen=True, repr=False)
class LayerReport:
    """What the analysis found in one layer (before adjustment across layers).

    Attributes
    ----------
    name : str
        Parameter name.
    shape : tuple of int
        Stored shape of the weight (conv kernels keep theirs).
    spectrum : Spectrum or None
        Its eigenvalues (None when the weight could not be read as a matrix).
    result : SpikeTestResult or None
        The spike test (None when the layer is too small or all zero; see ``notes``).
    fit : MPFit or None
        The Marchenko-Pastur bulk fit with ratio ``m / n`` (the spike test's fit when tested).
    fit_effective : MPFit or None
        The bulk fit with an effective ratio (``fit_mp(..., ratio="fit")``).
    notes : tuple of str
        Why the layer was not tested, and the bbpfit warnings raised while analysing it.
    powerlaw : PowerLawFit or None
        Power-law fit of the spectrum's tail (:func:`bbpfit.fit_powerlaw`, 200 bootstrap
        resamples for the 90% interval, 100 draws for the p-value, seeded by the layer's name).
    error : str or None
        Why the layer could not be analysed (NaN or infinite weights, not a matrix), when
        :func:`iter_reports` was asked to report such layers instead of raising.
    """

    name: str
    shape: tuple[int, ...]
    spectrum: Spectrum | None
    result: SpikeTestResult | None
    fit: MPFit | None
    fit_effective: MPFit | None
    notes: tuple[str, ...] = ()
    powerlaw: PowerLawFit | None = None
    error: str | None = None

    @property
    def bulk_law(self) -> str:
        """``"MP"``, ``"deformed MP"`` or ``"power-law tail"`` (:mod:`bbpfit.fit.bulk_law`)."""
        pl = self.powerlaw
        mp_p = self.fit.gof_pvalue if self.fit is not None else math.nan
        return bulk_law(mp_p, pl.pvalue if pl else math.nan, pl.alpha if pl else math.nan)

    @property
    def tested(self) -> bool:
        """Whether a spike test was run."""
        return self.result is not None

    def row(self) -> dict:
        """The layer's table row, without the across-layer columns (see :mod:`.table`)."""
        spec, res, fit, eff = self.spectrum, self.result, self.fit, self.fit_effective
        pl = self.powerlaw
        nan = math.nan
        return {
            "layer": self.name,
            "shape": "x".join(str(s) for s in self.shape),
            "n": spec.n if spec is not None else None,
            "m": spec.m if spec is not None else None,
            "ratio": spec.ratio if spec is not None else nan,
            "sigma2": fit.sigma2 if fit is not None else nan,
            "ratio_eff": eff.ratio if eff is not None else nan,
            "lower_edge": fit.lower_edge if fit is not None else nan,
            "upper_edge": fit.upper_edge if fit is not None else nan,
            "ks": fit.ks if fit is not None else nan,
            "lambda_max": float(spec.eigenvalues[0]) if spec is not None else nan,
            "n_spikes": res.n_spikes if res is not None else None,
            "pvalue": res.pvalue if res is not None else nan,
            "theta_hat": float(res.strengths[0]) if res is not None and res.n_spikes else nan,
            "method": res.method if res is not None else "",
            "path": "+".join(res.path) if res is not None else "",
            "mp_pvalue": fit.gof_pvalue if fit is not None else nan,
            "spikes_interpretable": res is not None and res.spikes_interpretable,
            "alpha": pl.alpha if pl is not None else nan,
            "alpha_low": pl.alpha_low if pl is not None else nan,
            "alpha_high": pl.alpha_high if pl is not None else nan,
            "pl_pvalue": pl.pvalue if pl is not None else nan,
            "bulk_law": self.bulk_law,
            "notes": "; ".join(([f"error: {self.error}"] if self.error else []) + list(self.notes)),
        }

    def __repr__(self) -> str:
        spikes = self.result.n_spikes if self.result is not None else "untested"
        return f"LayerReport({self.name!r}, shape={self.shape}, n_spikes={spikes})"


def _notes_of(caught) -> list[str]:
    notes = []
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, BBPFitWarning):
            if text not in notes:
                notes.append(text)
        else:  # not ours: pass it on unchanged
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return notes


def analyze_layer(name: str, weight, *, alpha: float = 0.05, method: str = "auto",
                  max_spikes: int | None = None, rng=None, null_cache=None) -> LayerReport:
    """Spectrum, bulk fits and spike test of one weight matrix.

    Parameters
    ----------
    name : str
        The layer's name (used in messages and kept on the report).
    weight : array_like or torch.Tensor
        A matrix or conv kernel.
    alpha, method, max_spikes, rng, null_cache
        As in :func:`bbpfit.spike_test`; ``max_spikes`` is capped at ``m - 5`` per layer.

    Returns
    -------
    LayerReport

    Raises
    ------
    ValueError
        The weight has NaN or infinite entries, or is not a matrix (the message names the layer).
    """
    shape = tuple(int(s) for s in weight.shape)
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BBPFitWarning)
        try:
            spec, gram = fast_spectrum(weight, name=name, with_factor=True)  # float32 if exact
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"layer {name!r}: {exc}") from None
        res = fit = eff = None
        if not spec.eigenvalues[0] > 0:
            notes.append("all-zero matrix: nothing to fit or test")
        elif spec.m < 3:
            notes.append(f"too small for a bulk fit (m = {spec.m} < 3)")
        else:
            eff = fit_mp(spec, ratio="fit", max_spikes=spec.m - 2)  # as the spike test's fit
            if spec.m < MIN_M:
                fit = fit_mp(spec)
                notes.append(f"too small to test (m = {spec.m} < {MIN_M})")
            else:
                kmax = None if max_spikes is None else max(1, min(max_spikes, spec.m - MIN_BULK))
                x = spec if method in SPECTRUM_METHODS else weight
                res = spike_test_given_spectrum(
                    x, spec, alpha=alpha, method=method, max_spikes=kmax, rng=rng,
                    null_cache=null_cache, name=name,
                    gram=None if method in SPECTRUM_METHODS else gram)
                fit = res.fit
                if not res.spikes_interpretable and res.n_spikes:
                    notes.append(f"{res.n_spikes} spike(s) not interpretable: the bulk left after "
                                 f"them is not Marchenko-Pastur (p = {res.mp_pvalue:.2g})")
                elif not res.spikes_interpretable:
                    notes.append(f"the bulk is not Marchenko-Pastur (p = {res.mp_pvalue:.2g})")
        pl = _powerlaw(spec, name) if res is not None else None  # untested: no law either
    notes += [n for n in _notes_of(caught) if n not in notes]
    return LayerReport(name, shape, spec, res, fit, eff, tuple(notes), pl)


def _powerlaw(spec: Spectrum, name: str) -> PowerLawFit | None:
    """The tail fit of a tested layer, seeded by its name (so it never depends on the layer
    order)."""
    if np.unique(spec.eigenvalues[spec.eigenvalues > 0]).shape[0] < 3:
        return None
    return fit_powerlaw(spec, n_boot=200, n_gof=100, compare=False,
                        rng=zlib.crc32(name.encode("utf-8")))


def check_errors(errors: str) -> str:
    """``errors`` of :func:`iter_reports`, checked."""
    if errors not in ("raise", "report"):
        raise ValueError(f"`errors` must be 'raise' or 'report', got {errors!r}")
    return errors


def report_layer(name: str, weight, *, errors: str = "raise", **options) -> LayerReport:
    """:func:`analyze_layer`, or with ``errors="report"`` a report whose ``error`` says why the
    layer could not be analysed (NaN or infinite weights, not a matrix)."""
    try:
        return analyze_layer(name, weight, **options)
    except (ValueError, TypeError) as exc:
        if errors == "raise":
            raise
        shape = tuple(int(s) for s in getattr(weight, "shape", ()))
        return LayerReport(name, shape, None, None, None, None,
                           error=str(exc).removeprefix(f"layer {name!r}: "))


def iter_reports(source, *, alpha: float = 0.05, method: str = "auto",
                 max_spikes: int | None = None, rng=0, null_cache=None, errors: str = "raise",
                 **selection) -> Iterator[LayerReport]:
    """Yield a :class:`LayerReport` per layer of ``source``, reading one weight at a time.

    Parameters
    ----------
    source : nn.Module, mapping, str or path-like
        Anything :func:`bbpfit.sources.iter_layers` reads.
    alpha, method, max_spikes, null_cache
        As in :func:`analyze_layer`.
    rng : None, int or numpy.random.Generator, default 0
        Seeds one generator shared by the layers in order (ties of discrete entries).
    errors : {"raise", "report"}, default "raise"
        What a layer that cannot be analysed (NaN or infinite weights, not a matrix) does:
        raise its ``ValueError``/``TypeError``, or yield a report whose ``error`` says why (no
        spectrum, no test) and go on with the next layers.
    **selection
        ``selection`` (or ``include``, ``exclude``, ``embeddings``, ``others``, ``min_side``),
        ``format``, ``allow_unsafe_pickle``: passed to :func:`bbpfit.sources.iter_layers`.
    """
    check_errors(errors)
    gen = np.random.default_rng(rng)
    for name, weight in iter_layers(source, **selection):
        report = report_layer(name, weight, errors=errors, alpha=alpha, method=method,
                              max_spikes=max_spikes, rng=gen, null_cache=null_cache)
        del weight  # the next layer is read only after this one is dropped
        yield report
