"""What a default fit and a transition analysis compile: only the kernels their options reach,
each for one signature (a fresh environment pays about 0.1-0.5 s of Numba compilation per
kernel and signature; issue #11's cold start), with results unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

import bbpfit as bf
from bbpfit.fit import fit_mp_array

_PROBE = r"""
import json, numpy as np, bbpfit as bf
from bbpfit.fit import fit_mp_array
from bbpfit.fit import distance, median, kritchman_nadler
from bbpfit.transition import dtransform
from bbpfit.transition.edge_null import AIRY_MEANS
rng = np.random.default_rng(0)
lam = np.stack([bf.eigenvalues(rng.standard_normal((300, 120))) for _ in range(3)])
fit_mp_array(lam, 300, distance=False)
fitted = {k.__name__: len(k.signatures) for k in (kritchman_nadler.kn_batch, median.ratio_batch,
          median.ratio_from_quartiles, distance.ks_batch, distance.bulk_distance)}
dtransform.d_transform_strengths(lam, 300.0, np.array([0, 1, 2]), 16, AIRY_MEANS,
                                 np.full((3, 2), 5.0))
print(json.dumps({"fit": fitted, "theta": len(dtransform._theta.signatures)}))
"""


def test_fit_without_distance_is_the_same_fit():
    rng = np.random.default_rng(5)
    lam = np.stack([bf.eigenvalues(s * rng.standard_normal((500, 200))) for s in (1.0, 2.0)])
    lam[1, :3] += [40.0, 30.0, 20.0]  # outliers: n_excluded > 0 in one row
    for ratio in (None, "fit", 0.3):
        full = fit_mp_array(lam, 500, ratio=ratio)
        bare = fit_mp_array(lam, 500, ratio=ratio, distance=False)
        for name in ("sigma2", "ratio", "lower_edge", "upper_edge", "n_excluded"):
            np.testing.assert_array_equal(getattr(bare, name), getattr(full, name))
        assert np.all(np.isfinite(full.ks)) and np.all(np.isnan(bare.ks))
    assert fit_mp_array(lam, 500).n_excluded.tolist()[1] >= 3


def test_default_paths_compile_only_what_they_use(tmp_path):
    # a fresh interpreter and an empty Numba cache: the dispatchers list what was compiled
    # (kernels only called from other kernels are listed only when compiled, not cache-loaded)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, env=env)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["fit"] == {"kn_batch": 1, "ratio_batch": 0, "ratio_from_quartiles": 0,
                          "ks_batch": 0, "bulk_distance": 0}
    assert got["theta"] == 1  # one signature (no second one for a literal argument)
