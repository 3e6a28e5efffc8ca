"""Component families are records (estimators/_families.py) that every layer reads.

A family registered in a fresh interpreter reaches the estimator, the compiled path (when its
record names a kernel code with the same maths), the scorer (its own scipy density), save and
load, and the command line's --help, without touching another file. A family the kernel has
no code for takes PyMC's graph and says why.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from scipy import stats

import bayesmixture as bm
from bayesmixture.cli._choices import tables
from bayesmixture.estimators import FAMILIES, Family, Prior, register_family
from bayesmixture.estimators._fast.univariate import unsupported_reason

ADD_FAMILIES = textwrap.dedent(
    """
    import json, tempfile, warnings
    import numpy as np
    from scipy import stats
    from scipy.special import logsumexp
    from bayesmixture.estimators import FAMILIES, Family, Prior, register_family

    # (1) an alias of "normal" with other prior scales: the kernel's normal code samples it
    calls = []

    def wide_priors(scale):
        return {"mu": Prior("normal", (scale.mean, 6.0 * scale.sd)),
                "sigma": Prior("halfnormal", (6.0 * scale.sd,))}

    def counted_normal(y, mu, sigma):
        calls.append(np.size(y))
        return stats.norm.logpdf(y, mu, sigma)

    normal = FAMILIES["normal"]
    register_family(Family("wide_normal", "real", wide_priors, normal.dist, normal.start,
                           counted_normal, kernel="normal"))

    # (2) a family the kernel has no code for: Laplace components
    def laplace_priors(scale):
        return {"mu": Prior("normal", (scale.mean, 2.5 * scale.sd)),
                "b": Prior("halfnormal", (2.5 * scale.sd,))}

    def laplace_dist(mu, b):
        import pymc as pm
        return pm.Laplace.dist(mu, b)

    def laplace_start(y):
        centre = float(np.median(y)) if y.size else 0.0
        return {"mu": centre, "b": max(float(np.mean(np.abs(y - centre))), 1e-3)}

    register_family(Family("laplace", "real", laplace_priors, laplace_dist, laplace_start,
                           lambda y, mu, b: stats.laplace.logpdf(y, mu, b), kernel=None))

    import bayesmixture as bm
    from typer.testing import CliRunner
    from bayesmixture.cli import app

    rng = np.random.default_rng(0)
    y = np.r_[rng.normal(-3, 1, 30), rng.normal(3, 1, 30)]
    new = np.linspace(-6.0, 6.0, 9)
    options = dict(draws=60, tune=60, chains=2, random_seed=4, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 120 draws: the ESS checks warn, by design
        wide = bm.Mixture("wide_normal", 2, **options).fit(y)
    calls_fitting = len(calls)
    score = wide.score_samples(new)
    post = wide.idata_.posterior.stack(sample=("chain", "draw"))
    w, mu, sigma = (post[name].transpose("sample", ...).values for name in ("weights", "mu",
                                                                            "sigma"))
    joint = np.log(w) + stats.norm.logpdf(new[:, None, None], mu, sigma)  # (row, draw, k)
    by_hand = logsumexp(joint, axis=(1, 2)) - np.log(len(w))
    loaded = bm.load(wide.save(tempfile.mkdtemp() + "/fit.nc"))

    laplace = bm.Mixture("laplace", 2, **options)
    laplace._check_params()
    fit = laplace._validate_fit_data(y)
    try:
        bm.Mixture("laplace", 2, sampler="compiled", **options).fit(y)
        refusal = None
    except ValueError as error:
        refusal = str(error)
    scorer = laplace._fast_scorer(laplace._scoring_spec(fit), None, fit.value, {}, fit=fit)
    draws = {"weights": rng.dirichlet([1.0, 1.0], 5), "mu": rng.normal(0, 3, (5, 2)),
             "b": rng.gamma(2.0, 1.0, (5, 2))}
    log_resp, log_marginal = scorer.responsibilities(draws, y)
    scipy_joint = np.log(draws["weights"][:, None]) + stats.laplace.logpdf(
        y[None, :, None], draws["mu"][:, None], draws["b"][:, None])  # (draw, row, k)
    print(json.dumps({
        "sampler": wide.idata_.posterior.attrs["bayesmixture_sampler"],
        "record_scored_the_fit": calls_fitting > 0,
        "record_scored_new_rows": len(calls) > calls_fitting,
        "score_error": float(np.max(np.abs(score - by_hand))),
        "loaded_family": loaded.family,
        "loaded_predicts": bool(np.array_equal(loaded.predict_proba(new),
                                               wide.predict_proba(new))),
        "reason": laplace._compiled_density(fit),
        "refusal": refusal,
        "marginal_error": float(np.max(np.abs(log_marginal - logsumexp(scipy_joint, axis=-1)))),
        "resp_error": float(np.max(np.abs(log_resp - scipy_joint + logsumexp(
            scipy_joint, axis=-1, keepdims=True)))),
        "help": CliRunner().invoke(app, ["fit", "--help"], terminal_width=200).output,
    }))
    """
)


@pytest.fixture(scope="module")
def fresh_process() -> dict:
    done = subprocess.run([sys.executable, "-c", ADD_FAMILIES], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_alias_of_a_family_samples_on_the_compiled_path(fresh_process):
    # its record names the normal family's kernel code, with the same parameters and maths
    assert fresh_process["sampler"] == "compiled"


def test_an_alias_scores_with_its_own_record_and_saves(fresh_process):
    assert fresh_process["record_scored_the_fit"] and fresh_process["record_scored_new_rows"]
    # score_samples against scipy by hand on the same draws: rounding only
    assert fresh_process["score_error"] < 1e-10
    assert fresh_process["loaded_family"] == "wide_normal" and fresh_process["loaded_predicts"]


def test_a_family_without_kernel_code_says_why_and_scores_with_scipy(fresh_process):
    reason = fresh_process["reason"]
    assert reason == (
        "the compiled univariate density does not cover family 'laplace' (its record names "
        "no kernel code: kernel=None)"
    )
    assert f"sampler='compiled' does not cover this fit: {reason}" in fresh_process["refusal"]
    # the scorer's log densities and responsibilities against scipy's: rounding only
    assert fresh_process["marginal_error"] < 1e-10 and fresh_process["resp_error"] < 1e-10


def test_registered_families_are_offered_by_the_command_line(fresh_process):
    help_text = " ".join(fresh_process["help"].replace("│", " ").split())  # rich wraps lines
    assert "wide_normal, laplace" in help_text


# ------------------------------------------------------------------ the record, in process


def _laplace_record(**changes) -> Family:
    def priors(scale):
        return {
            "mu": Prior("normal", (scale.mean, 2.5 * scale.sd)),
            "b": Prior("halfnormal", (1.0,)),
        }

    def dist(mu, b):
        import pymc as pm

        return pm.Laplace.dist(mu, b)

    def start(y):
        return {"mu": float(np.median(y)), "b": max(float(np.std(y)), 1e-3)}

    record = Family(
        "laplace", "real", priors, dist, start, lambda y, mu, b: stats.laplace.logpdf(y, mu, b)
    )
    return dataclasses.replace(record, **changes)


def test_kernel_defaults_to_the_family_name_and_survives_replace():
    record = _laplace_record()
    assert record.kernel == "laplace"  # its own name: the kernel has no such code (below)
    assert dataclasses.replace(FAMILIES["normal"], name="renamed").kernel == "normal"
    assert not record.trials and FAMILIES["binomial"].trials


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"kernel": None}, "family 'laplace' (its record names no kernel code: kernel=None)"),
        ({}, "family 'laplace' (kernel='laplace' is not one of the kernel's family codes ["),
        (
            {"kernel": "normal"},
            "family 'laplace' (parameters ['mu', 'b']; kernel code 'normal' reads ['mu', 'sigma'])",
        ),
    ],
)
def test_records_the_kernel_cannot_run_are_named(monkeypatch, changes, reason):
    monkeypatch.setitem(FAMILIES, "laplace", _laplace_record(**changes))
    found = unsupported_reason(["normal", "laplace"], np.linspace(-2.0, 2.0, 9))
    assert found.startswith(reason)


def test_an_alias_with_other_priors_has_the_kernels_density_equal_to_pymcs(monkeypatch, rng):
    from pymc_reference import PYTHON_MODE, random_points, theta_of

    def wide(scale):
        return {
            "mu": Prior("normal", (scale.mean, 6.0 * scale.sd)),
            "sigma": Prior("halfnormal", (6.0 * scale.sd,)),
        }

    alias = dataclasses.replace(FAMILIES["normal"], name="wide_normal", prior_specs=wide)
    monkeypatch.setitem(FAMILIES, "wide_normal", alias)
    mix = bm.Mixture("wide_normal", 3)
    fit = mix._validate_fit_data(np.r_[rng.normal(-2.0, 1.0, 15), rng.normal(2.0, 0.5, 15)])
    density, model = mix._compiled_density(fit), mix._build_model(fit)
    reference = model.compile_logp(jacobian=True, mode=PYTHON_MODE)
    reference_grad = model.compile_dlogp(jacobian=True, mode=PYTHON_MODE)
    for point in random_points(model, rng):
        value, grad = density.logp_and_grad(theta_of(model, point))
        # the kernel reads the alias's own priors: the same float64 formulas as PyMC's
        assert value == pytest.approx(float(reference(point)), rel=1e-10)
        np.testing.assert_allclose(grad, reference_grad(point), rtol=1e-10, atol=1e-9)


def test_a_normal_record_with_other_maths_is_refused_the_normal_code(monkeypatch):
    # the same parameters as "normal" but a Laplace density: the log densities at the data's
    # start differ, so the kernel's normal code would sample the wrong model
    laplace_as_normal = dataclasses.replace(
        FAMILIES["normal"],
        name="laplace_as_normal",
        log_density=lambda y, mu, sigma: stats.laplace.logpdf(y, mu, sigma),
    )
    monkeypatch.setitem(FAMILIES, "laplace_as_normal", laplace_as_normal)
    assert unsupported_reason(["laplace_as_normal"], np.linspace(-2.0, 2.0, 9)) == (
        "family 'laplace_as_normal' (its log_density differs from kernel code 'normal''s; a "
        "family with other maths takes kernel=None)"
    )


def test_an_alias_of_binomial_needs_trials_everywhere(monkeypatch):
    alias = dataclasses.replace(FAMILIES["binomial"], name="successes")
    monkeypatch.setitem(FAMILIES, "successes", alias)
    with pytest.raises(ValueError, match=re.escape("family 'successes' needs trials=")):
        bm.Mixture("successes", 2)._check_params()
    found = tables()  # the command line refuses it (it takes no trials) and does not offer it
    assert "successes" in found["needs_trials"] and "successes" not in found["one_column_families"]
    y = np.r_[np.arange(10) % 3, 6 + np.arange(10) % 4].astype(float)
    assert unsupported_reason(["successes"], y, 10) is None  # the binomial code runs it


def test_register_family_checks_the_record():
    with pytest.raises(TypeError, match="register_family takes a Family record, not dict"):
        register_family({"name": "x"})
    with pytest.raises(ValueError, match=re.escape("has support='reals'; choose one of")):
        register_family(_laplace_record(support="reals"))
    assert "laplace" not in FAMILIES  # nothing registered


@pytest.mark.slow
def test_a_family_without_kernel_code_fits_on_pymcs_graph(monkeypatch):
    # PyMC's graph compiles in a minute or more on a fresh machine: make test-all
    monkeypatch.setitem(FAMILIES, "laplace", _laplace_record(kernel=None))
    rng = np.random.default_rng(1)
    y = np.r_[rng.laplace(-4.0, 1.0, 100), rng.laplace(4.0, 1.0, 100)]
    mix = bm.Mixture("laplace", 2, draws=200, tune=300, chains=2, random_seed=2, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mix.fit(y)
    assert mix.idata_.posterior.attrs.get("bayesmixture_sampler") != "compiled"
    centres = np.sort(mix.idata_.posterior["mu"].mean(("chain", "draw")).values)
    # 100 Laplace(b = 1) values each: the posterior sd of a centre is ~0.1
    np.testing.assert_allclose(centres, [-4.0, 4.0], atol=0.5)
