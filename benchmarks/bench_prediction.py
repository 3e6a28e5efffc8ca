"""Benchmark: membership of 100,000 new 4-D rows from 4,000 posterior draws.

Steps, each in a fresh child process:

1. *fit*: ``bm.GaussianMixture(3, chains=4, draws=1000, tune=1000)`` on the 342 penguins
   (4 features) gives 4,000 relabelled draws; the fit is saved with ``save`` and 100,000 new
   rows are drawn from its posterior predictive (``gm.sample``), so they look like penguins.
2. *predict*, once per scorer: ``bm.load`` the fit, then time ``predict_proba`` on the first
   rows and on all 100,000. ``default`` is what users get: GaussianMixture's own scorer
   (``estimators/_gaussian_scorer.py``: for this many rows and draws the fused Numba pass of
   ``_kernels/scoring.py``, compiled on first use into Numba's cache). ``FAST_RUN``
   (PyTensor's C backend) and ``JAX`` score through PyMC's own mixture density instead
   (``MixtureEvaluator(model, spec, backend=...)``), the path every other model takes.
   Each runs cold (new empty compile directory) and, with ``--warm``, warm (reusing it).

Peak memory of ``predict_proba``: the kernel's high-water mark of resident memory is reset
just before the first call (``/proc/self/clear_refs``) and read after it; the table gives
that peak and its increase over the resident memory before the call.

Run: ``.venv/bin/python benchmarks/bench_prediction.py [--rows 100000] [--chains 4]
[--draws 1000] [--cap 900]``. Writes the ``prediction`` section of docs/benchmarks.md and
benchmarks/results/prediction.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from typing import Any

from _common import (
    Clock,
    add_no_write,
    add_sampling_arguments,
    child_main,
    comma_choices,
    context_block,
    fmt,
    publish,
    run_child,
    run_cold_warm,
    scratch_dir,
    script_parser,
    table_section,
    uptime,
)

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "prediction.json"
BACKENDS = ("default", "JAX", "FAST_RUN")


def _status_kib(field: str) -> int:
    """A memory field of /proc/self/status (VmRSS, VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    """Reset this process's resident-memory high-water mark (Linux); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- children


def child_fit(params: dict[str, Any], clock: Clock) -> None:
    """Fit the penguins with 4 chains, save the fit and 100,000 posterior predictive rows."""
    with clock.phase("import"):
        import numpy as np

        import bayesmixture as bm
    X = bm.datasets.load_penguins()[bm.datasets.PENGUIN_MEASUREMENTS]
    with clock.phase("fit"):
        gm = bm.GaussianMixture(
            3,
            chains=params["chains"],
            draws=params["draws"],
            tune=params["tune"],
            random_seed=params["seed"],
            progressbar=False,
        ).fit(X)
    with clock.phase("save"):
        gm.save(params["fit"])
        rows, _ = gm.sample(params["rows"], random_seed=params["seed"])
        np.save(params["new_rows"], rows)
    clock.stop()
    posterior = gm.idata_.posterior
    clock.emit(
        {
            "sampler": posterior.attrs.get("bayesmixture_sampler"),
            "n_draws": posterior.sizes["chain"] * posterior.sizes["draw"],
            "columns": list(X.columns),
        }
    )


def child_predict(params: dict[str, Any], clock: Clock) -> None:
    """Load the fit, build the evaluator with one backend, score a few rows, then all rows."""
    with clock.phase("import"):
        import numpy as np
        import pandas as pd

        import bayesmixture as bm
        from bayesmixture._spec import lookup
        from bayesmixture.evaluation import MixtureEvaluator
    with clock.phase("load"):
        gm = bm.load(params["fit"])
        rows = pd.DataFrame(np.load(params["new_rows"]), columns=params["columns"])
    with clock.phase("compile"):
        backend = params["backend"]
        if backend == "default":
            label = "fused Numba pass"  # GaussianMixture's own scorer of new rows
        else:
            evaluator = MixtureEvaluator(gm.model_, lookup(gm.model_, "X"), backend=backend)
            # score through PyMC's mixture density, as every non-Gaussian model does
            gm._scoring_evaluator = lambda value, data: evaluator
            label = f"PyMC density, {evaluator.backend}"
    posterior = gm.idata_.posterior
    facts = {
        "backend": label,
        "n_rows": len(rows),
        "n_draws": posterior.sizes["chain"] * posterior.sizes["draw"],
        "probe_rows": min(params["probe"], len(rows)),
    }
    with clock.phase("probe"):
        gm.predict_proba(rows.iloc[: facts["probe_rows"]])
    clock.emit(facts, partial=True)  # kept by the parent if the full call reaches the cap
    facts["rss_before_mib"] = _status_kib("VmRSS") / 1024
    reset = _reset_peak()
    with clock.phase("predict"):
        probability = gm.predict_proba(rows)
    facts["predict_peak_mib"] = _status_kib("VmHWM") / 1024 if reset else None
    clock.stop()
    facts["rows_sum_to_one"] = bool(np.allclose(probability.sum(axis=1), 1.0))
    clock.emit(facts)


CASES = {"fit": child_fit, "predict": child_predict}


# --------------------------------------------------------------------------- parent


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Fit once, then every backend cold and warm."""
    loads = [uptime()]
    report: dict[str, Any] = {"settings": vars(args), "loads": loads, "predict": {}}
    with scratch_dir() as work:
        params = {
            "fit": str(work / "fit.nc"),
            "new_rows": str(work / "rows.npy"),
            "rows": args.rows,
            "chains": args.chains,
            "draws": args.draws,
            "tune": args.tune,
            "seed": args.seed,
            "probe": args.probe,
        }
        compiledir = work / "compiledir-fit"
        compiledir.mkdir()
        fit = run_child(SCRIPT, "fit", params, cap=args.fit_cap, compiledir=compiledir)
        report["fit"] = fit
        loads.append(uptime())
        if fit["status"] != "ok":
            return report
        params["columns"] = fit["columns"]
        backends = [b for b in args.backends if b != "JAX" or importlib.util.find_spec("jax")]
        for backend in backends:
            runs = run_cold_warm(
                SCRIPT,
                "predict",
                {**params, "backend": backend},
                cap=args.cap,
                workdir=work,
                warm=args.warm,
                name=f"predict-{backend}",
            )
            report["predict"][backend] = runs
            loads.append(uptime())
    return report


HEADERS = [
    "scorer",
    "cache",
    "start + import (s)",
    "load fit (s)",
    "build evaluator (s)",
    "predict_proba, first rows (s)",
    "predict_proba, all rows (s)",
    "row-draws per second",
    "end to end (s)",
    "RSS before (MiB)",
    "peak RSS during predict (MiB)",
    "increase (MiB)",
    "rows sum to 1",
]


def _row(backend: str, cache: str, run: dict[str, Any]) -> list[str]:
    partial = run.get("partial") if run["status"] == "timeout" else run
    if partial is None or run["status"] not in ("ok", "timeout"):
        return [backend, cache, *["—"] * 5, run["status"], *["—"] * 5]
    phases = partial["phases"]
    label = f"{backend} (→ {partial['backend']})"
    probe = f"{fmt(phases['probe'], 2)} ({partial['probe_rows']:,} rows)"
    if run["status"] == "ok":
        full = f"**{fmt(phases['predict'], 2)}**"
        rate = run["n_rows"] * run["n_draws"] / phases["predict"]
        peak = run.get("predict_peak_mib")
        memory = [
            fmt(run["rss_before_mib"], 0),
            f"**{fmt(peak, 0)}**",
            fmt(None if peak is None else peak - run["rss_before_mib"], 0),
        ]
        wall = fmt(run["wall"])
        sums = "yes" if run["rows_sum_to_one"] else "**no**"
    else:
        rate = partial["probe_rows"] * partial["n_draws"] / phases["probe"]
        estimate = partial["n_rows"] * partial["n_draws"] / rate
        full = f"timeout (process > {fmt(run['cap'], 0)} s); ≈ {fmt(estimate, 0)} s at that rate"
        memory = ["—", "—", "—"]
        wall = f"> {fmt(run['cap'], 0)}"
        sums = "—"
    return [
        label,
        cache,
        fmt(partial["startup"] + phases["import"]),
        fmt(phases["load"]),
        fmt(phases["compile"]),
        probe,
        full,
        f"{rate:,.0f}",
        wall,
        *memory,
        sums,
    ]


def render(report: dict[str, Any]) -> str:
    """The prediction section of docs/benchmarks.md."""
    s = report["settings"]
    fit = report["fit"]
    command = (
        f"bench_prediction.py --rows {s['rows']} --chains {s['chains']} --draws {s['draws']} "
        f"--tune {s['tune']} --cap {s['cap']:g} --fit-cap {s['fit_cap']:g} --probe {s['probe']}"
    )
    if fit["status"] == "ok":
        fit_text = (
            f"the fit ({s['chains']} chains x ({s['tune']} tune + {s['draws']} draws) = "
            f"{fit['n_draws']:,} draws, sampler {fit['sampler']}) took "
            f"{fmt(fit['phases']['fit'])} s in its own process."
        )
    else:
        fit_text = f"the fit did not finish ({fit['status']}); nothing was predicted."
    settings_text = (
        f"{s['rows']:,} new 4-D rows (posterior predictive draws of the fitted penguin "
        f"mixture) scored with every posterior draw; {fit_text} Cap {s['cap']:.0f} s per "
        f"prediction run; {'cold and warm' if s['warm'] else 'cold runs only'}."
    )
    rows = [
        _row(backend, cache, run)
        for backend, runs in report["predict"].items()
        for cache, run in runs.items()
    ]
    notes = [
        "- *build evaluator*: compiling the membership function (PyTensor graph to C, or to "
        "JAX; the default scorer's fused pass compiles on its first call, inside *first "
        "rows*, when Numba's cache is cold); JAX's XLA compilation "
        "happens at a call, once per block shape, so it is inside "
        "both *first rows* and *all rows* (their block shapes differ).",
        "- *first rows*: `predict_proba` on the first rows only, before the full call; its "
        "rate is what a run cut by the cap is extrapolated from (marked ≈).",
        "- *row-draws per second*: rows x posterior draws scored per second of the full call.",
        "- *peak RSS during predict*: the process's resident-memory high-water mark, reset "
        "just before the first `predict_proba` call and read after it; *increase* is that "
        "minus the resident memory before the call.",
    ]
    context = context_block(SCRIPT.name, command, settings_text, report["loads"])
    return table_section(
        "## Prediction: membership of new rows from 4,000 draws", context, HEADERS, rows, notes
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = script_parser(__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="new rows (100000)")
    add_sampling_arguments(
        parser, cap=600.0, draws=1000, tune=1000, chains=4, seed=2, cap_what="prediction run"
    )
    parser.add_argument("--fit-cap", type=float, default=900.0, help="seconds for the fit (900)")
    parser.add_argument(
        "--probe", type=int, default=2000, help="rows scored first, to measure a rate (2000)"
    )
    parser.add_argument(
        "--warm", action="store_true", help="also run each backend reusing its compile cache"
    )
    parser.add_argument(
        "--backends",
        type=comma_choices(list(BACKENDS)),
        default=list(BACKENDS),
        help="comma-separated scorers, of: " + ", ".join(BACKENDS),
    )
    add_no_write(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.time()
    report = run(args)
    report["total_seconds"] = time.time() - started
    publish(report, render(report), "prediction", RESULTS, args.no_write)


if __name__ == "__main__":
    if not child_main(CASES):
        main()
