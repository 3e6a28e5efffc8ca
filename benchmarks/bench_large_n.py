"""Benchmark: fitting and scoring 10^5 to 10^6 rows (issue 25), and NUTS against ADVI at large N.

``--stage table`` (``make bench``): the rows of issue 25, each fit in a fresh child process,
with the current source and, with ``--reference REV``, a git revision of it (``git archive``
into a scratch directory, put first on the children's PYTHONPATH) run one after the other
in the same run, so that their ratio is measured under the same load:

- ``Mixture("normal", 3)`` on 10^5 1-D rows (weights 0.3/0.5/0.2, means -4/0/5, sds
  1/0.7/1.5), 2 chains x (1000 tune + 1000 draws), relabelling and membership included;
  with ``--million``, also on 10^6 rows (the current source only);
- ``GaussianMixture(3)`` on 10^5 4-D rows (full covariances), 2 chains x (1000 + 1000);
- ``predict_proba`` of 10^5 new 4-D rows with 4,000 draws (a fit of 4 chains x (300 tune +
  1000 draws) to 2,000 rows of the same mixture, not timed).

Each source first fits the three models on 300 rows with 20 draws in the compile directory
its runs then share ("prime": the kernels' compile, the time of a first fit on a fresh
machine), so the figures are those of a warm cache. Writes the ``large-n`` section of
docs/benchmarks.md and benchmarks/results/large_n.json.

Two older stages compare the default NUTS with minibatch ADVI
(``bayesmixture.inference._advi.fit_advi_minibatch``) on the same 1-D model (figures
summarised by hand in docs/scaling.md): ``--stage compare --n 10000`` (both paths; accuracy
against the generating labels, parameter errors, ADVI's posterior against NUTS's) and
``--stage large --n 1000000 --cap 600`` (ADVI, then NUTS in a child killed at the cap, its
time extrapolated from one gradient).

Run: ``.venv/bin/python benchmarks/bench_large_n.py [--stage table] [--reference abf813a]
[--million] [--cap 900]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    Clock,
    child_main,
    context_block,
    dump_results,
    fmt,
    publish,
    run_child,
    scratch_dir,
    table_section,
    uptime,
)
from scipy.optimize import linear_sum_assignment
from scipy.stats import norm

import bayesmixture as bm

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "large_n.json"

WEIGHTS = np.array([0.3, 0.5, 0.2])
MEANS = np.array([-4.0, 0.0, 5.0])
SDS = np.array([1.0, 0.7, 1.5])
PARAMS = {"mu": MEANS, "sigma": SDS, "weights": WEIGHTS}
ADVI = {"batch_size": 1_000, "n_iter": 20_000, "draws": 1_000, "learning_rate": 0.01}


def make_data(n_obs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n_obs, p=WEIGHTS)
    return MEANS[labels] + SDS[labels] * rng.standard_normal(n_obs), labels


def oracle_accuracy(y: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of the Bayes classifier with the true parameters: the ceiling."""
    dens = WEIGHTS * norm.pdf(y[:, None], MEANS, SDS)
    return float(np.mean(dens.argmax(axis=1) == labels))


def scores(posterior, found_labels: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy and parameter errors, components matched to the truth by their means."""
    mu = posterior["mu"].mean(("chain", "draw")).values
    _, order = linear_sum_assignment(np.abs(mu[None, :] - MEANS[:, None]))  # true k -> found
    to_true = np.argsort(order)
    out = {"accuracy": float(np.mean(to_true[found_labels] == labels))}
    for name, truth in PARAMS.items():
        est = posterior[name].mean(("chain", "draw")).values[order]
        out[f"max_abs_error_{name}"] = float(np.max(np.abs(est - truth)))
    out["order"] = order.tolist()
    return out


def summaries(posterior, order) -> dict:
    """Posterior mean and sd of each parameter, in the truth's component order."""
    return {
        name: {
            "mean": posterior[name].mean(("chain", "draw")).values[order].tolist(),
            "sd": posterior[name].std(("chain", "draw")).values[order].tolist(),
        }
        for name in PARAMS
    }


def run_nuts(y, labels, *, draws, tune, chains, seed, sampler="auto") -> dict:
    started = time.perf_counter()
    est = bm.Mixture(
        "normal",
        3,
        draws=draws,
        tune=tune,
        chains=chains,
        sampler=sampler,
        random_seed=seed,
        progressbar=False,
    ).fit(y)
    wall = time.perf_counter() - started
    posterior = est.idata_.posterior
    out = {"wall_s": wall, "draws": draws, "tune": tune, "chains": chains, "sampler": sampler}
    out |= scores(posterior, est.membership_["label"].values, labels)
    out["posterior"] = summaries(posterior, out["order"])
    steps = est.idata_.sample_stats["n_steps"].values
    out["mean_leapfrog_steps"] = float(steps.mean())
    return out


def run_advi(y, labels, *, seed) -> dict:
    from bayesmixture.inference._advi import fit_advi_minibatch

    est = bm.Mixture("normal", 3, chains=1, random_seed=seed)
    fit = est._validate_fit_data(y)
    model = est._build_model(fit)  # the same model NUTS samples
    start = est._initial_values(fit, np.random.default_rng(seed))[0]  # its k-means start
    started = time.perf_counter()
    idata = fit_advi_minibatch(model, "y", **ADVI, start=start, random_seed=seed)
    wall = time.perf_counter() - started
    started = time.perf_counter()
    found = bm.membership(model, idata, "y")["label"].values
    membership_wall = time.perf_counter() - started
    out = {"wall_s": wall, "membership_wall_s": membership_wall, **ADVI}
    out |= scores(idata.posterior, found, labels)
    out["posterior"] = summaries(idata.posterior, out["order"])
    return out


def advi_against_nuts(advi: dict, nuts: dict) -> dict:
    out = {}
    for name in PARAMS:
        a, b = advi["posterior"][name], nuts["posterior"][name]
        z = (np.array(a["mean"]) - np.array(b["mean"])) / np.array(b["sd"])
        out[name] = {
            "mean_difference_in_nuts_sds": np.round(z, 2).tolist(),
            "sd_ratio_advi_to_nuts": np.round(np.array(a["sd"]) / np.array(b["sd"]), 2).tolist(),
        }
    return out


def gradient_seconds(y, mode: str | None = None) -> float:
    """One log-density-and-gradient evaluation of the NUTS model at this size.

    ``mode``: PyTensor's default (C) or ``"JAX"``, the backend ``sampler="numpyro"`` runs on.
    """
    from pymc.blocking import DictToArrayBijection
    from threadpoolctl import threadpool_limits

    est = bm.Mixture("normal", 3)
    model = est._build_model(est._validate_fit_data(y))
    point = DictToArrayBijection.map(model.initial_point()).data
    fn = model.logp_dlogp_function(ravel_inputs=True, mode=mode)
    fn.set_extra_values({})
    with threadpool_limits(1):
        fn(point)
        started = time.perf_counter()
        for _ in range(5):
            # np.asarray waits for JAX's asynchronous dispatch to finish the computation
            [np.asarray(output) for output in fn(point)]
    return (time.perf_counter() - started) / 5


def nuts_with_cap(args) -> dict:
    """Run the NUTS stage in a child process (own session) and kill it at the cap."""
    command = [
        sys.executable,
        __file__,
        "--stage",
        "nuts",
        "--n",
        str(args.n),
        "--seed",
        str(args.seed),
        "--draws",
        str(args.draws),
        "--tune",
        str(args.tune),
        "--chains",
        str(args.chains),
        "--sampler",
        args.sampler,
        "--out",
        f"{args.out or 'large_n'}.nuts.json",
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        child.wait(timeout=args.cap)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the child and its chain processes
        child.wait()
        return {"finished": False, "cap_s": args.cap, "wall_s": time.perf_counter() - started}
    with open(command[-1]) as handle:
        return {"finished": True, **json.load(handle)}


def machine() -> dict:
    import pymc
    import pytensor

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "pymc": pymc.__version__,
        "pytensor": pytensor.__version__,
        "load_average_at_start": os.getloadavg(),
    }


# --------------------------------------------------------------------------- stage "table"

MEANS_4D = [[0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 0.0, -1.0], [0.0, 3.0, -2.0, 1.0]]
WEIGHTS_4D = [0.4, 0.35, 0.25]
# (case, what, goal in seconds, the issue's figure on a clean checkout)
TABLE = (
    ("fit-1d", "`Mixture('normal', 3)`, 10^5 rows, 2 x (1000 + 1000)", 20.0, "123 s"),
    ("fit-4d", "`GaussianMixture(3)`, 10^5 4-D rows, 2 x (1000 + 1000)", 60.0, "339 s"),
    ("predict", "`predict_proba`, 10^5 new 4-D rows x 4,000 draws", 5.0, "7.6-10.6 s"),
    ("fit-1d-million", "`Mixture('normal', 3)`, 10^6 rows, 2 x (1000 + 1000)", 180.0, "—"),
)


def data_4d(n_obs: int, seed: int) -> np.ndarray:
    """n_obs rows of the 4-D mixture (first-neighbour correlation 0.3, scales 1/0.6/1.4)."""
    from bayesmixture.datasets import make_gaussian_mixture

    band = np.eye(4) + 0.3 * (np.eye(4, k=1) + np.eye(4, k=-1))
    covs = np.stack([band * scale for scale in (1.0, 0.6, 1.4)])
    X, _ = make_gaussian_mixture(n_obs, WEIGHTS_4D, np.array(MEANS_4D), covs, random_seed=seed)
    return X


def _estimator(case: str, n_obs: int, chains: int, draws: int, tune: int, seed: int):
    options = {"chains": chains, "draws": draws, "tune": tune, "random_seed": seed}
    if case.startswith("fit-1d"):
        return bm.Mixture("normal", 3, progressbar=False, **options), make_data(n_obs, seed)[0]
    return bm.GaussianMixture(3, progressbar=False, **options), data_4d(n_obs, seed)


def _gradient_ns_per_row(estimator, n_obs: int) -> float | None:
    """One log-density and gradient of the fitted model's compiled density at its first draw,
    in ns per row (the mean of 20 calls); None where the fit has no compiled density."""
    try:
        fit = estimator._fit_data
        density = estimator._compiled_density(fit)
        posterior = estimator.idata_.posterior
        theta = density.to_theta({name: posterior[name].values[0, 0] for name in posterior})
        density.logp_and_grad(theta)
        begin = time.perf_counter()
        for _ in range(20):
            density.logp_and_grad(theta)
    except Exception:  # a revision whose density differs: the figure is left out
        return None
    return (time.perf_counter() - begin) / 20 / n_obs * 1e9


def child_fit(params: dict[str, Any], clock: Clock) -> None:
    """One fit of the table; phases: before sampling, the sampling call, after it."""
    import bayesmixture.estimators._base as base

    case, n_obs = params["case"], params["n_obs"]
    estimator, data = _estimator(case, n_obs, 2, 1000, 1000, params["seed"])
    marks: dict[str, float] = {}
    original = base.draw_posterior

    def timed(*args: Any, **kwargs: Any) -> Any:
        marks["sample_start"] = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            marks["sample_end"] = time.perf_counter()

    base.draw_posterior = timed
    begin = time.perf_counter()
    estimator.fit(data)
    end = time.perf_counter()
    clock.stop()
    posterior = estimator.idata_.posterior
    clock.add("fit", end - begin)
    clock.add("build", marks["sample_start"] - begin)
    clock.add("sample", marks["sample_end"] - marks["sample_start"])
    clock.add("post", end - marks["sample_end"])
    clock.add("sampling", posterior.attrs.get("sampling_time"))
    clock.emit(
        {
            "sampler": posterior.attrs.get("bayesmixture_sampler"),
            "steps_per_draw": float(estimator.idata_.sample_stats["n_steps"].mean()),
            "gradient_ns_per_row": _gradient_ns_per_row(estimator, n_obs),
        }
    )


def child_predict(params: dict[str, Any], clock: Clock) -> None:
    """predict_proba of 10^5 new rows with the 4,000 draws of a small fit (not timed)."""
    gm, data = _estimator("fit-4d", 2000, 4, 1000, 300, params["seed"])
    gm.fit(data)
    rows = data_4d(params["n_obs"], params["seed"] + 1)
    gm.predict_proba(rows[:500])  # any first-use compile, outside the timing
    begin = time.perf_counter()
    probability = gm.predict_proba(rows)
    clock.add("predict", time.perf_counter() - begin)
    clock.stop()
    posterior = gm.idata_.posterior
    clock.emit(
        {
            "n_draws": posterior.sizes["chain"] * posterior.sizes["draw"],
            "rows_sum_to_one": bool(np.allclose(probability.sum(axis=1), 1.0)),
        }
    )


def child_prime(params: dict[str, Any], clock: Clock) -> None:
    """Small fits of both estimators and a large prediction with each (40 draws x 130,000
    rows, above the size where membership takes the fused pass): every kernel and scoring
    pass compiled into the cache."""
    for case in ("fit-1d", "fit-4d"):
        estimator, data = _estimator(case, 300, 2, 20, 20, params["seed"])
        estimator.fit(data)
        rows = make_data(130_000, 1)[0] if case == "fit-1d" else data_4d(130_000, 1)
        estimator.predict_proba(rows)
    clock.stop()
    clock.emit({})


CASES = {"fit": child_fit, "predict": child_predict, "prime": child_prime}


def reference_tree(revision: str, workdir: Path) -> Path:
    """``src/`` of ``revision`` extracted under ``workdir``; the directory to import from."""
    target = workdir / f"reference-{revision}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", revision, "src"], cwd=SCRIPT.parent.parent, capture_output=True
    )
    if archive.returncode != 0:
        raise SystemExit(f"git archive {revision} failed: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def run_table(args: argparse.Namespace) -> dict[str, Any]:
    """Every case of the table, the current source then the reference, one after the other."""
    loads = [uptime()]
    cases = [row for row in TABLE if args.million or row[0] != "fit-1d-million"]
    report: dict[str, Any] = {"settings": vars(args), "loads": loads, "runs": {}}
    with scratch_dir() as work:
        sources = {"this": str(SCRIPT.parent.parent / "src")}
        if args.reference:
            sources[args.reference] = str(reference_tree(args.reference, work))
        compiledirs = {}
        for label, path in sources.items():
            compiledirs[label] = work / f"compiledir-{label}"
            compiledirs[label].mkdir()
            env = {"PYTHONPATH": path}
            prime = run_child(
                SCRIPT,
                "prime",
                {"seed": args.seed},
                cap=args.cap,
                compiledir=compiledirs[label],
                extra_env=env,
            )
            report["runs"][f"prime/{label}"] = prime
            print(f"prime {label}: {prime.get('wall', prime['status'])}", file=sys.stderr)
        loads.append(uptime())
        for case, *_ in cases:
            for label, path in sources.items():
                if case == "fit-1d-million" and label != "this":
                    continue  # the reference would take half an hour
                params = {"case": case, "seed": args.seed}
                params["n_obs"] = (
                    10 * args.table_rows if case == "fit-1d-million" else args.table_rows
                )
                run = run_child(
                    SCRIPT,
                    "predict" if case == "predict" else "fit",
                    params,
                    cap=args.cap,
                    compiledir=compiledirs[label],
                    extra_env={"PYTHONPATH": path},
                )
                report["runs"][f"{case}/{label}"] = run
                what = (
                    fmt(run["phases"].get("predict", run["phases"].get("fit")))
                    if run["status"] == "ok"
                    else run["status"]
                )
                print(f"{case} {label}: {what}", file=sys.stderr)
            loads.append(uptime())
    return report


TABLE_HEADERS = [
    "case",
    "source",
    "**seconds**",
    "goal",
    "issue's figure",
    "before sampling (s)",
    "sampling call (s)",
    "after sampling (s)",
    "gradient (ns a row)",
    "leapfrog steps / draw",
    "reference ÷ this",
    "load before → after",
]


def _table_rows(report: dict[str, Any]) -> list[list[str]]:
    runs = report["runs"]
    labels = [key.split("/", 1)[1] for key in runs if key.startswith("prime/")]
    rows = []
    for case, what, goal, issue in TABLE:
        this = runs.get(f"{case}/this")
        if this is None:
            continue
        for label in labels:
            run = runs.get(f"{case}/{label}")
            if run is None:  # (the reference is not run on 10^6 rows)
                continue
            name = "this branch" if label == "this" else f"reference {label}"
            load = f"{fmt(run.get('load_before'), 2)} → {fmt(run.get('load_after'), 2)}"
            if run["status"] != "ok":
                what_happened = f"{run['status']} (cap {fmt(run.get('cap'), 0)} s)"
                rows.append([what, name, what_happened, f"< {goal:g}", issue, *["—"] * 6, load])
                continue
            phases = run["phases"]
            seconds = phases.get("predict", phases.get("fit"))
            ratio = None
            if label != "this" and this["status"] == "ok":
                mine = this["phases"].get("predict", this["phases"].get("fit"))
                ratio = seconds / mine
            rows.append(
                [
                    what,
                    name,
                    f"**{fmt(seconds)}**",
                    f"< {goal:g}",
                    issue,
                    fmt(phases.get("build")),
                    fmt(phases.get("sample")),
                    fmt(phases.get("post")),
                    fmt(run.get("gradient_ns_per_row")),
                    fmt(run.get("steps_per_draw")),
                    fmt(ratio, 1),
                    load,
                ]
            )
    return rows


def render_table(report: dict[str, Any]) -> str:
    """The large-n section of docs/benchmarks.md."""
    s = report["settings"]
    command = f"bench_large_n.py --stage table --cap {s['cap']:g} --seed {s['seed']}"
    command += f" --table-rows {s['table_rows']}" if s["table_rows"] != 100_000 else ""
    command += f" --reference {s['reference']}" if s["reference"] else ""
    command += " --million" if s["million"] else ""
    primes = {
        key.split("/", 1)[1]: run.get("wall")
        for key, run in report["runs"].items()
        if key.startswith("prime/")
    }
    prime_text = ", ".join(f"{label} {fmt(seconds)} s" for label, seconds in primes.items())
    settings = (
        "each case in a fresh process, the current source and the reference one after the "
        f"other; seed {s['seed']}; cap {s['cap']:.0f} s a run; warm compile caches (the "
        f"priming fits, which compile the kernels into them, took: {prime_text})."
    )
    notes = [
        "- *seconds*: the whole `fit` (validation, EM or k-means start, kernel load, "
        "sampling, relabelling, membership of every row, checks) or the `predict_proba` "
        "call; the Python start and imports are not counted.",
        "- *before / during / after sampling*: the fit's steps; *gradient*: one log-density "
        "and gradient of the compiled density at the first draw, per row (the mean of 20 "
        "calls, after the fit).",
        "- *reference ÷ this*: the reference's seconds over this branch's, same run.",
        "- The machine's 2 cores are shared with other work: compare rows of one run.",
    ]
    context = context_block(SCRIPT.name, command, settings, report["loads"])
    return table_section(
        "## Large N: the rows of issue 25", context, TABLE_HEADERS, _table_rows(report), notes
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=["table", "compare", "large", "nuts"], default="table")
    parser.add_argument(
        "--reference", default=None, help="git revision to measure beside the current source"
    )
    parser.add_argument(
        "--million", action="store_true", help="table: also fit 10^6 1-D rows (minutes)"
    )
    parser.add_argument(
        "--table-rows", type=int, default=100_000, help="table: rows of the 10^5 cases"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="table: print the section, write no doc"
    )
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=1_000)
    parser.add_argument("--tune", type=int, default=1_000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--cap", type=float, default=600.0, help="NUTS wall-clock cap (s)")
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--sampler", default="auto", help="NUTS backend of bm.Mixture (auto, pymc, numpyro, nutpie)"
    )
    parser.add_argument(
        "--gradient-only",
        action="store_true",
        help="print one gradient's seconds at --n for the C and JAX backends, and stop",
    )
    args = parser.parse_args()
    if args.stage == "table":
        report = run_table(args)
        publish(report, render_table(report), "large-n", RESULTS, args.no_write)
        return

    y, labels = make_data(args.n, args.seed)
    if args.gradient_only:
        print(json.dumps({mode or "C": gradient_seconds(y, mode) for mode in (None, "JAX")}))
        return
    nuts_args = {
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "seed": args.seed,
        "sampler": args.sampler,
    }
    results = {"stage": args.stage, "n_obs": args.n}
    if args.stage == "nuts":
        results |= run_nuts(y, labels, **nuts_args)
    else:
        results["machine"] = machine()
        results["oracle_accuracy"] = oracle_accuracy(y, labels)
        if args.stage == "compare":
            # NUTS first: once JAX is loaded (membership), PyMC runs chains one at a time.
            results["nuts"] = run_nuts(y, labels, **nuts_args)
            results["advi"] = run_advi(y, labels, seed=args.seed)
            results["advi_against_nuts"] = advi_against_nuts(results["advi"], results["nuts"])
        else:
            results["gradient_s"] = gradient_seconds(y)
            results["nuts"] = nuts_with_cap(args)
            results["advi"] = run_advi(y, labels, seed=args.seed)
    dump_results(results, args.out)


if __name__ == "__main__":
    if not child_main(CASES):
        main()
