"""Lazy scoring with Dask (bayesmixture._dask) and minibatch ADVI (inference._advi).

One small GaussianMixture is fitted once; a two-process LocalCluster scores 400,000 rows in
10 blocks and the results are compared with the in-memory methods on sampled rows.
"""

from __future__ import annotations

import os
import re

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import scipy.stats as st
from distributed import Client, LocalCluster
from scipy.special import logsumexp

import bayesmixture as bm
from bayesmixture import _dask
from bayesmixture._dask import (
    predict_lazy,
    predict_membership_lazy,
    predict_proba_lazy,
    predictive_logpdf_lazy,
    score_samples_lazy,
)
from bayesmixture.inference._advi import fit_advi_minibatch
from pymc_reference import python_backend

N_ROWS, CHUNK = 400_000, 40_000
COLUMNS = ["length", "width"]
# Same draws, same formulas, same compiled densities on both sides; only the order in which
# draws are summed differs (blocks of other sizes), which moves the last few bits.
TIGHT = {"rtol": 1e-10, "atol": 1e-10}


def _refuse(*args, **kwargs):
    raise AssertionError("something was computed while the graph was being built")


@pytest.fixture(scope="module")
def client():
    # Workers evaluate PyMC's graphs (functional API) with Python's implementations: no gcc
    # in each new worker process.
    flags = ",".join(filter(None, [os.environ.get("PYTENSOR_FLAGS"), "cxx="]))
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env={"PYTENSOR_FLAGS": flags},
    )
    with Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


@pytest.fixture(scope="module")
def fitted() -> bm.GaussianMixture:
    rng = np.random.default_rng(7)
    X = np.r_[rng.normal([-2.0, 0.0], 1.0, (150, 2)), rng.normal([2.0, 1.0], 0.7, (150, 2))]
    return bm.GaussianMixture(
        2, draws=100, tune=100, chains=2, progressbar=False, random_seed=0
    ).fit(pd.DataFrame(X, columns=COLUMNS))


@pytest.fixture(scope="module")
def new_rows() -> np.ndarray:
    return np.random.default_rng(11).normal([0.0, 0.5], 2.0, (N_ROWS, 2))


@pytest.fixture(scope="module")
def sampled_rows() -> np.ndarray:
    return np.sort(np.random.default_rng(12).choice(N_ROWS, 2_000, replace=False))


def _posterior_keys(collection) -> list:
    return [k for k in dict(collection.__dask_graph__()) if "bayesmixture-posterior" in str(k)]


def test_predict_proba_lazy_is_lazy_and_matches_in_memory(client, fitted, new_rows, sampled_rows):
    X = da.from_array(new_rows, chunks=(CHUNK, 2))
    with dask.config.set(scheduler=_refuse):
        proba = predict_proba_lazy(fitted, X)
    assert isinstance(proba, da.Array)
    assert proba.shape == (N_ROWS, 2) and proba.numblocks == (N_ROWS // CHUNK, 1)
    # The draws are one graph key that every block refers to, not copied into each task.
    keys = _posterior_keys(proba)
    assert len(keys) == 1
    values = proba.compute()
    expected = fitted.predict_proba(new_rows[sampled_rows])
    np.testing.assert_allclose(values[sampled_rows], expected, **TIGHT)
    np.testing.assert_allclose(values.sum(axis=1), 1.0, rtol=1e-12)
    # Each worker compiled the density once for all of its blocks (one thread per worker).
    token = str(keys[0]).split("bayesmixture-posterior-")[1][:32]
    info = client.run(_dask._cache_info)
    compiles = [worker["compiles"].get(token, 0) for worker in info.values()]
    blocks = sum(worker["blocks"].get(token, 0) for worker in info.values())
    assert blocks >= N_ROWS // CHUNK
    assert all(n <= 1 for n in compiles)


def test_dataframe_columns_in_another_order(client, fitted, new_rows, sampled_rows):
    frame = pd.DataFrame(new_rows, columns=COLUMNS)
    shuffled = frame[["width", "length"]].assign(extra=1.0)
    ddf = dd.from_pandas(shuffled, npartitions=N_ROWS // CHUNK)
    with dask.config.set(scheduler=_refuse):
        proba = predict_proba_lazy(fitted, ddf)
        labels = predict_lazy(fitted, ddf)
    assert isinstance(proba, dd.DataFrame) and isinstance(labels, dd.Series)
    assert list(proba.columns) == list(fitted.idata_.posterior["component"].values)
    computed = proba.partitions[[0, 7]].compute()  # only the blocks that are compared
    expected = fitted.predict_proba(frame.loc[computed.index])
    np.testing.assert_allclose(computed.to_numpy(), expected, **TIGHT)
    picked = labels.partitions[[3]].compute()
    np.testing.assert_array_equal(picked.to_numpy(), fitted.predict(frame.loc[picked.index]))


def test_score_samples_lazy_matches_in_memory(client, fitted, new_rows):
    X = da.from_array(new_rows, chunks=(CHUNK, 2))
    with dask.config.set(scheduler=_refuse):
        dens = score_samples_lazy(fitted, X)
        frame_dens = score_samples_lazy(
            fitted, dd.from_pandas(pd.DataFrame(new_rows[:1000], columns=COLUMNS), npartitions=2)
        )
    assert isinstance(dens, da.Array) and dens.shape == (N_ROWS,)
    picked = dens.blocks[[0, 9]].compute()
    rows = np.r_[new_rows[:CHUNK], new_rows[-CHUNK:]]
    np.testing.assert_allclose(picked, fitted.score_samples(rows), **TIGHT)
    assert frame_dens.name == "log_density"
    np.testing.assert_allclose(
        frame_dens.compute().to_numpy(), fitted.score_samples(new_rows[:1000]), **TIGHT
    )


def test_draws_thins_the_posterior_evenly(fitted, new_rows):
    rows = new_rows[:500]
    dens = score_samples_lazy(fitted, da.from_array(rows, chunks=250), draws=20)
    got = dens.compute(scheduler="sync")
    # Reference: scipy densities in the data's units, on draws 0, ~10.5, ..., 199 rounded.
    post = fitted.idata_.posterior.stack(sample=("chain", "draw"))
    picked = np.floor(np.linspace(0, post.sizes["sample"] - 1, 20) + 0.5).astype(int)
    weights = post["weights"].values[:, picked]  # (component, draw)
    means = post["means"].transpose("sample", ...).values[picked]
    covs = post["covariances"].transpose("sample", ...).values[picked]
    log_dens = np.array(
        [
            [
                np.log(weights[k, s]) + st.multivariate_normal(means[s, k], covs[s, k]).logpdf(rows)
                for k in range(2)
            ]
            for s in range(20)
        ]
    )  # (draw, component, row)
    expected = logsumexp(log_dens, axis=(0, 1)) - np.log(20)
    # scipy vs PyMC's logp on the standardised scale plus the Jacobian: rounding only.
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def _in_memory_error(fitted, X):
    with pytest.raises((TypeError, ValueError)) as info:
        fitted.predict_proba(X)
    return info.type, re.escape(str(info.value))


def _bad_inputs():
    rng = np.random.default_rng(3)
    words = pd.DataFrame({"length": rng.normal(size=20), "width": ["a"] * 20})
    return {
        "three columns": (rng.normal(size=(20, 3)), lambda x: da.from_array(x, chunks=10)),
        "strings": (np.full((20, 2), "x"), lambda x: da.from_array(x, chunks=10)),
        "1-D": (rng.normal(size=20), lambda x: da.from_array(x, chunks=10)),
        "string column": (words, lambda x: dd.from_pandas(x, npartitions=2)),
        "missing column": (
            words.assign(width=1.0).rename(columns={"width": "height"}),
            lambda x: dd.from_pandas(x, npartitions=2),
        ),
    }


@pytest.mark.parametrize("case", list(_bad_inputs()))
def test_bad_input_fails_while_building_with_the_in_memory_message(fitted, case):
    in_memory, to_dask = _bad_inputs()[case]
    lazy = to_dask(in_memory)
    expected_type, message = _in_memory_error(fitted, lazy.compute(scheduler="sync"))
    with dask.config.set(scheduler=_refuse), pytest.raises(expected_type, match=message):
        predict_proba_lazy(fitted, lazy)


def test_object_dask_arrays_are_refused_while_building(fitted):
    lazy = da.from_array(np.full((20, 2), 1.0, dtype=object), chunks=10)
    with dask.config.set(scheduler=_refuse), pytest.raises(TypeError, match="astype\\(float\\)"):
        predict_proba_lazy(fitted, lazy)


def test_in_memory_input_and_too_many_draws_are_refused(fitted, new_rows):
    with pytest.raises(
        TypeError, match=re.escape("X must be a dask.array.Array or dask.dataframe.DataFrame")
    ):
        predict_proba_lazy(fitted, new_rows)
    X = da.from_array(new_rows[:10], chunks=5)
    with pytest.raises(ValueError, match=re.escape("draws=201 must be an int from 1 to 200.")):
        score_samples_lazy(fitted, X, draws=201)


def test_missing_values_name_the_block_when_computed(fitted, new_rows):
    rows = new_rows[:100].copy()
    rows[63, 1] = np.nan
    dens = score_samples_lazy(fitted, da.from_array(rows, chunks=(50, 2)))
    with pytest.raises(ValueError, match=re.escape("missing (NaN) values in row 13")) as info:
        dens.compute(scheduler="sync")
    assert "rows 50 to 99 of the dask array" in info.value.__notes__[0]


@pytest.mark.filterwarnings("ignore::bayesmixture.exceptions.ConvergenceWarning")  # 200 draws
def test_functional_api_matches_predict_membership(client):
    # The functional API compiles PyMC's graph (in this process and in each worker): a
    # one-dimensional mixture, whose graph compiles in a third of the time of a 2-D one's.
    rng = np.random.default_rng(7)
    y = np.r_[rng.normal(-2.0, 1.0, 150), rng.normal(2.0, 0.7, 150)]
    fit = bm.Mixture("normal", 2, draws=100, tune=100, chains=2, progressbar=False, random_seed=0)
    model, idata = fit.fit(y).model_, fit.idata_
    rows = np.random.default_rng(11).normal(0.0, 2.0, 4_000)  # the model's own units
    observed = da.from_array(rows, chunks=1_000)
    with dask.config.set(scheduler=_refuse):
        lazy = predict_membership_lazy(model, idata, "y", observed)
        dens = predictive_logpdf_lazy(model, idata, "y", observed)
    assert lazy["probability"].chunks is not None  # dask-backed, not computed
    with python_backend():  # as the workers (the client fixture): no gcc
        eager = bm.predict_membership(model, idata, "y", rows)
        eager_density = bm.predictive_logpdf(model, idata, "y", rows)
    computed = lazy.compute()
    for var in ("probability", "uncertainty"):
        np.testing.assert_allclose(computed[var].values, eager[var].values, **TIGHT)
    # sd = sqrt(mean(r^2) - mean(r)^2): where it is ~0, a 1e-16 rounding difference in the
    # subtraction (draws summed in other blocks) becomes ~1e-8 after the square root.
    np.testing.assert_allclose(
        computed["probability_sd"].values, eager["probability_sd"].values, rtol=1e-6, atol=1e-7
    )
    np.testing.assert_array_equal(computed["label"].values, eager["label"].values)
    np.testing.assert_allclose(dens.compute().values, eager_density.values, **TIGHT)


# ~1.5-3 min on a fresh machine (3,000 ADVI steps on PyTensor's C backend, compiled cold);
# the doctest of fit_advi_minibatch runs it briefly in the default suite.
@pytest.mark.slow
def test_advi_minibatch_recovers_well_separated_components():
    rng = np.random.default_rng(5)
    labels = np.repeat([0, 1], 1_000)
    y = np.array([-4.0, 4.0])[labels] + rng.normal(size=2_000)
    with pm.Model(coords={"component": [0, 1]}) as model:
        w = pm.Dirichlet("w", np.ones(2), dims="component")
        mu = pm.Normal("mu", 0.0, 10.0, dims="component")
        sigma = pm.HalfNormal("sigma", 3.0, dims="component")
        bm.mixture("y", w, pm.Normal.dist(mu, sigma), y)
    idata = fit_advi_minibatch(
        model,
        "y",
        batch_size=200,
        n_iter=3_000,
        draws=200,
        start={"mu": np.array([-1.0, 1.0])},
        random_seed=2,
    )
    assert set(idata.posterior.data_vars) >= {"w", "mu", "sigma"}
    assert idata.posterior["mu"].dims == ("chain", "draw", "component")
    found = bm.membership(model, idata, "y")["label"].values
    # Means 8 sds apart: the Bayes classifier errs with probability Phi(-4) ~ 3e-5.
    accuracy = max(np.mean(found == labels), np.mean(found == 1 - labels))
    assert accuracy > 0.99
    mu = np.sort(idata.posterior["mu"].mean(("chain", "draw")).values)
    # Posterior sd of each mean is ~1/sqrt(1000) = 0.03; 0.2 leaves room for ADVI's bias.
    np.testing.assert_allclose(mu, [-4.0, 4.0], atol=0.2)


@pytest.mark.parametrize(
    ("initval", "batch_size", "message"),
    [
        ([-1.0, 1.0], 10, "the model sets initial values for ['mu'] (initval=...)"),
        (None, 50, "batch_size=50 must be an int from 1 to 20."),
    ],
)
def test_advi_minibatch_refuses_initial_values_and_large_batches(initval, batch_size, message):
    y = np.r_[np.full(10, -1.0), np.full(10, 1.0)]
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(2))
        mu = pm.Normal("mu", 0.0, 5.0, shape=2, initval=initval)
        bm.mixture("y", w, pm.Normal.dist(mu, 1.0), y)
    with pytest.raises(ValueError, match=re.escape(message)):
        fit_advi_minibatch(model, "y", batch_size=batch_size)


def test_public_methods_dispatch_dask_input(fitted, new_rows):
    # PyMC's graph (functional API) evaluated in this process with Python's implementations:
    # no gcc for a one-off 2-D graph
    with python_backend():
        rows = new_rows[:2_000]
        X = da.from_array(rows, chunks=(500, 2))
        with dask.config.set(scheduler=_refuse):
            proba = fitted.predict_proba(X)
            labels = fitted.predict(X)
            dens = fitted.score_samples(X, draws=50)
            lazy = bm.predict_membership(fitted.model_, fitted.idata_, "X", X / 2.0)
            logpdf = bm.predictive_logpdf(fitted.model_, fitted.idata_, "X", X / 2.0)
        assert isinstance(proba, da.Array) and isinstance(labels, da.Array)
        assert isinstance(dens, da.Array)
        np.testing.assert_allclose(
            proba.compute(scheduler="sync"), fitted.predict_proba(rows), **TIGHT
        )
        np.testing.assert_array_equal(labels.compute(scheduler="sync"), fitted.predict(rows))
        np.testing.assert_allclose(
            dens.compute(scheduler="sync"),
            score_samples_lazy(fitted, X, draws=50).compute(),
            **TIGHT,
        )
        eager = bm.predict_membership(fitted.model_, fitted.idata_, "X", rows / 2.0)
        np.testing.assert_allclose(
            lazy["probability"].compute(scheduler="sync").values,
            eager["probability"].values,
            **TIGHT,
        )
        np.testing.assert_allclose(
            logpdf.compute(scheduler="sync").values,
            bm.predictive_logpdf(fitted.model_, fitted.idata_, "X", rows / 2.0).values,
            **TIGHT,
        )


def test_options_of_one_path_are_refused_on_the_other(fitted, new_rows):
    with pytest.raises(ValueError, match="draws= thins the posterior for Dask input only"):
        fitted.predict_proba(new_rows[:10], draws=5)
    with pytest.raises(ValueError, match="draws= thins the posterior for Dask input only"):
        bm.predictive_logpdf(fitted.model_, fitted.idata_, "X", new_rows[:10], draws=5)
    X = da.from_array(new_rows[:10], chunks=5)
    with pytest.raises(ValueError, match="per_draw= is not taken with Dask input"):
        bm.predict_membership(fitted.model_, fitted.idata_, "X", X, per_draw=True)


def test_select_on_a_cluster_equals_the_serial_run(client):
    rng = np.random.default_rng(8)
    y = np.r_[rng.normal(-3.0, 1.0, 60), rng.normal(3.0, 1.0, 60)]
    template = bm.Mixture("normal", draws=100, tune=100, chains=1, random_seed=4, progressbar=False)
    serial = template.select(y, n_components=[1, 2])
    distributed = template.select(y, n_components=[1, 2], client=client)
    assert distributed.n_components == serial.n_components == 2
    for k in (1, 2):
        for name in serial.fits[k].idata_.posterior.data_vars:
            np.testing.assert_array_equal(
                distributed.fits[k].idata_.posterior[name].values,
                serial.fits[k].idata_.posterior[name].values,
            )
    pd.testing.assert_frame_equal(distributed.comparison, serial.comparison)


@pytest.mark.filterwarnings("ignore::bayesmixture.exceptions.ConvergenceWarning")  # 200 draws
def test_one_dimensional_mixture_scores_dask_blocks_with_its_scipy_scorer(client):
    rng = np.random.default_rng(3)
    y = np.r_[rng.normal(-2.0, 1.0, 100), rng.normal(2.0, 0.7, 100)]
    mix = bm.Mixture("normal", 2, draws=100, tune=100, chains=2, progressbar=False, random_seed=3)
    mix.fit(y)
    new = rng.normal(0.0, 2.0, 2_000)
    with dask.config.set(scheduler=_refuse):
        proba = mix.predict_proba(da.from_array(new, chunks=500))
    np.testing.assert_allclose(proba.compute(), mix.predict_proba(new), **TIGHT)
    # in-memory scoring compiled no PyMC graph (the estimator keeps none)
    assert getattr(mix, "_evaluator", None) is None
