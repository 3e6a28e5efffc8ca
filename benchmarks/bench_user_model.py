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

Cold means: a new PyTensor ``base_compiledir`` (C modules, PyTensor's Numba cache, and the JAX
compilation cache the library keeps there for NumPyro) and a new ``NUMBA_CACHE_DIR``.

Run: ``.venv/bin/python benchmarks/bench_user_model.py [--models forum] [--paths pymc,auto]``
(about 15 minutes with every path on 2 cores). Writes the ``user-model`` section of
docs/benchmarks.md and benchmarks/results/user_model.json.
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


CASES = {"fit": child_fit}


# --------------------------------------------------------------------------- parent


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
        "--run-duplicates",
        action="store_true",
        help="also run the explicit sampler that 'auto' resolves to",
    )
    add_no_write(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = run(args)
    publish(report, render(report), "user-model", RESULTS, args.no_write)


if __name__ == "__main__":
    if not child_main(CASES):
        main()
