"""Benchmark: one log-density + gradient evaluation of the penguin model, per PyTensor backend.

What NUTS pays per leapfrog step, and what a BLAS library would change. Without BLAS flags
(a pip-installed PyTensor here finds none, and the OpenBLAS that NumPy ships exports renamed
symbols PyTensor cannot link), the matrix-product nodes of the graph (``Dot22``, ``Gemm``,
``BatchedDot``) have no C implementation and run in Python through NumPy; so do the batched
Cholesky and triangular solves, BLAS or not. The Numba backend compiles every node and calls
BLAS through NumPy, so C versus Numba bounds what linking a BLAS could gain.

The model is the one ``GaussianMixture(3).fit(penguins)`` samples; each backend compiles
``model.logp_dlogp_function`` in this process, one after the other, and the mean of 2,000
calls at the initial point (one BLAS thread) is reported.

Run: ``.venv/bin/python benchmarks/bench_gradient.py [--modes FAST_RUN,NUMBA,JAX]``.
Writes the ``gradient`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path

from _common import (
    add_no_write,
    comma_choices,
    context_block,
    script_parser,
    table_section,
    uptime,
    write_section,
)

MODES = ("FAST_RUN", "NUMBA", "JAX")
# Ops that run in Python when PyTensor has no BLAS to link against.
NEEDS_BLAS = ("Dot22", "Dot22Scalar", "Gemm", "Gemv", "Ger", "BatchedDot")


def penguin_model():
    """The PyMC model GaussianMixture(3) builds for the penguins (nothing sampled)."""
    import bayesmixture as bm

    X = bm.datasets.load_penguins()[bm.datasets.PENGUIN_MEASUREMENTS]
    gm = bm.GaussianMixture(3, progressbar=False, random_seed=0)
    gm._check_params()
    return gm._build_model(gm._validate_fit_data(X, None))


def measure(model, mode: str, repeats: int) -> dict:
    import numpy as np
    from threadpoolctl import threadpool_limits

    begin = time.perf_counter()
    function = model.logp_dlogp_function(ravel_inputs=True, mode=mode)
    function.set_extra_values({})
    point = model.initial_point()
    array = np.concatenate([np.ravel(point[v.name]) for v in function._grad_vars])
    function(array)
    compile_s = time.perf_counter() - begin
    with threadpool_limits(limits=1):
        begin = time.perf_counter()
        for _ in range(repeats):
            function(array)
        per_call = (time.perf_counter() - begin) / repeats
    nodes = function._pytensor_function.maker.fgraph.toposort()
    names = collections.Counter(type(node.op).__name__ for node in nodes)
    cores = collections.Counter(
        type(node.op.core_op).__name__ for node in nodes if hasattr(node.op, "core_op")
    )
    return {
        "mode": mode,
        "compile_s": compile_s,
        "per_call_us": per_call * 1e6,
        "nodes": len(nodes),
        "blas_nodes": sum(names[name] for name in NEEDS_BLAS),
        "batched_linalg_nodes": cores["Cholesky"] + cores["SolveTriangular"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = script_parser(__doc__)
    parser.add_argument(
        "--modes", type=comma_choices(MODES), default=list(MODES), help="PyTensor modes"
    )
    parser.add_argument("--repeats", type=int, default=2000, help="calls timed (2000)")
    add_no_write(parser)
    args = parser.parse_args(argv)
    loads = [uptime()]
    model = penguin_model()
    results = [measure(model, mode, args.repeats) for mode in args.modes]
    loads.append(uptime())
    reference = results[0]["per_call_us"]
    rows = [
        [
            r["mode"],
            f"{r['compile_s']:.1f}",
            f"**{r['per_call_us']:.0f}**",
            f"{reference / r['per_call_us']:.2f}",
            str(r["nodes"]),
            str(r["blas_nodes"]) if r["mode"] == "FAST_RUN" else "—",
            str(r["batched_linalg_nodes"]) if r["mode"] == "FAST_RUN" else "—",
        ]
        for r in results
    ]
    headers = [
        "backend",
        "compile (s)",
        "µs per logp + gradient",
        f"{results[0]['mode']} ÷ this",
        "graph nodes",
        "nodes needing BLAS (run in Python)",
        "batched Cholesky / solve nodes (Python)",
    ]
    command = f"bench_gradient.py --modes {','.join(args.modes)} --repeats {args.repeats}"
    settings = (
        f"the penguin model of GaussianMixture(3) (342 rows, 4 standardised features, full "
        f"covariances); mean of {args.repeats} calls at the initial point, one BLAS thread; "
        "compile time includes PyTensor's cache (run twice for warm figures)."
    )
    notes = [
        "- The C row is what the default sampler evaluates; the Numba backend's advantage is "
        "an upper bound on what linking a BLAS library to PyTensor's C backend would give.",
    ]
    context = context_block(Path(__file__).name, command, settings, loads)
    section = table_section(
        "## One gradient of the penguin model, per backend", context, headers, rows, notes
    )
    if args.no_write:
        print(section)
    else:
        write_section("gradient", section)


if __name__ == "__main__":
    main()
