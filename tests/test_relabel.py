"""Relabelling: pure-numpy methods against brute force, and whole-posterior behaviour."""

from __future__ import annotations

import itertools

import arviz as az
import numpy as np
import pymc as pm
import pytest

import bayesmixture as bm
from bayesmixture.relabelling._ecr import ecr_permutations
from bayesmixture.relabelling._pivot import pivot_permutations
from bayesmixture.relabelling._stephens import stephens_permutations

# small models and posteriors: PyTensor's Python implementations, no gcc (conftest)
pytestmark = pytest.mark.usefixtures("python_linker")


@pytest.mark.parametrize("n_components", [2, 3, 4])
def test_ecr_matches_brute_force(rng, n_components):
    resp = rng.dirichlet(np.ones(n_components) * 0.3, size=(15, 30))
    pivot = rng.integers(0, n_components, 30)
    perms = ecr_permutations(resp, pivot)

    def agreement(alloc, perm):  # observations whose relabelled allocation is the pivot's
        return int((alloc == np.asarray(perm)[pivot]).sum())

    for s, draw in enumerate(resp):
        alloc = draw.argmax(axis=1)
        best = max(agreement(alloc, p) for p in itertools.permutations(range(n_components)))
        assert agreement(alloc, perms[s]) == best


@pytest.mark.parametrize("n_components", [2, 3, 4])
def test_pivot_matches_brute_force(rng, n_components):
    params = rng.normal(size=(12, n_components, 3))
    perms = pivot_permutations(params, reference=0)
    scale = params.reshape(-1, 3).std(axis=0)
    z = params / scale

    def distance(draw, perm):  # squared distance of the relabelled draw to the reference
        return ((z[0] - z[draw][list(perm)]) ** 2).sum()

    for s in range(12):
        best = min(distance(s, p) for p in itertools.permutations(range(n_components)))
        np.testing.assert_allclose(distance(s, perms[s]), best)


def test_stephens_recovers_known_random_permutations(rng):
    n_components = 3
    truth = rng.dirichlet(np.ones(n_components) * 0.2, size=40)  # clear memberships
    noisy = np.stack(
        [np.stack([rng.dirichlet(row * 50 + 0.1) for row in truth]) for _ in range(60)]
    )
    applied = np.array([rng.permutation(n_components) for _ in range(60)])
    # switched[s, :, j] = noisy[s, :, applied[s, j]]
    switched = np.take_along_axis(noisy, applied[:, None, :], axis=-1)
    perms = stephens_permutations(switched, initial=noisy[0])
    undone = np.take_along_axis(switched, perms[:, None, :], axis=-1)
    np.testing.assert_allclose(undone, noisy)


def test_the_relabelling_rows_find_the_permutations_of_all_rows(rng):
    # 20,000 rows of three normals, the smallest holding 1% of them: the evenly spaced
    # MAX_RELABEL_OBS rows that relabelling scores give every draw the permutation that
    # all rows give, and both undo the permutations applied to the draws
    from types import SimpleNamespace

    from scipy.special import softmax

    from bayesmixture.relabelling import _relabel_rows

    n_obs, weights, means = 20_000, np.array([0.6, 0.39, 0.01]), np.array([-3.0, 0.0, 4.0])
    y = means[rng.choice(3, size=n_obs, p=weights)] + rng.standard_normal(n_obs)
    draw_means = means + 0.05 * rng.standard_normal((40, 3))  # 40 draws near the truth
    log_joint = np.log(weights) - 0.5 * (y[None, :, None] - draw_means[:, None, :]) ** 2
    resp = softmax(log_joint, axis=-1)  # (draw, obs, component)
    applied = np.array([rng.permutation(3) for _ in range(40)])
    switched = np.take_along_axis(resp, applied[:, None, :], axis=-1)
    rows = _relabel_rows(SimpleNamespace(row_chunkable=True), n_obs)
    assert len(rows) == bm.relabelling.MAX_RELABEL_OBS
    everything = stephens_permutations(switched, initial=resp[0])
    subsample = stephens_permutations(switched[:, rows], initial=resp[0, rows])
    np.testing.assert_array_equal(subsample, everything)
    undone = np.take_along_axis(switched, subsample[:, None, :], axis=-1)
    np.testing.assert_allclose(undone, resp)


def test_stephens_result_is_a_fixed_point(rng):
    resp = rng.dirichlet(np.ones(3), size=(30, 20))
    perms = stephens_permutations(resp)
    relabelled = np.take_along_axis(resp, perms[:, None, :], axis=-1)
    again = stephens_permutations(relabelled, initial=relabelled.mean(axis=0))
    np.testing.assert_array_equal(again, np.tile(np.arange(3), (30, 1)))


def _overfitted_resp(rng, n_draws=60, n_used=3, n_components=10, rows_per_cluster=15):
    """Responsibilities (draw, obs, K) of an overfitted mixture, and each draw's labels of its
    clusters: ``n_used`` clear clusters under labels switched at random in each draw, up to
    three small components taking a few rows in some draws, and components holding next to
    nothing (responsibilities of order e^-9, spread over orders of magnitude)."""
    n_obs = n_used * rows_per_cluster
    cluster = np.repeat(np.arange(n_used), rows_per_cluster)
    resp = np.exp(rng.normal(-9.0, 3.0, size=(n_draws, n_obs, n_components)))
    labels = np.array([rng.permutation(n_components) for _ in range(n_draws)])
    for s in range(n_draws):
        resp[s, np.arange(n_obs), labels[s, cluster]] = 1.0
        for extra in range(rng.integers(0, 4)):
            rows = rng.choice(n_obs, size=rng.integers(1, 5), replace=False)
            resp[s, rows, labels[s, n_used + extra]] = rng.uniform(0.3, 3.0, size=len(rows))
    return resp / resp.sum(axis=-1, keepdims=True), labels[:, :n_used]


def _stephens_objective(resp, perms) -> float:
    """sum over draws of KL(relabelled P_s || Q), Q their mean: what Stephens minimises."""
    relabelled = np.take_along_axis(resp, perms[:, None, :], axis=-1)
    log_ratio = np.log(np.maximum(relabelled, 1e-300)) - np.log(relabelled.mean(axis=0))
    return float(np.sum(relabelled * log_ratio))


def test_stephens_never_increases_its_objective_and_ends_at_a_fixed_point(rng):
    # Each step (permutations given Q, then Q the mean of the permuted draws) lowers
    # sum_s KL(P_s || Q): the iteration ends, even when most components hold next to nothing.
    # (Matching by the divergence the other way round, of Q from P_s, went up and down here
    # and reshuffled the nearly empty components of a Dirichlet-process fit 100 times.)
    resp, labels = _overfitted_resp(rng)
    objective = [
        _stephens_objective(resp, stephens_permutations(resp, initial=resp[0], max_iter=k))
        for k in range(1, 30)
    ]
    assert np.all(np.diff(objective) <= 1e-9 * objective[0])
    perms = stephens_permutations(resp, initial=resp[0])
    relabelled = np.take_along_axis(resp, perms[:, None, :], axis=-1)
    again = stephens_permutations(relabelled, initial=relabelled.mean(axis=0))
    np.testing.assert_array_equal(again, np.tile(np.arange(10), (len(resp), 1)))
    # each cluster ends under one new label in every draw
    new_label = np.array(
        [
            [np.flatnonzero(p == old)[0] for old in draw]
            for p, draw in zip(perms, labels, strict=True)
        ]
    )
    assert (new_label == new_label[0]).all()


class _StubEvaluator:
    """Responsibilities given in advance, as an evaluator yields them."""

    rv_names = ()
    row_chunkable = True

    def __init__(self, resp):
        from bayesmixture._spec import ArraySpec

        n_obs, n_components = resp.shape[1:]
        self.spec = ArraySpec(name="y", n_components=n_components, value=np.zeros(n_obs))
        self.resp = resp

    def responsibilities(self, draws, value, **kwargs):
        log_marginal = np.zeros(self.resp.shape[:2])
        log_marginal[0] = 1.0  # the reference draw
        return np.log(self.resp), log_marginal


@pytest.mark.parametrize("method", ["stephens", "ecr"])
def test_only_components_in_use_are_matched_and_emptied_ones_follow(rng, method):
    from bayesmixture.relabelling import find_permutations

    resp, labels = _overfitted_resp(rng)
    posterior = az.from_dict(posterior={"w": np.ones((1, 60, 10))}, dims={"w": ["component"]})
    perms = find_permutations(_StubEvaluator(resp), posterior.posterior, method)
    # each cluster ends under one new label in every draw
    new_label = np.array(
        [
            [np.flatnonzero(p == old)[0] for old in draw]
            for p, draw in zip(perms, labels, strict=True)
        ]
    )
    assert (new_label == new_label[0]).all()
    # the labels after the last one in use in any draw (a row's worth of responsibility) hold
    # the emptied components, fullest first
    held = np.take_along_axis(resp, perms[:, None, :], axis=-1).sum(axis=1)  # (draw, K)
    n_matched = np.flatnonzero((held >= 1).any(axis=0)).max() + 1
    assert n_matched < 10
    assert (np.diff(held[:, n_matched:], axis=1) <= 0).all()


# ---------------------------------------------------------------- whole posterior


@pytest.fixture(scope="module")
def switched_chains():
    """Chain 2 is chain 1 with the component labels permuted."""
    rng = np.random.default_rng(8)
    y = np.r_[rng.normal(-3, 1, 20), rng.normal(0, 1, 20), rng.normal(3, 1, 20)]
    with pm.Model(coords={"component": [0, 1, 2]}) as model:
        w = pm.Dirichlet("w", np.ones(3), dims="component")
        mu = pm.Normal("mu", 0, 5, dims="component")
        bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(3)], y)
    n = 40
    mu1 = np.column_stack([rng.normal(m, 0.2, n) for m in (-3, 0, 3)])
    w1 = rng.dirichlet([20, 20, 20], size=n)
    order = np.array([2, 0, 1])
    unswitched = az.from_dict(
        posterior={"mu": mu1[None], "w": w1[None]}, dims={"mu": ["component"], "w": ["component"]}
    )
    both = az.from_dict(
        posterior={"mu": np.stack([mu1, mu1[:, order]]), "w": np.stack([w1, w1[:, order]])},
        dims={"mu": ["component"], "w": ["component"]},
    )
    return model, both, unswitched


@pytest.mark.parametrize("method", ["stephens", "ecr", "pivot"])
def test_relabel_merges_chains_found_in_different_orders(switched_chains, method):
    model, idata, _ = switched_chains
    fixed, perms = bm.relabel(model, idata, "y", method=method)
    post = fixed.posterior
    np.testing.assert_array_equal(post["mu"].values[0], post["mu"].values[1])
    np.testing.assert_array_equal(post["w"].values[0], post["w"].values[1])
    assert perms.dims == ("chain", "draw", "component")
    # the input was not modified
    assert not np.array_equal(idata.posterior["mu"].values[0], idata.posterior["mu"].values[1])


def test_membership_after_relabelling_matches_the_unswitched_answer(switched_chains):
    model, both, unswitched = switched_chains
    merged = bm.membership(model, both, "y")
    single = bm.membership(model, unswitched, "y")
    np.testing.assert_allclose(
        merged["probability"].values, single["probability"].values, atol=1e-12
    )
    without = bm.membership(model, both, "y", relabel=False)
    # averaging across the two orders blurs every observation
    assert without["uncertainty"].mean() > merged["uncertainty"].mean() + 0.3


def test_relabelling_twice_changes_nothing(switched_chains):
    model, idata, _ = switched_chains
    once, _ = bm.relabel(model, idata, "y")
    twice, perms = bm.relabel(model, once, "y")
    assert (perms.values == np.arange(3)).all()
    np.testing.assert_array_equal(once.posterior["mu"].values, twice.posterior["mu"].values)


def test_label_switching_reports_disagreeing_chains(switched_chains):
    model, idata, unswitched = switched_chains
    report = bm.label_switching(model, idata, "y")
    assert report.chains_disagree
    shares = sorted(report.per_chain["share_switched"])
    assert shares == [0.0, 1.0]
    assert not bm.label_switching(model, unswitched, "y").switching_found


def test_pivot_needs_component_dims():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 5, shape=2)
        bm.mixture(
            "y", [0.5, 0.5], [pm.Normal.dist(mu[0], 1), pm.Normal.dist(mu[1], 1)], np.zeros(4)
        )
    idata = az.from_dict(posterior={"mu": np.zeros((1, 5, 2))})
    with pytest.raises(ValueError, match="use method='stephens'"):
        bm.relabel(model, idata, "y", method="pivot")


def test_unknown_method_is_rejected(switched_chains):
    model, idata, _ = switched_chains
    with pytest.raises(ValueError, match="choose one of"):
        bm.relabel(model, idata, "y", method="hungarian")


def test_overlapping_mixture_that_switches_within_chains_becomes_unimodal():
    """A real sampler run: two overlapping components switch labels within a chain."""
    rng = np.random.default_rng(0)
    y = np.r_[rng.normal(-1.0, 1, 15), rng.normal(1.0, 1, 15)]
    with pm.Model(coords={"component": [0, 1]}) as model:
        w = pm.Dirichlet("w", np.ones(2), dims="component")
        mu = pm.Normal("mu", 0, 2, dims="component")
        bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(2)], y)
    # bm.sample: nutpie on JAX (~6 s, compile included; PyMC's NUTS on Python's
    # implementations took ~16 s, with gcc 20-45 s on a fresh machine). On seeds 3-5 the
    # share of draws with mu[0] > mu[1] was 0.51, 0.76 and 0.12 before relabelling, and at
    # most 0.005 (of either order) after.
    idata = bm.sample(model, draws=500, tune=300, chains=2, random_seed=3, progressbar=False)
    before = idata.posterior["mu"].values.reshape(-1, 2)
    share_before = (before[:, 0] > before[:, 1]).mean()
    # the run does switch: a substantial share of draws in each order
    assert 0.1 < share_before < 0.9
    fixed, _ = bm.relabel(model, idata, "y")
    after = fixed.posterior["mu"].values.reshape(-1, 2)
    share_after = (after[:, 0] > after[:, 1]).mean()
    # relabelled: one consistent order, so mu[0] sits below mu[1] in nearly every draw
    assert min(share_after, 1 - share_after) < 0.1
