"""Benchmark: a 13-dimensional full-covariance fit at the library's defaults.

The wine data (scikit-learn's bundled copy of the UCI wine recognition data: 178 rows, 13
measurements, 3 cultivars) clustered by ``bm.GaussianMixture(3)`` with every default
(4 chains x 1000 draws; ``tune=None`` chooses the tuning from the model's size: 3 steps per
parameter from 300 to 1000, 819 for its 273 parameters), for several seeds, each in a fresh
child process with the compile caches of the first run (warm: the Gaussian kernel is the
penguins' one, compiled once). A fixed ``--tune`` replaces the default to compare.

Measured per run: wall time from process start split into start-up and import, build,
compile, sample and post (as in ``bench_penguins.py``); the tuning used; leapfrog steps per
draw and divergences; the sampling checks (largest R-hat, smallest bulk and tail ESS, and how
many of the 7 checks failed); the rows misassigned against the cultivars after the best
matching.

Run: ``.venv/bin/python benchmarks/bench_high_dim.py [--seeds 0,1,2] [--tune 300] [--cap 600]``.
Writes the ``high-dim`` section of docs/benchmarks.md and benchmarks/results/high_dim.json.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path
from typing import Any

from _common import (
    Clock,
    FitTimer,
    add_no_write,
    child_main,
    context_block,
    fmt,
    misassigned,
    publish,
    report,
    run_child,
    sampler_stats,
    scratch_dir,
    script_parser,
    table_section,
    uptime,
)

SCRIPT = Path(__file__).resolve()
RESULTS = SCRIPT.parent / "results" / "high_dim.json"


def child_wine(params: dict[str, Any], clock: Clock) -> None:
    """``bm.GaussianMixture(3)`` on the wine data, at the defaults (or a given tune)."""
    with clock.phase("import"):
        import bayesmixture as bm
    with clock.phase("build"):
        from sklearn.datasets import load_wine

        wine = load_wine()
    timer = FitTimer("auto")
    gm = bm.GaussianMixture(3, tune=params["tune"], random_seed=params["seed"], progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timer.fit(gm, wine.data, clock)
    clock.stop()
    checks = gm.diagnose().set_index("check")
    clock.emit(
        {
            "sampler": timer.resolved,
            "tune_used": gm.tune_,
            "max_rhat": float(checks.loc["r_hat", "value"]),
            "min_ess_bulk": float(checks.loc["ess_bulk", "value"]),
            "min_ess_tail": float(checks.loc["ess_tail", "value"]),
            "failed_checks": int((checks["status"] == "warning").sum()),
            "misassigned": misassigned(gm.labels_, wine.target),
            **sampler_stats(gm.idata_.get("sample_stats")),
        }
    )


CHILDREN = {"wine": child_wine}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One run per seed, one after the other, sharing a compile directory (warm after the
    first); the load before and after."""
    loads = [uptime()]
    results: dict[str, Any] = {}
    with scratch_dir() as work:
        compiledir = Path(tempfile.mkdtemp(prefix="compiledir-wine-", dir=work))
        for seed in args.seeds:
            params = {"seed": seed, "tune": args.tune}
            result = run_child(SCRIPT, "wine", params, cap=args.cap, compiledir=compiledir)
            report("warm" if results else "cold", f"wine seed {seed}", result)
            results[str(seed)] = result
            loads.append(uptime())
    return {"settings": vars(args), "loads": loads, "results": results}


HEADERS = [
    "seed",
    "cache",
    "start + import (s)",
    "build (s)",
    "compile (s)",
    "sample (s)",
    "post (s)",
    "end to end (s)",
    "tune used",
    "leapfrog steps / draw",
    "divergences",
    "max R-hat",
    "min bulk / tail ESS",
    "checks failed (of 7)",
    "misassigned (of 178)",
]


def _row(seed: str, cache: str, run: dict[str, Any]) -> list[str]:
    if run["status"] != "ok":
        return [seed, cache, *["—"] * 12, run["status"]]
    phases = run["phases"]
    return [
        seed,
        cache,
        fmt(run["startup"] + phases.get("import", 0.0)),
        fmt(phases.get("build")),
        fmt(phases.get("compile")),
        fmt(phases.get("sample")),
        fmt(phases.get("post")),
        f"**{fmt(run['wall'])}**",
        fmt(run.get("tune_used"), 0),
        fmt(run.get("steps_per_draw")),
        fmt(run.get("divergences"), 0),
        fmt(run.get("max_rhat"), 4),
        f"{fmt(run.get('min_ess_bulk'), 0)} / {fmt(run.get('min_ess_tail'), 0)}",
        fmt(run.get("failed_checks"), 0),
        fmt(run.get("misassigned"), 0),
    ]


def render(report_: dict[str, Any]) -> str:
    """The high-dim section of docs/benchmarks.md."""
    settings, results = report_["settings"], report_["results"]
    rows = [
        _row(seed, "cold" if k == 0 else "warm", run)
        for k, (seed, run) in enumerate(results.items())
    ]
    command = f"bench_high_dim.py --seeds {','.join(map(str, settings['seeds']))}"
    command += f" --cap {settings['cap']:g}"
    if settings["tune"] is not None:
        command += f" --tune {settings['tune']}"
    notes = [
        "- `bm.GaussianMixture(3)` with every default: full covariances, 4 chains x 1000 "
        "draws, the tuning `tune=None` chooses (3 steps per parameter, from 300 to 1000).",
        "- The checks are the fit's own (`diagnose()`): R-hat below 1.01 and ESS at least 400 "
        "pass; *misassigned* counts rows outside their cultivar's cluster after the best "
        "one-to-one matching.",
        "- The first run compiles into an empty cache (*cold*); the next reuse it (*warm*).",
    ]
    context = context_block(
        SCRIPT.name,
        command,
        f"wall-clock cap {settings['cap']:.0f} s per run; runs one after the other.",
        report_["loads"],
    )
    return table_section(
        "## A 13-D full-covariance fit at the defaults (wine)", context, HEADERS, rows, notes
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = script_parser(__doc__)
    parser.add_argument("--cap", type=float, default=600.0, help="seconds per run (600)")
    parser.add_argument(
        "--seeds",
        type=lambda text: [int(s) for s in text.split(",")],
        default=[0, 1, 2],
        help="comma-separated seeds (0,1,2)",
    )
    parser.add_argument("--tune", type=int, default=None, help="a fixed tune (default: None)")
    add_no_write(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = run(args)
    publish(result, render(result), "high-dim", RESULTS, args.no_write)


if __name__ == "__main__":
    if not child_main(CHILDREN):
        main()
