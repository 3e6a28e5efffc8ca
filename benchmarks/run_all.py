"""Run every benchmark one after the other and fill docs/benchmarks.md (``make bench``).

Scripts, in order, each writing its own section of docs/benchmarks.md:

- ``bench_penguins.py``: the blog's penguin model, every path, cold and warm;
- ``bench_defaults.py``: tune x chains of the compiled path on the penguins, 5 seeds;
- ``bench_user_model.py``: the forum's operator mixture and a two-normal mixture written with
  ``bm.mixture``, ``pm.sample`` against ``bm.sample`` on every backend, cold and warm, and
  their membership;
- ``bench_scaling_n.py``: 1-D mixtures at N = 1e3 ... 1e6 and a 4-D mixture at N = 1e5;
- ``bench_prediction.py``: membership of 100,000 new rows from 4,000 draws;
- ``bench_large_n.py``: the rows of issue 25, 1-D and 4-D fits of 10^5 rows and
  ``predict_proba`` of 10^5 rows x 4,000 draws (about 3 minutes; run it on its own with
  ``--million`` for the 10^6-row fit, and ``--reference REV`` to measure a revision beside
  the current source);
- ``profile_fit.py``: where the time of our penguin fit goes;
- ``bench_gradient.py``: one gradient of the penguin model per PyTensor backend (what BLAS
  would change);
- ``bench_kernels.py``: a Poisson mixture regression and a Dirichlet-process Gaussian mixture,
  compiled kernels against PyMC's graph, cold and warm;
- ``bench_high_dim.py``: a 13-D full-covariance fit (the wine data) at the defaults, 3 seeds;
- ``bench_dask_scoring.py``: 10 million rows scored on a 2-worker Dask cluster (about 20
  minutes; ``--only`` without ``dask`` skips it).

The caps below keep a run to roughly 90 minutes (the Dask step included) on an idle 2-core
machine; paths that reach them are recorded as timeouts (and, in the scaling benchmark, not
run at larger N). Options after ``--`` are not taken: run a script on its own for other
settings (each has ``--help``).

Run: ``.venv/bin/python benchmarks/run_all.py [--only penguins,scaling] [--cap-factor 1.0]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name -> (script, arguments with the default caps)
STEPS = {
    "penguins": ("bench_penguins.py", ["--cap", "600"]),
    "defaults": ("bench_defaults.py", []),
    "user-model": ("bench_user_model.py", ["--cap", "600"]),
    "scaling": (
        "bench_scaling_n.py",
        ["--sizes", "1000,10000,100000,1000000", "--sizes-4d", "100000", "--cap", "150"],
    ),
    # 4 chains x (300 tune + 1000 draws): the 4,000 draws prediction needs, shorter tuning
    "prediction": ("bench_prediction.py", ["--tune", "300", "--cap", "600", "--fit-cap", "900"]),
    "large-n": ("bench_large_n.py", ["--stage", "table", "--cap", "900"]),
    # the fit figures come from the penguins step's ours-auto runs
    "profile": ("profile_fit.py", ["--from-results", str(HERE / "results" / "penguins.json")]),
    "gradient": ("bench_gradient.py", []),
    "kernels": ("bench_kernels.py", ["--cap", "900"]),
    "high-dim": ("bench_high_dim.py", ["--cap", "600"]),
    "dask": ("bench_dask_scoring.py", ["--out", str(HERE / "results" / "dask_scoring.json")]),
}


def _scaled(arguments: list[str], factor: float) -> list[str]:
    """The arguments with the value after ``--cap`` multiplied by ``factor``."""
    out = list(arguments)
    if "--cap" in out:
        index = out.index("--cap") + 1
        out[index] = f"{float(out[index]) * factor:g}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        type=lambda text: text.split(","),
        default=list(STEPS),
        help="comma-separated steps, of: " + ", ".join(STEPS),
    )
    parser.add_argument(
        "--cap-factor", type=float, default=1.0, help="multiply every cap (e.g. 2 on a busy box)"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.only if name not in STEPS]
    if unknown:
        parser.error(f"unknown steps {unknown}; choose from {list(STEPS)}")
    failed = []
    for name in args.only:
        script, arguments = STEPS[name]
        command = [sys.executable, str(HERE / script), *_scaled(arguments, args.cap_factor)]
        print(f"== {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        begin = time.time()
        done = subprocess.run(command)
        print(f"== {name}: {time.time() - begin:.0f} s", file=sys.stderr, flush=True)
        if done.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
