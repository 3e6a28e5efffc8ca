"""Benchmark: a user's own PyMC mixture, sampled on each backend, and its membership.

Models (both written with ``bm.mixture``):

- ``forum``: the forum thread's operator mixture (README, "Writing a mixture correctly"): one
  latent x of length 3 seen through one of two operators, 60 rows,
  ``bm.datasets.make_operator_mixture(seed=2)``;
- ``normal200``: a plain 1-D mixture of two normals, 200 rows (100 at -2, 100 at +2, sd 1),
  exchangeable priors (mu ~ N(0, 5), sigma ~ HalfNormal(2), w ~ Dirichlet(1, 1)).

Paths, each in a fresh child process, first with new empty compile caches (cold), then again
reusing them (warm):

- ``pymc``: ``pm.sample()`` with PyMC's defaults (C backend, 2 chains on 2 cores);
- ``auto``: ``bm.sample(model)`` with the library's defaults (4 chains), the backend
  ``sampler="auto"`` picks;
- ``nutpie-jax``, ``numpyro``, ``pymc-numba``, ``nutpie``, ``pymc-c``: ``bm.sample(model,
  sampler=...)`` (``pymc-c`` is ``sampler="pymc"``, PyMC's NUTS on the C backend).

Every path then computes ``bm.membership(model, idata, "y")`` (Stephens relabelling and the
membership of every row from every draw: the library's evaluator, compiled in that process),
timed on its first call and again on a second call. Measured per run: Python start-up +
import, build, compile (the sampling call minus the sampler's own sampling time), sample,
membership, end to end (process start to the end of the first membership), CPU seconds, and,
untimed, min bulk ESS and max R-hat of the relabelled posterior and its means.

A second part compares the membership evaluator's backends (``MixtureEvaluator(model, spec,
backend=...)`` with JAX, Numba and PyTensor's C backend): in a fresh process, build the
evaluator of the forum model and score its 60 rows under 4,000 posterior draws (synthetic:
the cost does not depend on their values), cold and warm, then once more in that process.

Cold means: a new PyTensor ``base_compiledir`` (C modules, PyTensor's Numba cache, and the JAX
compilation cache the library keeps there for NumPyro) and a new ``NUMBA_CACHE_DIR``.

Run: ``.venv/bin/python benchmarks/bench_user_model.py [--parts sampling,evaluators]
[--models forum] [--paths pymc,auto]`` (about 20 minutes with everything on 2 cores). Writes
the ``user-model`` and ``user-model-evaluators`` sections of docs/benchmarks.md and
benchmarks/results/user_model.json, user_model_evaluators.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from _common import (
    Clock,
    add_no_write,
    child_main,
    comma_choices,
    context_block,
    fmt,
    publish,
    run_cold_warm,
    scratch_dir,
    script_parser,
    table_section,
    uptime,
)

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "user_model.json"
# path key -> (label in the table, sampler; None is pm.sample's default)
PATHS = {
    "pymc": ("pm.sample() (PyMC default NUTS)", None),
    "auto": ("bm.sample(model)", "auto"),
    "nutpie-jax": ("bm.sample, sampler='nutpie-jax'", "nutpie-jax"),
    "numpyro": ("bm.sample, sampler='numpyro'", "numpyro"),
    "pymc-numba": ("bm.sample, sampler='pymc-numba'", "pymc-numba"),
    "nutpie": ("bm.sample, sampler='nutpie' (Numba)", "nutpie"),
    "pymc-c": ("bm.sample, sampler='pymc' (C)", "pymc"),
}
EVALUATORS = ("JAX", "NUMBA", "FAST_RUN")
PARTS = ("sampling", "evaluators")
MODELS = {
    "forum": "forum thread's operator mixture (60 rows, x of length 3)",
    "normal200": "two normals, 200 rows",
}


# --------------------------------------------------------------------------- children


def build_model(name: str, seed: int) -> Any:
    """The benchmark's model ``name`` (a fresh PyMC model)."""
    import numpy as np
    import pymc as pm
    import pytensor.tensor as pt

    import bayesmixture as bm

    if name == "forum":
        data = bm.datasets.make_operator_mixture(seed=2)
        with pm.Model(coords={"component": ["H1", "H2"]}) as model:
            x = pm.Normal("x", 1.5, 1.0, shape=3)
            w = pm.Dirichlet("w", np.ones(2), dims="component")
            operators = [pm.Data("H1", data.H1), pm.Data("H2", data.H2)]
            components = [pm.Normal.dist(pt.dot(H, x), data.noise) for H in operators]
            bm.mixture("y", w, components, data.y)
        return model
    rng = np.random.default_rng(seed)
    y = np.r_[rng.normal(-2.0, 1.0, 100), rng.normal(2.0, 1.0, 100)]
    with pm.Model(coords={"component": [0, 1]}) as model:
        w = pm.Dirichlet("w", np.ones(2), dims="component")
        mu = pm.Normal("mu", 0.0, 5.0, dims="component")
        sigma = pm.HalfNormal("sigma", 2.0, dims="component")
        bm.mixture("y", w, [pm.Normal.dist(mu[k], sigma[k]) for k in range(2)], y)
    return model


def child_fit(params: dict[str, Any], clock: Clock) -> None:
    """Build the model, sample it on the path's backend, then its membership, twice."""
    with clock.phase("import"):
        import pymc as pm

        import bayesmixture as bm
    with clock.phase("build"):
        model = build_model(params["model"], params["seed"])
    sampler = params["sampler"]
    begin = time.perf_counter()
    if sampler is None:
        with model:
            idata = pm.sample(random_seed=params["seed"], progressbar=False)
    else:
        idata = bm.sample(model, sampler=sampler, random_seed=params["seed"], progressbar=False)
    inside = time.perf_counter() - begin
    sampling = float(idata.posterior.attrs["sampling_time"])
    clock.add("compile", inside - sampling)
    clock.add("sample", sampling)
    with clock.phase("membership"):
        membership = bm.membership(model, idata, "y")
    clock.stop()
    begin = time.perf_counter()
    bm.membership(model, idata, "y")
    again = time.perf_counter() - begin
    clock.emit(
        {
            "sampler": idata.posterior.attrs.get("bayesmixture_sampler", "pymc default"),
            "chains": int(idata.posterior.sizes["chain"]),
            "membership_again": again,
            "rows": int(membership.sizes["obs"]),
            **posterior_summary(model, idata),
        }
    )


def posterior_summary(model: Any, idata: Any) -> dict[str, Any]:
    """Min bulk ESS, max R-hat and posterior means of the relabelled draws; divergences."""
    import arviz as az

    import bayesmixture as bm

    relabelled, _ = bm.relabel(model, idata, "y")
    posterior = relabelled.posterior
    ess = az.ess(posterior, method="bulk")
    rhat = az.rhat(posterior)
    stats = idata.sample_stats
    return {
        "min_ess_bulk": min(float(ess[name].min()) for name in ess.data_vars),
        "max_rhat": max(float(rhat[name].max()) for name in rhat.data_vars),
        "means": {
            name: posterior[name].mean(("chain", "draw")).values.round(3).tolist()
            for name in posterior.data_vars
        },
        "divergences": float(stats["diverging"].sum()) if "diverging" in stats else None,
    }


def child_evaluator(params: dict[str, Any], clock: Clock) -> None:
    """The forum model's evaluator on one backend: build it, score 4,000 draws; twice."""
    with clock.phase("import"):
        import numpy as np

        import bayesmixture as bm
        from bayesmixture._spec import lookup
        from bayesmixture.evaluation import MixtureEvaluator
    with clock.phase("build"):
        model = build_model("forum", params["seed"])
        data = bm.datasets.make_operator_mixture(seed=2)
        rng = np.random.default_rng(params["seed"])
        draws = {
            "x": data.x + rng.normal(0.0, 0.005, size=(4000, 3)),
            "w": rng.dirichlet([2.0, 30.0], size=4000),
        }

    def score() -> None:
        evaluator = MixtureEvaluator(model, lookup(model, "y"), backend=params["backend"])
        evaluator.responsibilities(draws, data.y)

    with clock.phase("evaluate"):
        score()
    clock.stop()
    begin = time.perf_counter()
    score()
    clock.emit({"again": time.perf_counter() - begin})


CASES = {"fit": child_fit, "evaluator": child_evaluator}


# --------------------------------------------------------------------------- parent


def run_evaluators(args: argparse.Namespace) -> dict[str, Any]:
    """Every evaluator backend, cold then warm; with the load before and after."""
    loads = [uptime()]
    results: dict[str, Any] = {}
    with scratch_dir() as work:
        for backend in args.evaluators:
            params = {"backend": backend, "seed": args.seed}
            results[backend] = run_cold_warm(
                SCRIPT, "evaluator", params, cap=args.cap, workdir=work, name=f"eval-{backend}"
            )
            loads.append(uptime())
    return {"settings": vars(args), "loads": loads, "results": results}


def render_evaluators(report: dict[str, Any]) -> str:
    """The user-model-evaluators section of docs/benchmarks.md."""
    settings = report["settings"]
    rows = []
    for backend, runs in report["results"].items():
        for cache, run in runs.items():
            if run["status"] != "ok":
                rows.append([backend, cache, "—", "—", run["status"], "—", "—"])
                continue
            phases = run["phases"]
            rows.append(
                [
                    backend,
                    cache,
                    fmt(run["startup"] + phases.get("import", 0.0)),
                    fmt(phases.get("build"), 2),
                    f"**{fmt(phases['evaluate'], 2)}**",
                    fmt(run["again"], 2),
                    fmt(run["cpu_seconds"]),
                ]
            )
    headers = [
        "backend",
        "cache",
        "start + import (s)",
        "build (s)",
        "evaluator: compile + score (s)",
        "again, same process (s)",
        "CPU (s)",
    ]
    command = "bench_user_model.py --parts evaluators --evaluators " + ",".join(
        settings["evaluators"]
    )
    settings_text = (
        "the forum model's evaluator (`MixtureEvaluator(model, spec, backend=...)`, "
        "PyMC's component densities vectorised over draws), built and called on its 60 rows "
        "and 4,000 synthetic draws; *again*: a new evaluator of the same model in the same "
        "process."
    )
    notes = [
        "- *cold*: new empty PyTensor compile directory (C modules, PyTensor's Numba cache) "
        "and Numba cache; *warm*: a second process reusing them. JAX's import counts in the "
        "evaluator's time (after `bm.sample`, JAX is already loaded).",
    ]
    title = "## Your own PyMC model: the membership evaluator per backend"
    context = context_block(SCRIPT.name, command, settings_text, report["loads"])
    return table_section(title, context, headers, rows, notes)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every model and path, cold then warm, in this order; with the load before and after."""
    from bayesmixture.inference import resolve_sampler

    loads = [uptime()]
    results: dict[str, Any] = {}
    picked = resolve_sampler("auto")
    duplicate = None if args.run_duplicates else next(k for k, v in PATHS.items() if v[1] == picked)
    with scratch_dir() as work:
        for model in args.models:
            results[model] = {}
            for key in args.paths:
                if key == duplicate and "auto" in args.paths:
                    same = {"status": "same", "why": "what sampler='auto' picks; not run twice"}
                    results[model][key] = {"cold": same, "warm": same}
                    continue
                params = {"model": model, "sampler": PATHS[key][1], "seed": args.seed}
                results[model][key] = run_cold_warm(
                    SCRIPT, "fit", params, cap=args.cap, workdir=work, name=f"{model}-{key}"
                )
                loads.append(uptime())
    return {"settings": vars(args), "loads": loads, "results": results}


HEADERS = [
    "model",
    "path",
    "cache",
    "chains",
    "start + import (s)",
    "build (s)",
    "compile (s)",
    "sample (s)",
    "membership, first (s)",
    "end to end (s)",
    "CPU (s)",
    "PyMC default ÷ this (wall)",
    "membership, again (s)",
    "min bulk ESS",
    "max R-hat",
    "posterior means (relabelled)",
]


def _row(model: str, key: str, cache: str, run: dict[str, Any], baseline: dict | None) -> list:
    label = PATHS[key][0]
    if run.get("sampler") and PATHS[key][1] == "auto":
        label += f" → {run['sampler']}"
    if run["status"] != "ok":
        what = {
            "timeout": f"timeout (> {fmt(run.get('cap'), 0)} s)",
            "skipped": f"skipped ({run.get('why', '')})",
            "same": f"= bm.sample(model) ({run.get('why', '')})",
        }.get(run["status"], "error")
        return [model, label, cache, "—", *["—"] * 5, what, *["—"] * 6]
    phases = run["phases"]
    speedup = None
    if baseline and baseline.get("status") == "ok":
        speedup = baseline["wall"] / run["wall"]
    means = "; ".join(f"{name} {values}" for name, values in run["means"].items())
    return [
        model,
        label,
        cache,
        str(run["chains"]),
        fmt(run["startup"] + phases.get("import", 0.0)),
        fmt(phases.get("build"), 2),
        fmt(phases.get("compile")),
        fmt(phases.get("sample")),
        fmt(phases.get("membership"), 2),
        f"**{fmt(run['wall'])}**",
        fmt(run["cpu_seconds"]),
        fmt(speedup),
        fmt(run["membership_again"], 2),
        fmt(run["min_ess_bulk"], 0),
        fmt(run["max_rhat"], 3),
        means,
    ]


def _fastest(results: dict[str, Any], model: str, cache: str) -> str:
    """The bm.sample paths of ``model`` ordered by end-to-end time with ``cache``."""
    timed = [
        (run[cache]["wall"], PATHS[key][0].replace("bm.sample, ", ""))
        for key, run in results[model].items()
        if key != "pymc" and run[cache].get("status") == "ok"
    ]
    return ", ".join(f"{label} {wall:.1f} s" for wall, label in sorted(timed))


def render(report: dict[str, Any]) -> str:
    """The user-model section of docs/benchmarks.md."""
    settings = report["settings"]
    results = report["results"]
    rows = [
        _row(model, key, cache, run, results[model].get("pymc", {}).get(cache))
        for model, paths in results.items()
        for key, runs in paths.items()
        for cache, run in runs.items()
    ]
    settings_text = (
        "each entry point's defaults: `pm.sample()` 2 chains (one per core) and "
        "`bm.sample(model)` 4 chains, 1000 tuning steps and 1000 draws each; seed "
        f"{settings['seed']}; wall-clock cap {settings['cap']:.0f} s per run; runs one after "
        "the other in the order of the table."
    )
    command = f"bench_user_model.py --cap {settings['cap']:g} --seed {settings['seed']}"
    if len(settings.get("parts", PARTS)) < len(PARTS):
        command += " --parts " + ",".join(settings["parts"])
    if len(settings["models"]) < len(MODELS):
        command += " --models " + ",".join(settings["models"])
    if len(settings["paths"]) < len(PATHS):
        command += " --paths " + ",".join(settings["paths"])
    notes = [
        "- *cold*: new empty PyTensor compile directory (C modules, PyTensor's Numba cache, "
        "and the JAX cache `bm.sample` keeps there for NumPyro's compiled sampler) and a new "
        "empty Numba cache; *warm*: a second process reusing them. nutpie's JAX and Numba "
        "paths keep nothing between processes but PyTensor's Numba cache (nutpie compiles "
        "its Numba C wrapper again in every process).",
        "- *compile*: the sampling call minus the sampler's own sampling time: graph "
        "rewriting, C/Numba/JAX compilation, worker start-up, trace conversion. For NumPyro "
        "XLA's compilation of the whole sampler runs inside *sample*.",
        "- *membership, first*: `bm.membership(model, idata, 'y')` in that process: the "
        "evaluator's compile (JAX; after `pm.sample` this includes importing JAX), Stephens "
        "relabelling of every draw and the membership of every row. *again*: a second call in "
        "the same process. *end to end*: process start to the end of the first membership.",
        "- ESS, R-hat and means over every posterior variable after `bm.relabel` (the "
        "two-normal model's chains may find the components in either order).",
    ]
    for model in results:
        for cache in ("cold", "warm"):
            order = _fastest(results, model, cache)
            if order:
                notes.append(f"- {model}, {cache}, fastest first: {order}.")
    title = "## Your own PyMC model: the forum's operator mixture and two normals, every backend"
    context = context_block(SCRIPT.name, command, settings_text, report["loads"])
    return table_section(title, context, HEADERS, rows, notes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = script_parser(__doc__)
    parser.add_argument("--cap", type=float, default=600.0, help="seconds per run (600)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--models",
        type=comma_choices(list(MODELS)),
        default=list(MODELS),
        help="comma-separated models, of: " + ", ".join(MODELS),
    )
    parser.add_argument(
        "--paths",
        type=comma_choices(list(PATHS)),
        default=list(PATHS),
        help="comma-separated paths to run, of: " + ", ".join(PATHS),
    )
    parser.add_argument(
        "--parts",
        type=comma_choices(list(PARTS)),
        default=list(PARTS),
        help="comma-separated parts to run, of: " + ", ".join(PARTS),
    )
    parser.add_argument(
        "--evaluators",
        type=comma_choices(list(EVALUATORS)),
        default=list(EVALUATORS),
        help="comma-separated evaluator backends, of: " + ", ".join(EVALUATORS),
    )
    parser.add_argument(
        "--run-duplicates",
        action="store_true",
        help="also run the explicit sampler that 'auto' resolves to",
    )
    add_no_write(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if "sampling" in args.parts:
        report = run(args)
        publish(report, render(report), "user-model", RESULTS, args.no_write)
    if "evaluators" in args.parts:
        report = run_evaluators(args)
        results = RESULTS.with_name("user_model_evaluators.json")
        publish(report, render_evaluators(report), "user-model-evaluators", results, args.no_write)


if __name__ == "__main__":
    if not child_main(CASES):
        main()
