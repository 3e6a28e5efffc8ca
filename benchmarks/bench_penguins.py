"""Benchmark: the blog's penguin mixture, every path side by side in one run.

Data: the 342 Palmer penguins with complete measurements, 4 standardised features, K = 3.
Paths, each in a fresh child process, first with a new empty PyTensor compile directory
(cold), then again reusing it (warm):

- ``pymc``: the blog's model (``pm.Mixture`` of ``pm.MvNormal`` with ``pm.LKJCholeskyCov``,
  see ``_common.blog_model``) with PyMC's default NUTS, ``cores=2``;
- ``pymc-nutpie`` and ``pymc-numpyro``: the same model, ``pm.sample(nuts_sampler=...)``;
- ``sklearn-em``: ``sklearn.mixture.GaussianMixture(3, n_init=10)``;
- ``ours-auto``, ``ours-compiled``, ``ours-pymc``, ``ours-nutpie``, ``ours-numpyro``:
  ``bm.GaussianMixture(3, chains=2, draws=1000, tune=1000, sampler=...)``; ``compiled`` is
  the Numba density on nutpie's NUTS (what ``auto`` picks), the others PyMC's graph.

Measured per run: wall time from process start split into Python start-up + import, build
(data and model), compile (everything inside the sampling call that is not the sampler's own
sampling time), sample, and post-processing (relabelling and membership of the 342 rows);
peak resident memory of the process and of its largest worker; leapfrog steps per draw and
divergences; min bulk ESS and max R-hat of the weights, means and standard deviations, before
and after relabelling; min ESS per second of end-to-end time; and misassigned penguins against
their species (best one-to-one matching of labels). The reference paths are relabelled by
matching each draw's component means to a reference (``_common.relabel_by_means``); ours by
the library itself (Stephens' method). Every run has a wall-clock cap; a run that reaches it is
killed and recorded as a timeout.

Run: ``.venv/bin/python benchmarks/bench_penguins.py [--cap 600] [--paths pymc,ours-auto]``
(about 20 minutes with every path on 2 cores, most of it PyMC's default path). Writes the
``penguins`` section of docs/benchmarks.md and benchmarks/results/penguins.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from _common import (
    Clock,
    FitTimer,
    add_no_write,
    add_sampling_arguments,
    blog_model,
    blog_posterior_summary,
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
from _steps import StepTimers, gradient_cost, instrument

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "penguins.json"
# path key -> (label in the table, child case, sampler)
PATHS = {
    "pymc": ("PyMC default NUTS (blog model)", "reference", "pymc"),
    "pymc-nutpie": ("PyMC + nutpie (blog model)", "reference", "nutpie"),
    "pymc-numpyro": ("PyMC + numpyro (blog model)", "reference", "numpyro"),
    "sklearn-em": ("scikit-learn EM, n_init=10", "em", None),
    "ours-auto": ("bm.GaussianMixture, sampler='auto'", "ours", "auto"),
    "ours-compiled": ("bm.GaussianMixture, sampler='compiled'", "ours", "compiled"),
    "ours-pymc": ("bm.GaussianMixture, sampler='pymc'", "ours", "pymc"),
    "ours-nutpie": ("bm.GaussianMixture, sampler='nutpie'", "ours", "nutpie"),
    "ours-numpyro": ("bm.GaussianMixture, sampler='numpyro'", "ours", "numpyro"),
}


# --------------------------------------------------------------------------- children


def _load_standardised(path: str) -> tuple[Any, Any]:
    import numpy as np

    saved = np.load(path, allow_pickle=False)
    X = saved["X"]
    return (X - X.mean(axis=0)) / X.std(axis=0), saved["species"]


def child_reference(params: dict[str, Any], clock: Clock) -> None:
    """The blog's model with ``pm.sample`` (default NUTS, or nuts_sampler=nutpie/numpyro)."""
    with clock.phase("import"):
        import pymc as pm
    with clock.phase("build"):
        data, species = _load_standardised(params["data"])
        model = blog_model(data)
    sampler = params["sampler"]
    extra = {} if sampler == "pymc" else {"nuts_sampler": sampler}
    begin = time.perf_counter()
    with model:
        idata = pm.sample(
            draws=params["draws"],
            tune=params["tune"],
            chains=params["chains"],
            cores=params["chains"],
            random_seed=params["seed"],
            progressbar=False,
            **extra,
        )
    inside = time.perf_counter() - begin
    sampling = float(idata.posterior.attrs["sampling_time"])
    clock.add("compile", inside - sampling)
    clock.add("sample", sampling)
    with clock.phase("post"):
        summary = blog_posterior_summary(idata.posterior, data)
        labels = summary["probability"].argmax(axis=1)
    clock.stop()
    ess, rhat = convergence({name: summary[name] for name in ("w", "mu", "sd")})
    _, rhat_raw = convergence(summary["raw"])
    clock.emit(
        {
            "min_ess_bulk": ess,
            "max_rhat": rhat,
            "max_rhat_raw": rhat_raw,
            "misassigned": misassigned(labels, species),
            "n_obs": len(data),
            **sampler_stats(idata.sample_stats),
        }
    )


def child_em(params: dict[str, Any], clock: Clock) -> None:
    """scikit-learn's EM, best of 10 starts."""
    with clock.phase("import"):
        from sklearn.mixture import GaussianMixture
    with clock.phase("build"):
        data, species = _load_standardised(params["data"])
    with clock.phase("sample"):
        em = GaussianMixture(3, n_init=10, random_state=params["seed"]).fit(data)
    with clock.phase("post"):
        labels = em.predict(data)
    clock.stop()
    clock.emit({"misassigned": misassigned(labels, species), "n_obs": len(data)})


def child_ours(params: dict[str, Any], clock: Clock) -> None:
    """``bm.GaussianMixture(3).fit(penguins)`` with the given sampler."""
    with clock.phase("import"):
        import bayesmixture as bm
    with clock.phase("build"):
        frame = bm.datasets.load_penguins()
        X = frame[bm.datasets.PENGUIN_MEASUREMENTS]
    timer = FitTimer(params["sampler"])
    steps = StepTimers()
    instrument(steps)
    gm = bm.GaussianMixture(
        3,
        draws=params["draws"],
        tune=params["tune"],
        chains=params["chains"],
        sampler=params["sampler"],
        random_seed=params["seed"],
        progressbar=False,
    )
    timer.fit(gm, X, clock)
    clock.stop()
    profile = {
        "step_seconds": steps.seconds,
        "step_calls": steps.calls,
        "sampling_call": timer.sample_ended - timer.sample_started,
        "sampling_time": timer.sampling,
    }
    if params.get("gradient_cost"):
        profile["seconds_per_gradient"] = gradient_cost(gm)
    names = ("weights", "means", "sigmas")
    post, raw = gm.idata_.posterior, gm.idata_["unrelabelled_posterior"]
    ess, rhat = convergence({name: post[name].values for name in names})
    _, rhat_raw = convergence({name: raw[name].values for name in names})
    clock.emit(
        {
            "sampler": timer.resolved,
            "min_ess_bulk": ess,
            "max_rhat": rhat,
            "max_rhat_raw": rhat_raw,
            "misassigned": misassigned(gm.membership_["label"].values, frame["species"]),
            "n_obs": len(X),
            **sampler_stats(gm.idata_.get("sample_stats")),
            **profile,
        }
    )


CASES = {"reference": child_reference, "em": child_em, "ours": child_ours}


# --------------------------------------------------------------------------- parent


def write_penguins(workdir: Path) -> Path:
    """The 342 complete rows and their species, as a .npz the children read."""
    import numpy as np

    import bayesmixture as bm

    frame = bm.datasets.load_penguins()
    path = workdir / "penguins.npz"
    np.savez(
        path,
        X=frame[bm.datasets.PENGUIN_MEASUREMENTS].to_numpy(float),
        species=np.asarray(frame["species"], dtype=str),
    )
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every selected path, cold then warm, in this order; with the load before and after."""
    # sampler="auto" takes the compiled path for GaussianMixture
    duplicate = None if args.run_duplicates else "ours-compiled"
    loads = [uptime()]
    results: dict[str, Any] = {}
    with scratch_dir() as work:
        data = write_penguins(work)
        for key in args.paths:
            _, case, sampler = PATHS[key]
            if key == duplicate and "ours-auto" in args.paths:
                same = {"status": "same", "why": "the path sampler='auto' chose; not run twice"}
                results[key] = {"cold": same, "warm": same}
                continue
            params = {
                "data": str(data),
                "sampler": sampler,
                "gradient_cost": key == "ours-auto",
                "draws": args.draws,
                "tune": args.tune,
                "chains": args.chains,
                "seed": args.seed,
            }
            results[key] = run_cold_warm(
                SCRIPT, case, params, cap=args.cap, workdir=work, warm=not args.no_warm, name=key
            )
            loads.append(uptime())
    return {"settings": vars(args), "loads": loads, "results": results}


def _row(key: str, cache: str, run: dict[str, Any], baseline: dict[str, Any] | None) -> list:
    label = PATHS[key][0]
    if run.get("sampler") and PATHS[key][2] == "auto":
        label += f" → {run['sampler']}"
    if run["status"] != "ok":
        what = {
            "timeout": f"timeout (> {fmt(run.get('cap'), 0)} s)",
            "skipped": f"skipped ({run.get('why', '')})",
            "same": f"= sampler='auto' ({run.get('why', '')})",
        }.get(run["status"], "error")
        return [label, cache, *["—"] * 5, what, *["—"] * 10]
    phases = run["phases"]
    speedup = cpu_ratio = None
    if baseline and baseline.get("status") == "ok":
        speedup = baseline["wall"] / run["wall"]
        cpu_ratio = baseline["cpu_seconds"] / run["cpu_seconds"]
    elif baseline and baseline.get("status") == "timeout":
        speedup = f"> {baseline['cap'] / run['wall']:.1f}"
    ess = run.get("min_ess_bulk")
    rhat = run.get("max_rhat")
    rhat_cell = "—" if rhat is None else f"{run['max_rhat_raw']:.3f} → {rhat:.3f}"
    return [
        label,
        cache,
        fmt(run["startup"] + phases.get("import", 0.0)),
        fmt(phases.get("build")),
        fmt(phases.get("compile")),
        fmt(phases.get("sample"), 2),
        fmt(phases.get("post"), 2),
        f"**{fmt(run['wall'])}**",
        fmt(run["cpu_seconds"]),
        fmt(speedup),
        fmt(cpu_ratio),
        f"{fmt(run['peak_rss_mib'], 0)} / {fmt(run['peak_rss_children_mib'], 0)}",
        fmt(run.get("steps_per_draw")),
        fmt(run.get("divergences"), 0),
        fmt(ess, 0),
        rhat_cell,
        fmt(None if ess is None else ess / run["wall"]),
        f"{run['misassigned']} / {run['n_obs']}",
    ]


HEADERS = [
    "path",
    "cache",
    "start + import (s)",
    "build (s)",
    "compile (s)",
    "sample (s)",
    "post (s)",
    "end to end (s)",
    "CPU (s)",
    "PyMC default ÷ this (wall)",
    "PyMC default ÷ this (CPU)",
    "peak RSS MiB (process / worker)",
    "leapfrog steps / draw",
    "divergences",
    "min bulk ESS",
    "max R-hat raw → relabelled",
    "min ESS / s",
    "misassigned",
]


def render(report: dict[str, Any]) -> str:
    """The penguins section of docs/benchmarks.md."""
    settings = report["settings"]
    results = report["results"]
    rows = []
    for key, runs in results.items():
        for cache, run in runs.items():
            rows.append(_row(key, cache, run, results.get("pymc", {}).get(cache)))
    chains, draws, tune = settings["chains"], settings["draws"], settings["tune"]
    settings_text = (
        f"{chains} chains x ({tune} tune + {draws} draws), seed {settings['seed']}; "
        f"PyMC default with cores={chains}; wall-clock cap {settings['cap']:.0f} s per run; "
        f"paths run one after the other in the order of the table."
    )
    command = "bench_penguins.py " + " ".join(
        f"--{k} {settings[k]:g}" for k in ("cap", "draws", "tune", "chains", "seed")
    )
    if len(results) < len(PATHS):
        command += " --paths " + ",".join(results)
    if settings.get("no_warm"):
        command += " --no-warm"
    skipped = [key for key in PATHS if key not in results]
    notes = [
        "- *cold*: new empty PyTensor compile directory (C modules and PyTensor's Numba "
        "cache) and new empty Numba cache of our compiled densities; *warm*: a second "
        "process reusing both. JAX keeps no cache between processes here, so numpyro and "
        "JAX evaluators compile again in every process.",
        "- *start + import*: from process start through `import pymc` (reference paths), "
        "`import sklearn.mixture` or `import bayesmixture`; a backend imported later "
        "(nutpie, jax) counts in *compile*.",
        "- *compile*: the sampling call minus the sampler's own sampling time (PyMC's "
        "`sampling_time`, or `nutpie.sample` for ours): graph rewriting, C/Numba compilation, "
        "worker start-up, initialisation, trace conversion and (PyMC default) its convergence "
        "checks. For numpyro, XLA's compilation runs inside the sampling time.",
        "- *post*: relabelling and membership of the 342 rows from all draws (reference "
        "paths: numpy, components matched to reference means per draw; ours: the library's "
        "Stephens relabelling and membership, including compiling its evaluator). For EM "
        "*sample* is `fit` and *post* is `predict`.",
        "- *end to end*: process start to the end of *post*; the diagnostics computed after "
        "that are not counted. *CPU*: user + system seconds of the process and its workers "
        "and compilers until then, on all cores; less sensitive than wall time to other work "
        "on the machine. *PyMC default ÷ this*: the PyMC default run with the same cache "
        "state divided by this run (> when PyMC default reached the cap).",
        "- ESS and R-hat over the weights, the component means and the component standard "
        "deviations (12 + 12 + 3 numbers); *raw* is before relabelling.",
    ]
    if skipped:
        notes.append(f"- Not run in this invocation: {', '.join(skipped)}.")
    title = "## Penguins: the blog's model, every path"
    if settings.get("section", "penguins") != "penguins":
        title = f"## Penguins, a second run ({settings['section']}): {', '.join(results)}"
    context = context_block(SCRIPT.name, command, settings_text, report["loads"])
    return table_section(title, context, HEADERS, rows, notes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = script_parser(__doc__)
    add_sampling_arguments(parser, cap=600.0, draws=1000, tune=1000, chains=2, seed=1)
    parser.add_argument(
        "--paths",
        type=comma_choices(list(PATHS)),
        default=list(PATHS),
        help="comma-separated paths to run, of: " + ", ".join(PATHS),
    )
    parser.add_argument("--no-warm", action="store_true", help="cold runs only")
    parser.add_argument(
        "--run-duplicates",
        action="store_true",
        help="also run ours with the explicit sampler that 'auto' resolves to",
    )
    parser.add_argument(
        "--section",
        default="penguins",
        help="name of the docs/benchmarks.md section and of results/NAME.json (penguins)",
    )
    add_no_write(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = run(args)
    results = RESULTS.parent / f"{args.section}.json"
    publish(report, render(report), args.section, results, args.no_write)


if __name__ == "__main__":
    if not child_main(CASES):
        main()
