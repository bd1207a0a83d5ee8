"""Which law describes a layer's bulk: Marchenko-Pastur, deformed MP, or a power-law tail.

Owns :func:`bulk_law`, the stated criterion behind the ``bulk_law`` column of
:func:`bbpfit.analyze`:

1. ``"MP"`` when the bulk left after the spikes passes its MP goodness of fit
   (:func:`bbpfit.fit.gof.mp_gof`, p >= 0.05): noise plus, possibly, spikes;
2. otherwise ``"power-law tail"`` when the tail's power law survives its semiparametric goodness
   of fit (p >= 0.1, Clauset et al. 2009) with ``alpha <= 6``, the heavy-tailed range of
   Martin & Mahoney (2021) (a fit with a larger exponent over a few dozen top eigenvalues is what
   the sharp edge of any finite-support bulk gives, e.g. WeightWatcher's alpha 5-69 on pure noise);
3. otherwise ``"deformed MP"``: a bulk that is neither MP nor power-law tailed (e.g. correlated
   or heteroscedastic noise);
4. ``""`` when neither test could run.
"""

from __future__ import annotations

import math

from .gof import GOF_LEVEL

#: Level of the power law's goodness of fit (Clauset, Shalizi & Newman 2009, sec. 4.1).
PL_LEVEL = 0.1
#: Largest exponent called a heavy tail (Martin & Mahoney 2021).
ALPHA_MAX = 6.0

BULK_LAWS = {
    "MP": f"the bulk after the spikes passes the MP goodness of fit (p >= {GOF_LEVEL:g})",
    "power-law tail": f"not MP; the tail's power law is plausible (p >= {PL_LEVEL:g}) with "
                      f"alpha <= {ALPHA_MAX:g}",
    "deformed MP": "not MP and no plausible heavy power-law tail",
}


def bulk_law(mp_pvalue: float, pl_pvalue: float = math.nan, alpha: float = math.nan) -> str:
    """The law of a layer's bulk by the criterion of this module (a key of :data:`BULK_LAWS`).

    Examples
    --------
    >>> bulk_law(0.3), bulk_law(0.01, 0.5, 3.2), bulk_law(0.01, 0.5, 9.0), bulk_law(0.01, 0.02, 3)
    ('MP', 'power-law tail', 'deformed MP', 'deformed MP')
    """
    if math.isnan(mp_pvalue):
        return ""
    if mp_pvalue >= GOF_LEVEL:
        return "MP"
    if pl_pvalue >= PL_LEVEL and alpha <= ALPHA_MAX:
        return "power-law tail"
    return "deformed MP"
