"""Saving and loading fits: the fit state walked field by field, and damaged files refused by
name. (Every option's round trip through a fresh process is in tests/test_doors.py.)"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pytest
import xarray as xr

import bayesmixture as bm
from bayesmixture.io import SPEC_GROUP, decode_state, encode_state


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    y = np.r_[np.full(20, -3.0), np.full(20, 3.0)] + np.random.default_rng(0).normal(size=40)
    mix = bm.Mixture("normal", 2, draws=50, tune=50, chains=2, random_seed=0, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 100 draws: the ESS checks warn, by design
        mix.fit(y)
    return mix.save(tmp_path_factory.mktemp("io") / "fit.nc"), y


def _with_spec(path, tmp_path, change) -> str:
    """A copy of the saved fit whose JSON spec went through ``change`` (text -> text)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = az.from_netcdf(path)
        groups = {group: idata[group].load() for group in idata.groups()}
    spec = str(groups[SPEC_GROUP]["spec"].values)
    groups[SPEC_GROUP] = xr.Dataset({"spec": ((), change(spec))})
    damaged = tmp_path / "damaged.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        az.InferenceData(**groups).to_netcdf(damaged)
    return str(damaged)


def _edit(**changes):
    def change(text):
        spec = json.loads(text)
        spec.update(changes)
        return json.dumps(spec)

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text[:-10], "has a damaged bayesmixture spec (JSONDecodeError"),
        (_edit(estimator="NoSuchMixture"), "holds an unknown estimator 'NoSuchMixture'"),
        (_edit(estimator="MixtureRegression"), "holds a damaged bayesmixture fit"),
        (_edit(params={"n_components": 2, "colour": "red"}), "holds a damaged bayesmixture fit"),
        (_edit(fit={}), "holds a damaged bayesmixture fit (KeyError"),
        (_edit(format_version=99), "was written in format version 99"),
        (_edit(format="something-else"), "is not a bayesmixture fit"),
    ],
)
def test_a_damaged_file_is_refused_naming_the_file(saved, tmp_path, change, message):
    path, _ = saved
    damaged = _with_spec(path, tmp_path, change)
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        bm.load(damaged)
    assert damaged in str(caught.value)


def test_a_loaded_fit_keeps_its_checks_and_builds_its_model_when_asked(saved):
    path, y = saved
    loaded = bm.load(path)
    assert loaded._model is None  # nothing PyMC built on loading
    assert loaded.diagnose()["check"].tolist()[0] == "divergences"
    assert loaded.model_ is loaded.model_  # built once, when first asked for
    np.testing.assert_array_equal(loaded.predict(y), loaded.labels_)


@dataclass(frozen=True, kw_only=True)
class _State:
    value: np.ndarray
    count: int
    classes: list
    objects: np.ndarray
    nothing: None = None
    data: dict = field(default_factory=dict)


def test_any_fit_state_round_trips_field_by_field():
    state = _State(
        value=np.array([[1.0, np.nan], [2.0, 3.0]]),
        count=3,
        classes=[1, 2.5, "a"],
        objects=np.array([0, "noise"], dtype=object),
        data={"group_index": np.array([0, 1]), "flags": np.array([True, False])},
    )
    spec, arrays = encode_state(state)
    back = decode_state(_State, json.loads(json.dumps(spec)), arrays)
    np.testing.assert_array_equal(back.value, state.value)
    assert back.classes == [1, 2.5, "a"]  # types kept: 1, 2.5 and "a" stay apart
    assert back.objects.tolist() == [0, "noise"]
    assert back.nothing is None and back.count == 3
    np.testing.assert_array_equal(back.data["flags"], [True, False])
    assert back.data["group_index"].dtype == np.int64
