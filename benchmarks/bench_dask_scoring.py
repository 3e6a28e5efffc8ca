"""Benchmark: scoring many 4-D rows with a 1,000-draw, 3-component GaussianMixture on Dask.

A GaussianMixture is fitted on a small synthetic set (1,000 rows, 4 chains x 250 draws);
then ``predict_proba_lazy`` scores rows generated block by block on the workers of
``LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="4GiB")``,
next to the in-memory ``predict_proba`` in this process on a subset. Reported: rows/s of both
(and their ratio, same run), the one-off compile per worker, the peak resident memory of each
worker for two block sizes (to fit the memory formula), and the time 10 million rows would
take at the measured rate. The table goes to the "dask-scoring" section of docs/benchmarks.md
(``--no-write``: print it instead); docs/scaling.md summarises it.

Run: ``.venv/bin/python benchmarks/bench_dask_scoring.py [--rows 10000000] [--chunk 100000]``
(the default 10 million rows take about 20 minutes on 2 idle cores; ``--rows 600000`` about 3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
from _common import context_block, dump_results, fmt, md_table, uptime, write_section

import bayesmixture as bm
from bayesmixture._dask import _cache_info, predict_proba_lazy

N_FEATURES, N_COMPONENTS = 4, 3
MEANS = np.array([[0.0, 0.0, 0.0, 0.0], [4.0, 0.0, 1.0, 0.0], [0.0, 4.0, 0.0, -1.0]])


def make_rows(n_rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = rng.integers(N_COMPONENTS, size=n_rows)
    return MEANS[labels] + rng.standard_normal((n_rows, N_FEATURES))


def fit_estimator(seed: int) -> bm.GaussianMixture:
    # 4 chains x 250 draws = 1,000 posterior draws, the benchmark's S.
    gm = bm.GaussianMixture(
        N_COMPONENTS, draws=250, tune=250, chains=4, random_seed=seed, progressbar=False
    )
    return gm.fit(make_rows(1_000, seed))


def in_memory_rate(gm: bm.GaussianMixture, n_rows: int) -> dict:
    rows = make_rows(n_rows, 1)
    gm.predict_proba(rows[:1_000])  # compile outside the timing
    started = time.perf_counter()
    gm.predict_proba(rows)
    wall = time.perf_counter() - started
    return {"rows": n_rows, "wall_s": wall, "rows_per_s": n_rows / wall}


def _worker_memory() -> dict:
    import psutil

    return {
        "rss_mib": psutil.Process().memory_info().rss / 2**20,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def cluster_run(gm: bm.GaussianMixture, n_rows: int, chunk: int) -> dict:
    """Score n_rows on a fresh 2-worker cluster (fresh, so peak memory belongs to this run)."""
    import dask.array as da
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit="4GiB",
        dashboard_address=None,
    )
    with Client(cluster) as client:
        idle = client.run(_worker_memory)
        # Warm-up: one small block per worker compiles its evaluator once.
        warm = da.random.default_rng(0).normal(size=(4_000, N_FEATURES), chunks=(1_000, N_FEATURES))
        started = time.perf_counter()
        predict_proba_lazy(gm, warm).sum(axis=0).compute()
        warm_wall = time.perf_counter() - started
        X = da.random.default_rng(1).normal(
            0.0, 2.0, size=(n_rows, N_FEATURES), chunks=(chunk, N_FEATURES)
        )
        proba = predict_proba_lazy(gm, X)
        started = time.perf_counter()
        column_sums = proba.sum(axis=0).compute()  # the rows never leave the workers
        wall = time.perf_counter() - started
        memory = client.run(_worker_memory)
        caches = client.run(_cache_info)
    cluster.close()
    assert np.isclose(column_sums.sum(), n_rows)
    return {
        "rows": n_rows,
        "chunk": chunk,
        "blocks": int(np.ceil(n_rows / chunk)),
        "warmup_wall_s": warm_wall,
        "wall_s": wall,
        "rows_per_s": n_rows / wall,
        "idle_rss_mib": [w["rss_mib"] for w in idle.values()],
        "peak_rss_mib": [w["peak_rss_mib"] for w in memory.values()],
        "compiles_per_worker": [sum(c["compiles"].values()) for c in caches.values()],
        "blocks_per_worker": [sum(c["blocks"].values()) for c in caches.values()],
    }


def block_memory(path: str, n_rows: int, draws: int) -> dict:
    """Peak memory of scoring ONE block of n_rows in this (fresh) process, sync scheduler."""
    import cloudpickle
    import dask.array as da

    with open(path, "rb") as handle:
        gm = cloudpickle.load(handle)
    rows = make_rows(n_rows, 2)
    warm = da.from_array(rows[:1_000], chunks=(1_000, N_FEATURES))
    predict_proba_lazy(gm, warm, draws=draws).compute(scheduler="sync")  # compile
    before = _worker_memory()
    X = da.from_array(rows, chunks=(n_rows, N_FEATURES))
    predict_proba_lazy(gm, X, draws=draws).compute(scheduler="sync")
    return {"rows": n_rows, "draws": draws, "before": before, "after": _worker_memory()}


def memory_by_block_rows(gm: bm.GaussianMixture, sizes: list[int], draws: int) -> list[dict]:
    """block_memory in a child process per size (peak RSS only grows within a process)."""
    import subprocess
    import sys
    import tempfile

    import cloudpickle

    with tempfile.NamedTemporaryFile(suffix=".pkl") as handle:
        cloudpickle.dump(gm, handle)
        handle.flush()
        out = []
        for n_rows in sizes:
            command = [sys.executable, __file__, "--probe", handle.name, "--rows", str(n_rows)]
            command += ["--probe-draws", str(draws)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def machine() -> dict:
    import dask
    import distributed
    import jax
    import pymc
    import pytensor

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),  # other work on the machine skews the timings
        "python": platform.python_version(),
        "versions": {
            "bayesmixture": bm.__version__,
            "pymc": pymc.__version__,
            "pytensor": pytensor.__version__,
            "jax": jax.__version__,
            "dask": dask.__version__,
            "distributed": distributed.__version__,
            "numpy": np.__version__,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--small-chunk", type=int, default=25_000)
    parser.add_argument("--in-memory-rows", type=int, default=50_000)
    parser.add_argument("--target-rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--memory-rows", default="25000,250000,1000000")
    parser.add_argument("--only-memory", action="store_true", help="skip the cluster runs")
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print the section instead of writing docs/benchmarks.md",
    )
    parser.add_argument("--probe", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--probe-draws", type=int, default=50, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(block_memory(args.probe, args.rows, args.probe_draws)))
        return

    load_at_start = os.getloadavg()
    loads = [uptime()]
    started = time.perf_counter()
    gm = fit_estimator(args.seed)
    fit_wall = time.perf_counter() - started
    n_draws = gm.idata_.posterior.sizes["chain"] * gm.idata_.posterior.sizes["draw"]
    sizes = [int(n) for n in args.memory_rows.split(",")]
    by_rows = memory_by_block_rows(gm, sizes, args.probe_draws)
    if args.only_memory:
        print(json.dumps({"machine": machine(), "block_memory": by_rows}, indent=2))
        return
    memory_run = cluster_run(gm, 4 * args.small_chunk, args.small_chunk)
    loads.append(uptime())
    main_run = cluster_run(gm, args.rows, args.chunk)
    loads.append(uptime())
    local = in_memory_rate(gm, args.in_memory_rows)
    loads.append(uptime())
    # Peak RSS = base + slope * chunk rows, from the two block sizes.
    peaks = [np.mean(memory_run["peak_rss_mib"]), np.mean(main_run["peak_rss_mib"])]
    slope = (peaks[1] - peaks[0]) / (args.chunk - args.small_chunk)
    results = {
        "machine": {**machine(), "load_average_at_start": load_at_start},
        "fit_wall_s": fit_wall,
        "n_draws": n_draws,
        "in_memory": local,
        "cluster_small_chunks": memory_run,
        "cluster": main_run,
        "ratio_cluster_to_in_memory": main_run["rows_per_s"] / local["rows_per_s"],
        "block_memory": by_rows,
        "memory_base_mib": peaks[0] - slope * args.small_chunk,
        "memory_mib_per_1000_rows": 1000 * slope,
        "target_rows": args.target_rows,
        "target_hours_at_measured_rate": args.target_rows / main_run["rows_per_s"] / 3600,
    }
    dump_results(results, args.out)
    section = render(results, args, loads)
    if args.no_write:
        print(section)
    else:
        write_section("dask-scoring", section)


def render(results: dict, args: argparse.Namespace, loads: list[str]) -> str:
    """The docs/benchmarks.md section of this run."""
    command = "bench_dask_scoring.py " + " ".join(
        f"--{name.replace('_', '-')} {value}"
        for name, value in (("rows", args.rows), ("chunk", args.chunk), ("seed", args.seed))
    )
    settings = (
        f"GaussianMixture(3) fitted to 1,000 4-D rows (4 chains x 250 draws = "
        f"{results['n_draws']:,} draws, fit {results['fit_wall_s']:.0f} s); rows scored with "
        "`predict_proba` on `LocalCluster(n_workers=2, threads_per_worker=1, processes=True, "
        'memory_limit="4GiB")`, generated block by block on the workers and summed there (no '
        "gather); in-memory run in the parent process afterwards."
    )
    rows = []
    local = results["in_memory"]
    rows.append(
        [
            "in-memory `predict_proba`, one process",
            f"{local['rows']:,}",
            "—",
            fmt(local["wall_s"]),
            f"{local['rows_per_s']:,.0f}",
            "—",
            "—",
        ]
    )
    for name, run in (
        ("cluster", results["cluster_small_chunks"]),
        ("cluster", results["cluster"]),
    ):
        rows.append(
            [
                name,
                f"{run['rows']:,}",
                f"{run['chunk']:,}",
                fmt(run["wall_s"]),
                f"{run['rows_per_s']:,.0f}",
                " / ".join(f"{x:,.0f}" for x in run["peak_rss_mib"]),
                " / ".join(str(x) for x in run["compiles_per_worker"]),
            ]
        )
    headers = [
        "run",
        "rows",
        "block rows",
        "wall (s)",
        "rows/s",
        "peak RSS MiB per worker",
        "compiles per worker",
    ]
    probes = ", ".join(
        f"{p['rows']:,} rows peaked at {p['after']['peak_rss_mib']:,.0f} MiB"
        for p in results["block_memory"]
    )
    notes = [
        f"- Cluster ÷ in-memory rate: {results['ratio_cluster_to_in_memory']:.2f} (same run).",
        f"- Memory: peak RSS per worker ≈ {results['memory_base_mib']:,.0f} MiB + "
        f"{results['memory_mib_per_1000_rows']:.2f} MiB per 1,000 rows of a block (fitted on "
        "the two cluster runs); one block alone in a fresh process, at "
        f"{args.probe_draws} draws: {probes}.",
        "- *compiles per worker*: PyTensor functions compiled on each worker (the Gaussian "
        "matrix-product scorer needs none). The in-memory run's matrix products use both "
        "cores through NumPy's BLAS threads, so the cluster's gain over it is small.",
        f"- {results['target_rows']:,} rows at the main run's rate: "
        f"{results['target_hours_at_measured_rate'] * 60:.0f} min.",
    ]
    context = context_block(Path(__file__).name, command, settings, loads)
    return "\n".join(
        ["## Scoring on a Dask cluster", "", context, md_table(headers, rows), "", *notes]
    )


if __name__ == "__main__":
    main()
