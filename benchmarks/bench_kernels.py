"""Benchmark: the fits the newer compiled kernels took off PyMC's graph, cold and warm.

Cases, each in a fresh child process, first with new empty compile directories (cold: PyTensor's
C modules and Numba cache, and Numba's cache of our kernels), then again reusing them (warm):

- ``poisson-compiled``: ``bm.MixtureRegression(2, family="poisson")`` at its defaults
  (``sampler="auto"``: the compiled regression kernel) on 400 rows, log rates 1 + x and
  2.5 - 0.8 x;
- ``poisson-pymc``: the same fit with ``sampler="pymc"`` (PyMC's graph, the reference path);
- ``dp-gaussian``: ``bm.GaussianMixture(10, weights_prior="dirichlet_process")`` at its
  defaults on 180 rows of three 2-D clusters (60 rows each, centres 4 sd apart);
- ``dp-gaussian-pymc`` (not run by default: it reaches any reasonable cap): the same fit with
  ``sampler="pymc"``.

Measured per run, as in ``bench_penguins.py``: wall time from process start split into start-up
and import, build (validation, model, starts), compile (the sampling call less the sampler's own
sampling time), sample and post (relabelling and membership); CPU seconds; leapfrog steps per
draw and divergences; min bulk ESS and max R-hat of the posterior's main variables; and an
accuracy check (Poisson: the largest error of the intercepts and slopes against the truth;
DP: the mode of ``n_components_posterior()`` and the misassigned rows).

Run: ``.venv/bin/python benchmarks/bench_kernels.py [--cap 900] [--cases poisson-compiled,...]``.
Writes the ``kernels`` section of docs/benchmarks.md and benchmarks/results/kernels.json.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

from _common import (
    Clock,
    FitTimer,
    add_no_write,
    child_main,
    comma_choices,
    context_block,
    convergence,
    fmt,
    misassigned,
    publish,
    run_cold_warm,
    sampler_stats,
    scratch_dir,
    script_parser,
    table_section,
    uptime,
)

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "kernels.json"
# case -> (label, child, sampler, reference case of its ratio)
CASES_RUN = {
    "poisson-compiled": (
        "MixtureRegression(2, 'poisson'), auto",
        "poisson",
        "auto",
        "poisson-pymc",
    ),
    "poisson-pymc": ("MixtureRegression(2, 'poisson'), pymc", "poisson", "pymc", None),
    "dp-gaussian": ("GaussianMixture(10, DP weights), auto", "dp", "auto", "dp-gaussian-pymc"),
    "dp-gaussian-pymc": ("GaussianMixture(10, DP weights), pymc", "dp", "pymc", None),
}
DEFAULT_CASES = ["poisson-compiled", "poisson-pymc", "dp-gaussian"]
POISSON_TRUTH = ((1.0, 1.0), (2.5, -0.8))  # (intercept, slope) of the two components
N_POISSON, N_PER_CLUSTER = 400, 60


# --------------------------------------------------------------------------- data


def poisson_data(seed: int) -> tuple[Any, Any]:
    """400 rows: x ~ N(0, 1), y ~ Poisson(exp(a_z + b_z x)) with z in {0, 1} at random."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_POISSON, 1))
    z = rng.integers(0, 2, N_POISSON)
    (a0, b0), (a1, b1) = POISSON_TRUTH
    eta = np.where(z == 0, a0 + b0 * x[:, 0], a1 + b1 * x[:, 0])
    return x, rng.poisson(np.exp(eta))


def cluster_data(seed: int) -> tuple[Any, Any]:
    """180 rows of three 2-D clusters (unit sd, centres 4 apart) and their cluster."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = np.array([[-4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])
    X = np.concatenate([rng.normal(c, 1.0, size=(N_PER_CLUSTER, 2)) for c in centres])
    return X, np.repeat(np.arange(3), N_PER_CLUSTER)


# --------------------------------------------------------------------------- children


def child_poisson(params: dict[str, Any], clock: Clock) -> None:
    """``bm.MixtureRegression(2, family="poisson")`` at its defaults with the given sampler."""
    with clock.phase("import"):
        import bayesmixture as bm
    with clock.phase("build"):
        x, y = poisson_data(params["seed"])
    timer = FitTimer(params["sampler"])
    reg = bm.MixtureRegression(
        2,
        family="poisson",
        sampler=params["sampler"],
        random_seed=params["seed"],
        progressbar=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timer.fit(reg, x, clock, y=y)
    clock.stop()
    import numpy as np

    post = reg.idata_.posterior
    intercepts = post["intercepts"].mean(("chain", "draw")).values
    slopes = post["coefficients"].mean(("chain", "draw")).values[:, 0]
    order = np.argsort(intercepts)
    truth = np.array(POISSON_TRUTH)
    error = max(
        np.abs(intercepts[order] - truth[:, 0]).max(), np.abs(slopes[order] - truth[:, 1]).max()
    )
    ess, rhat = convergence({name: post[name].values for name in ("weights", "beta", "alpha")})
    clock.emit(
        {
            "sampler": timer.resolved,
            "min_ess_bulk": ess,
            "max_rhat": rhat,
            "accuracy": f"max error {error:.3f}",
            **sampler_stats(reg.idata_.get("sample_stats")),
        }
    )


def child_dp(params: dict[str, Any], clock: Clock) -> None:
    """``bm.GaussianMixture(10, weights_prior="dirichlet_process")`` at its defaults."""
    with clock.phase("import"):
        import bayesmixture as bm
    with clock.phase("build"):
        X, truth = cluster_data(params["seed"])
    timer = FitTimer(params["sampler"])
    gm = bm.GaussianMixture(
        10,
        weights_prior="dirichlet_process",
        sampler=params["sampler"],
        random_seed=params["seed"],
        progressbar=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timer.fit(gm, X, clock)
    clock.stop()
    post = gm.idata_.posterior
    ess, rhat = convergence({name: post[name].values for name in ("weights", "concentration")})
    mode = int(gm.n_components_posterior(random_seed=0).idxmax())
    wrong = misassigned(gm.membership_["label"].values, truth)
    clock.emit(
        {
            "sampler": timer.resolved,
            "min_ess_bulk": ess,
            "max_rhat": rhat,
            "accuracy": f"K mode {mode}, {wrong} / {len(X)} misassigned",
            **sampler_stats(gm.idata_.get("sample_stats")),
        }
    )


CHILDREN = {"poisson": child_poisson, "dp": child_dp}


# --------------------------------------------------------------------------- parent


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every selected case, cold then warm, one after the other; the load before and after."""
    loads = [uptime()]
    results: dict[str, Any] = {}
    with scratch_dir() as work:
        for key in args.cases:
            _, child, sampler, _ = CASES_RUN[key]
            params = {"sampler": sampler, "seed": args.seed}
            results[key] = run_cold_warm(
                SCRIPT, child, params, cap=args.cap, workdir=work, name=key
            )
            loads.append(uptime())
    return {"settings": vars(args), "loads": loads, "results": results}


def _row(key: str, cache: str, run: dict[str, Any], results: dict[str, Any]) -> list[str]:
    label = CASES_RUN[key][0]
    if run.get("sampler"):
        label += f" → {run['sampler']}"
    if run["status"] != "ok":
        what = (
            f"timeout (> {fmt(run.get('cap'), 0)} s)"
            if run["status"] == "timeout"
            else run["status"]
        )
        return [label, cache, *["—"] * 6, what, *["—"] * 5]
    reference = results.get(CASES_RUN[key][3] or "", {}).get(cache)
    ratio = None
    if reference and reference.get("status") == "ok":
        ratio = reference["wall"] / run["wall"]
    elif reference and reference.get("status") == "timeout":
        ratio = f"> {reference['cap'] / run['wall']:.1f}"
    phases = run["phases"]
    return [
        label,
        cache,
        fmt(run["startup"] + phases.get("import", 0.0)),
        fmt(phases.get("build")),
        fmt(phases.get("compile")),
        fmt(phases.get("sample")),
        fmt(phases.get("post")),
        f"**{fmt(run['wall'])}**",
        fmt(run["cpu_seconds"]),
        fmt(ratio),
        fmt(run.get("steps_per_draw")),
        fmt(run.get("divergences"), 0),
        f"{fmt(run.get('min_ess_bulk'), 0)} / {fmt(run.get('max_rhat'), 3)}",
        run.get("accuracy", "—"),
    ]


HEADERS = [
    "fit",
    "cache",
    "start + import (s)",
    "build (s)",
    "compile (s)",
    "sample (s)",
    "post (s)",
    "end to end (s)",
    "CPU (s)",
    "PyMC's graph ÷ this (wall)",
    "leapfrog steps / draw",
    "divergences",
    "min bulk ESS / max R-hat",
    "accuracy",
]


def render(report: dict[str, Any]) -> str:
    """The kernels section of docs/benchmarks.md."""
    settings, results = report["settings"], report["results"]
    rows = [
        _row(key, cache, run, results)
        for key, runs in results.items()
        for cache, run in runs.items()
    ]
    command = f"bench_kernels.py --cap {settings['cap']:g} --seed {settings['seed']}"
    if settings["cases"] != DEFAULT_CASES:
        command += " --cases " + ",".join(settings["cases"])
    notes = [
        "- Defaults of each estimator: 4 chains x 1000 draws; tune 300 on the compiled path, "
        "1000 on PyMC's graph.",
        "- *cold*: new empty PyTensor compile directory and Numba cache (our kernels included); "
        "*warm*: a second process reusing both. Phases as in the penguins section; *PyMC's graph "
        "÷ this* divides the same fit's wall time with `sampler='pymc'` and the same cache state "
        "by this one (> when that run reached the cap).",
        "- ESS and R-hat: Poisson over weights, coefficients and intercepts (model scale); DP "
        "over the weights and the concentration (after relabelling).",
    ]
    context = context_block(
        SCRIPT.name,
        command,
        f"seed {settings['seed']}; wall-clock cap {settings['cap']:.0f} s per run; cases one "
        "after the other in the order of the table.",
        report["loads"],
    )
    return table_section(
        "## Kernels: count regressions and Dirichlet-process weights", context, HEADERS, rows, notes
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = script_parser(__doc__)
    parser.add_argument("--cap", type=float, default=900.0, help="seconds per run (900)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of data and fits (0)")
    parser.add_argument(
        "--cases",
        type=comma_choices(list(CASES_RUN)),
        default=DEFAULT_CASES,
        help="comma-separated cases, of: " + ", ".join(CASES_RUN),
    )
    add_no_write(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = run(args)
    publish(report, render(report), "kernels", RESULTS, args.no_write)


if __name__ == "__main__":
    if not child_main(CHILDREN):
        main()
