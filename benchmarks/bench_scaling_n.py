"""Benchmark: how fitting time grows with the number of rows, ours against PyMC, same run.

Cases (data from ``bm.datasets.make_gaussian_mixture``, seed 0):

- 1-D, K = 3 normal mixture (weights 0.3/0.5/0.2, means -4/0/5, sds 1/0.7/1.5) at
  N = 1e3, 1e4, 1e5, 1e6 (``--sizes``);
- 4-D, K = 3 Gaussian mixture with full covariances at N = 1e5 (``--sizes-4d``).

Paths, each in a fresh child process with a new empty PyTensor compile directory:

- ``ours``: ``bm.Mixture("normal", 3)`` (1-D) or ``bm.GaussianMixture(3)`` (4-D),
  ``sampler="auto"``, including relabelling and membership of every row;
- ``pymc``: PyMC's default NUTS on the equivalent hand-written model (1-D:
  ``pm.NormalMixture`` with our priors; 4-D: the blog's ``pm.Mixture`` of ``pm.MvNormal``
  with ``pm.LKJCholeskyCov`` on standardised data), ``cores`` = chains;
- ``nutpie``: the same hand-written model with ``pm.sample(nuts_sampler="nutpie")``.
The reference paths are relabelled by sorting the components by their mean (1-D) or by
matching each draw's means to a reference (4-D), and their membership of every row is
computed from all draws in numpy, so that every path ends with the same product.

Every run has a wall-clock cap; once a path reaches it at some N it is not run at larger N
(recorded as "> cap"). Default 2 chains x (500 tune + 500 draws), for speed.

Run: ``.venv/bin/python benchmarks/bench_scaling_n.py [--sizes 1000,10000,100000,1000000]
[--sizes-4d 100000] [--cap 300] [--draws 500 --tune 500 --chains 2]``. Writes the
``scaling`` section of docs/benchmarks.md and benchmarks/results/scaling_n.json.
"""

from __future__ import annotations

import argparse
import math
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
    normal_membership,
    publish,
    run_cold_warm,
    sampler_stats,
    scratch_dir,
    script_parser,
    table_section,
    uptime,
)

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "scaling_n.json"
PATHS = ("ours", "pymc", "nutpie")
WEIGHTS_1D = [0.3, 0.5, 0.2]
MEANS_1D = [-4.0, 0.0, 5.0]
SDS_1D = [1.0, 0.7, 1.5]
WEIGHTS_4D = [0.4, 0.35, 0.25]
MEANS_4D = [[0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 0.0, -1.0], [0.0, 3.0, -2.0, 1.0]]
CORRELATION_4D = 0.3  # first-neighbour correlation of every 4-D component


# --------------------------------------------------------------------------- children


def _common_params(params: dict[str, Any]) -> dict[str, Any]:
    return {key: params[key] for key in ("draws", "tune", "chains")}


def child_ours(params: dict[str, Any], clock: Clock) -> None:
    """Our estimator on the saved data: Mixture("normal", 3) or GaussianMixture(3)."""
    with clock.phase("import"):
        import numpy as np

        import bayesmixture as bm
    with clock.phase("build"):
        saved = np.load(params["data"])
        X, labels = saved["X"], saved["labels"]
        one_d = X.shape[1] == 1
        data = X[:, 0] if one_d else X
    timer = FitTimer("auto")
    options = {**_common_params(params), "random_seed": params["seed"], "progressbar": False}
    if one_d:
        estimator = bm.Mixture("normal", 3, sampler="auto", **options)
        names = ("weights", "mu", "sigma")
    else:
        estimator = bm.GaussianMixture(3, sampler="auto", **options)
        names = ("weights", "means", "sigmas")
    timer.fit(estimator, data, clock)
    clock.stop()
    post = estimator.idata_.posterior
    ess, rhat = convergence({name: post[name].values for name in names})
    clock.emit(
        {
            "sampler": timer.resolved,
            "min_ess_bulk": ess,
            "max_rhat": rhat,
            "misassigned": misassigned(estimator.membership_["label"].values, labels),
            "n_obs": len(data),
            **sampler_stats(estimator.idata_.get("sample_stats")),
        }
    )


def _normal_mixture_model(y: Any) -> Any:
    """pm.NormalMixture with the priors of bm.Mixture("normal", 3)."""
    import numpy as np
    import pymc as pm

    mean, sd = float(np.mean(y)), float(np.std(y))
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(3))
        mu = pm.Normal("mu", mean, 2.5 * sd, shape=3)
        sigma = pm.HalfNormal("sigma", 2.5 * sd, shape=3)
        pm.NormalMixture("y", w=w, mu=mu, sigma=sigma, observed=y)
    return model


def child_reference(params: dict[str, Any], clock: Clock) -> None:
    """The hand-written PyMC model with pm.sample (default NUTS or nutpie)."""
    with clock.phase("import"):
        import numpy as np
        import pymc as pm
    with clock.phase("build"):
        saved = np.load(params["data"])
        X, labels = saved["X"], saved["labels"]
        one_d = X.shape[1] == 1
        data = X[:, 0] if one_d else (X - X.mean(axis=0)) / X.std(axis=0)
        model = _normal_mixture_model(data) if one_d else blog_model(data)
    sampler = params["sampler"]
    extra = {} if sampler == "pymc" else {"nuts_sampler": sampler}
    begin = time.perf_counter()
    with model:
        idata = pm.sample(
            **_common_params(params),
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
        if one_d:
            arrays = _sorted_1d(idata.posterior)
            n_draws = arrays["mu"].shape[0] * arrays["mu"].shape[1]
            flat = {name: a.reshape(n_draws, 3) for name, a in arrays.items()}
            probability = normal_membership(data, np.log(flat["w"]), flat["mu"], flat["sigma"])
        else:
            summary = blog_posterior_summary(idata.posterior, data)
            arrays = {name: summary[name] for name in ("w", "mu", "sd")}
            probability = summary["probability"]
        found = probability.argmax(axis=1)
    clock.stop()
    ess, rhat = convergence(arrays)
    clock.emit(
        {
            "min_ess_bulk": ess,
            "max_rhat": rhat,
            "misassigned": misassigned(found, labels),
            "n_obs": len(data),
            **sampler_stats(idata.sample_stats),
        }
    )


def _sorted_1d(posterior: Any) -> dict[str, Any]:
    """1-D draws with the components of every draw sorted by their mean."""
    import numpy as np

    order = np.argsort(posterior["mu"].values, axis=-1)
    return {
        name: np.take_along_axis(posterior[name].values, order, axis=-1)
        for name in ("w", "mu", "sigma")
    }


CASES = {"ours": child_ours, "reference": child_reference}


# --------------------------------------------------------------------------- parent


def write_data(workdir: Path, n_obs: int, n_features: int, seed: int) -> Path:
    """Generate one data set with bm.datasets.make_gaussian_mixture and save it as .npz."""
    import numpy as np

    from bayesmixture.datasets import make_gaussian_mixture

    if n_features == 1:
        means = np.array(MEANS_1D)[:, None]
        covs = (np.array(SDS_1D) ** 2)[:, None, None]
        weights = WEIGHTS_1D
    else:
        means = np.array(MEANS_4D)
        band = np.eye(4) + CORRELATION_4D * (np.eye(4, k=1) + np.eye(4, k=-1))
        covs = np.stack([band * scale for scale in (1.0, 0.6, 1.4)])
        weights = WEIGHTS_4D
    X, labels = make_gaussian_mixture(n_obs, weights, means, covs, random_seed=seed)
    path = workdir / f"data-{n_features}d-{n_obs}.npz"
    np.savez(path, X=X, labels=labels)
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every (dimension, N, path) in order; a path that hit the cap skips larger N."""
    loads = [uptime()]
    results: list[dict[str, Any]] = []
    with scratch_dir() as work:
        for n_features, sizes in ((1, args.sizes), (4, args.sizes_4d)):
            capped: set[str] = set()
            for n_obs in sizes:
                data = write_data(work, n_obs, n_features, args.seed)
                for path in args.paths:
                    entry = {"n_features": n_features, "n_obs": n_obs, "path": path}
                    if path in capped:
                        entry["run"] = {"status": "capped", "cap": args.cap}
                        results.append(entry)
                        continue
                    params = {
                        "data": str(data),
                        "sampler": path,
                        "draws": args.draws,
                        "tune": args.tune,
                        "chains": args.chains,
                        "seed": args.seed,
                    }
                    case = "ours" if path == "ours" else "reference"
                    runs = run_cold_warm(
                        SCRIPT,
                        case,
                        params,
                        cap=args.cap,
                        workdir=work,
                        warm=False,
                        name=f"{path}-{n_features}d-{n_obs}",
                    )
                    entry["run"] = runs["cold"]
                    if runs["cold"]["status"] == "timeout":
                        capped.add(path)
                    results.append(entry)
                loads.append(uptime())
                data.unlink()
    return {"settings": vars(args), "loads": loads, "results": results}


HEADERS = [
    "data",
    "N",
    "path",
    "end to end (s)",
    "CPU (s)",
    "compile (s)",
    "sample (s)",
    "post (s)",
    "sample-time exponent vs previous N",
    "this ÷ ours (end to end)",
    "leapfrog steps / draw",
    "min bulk ESS",
    "max R-hat",
    "min ESS / s",
    "misassigned",
    "peak RSS MiB (process / worker)",
]


def _rows(results: list[dict[str, Any]]) -> list[list[str]]:
    ours = {
        (e["n_features"], e["n_obs"]): e["run"]
        for e in results
        if e["path"] == "ours" and e["run"]["status"] == "ok"
    }
    previous: dict[tuple[int, str], tuple[int, float]] = {}
    rows = []
    for entry in results:
        run, key = entry["run"], (entry["n_features"], entry["n_obs"])
        data = "1-D normal" if entry["n_features"] == 1 else "4-D full covariance"
        label = entry["path"]
        if run.get("sampler"):
            label += f" (auto → {run['sampler']})"
        head = [data, f"{entry['n_obs']:,}", label]
        if run["status"] != "ok":
            what = {
                "timeout": f"timeout (> {fmt(run.get('cap'), 0)})",
                "capped": f"> {fmt(run.get('cap'), 0)} (capped at a smaller N)",
            }.get(run["status"], "error")
            rows.append([*head, what, *["—"] * 12])
            continue
        phases = run["phases"]
        growth = None
        before = previous.get((entry["n_features"], entry["path"]))
        if before is not None and phases.get("sample"):
            n_before, sample_before = before
            growth = math.log(phases["sample"] / sample_before) / math.log(
                entry["n_obs"] / n_before
            )
        if phases.get("sample"):
            previous[(entry["n_features"], entry["path"])] = (entry["n_obs"], phases["sample"])
        ratio = run["wall"] / ours[key]["wall"] if key in ours else None
        ess = run.get("min_ess_bulk")
        rows.append(
            [
                *head,
                f"**{fmt(run['wall'])}**",
                fmt(run["cpu_seconds"]),
                fmt(phases.get("compile")),
                fmt(phases.get("sample")),
                fmt(phases.get("post")),
                fmt(growth, 2),
                fmt(ratio, 2),
                fmt(run.get("steps_per_draw")),
                fmt(ess, 0),
                fmt(run.get("max_rhat"), 3),
                fmt(None if ess is None else ess / run["wall"], 2),
                f"{run['misassigned']:,} ({100 * run['misassigned'] / run['n_obs']:.1f} %)",
                f"{fmt(run['peak_rss_mib'], 0)} / {fmt(run['peak_rss_children_mib'], 0)}",
            ]
        )
    return rows


def render(report: dict[str, Any]) -> str:
    """The scaling section of docs/benchmarks.md."""
    s = report["settings"]
    settings_text = (
        f"{s['chains']} chains x ({s['tune']} tune + {s['draws']} draws) for every path "
        f"(fewer than the penguins' 1000 + 1000, for speed); seed {s['seed']}; cold runs "
        f"only (new empty compile directory each); wall-clock cap {s['cap']:.0f} s per run."
    )
    command = (
        f"bench_scaling_n.py --sizes {','.join(map(str, s['sizes']))} --sizes-4d "
        f"{','.join(map(str, s['sizes_4d']))} --cap {s['cap']:g} --draws {s['draws']} "
        f"--tune {s['tune']} --chains {s['chains']}"
    )
    notes = [
        "- *sample-time exponent*: log(sample time ratio) / log(N ratio) against the same "
        "path's previous N (1 = linear in N).",
        "- *this ÷ ours*: end-to-end time of the row divided by ours at the same N. *CPU*: "
        "user + system seconds of the process, its workers and compilers, on all cores.",
        "- *misassigned*: rows whose most probable component differs from the generating one "
        "(best matching of labels); the true parameters misassign some rows too, as the "
        "components overlap.",
        "- Phases as in the penguins section; *post* is relabelling and membership of all N "
        "rows from all draws.",
    ]
    skipped = [p for p in PATHS if p not in s["paths"]]
    if skipped:
        notes.append(f"- Not run in this invocation: {', '.join(skipped)}.")
    context = context_block(SCRIPT.name, command, settings_text, report["loads"])
    return table_section(
        "## Scaling with N: 1-D and 4-D mixtures", context, HEADERS, _rows(report["results"]), notes
    )


def _int_list(text: str) -> list[int]:
    return [int(float(part)) for part in text.split(",") if part]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = script_parser(__doc__)
    parser.add_argument(
        "--sizes", type=_int_list, default=[1000, 10_000, 100_000, 1_000_000], help="1-D N"
    )
    parser.add_argument("--sizes-4d", type=_int_list, default=[100_000], help="4-D N")
    add_sampling_arguments(parser, cap=300.0, draws=500, tune=500, chains=2, seed=0)
    parser.add_argument(
        "--paths",
        type=comma_choices(list(PATHS)),
        default=list(PATHS),
        help="comma-separated paths, of: " + ", ".join(PATHS),
    )
    add_no_write(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = run(args)
    publish(report, render(report), "scaling", RESULTS, args.no_write)


if __name__ == "__main__":
    if not child_main(CASES):
        main()
