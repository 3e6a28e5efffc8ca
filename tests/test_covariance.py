"""Covariance types are records (estimators/_covariance.py) that every layer reads.

A type added in a fresh interpreter reaches the estimator, its EM start, the compiled path,
the scorer, save and load, and the command line's --help, without touching another file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bayesmixture.estimators import COVARIANCES, CovarianceType

ADD_A_TYPE = textwrap.dedent(
    """
    import json, sys, tempfile, warnings
    import numpy as np
    from bayesmixture.estimators import CovarianceType, register_covariance_type

    register_covariance_type(CovarianceType(
        "isotropic", shared=False, round=True, correlated=False,
        note="round, by another name", em_type="spherical"))
    import bayesmixture as bm
    from typer.testing import CliRunner
    from bayesmixture.cli import app

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-3, 1, (30, 2)), rng.normal(3, 1, (30, 2))]
    options = dict(draws=60, tune=60, chains=2, random_seed=4, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = bm.GaussianMixture(2, covariance_type="isotropic", **options).fit(X)
        old = bm.GaussianMixture(2, covariance_type="spherical", **options).fit(X)
    path = tempfile.mkdtemp() + "/fit.nc"
    loaded = bm.load(new.save(path))
    print(json.dumps({
        "sampler": new.idata_.posterior.attrs["bayesmixture_sampler"],
        "same_draws": bool(np.array_equal(new.idata_.posterior["sd"].values,
                                          old.idata_.posterior["sd"].values)),
        "same_membership": bool(np.array_equal(new.predict_proba(X), old.predict_proba(X))),
        "loaded_type": loaded.covariance_type,
        "loaded_predicts": bool(np.array_equal(loaded.predict_proba(X), new.predict_proba(X))),
        "help": CliRunner().invoke(app, ["fit", "--help"], terminal_width=200).output,
    }))
    """
)


def test_a_covariance_type_added_at_run_time_goes_through_every_door():
    done = subprocess.run([sys.executable, "-c", ADD_A_TYPE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # the record's structure is spherical's, which the kernel knows: the compiled path, and
    # with the same seed the very same draws and memberships as "spherical"
    assert result["sampler"] == "compiled"
    assert result["same_draws"] and result["same_membership"]
    assert result["loaded_type"] == "isotropic" and result["loaded_predicts"]
    help_text = " ".join(result["help"].replace("│", " ").split())  # rich wraps the lines
    assert "isotropic (round, by another name)" in help_text


@pytest.mark.parametrize("name", list(COVARIANCES))
def test_each_type_converts_em_covariances_exactly(name, rng):
    kind = COVARIANCES[name]
    K, D = 3, 4
    A = rng.normal(size=(K, D, D))
    full = A @ np.swapaxes(A, -1, -2) + D * np.eye(D)
    sklearn_layout = {
        "full": full,
        "tied": full[0],
        "diag": np.diagonal(full, axis1=-2, axis2=-1),
        "spherical": np.diagonal(full, axis1=-2, axis2=-1).mean(axis=1),
    }[kind.em_type]
    # for scikit-learn's own four types the layouts are the same: nothing is lost
    np.testing.assert_allclose(kind.from_em(sklearn_layout, D), sklearn_layout, rtol=1e-14)
    sd, cpc = kind.sd_and_cpc(sklearn_layout)
    assert np.shape(sd) == tuple({"component": K, "feature": D}[d] for d in kind.sd_dims())
    assert (cpc is not None) == kind.correlated
    assert kind.n_parameters(K, D) == np.size(sd) + (0 if cpc is None else np.size(cpc))


def test_a_type_cannot_be_round_and_correlated():
    with pytest.raises(ValueError, match="a round matrix has no correlations"):
        CovarianceType("odd", shared=False, round=True, correlated=True, note="", em_type="full")
