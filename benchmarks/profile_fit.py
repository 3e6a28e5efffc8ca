"""Profile: where the time of ``GaussianMixture(3).fit(penguins)`` goes, cold and warm.

Two measurements, in fresh child processes:

1. Import: ``python -X importtime -c "import bayesmixture"``; the self time of every imported
   module summed by top-level package, the largest first, and which optional heavy packages
   ``import bayesmixture`` loads; plus the plain wall time of ``import bayesmixture``.
2. The fit: the ``ours-auto`` path of ``bench_penguins.py`` (2 chains x (1000 tune + 1000
   draws), ``sampler="auto"``), cold then warm, whose child wraps timers around the steps of
   the fit and around PyTensor's compiler (``_steps.py``): graph rewriting
   (``FunctionMaker.__init__``), linking (``FunctionMaker.create``: C or Numba code, cache
   look-up, loading) and the C compiler (``GCC_compiler.compile_str``), each attributed to
   the fit step it ran in. After the fit (untimed) it times one log-density-and-gradient
   evaluation of the sampled model; times the leapfrog steps NUTS took, that is the sampling
   time pure arithmetic would need.

With ``--from-results benchmarks/results/penguins.json`` the fit figures are read from the
penguins benchmark's ``ours-auto`` runs (as ``make bench`` does, to avoid fitting twice);
otherwise this script runs that path itself.

Run: ``.venv/bin/python benchmarks/profile_fit.py [--from-results FILE] [--cap 600]``. Writes
the ``profile`` section of docs/benchmarks.md and benchmarks/results/profile_fit.json.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    add_no_write,
    add_sampling_arguments,
    context_block,
    fmt,
    md_table,
    publish,
    run_cold_warm,
    scratch_dir,
    script_parser,
    uptime,
)
from _steps import PARTS

SCRIPT = Path(__file__).resolve()
PENGUINS = SCRIPT.parent / "bench_penguins.py"
RESULTS = SCRIPT.parent / "results" / "profile_fit.json"
# Optional packages whose presence after `import bayesmixture` is worth knowing.
HEAVY = ("jax", "numpyro", "nutpie", "numba", "sklearn", "matplotlib", "dask", "distributed")
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def import_profile() -> dict[str, Any]:
    """Self time of the modules ``import bayesmixture`` loads, summed by top package."""
    code = "import sys, bayesmixture; print(','.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
    )
    by_package: dict[str, float] = {}
    total = 0.0
    for line in done.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if not match:
            continue
        self_us, cumulative_us, indent, module = match.groups()
        root = module.split(".")[0]
        by_package[root] = by_package.get(root, 0.0) + int(self_us) / 1e6
        if module == "bayesmixture" and not indent:
            total = int(cumulative_us) / 1e6
    loaded = {name.split(".")[0] for name in done.stdout.strip().split(",")}
    begin = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import bayesmixture"], check=True)
    plain = time.perf_counter() - begin
    return {
        "total_importtime": total,
        "plain_wall": plain,
        "by_package": dict(sorted(by_package.items(), key=lambda kv: -kv[1])),
        "heavy_loaded": {name: name in loaded for name in HEAVY},
        "n_modules": len(done.stdout.strip().split(",")),
    }


def run_fits(args: argparse.Namespace) -> dict[str, Any]:
    """The ours-auto penguin path, cold then warm, through bench_penguins.py's child."""
    sys.path.insert(0, str(SCRIPT.parent))
    from bench_penguins import write_penguins

    params = {
        "sampler": "auto",
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "seed": args.seed,
        "gradient_cost": True,
    }
    with scratch_dir() as work:
        params["data"] = str(write_penguins(work))
        return run_cold_warm(PENGUINS, "ours", params, cap=args.cap, workdir=work, name="profile")


def run(args: argparse.Namespace) -> dict[str, Any]:
    loads = [uptime()]
    imports = import_profile()
    if args.from_results:
        penguins = json.loads(Path(args.from_results).read_text())
        fits = penguins["results"]["ours-auto"]
        settings = {k: penguins["settings"][k] for k in ("draws", "tune", "chains", "seed")}
        loads = penguins["loads"] + [uptime()]
        source = f"the ours-auto runs of {Path(args.from_results).name}"
    else:
        fits = run_fits(args)
        settings = {k: getattr(args, k) for k in ("draws", "tune", "chains", "seed")}
        loads.append(uptime())
        source = "its own runs of the ours-auto path"
    return {
        "settings": {**vars(args), **settings},
        "source": source,
        "loads": loads,
        "imports": imports,
        "fits": fits,
    }


def _fit_rows(fits: dict[str, Any], settings: dict[str, Any]) -> tuple[list[str], list[list]]:
    caches = [c for c in ("cold", "warm") if fits.get(c, {}).get("status") == "ok"]
    runs = [fits[c] for c in caches]
    rows: list[list[str]] = []

    def phase(run: dict[str, Any], name: str) -> float:
        return run["phases"].get(name, 0.0)

    def part(step: str, what: str) -> None:
        key = f"{step}: {what}"
        cells = []
        for run in runs:
            seconds = run.get("step_seconds", {}).get(key)
            calls = run.get("step_calls", {}).get(key)
            cells.append("—" if seconds is None else f"{seconds:.2f} ({calls})")
        rows.append([f"  {what}", *cells])

    rows.append(
        ["**Python start + `import bayesmixture`**"]
        + [f"**{fmt(r['startup'] + phase(r, 'import'), 2)}**" for r in runs]
    )
    titles = {
        "build": "**build**: loading the data, validation, model, EM start",
        "sample": "**sampling call** (`bayesmixture.inference.sample`)",
        "post": "**post**: relabelling and membership",
    }
    for step, title in titles.items():
        if step == "sample":
            total = [r["sampling_call"] for r in runs]
        else:
            total = [phase(r, step) for r in runs]
        rows.append([title, *[f"**{fmt(t, 2)}**" for t in total]])
        for part_step, what in PARTS:
            if part_step == step:
                part(step, what)
        if step == "sample":
            own = [fmt(phase(r, "sample"), 2) for r in runs]
            rows.append(["  the sampler's own sampling time", *own])
    rows.append(["**end to end**", *[f"**{fmt(r['wall'], 2)}**" for r in runs]])
    rows.append(["CPU seconds (all processes)", *[fmt(r["cpu_seconds"], 1) for r in runs]])
    per_gradient = [r.get("seconds_per_gradient") for r in runs]
    steps = [r.get("steps_per_draw") for r in runs]
    iterations = settings["tune"] + settings["draws"]
    rows.append(
        ["one log-density + gradient evaluation (µs, C)"]
        + [fmt(None if g is None else g * 1e6, 0) for g in per_gradient]
    )
    rows.append(["leapfrog steps per kept draw", *[fmt(s) for s in steps]])
    floors = [
        None if g is None or n is None else g * n * iterations
        for g, n in zip(per_gradient, steps, strict=True)
    ]
    rows.append(
        ["sampling time if NUTS only evaluated gradients (s per chain)"]
        + [fmt(f, 2) for f in floors]
    )
    return caches, rows


def render(report: dict[str, Any]) -> str:
    """The profile section of docs/benchmarks.md."""
    s = report["settings"]
    imports = report["imports"]
    fits = report["fits"]
    top = list(imports["by_package"].items())[:12]
    import_rows = [[f"`{name}`", fmt(seconds, 3)] for name, seconds in top]
    heavy = ", ".join(
        f"{name} {'yes' if loaded else 'no'}" for name, loaded in imports["heavy_loaded"].items()
    )
    sampler = next((r.get("sampler") for r in fits.values() if r.get("sampler")), "?")
    settings_text = (
        f"`bm.GaussianMixture(3, chains={s['chains']}, draws={s['draws']}, tune={s['tune']}, "
        f"sampler='auto')` (→ {sampler}) on the 342 penguins, seed {s['seed']}; fit figures "
        f"from {report['source']}."
    )
    command = "profile_fit.py" + (
        f" --from-results {Path(s['from_results']).name}" if s.get("from_results") else ""
    )
    caches, rows = _fit_rows(fits, s)
    not_ok = [c for c, r in fits.items() if r.get("status") != "ok"]
    notes = [
        "- Seconds (and calls) per part; a part is attributed to the fit step it ran in. "
        "Graph rewriting involves no compiler; linking includes the C compiler's time.",
        "- *sampling time if NUTS only evaluated gradients*: one evaluation of the sampled "
        "model's log-density and gradient (PyTensor's C backend, at the initial point, mean of "
        "2,000 calls) x mean leapfrog steps per kept draw x (tune + draws): what one chain "
        "would take if NUTS did nothing but evaluate the gradient (tuning usually takes more "
        "steps per iteration than the kept draws, so this is a rough floor).",
    ]
    if not_ok:
        notes.append(f"- Runs that did not finish: {', '.join(not_ok)}.")
    return "\n".join(
        [
            "## Where the time goes: our penguin fit",
            "",
            context_block(SCRIPT.name, command, settings_text, report["loads"]),
            f"**Import.** `import bayesmixture` took {fmt(imports['plain_wall'], 2)} s wall in "
            f"a fresh process ({fmt(imports['total_importtime'], 2)} s cumulative under "
            f"`-X importtime`, {imports['n_modules']} modules). Self time by top-level "
            "package, largest first:",
            "",
            md_table(["package", "self import time (s)"], import_rows),
            "",
            f"Optional heavy packages loaded by `import bayesmixture`: {heavy}.",
            "",
            "**The fit**, seconds (calls), with a cold and a warm compile cache:",
            "",
            md_table(["part", *caches], rows),
            "",
            *notes,
        ]
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = script_parser(__doc__)
    parser.add_argument(
        "--from-results",
        default=None,
        help="penguins.json of bench_penguins.py: take its ours-auto runs instead of fitting",
    )
    add_sampling_arguments(parser, cap=600.0, draws=1000, tune=1000, chains=2, seed=1)
    add_no_write(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = run(args)
    publish(report, render(report), "profile", RESULTS, args.no_write)


if __name__ == "__main__":
    main()
