"""check_model: the forum thread's "in parts" model is flagged, the correct one is not."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import bayesmixture as bm
from bayesmixture.exceptions import ModelCheckWarning


@pytest.fixture(scope="module")
def operator_data():
    return bm.datasets.make_operator_mixture(random_seed=2)


def in_parts_model(data) -> pm.Model:
    """The thread's second model, verbatim apart from PyMC 5 names."""
    with pm.Model() as model:
        x = pm.Normal("x", mu=1.5, sigma=1.0, shape=3)
        a1 = pm.Beta("alpha", alpha=2, beta=2)
        y1 = pm.Normal("y1", mu=pt.dot(data.H1, x), sigma=data.noise, observed=data.y)
        y2 = pm.Normal("y2", mu=pt.dot(data.H2, x), sigma=data.noise, observed=data.y)
        _ = a1 * y1 + (1 - a1) * y2
    return model


def test_in_parts_model_triggers_both_findings(operator_data):
    with pytest.warns(ModelCheckWarning):
        findings = bm.check_model(in_parts_model(operator_data))
    kinds = {f.kind: f for f in findings}
    assert set(kinds) == {"data_counted_twice", "unused_variable"}
    assert kinds["data_counted_twice"].variables == ("y1", "y2")
    assert kinds["unused_variable"].variables == ("alpha",)
    assert "bayesmixture.mixture" in kinds["unused_variable"].message


def test_mixture_model_triggers_no_finding(operator_data):
    with pm.Model() as model:
        x = pm.Normal("x", mu=1.5, sigma=1.0, shape=3)
        w = pm.Dirichlet("w", np.ones(2))
        comps = [
            pm.Normal.dist(pt.dot(H, x), operator_data.noise)
            for H in (operator_data.H1, operator_data.H2)
        ]
        bm.mixture("y", w, comps, operator_data.y)
    assert bm.check_model(model) == []


def test_hyperprior_reaching_the_likelihood_through_another_variable_is_used():
    with pm.Model() as model:
        tau = pm.HalfNormal("tau")
        mu = pm.Normal("mu", 0, tau)
        pm.Normal("y", mu, 1, observed=np.zeros(3))
    assert bm.check_model(model, warn=False) == []


def test_data_counted_twice_is_found_for_shared_data_containers():
    with pm.Model() as model:
        data = pm.Data("d", np.arange(4.0))
        mu = pm.Normal("mu")
        pm.Normal("a", mu, 1, observed=data)
        pm.Normal("b", mu, 2, observed=data)
    [finding] = bm.check_model(model, warn=False)
    assert finding.kind == "data_counted_twice"


def test_check_model_rejects_non_model():
    with pytest.raises(TypeError, match=r"model must be a pymc\.Model"):
        bm.check_model("model")
