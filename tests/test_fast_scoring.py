"""The matrix-product scorer and its fused kernel equal Bayes' rule computed with scipy, draw by
draw: complete rows, rows with gaps, weights per group, Student-t and noise components; the
univariate fused pass equals the Mixture scorer's chunked pass (scipy's densities) for every
family."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import bayesmixture as bm
from bayesmixture._kernels.scoring import ROW_TILE
from bayesmixture.estimators._gaussian_scorer import GaussianEvaluator
from pymc_reference import random_points, theta_of


@pytest.mark.parametrize("n_rows", [1, 70, 2500])  # one tile, a ragged tile, two threads
def test_fused_totals_equal_scipy(rng, n_rows):
    K, D, S = 3, 2, 7
    weights = rng.dirichlet(np.ones(K), size=S)
    means = rng.normal(scale=3.0, size=(S, K, D))
    factors = rng.normal(size=(S, K, D, D)) * 0.4 + np.eye(D)
    covariances = factors @ np.swapaxes(factors, -1, -2)
    center, scale = np.array([1.0, -2.0]), np.array([2.0, 0.5])
    x = rng.normal(scale=3.0, size=(n_rows, D))  # data units
    evaluator = GaussianEvaluator(SimpleNamespace(n_components=K), center, scale)
    draws = {"weights": weights, "means": means, "covariances": covariances}
    total, total_sq, log_density = evaluator.totals(draws, (x - center) / scale)
    # reference: scipy densities on the standardised scale, one draw at a time
    log_joint = (
        np.stack(
            [
                [
                    np.log(weights[s, k])
                    + np.atleast_1d(
                        stats.multivariate_normal.logpdf(
                            (x - center) / scale,
                            (means[s, k] - center) / scale,
                            covariances[s, k] / np.outer(scale, scale),
                        )
                    )
                    for k in range(K)
                ]
                for s in range(S)
            ]
        )
        .transpose(0, 2, 1)
        .reshape(S, n_rows, K)
    )
    resp = np.exp(log_joint - logsumexp(log_joint, axis=-1, keepdims=True))
    # the same formulas in float64: rounding only (sums of S terms in another order)
    np.testing.assert_allclose(total, resp.sum(axis=0), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(total_sq, (resp**2).sum(axis=0), rtol=1e-11, atol=1e-13)
    expected = logsumexp(logsumexp(log_joint, axis=-1), axis=0)
    np.testing.assert_allclose(log_density, expected, rtol=1e-11)


def test_summaries_take_the_fused_pass_only_for_large_inputs(rng, monkeypatch):
    # summarise and predictive_log_density switch to the fused pass at FUSED_MIN_ROW_DRAWS;
    # both paths must give the same numbers (rounding only: sums in another order).
    from bayesmixture.evaluation import _summary

    K, D, S, n_rows = 2, 2, 5, 40
    weights = rng.dirichlet(np.ones(K), size=S)
    means = rng.normal(scale=2.0, size=(S, K, D))
    covariances = np.broadcast_to(np.eye(D), (S, K, D, D)).copy()
    posterior = _posterior({"weights": weights, "means": means, "covariances": covariances})
    evaluator = GaussianEvaluator(SimpleNamespace(n_components=K), np.zeros(D), np.ones(D))
    x = rng.normal(scale=2.0, size=(n_rows, D))
    calls = []
    monkeypatch.setattr(
        GaussianEvaluator, "totals", _recording(GaussianEvaluator.totals, calls), raising=True
    )

    def run():
        membership = _summary.summarise(
            evaluator, posterior, x, None, obs_coords=np.arange(n_rows), component_coords=[0, 1]
        )
        return membership["probability_sd"].values, _summary.predictive_log_density(
            evaluator, posterior, x
        )

    chunked = run()
    assert calls == []  # 40 rows x 5 draws is far below the threshold
    monkeypatch.setattr(_summary, "FUSED_MIN_ROW_DRAWS", 0)
    fused = run()
    assert len(calls) == 2
    for a, b in zip(chunked, fused, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["gaussian", "student", "noise"])
def test_gaps_and_group_weights_equal_scipy_marginals(rng, kind):
    K, D, S, G, n_rows = 2, 3, 4, 3, 12
    group_weights = rng.dirichlet(np.ones(K), size=(S, G))
    means = rng.normal(scale=2.0, size=(S, K, D))
    factors = rng.normal(size=(S, K, D, D)) * 0.4 + np.eye(D)
    matrices = factors @ np.swapaxes(factors, -1, -2)
    df = rng.uniform(1.5, 20.0, size=(S, K))
    noise_weight = rng.uniform(0.05, 0.3, size=S)
    center, scale = np.array([1.0, -2.0, 0.5]), np.array([2.0, 0.5, 1.5])
    x = (rng.normal(scale=3.0, size=(n_rows, D)) - center) / scale  # standardised rows
    if kind != "noise":  # (a noise component takes complete rows only)
        # one gap, a repeated pattern, two gaps, and a row with nothing observed
        for row, gaps in [(1, [0]), (2, [1]), (7, [1]), (4, [0, 2]), (9, [0, 1, 2])]:
            x[row, gaps] = np.nan
    codes, new_codes = rng.integers(0, G, size=n_rows), rng.integers(0, G, size=n_rows)
    noise_log_density = -1.3 if kind == "noise" else None
    evaluator = GaussianEvaluator(
        SimpleNamespace(n_components=K + (kind == "noise")),
        center,
        scale,
        student=kind == "student",
        noise_log_density=noise_log_density,
        group_index=codes,
    )
    draws = {"group_weights": group_weights, "means": means, "df": df}
    draws["scales" if kind == "student" else "covariances"] = matrices
    draws["noise_weight"] = noise_weight

    def expected_joint(row_codes):
        joint = np.empty((S, n_rows, K + (kind == "noise")))
        for s in range(S):
            cluster_share = 1.0 - noise_weight[s] if kind == "noise" else 1.0
            for i in range(n_rows):
                seen = ~np.isnan(x[i])
                for k in range(K):
                    loc = ((means[s, k] - center) / scale)[seen]
                    shape = (matrices[s, k] / np.outer(scale, scale))[np.ix_(seen, seen)]
                    if not seen.any():
                        log_p = 0.0  # nothing observed: the density of no entries is 1
                    elif kind == "student":
                        log_p = stats.multivariate_t.logpdf(x[i, seen], loc, shape, df=df[s, k])
                    else:
                        log_p = stats.multivariate_normal.logpdf(x[i, seen], loc, shape)
                    joint[s, i, k] = np.log(group_weights[s, row_codes[i], k] * cluster_share)
                    joint[s, i, k] += log_p
                if kind == "noise":
                    joint[s, i, K] = np.log(noise_weight[s]) + noise_log_density
        return joint

    for data, row_codes in [(None, codes), ({"group_index": new_codes}, new_codes)]:
        # a block of 7 elements holds one draw at a time: every block boundary is crossed
        log_resp, log_marginal = evaluator.responsibilities(draws, x, data=data, block_elements=7)
        joint = expected_joint(row_codes)
        # Same densities, the quadratic form expanded: agreement to rounding of terms of
        # size |x|^2 ~ 10 on this scale (atol: the row with nothing observed has log 1 = 0).
        np.testing.assert_allclose(log_marginal, logsumexp(joint, axis=-1), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(
            log_resp, joint - logsumexp(joint, axis=-1, keepdims=True), atol=1e-9
        )
    with pytest.raises(ValueError, match=r"group_index has shape \(2,\); expected \(12,\)"):
        evaluator.responsibilities(draws, x, data={"group_index": codes[:2]})


UNIVARIATE_DATA = {
    "normal": lambda rng, n: rng.normal(0.0, 2.0, n),
    "studentt": lambda rng, n: rng.standard_t(3.0, n),
    "lognormal": lambda rng, n: rng.lognormal(0.5, 0.8, n),
    "gamma": lambda rng, n: rng.gamma(3.0, 1.0, n),
    "exponential": lambda rng, n: rng.exponential(2.0, n),
    "beta": lambda rng, n: rng.beta(2.0, 3.0, n),
    "poisson": lambda rng, n: rng.poisson(4.0, n),
    "negbinomial": lambda rng, n: rng.negative_binomial(3, 0.3, n),
    "binomial": lambda rng, n: rng.binomial(np.arange(n) % 7 + 4, 0.4),
    # normal values below zero lie outside the gamma and lognormal supports
    "normal-gamma-lognormal": lambda rng, n: np.r_[
        rng.normal(size=n // 2), rng.gamma(4.0, size=n - n // 2)
    ],
}


@pytest.mark.parametrize("case", sorted(UNIVARIATE_DATA))
def test_univariate_fused_totals_equal_the_chunked_pass(rng, case):
    n_obs = ROW_TILE + 45  # a full tile and a ragged one
    family = case.split("-") if "-" in case else case
    trials = np.arange(n_obs) % 7 + 4 if case == "binomial" else None
    mix = bm.Mixture(family, 3, **({"trials": trials} if trials is not None else {}))
    mix._check_params()
    fit = mix._validate_fit_data(UNIVARIATE_DATA[case](rng, n_obs))
    model = mix._build_model(fit)
    scorer = mix._fast_scorer(mix._scoring_spec(fit), None, fit.value, {}, fit=fit)
    density = mix._compiled_density(fit)
    # seven draws: the constrained values of random unconstrained points
    thetas = np.stack([theta_of(model, point) for point in random_points(model, rng, n=7)])
    draws = {name: value[0] for name, value in density.from_theta(thetas[None]).items()}
    total, total_sq, log_density = scorer.totals(draws, fit.value)
    log_resp, log_marginal = scorer.responsibilities(draws, fit.value)
    resp = np.exp(log_resp)
    # both sides equal PyMC's densities to 1e-10 (the kernel's and scipy's formulas): sums of
    # seven responsibilities differ by rounding only; -inf outside a support on both sides
    np.testing.assert_allclose(total, resp.sum(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(total_sq, (resp**2).sum(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(log_density, logsumexp(log_marginal, axis=0), rtol=1e-10)


def _posterior(draws: dict):
    import xarray as xr

    dims = {
        "weights": ("component",),
        "means": ("component", "feature"),
        "covariances": ("component", "feature", "feature2"),
    }
    return xr.Dataset(
        {name: (("chain", "draw", *dims[name]), value[None]) for name, value in draws.items()},
        coords={"chain": [0], "draw": np.arange(len(draws["weights"])), "component": [0, 1]},
    )


def _recording(method, calls):
    def recorded(self, *args, **kwargs):
        calls.append(method.__name__)
        return method(self, *args, **kwargs)

    return recorded
