"""Compile every Numba kernel of the fast path into Numba's on-disk cache, in parallel.

``python -m bayesmixture.estimators._fast.warm`` (run by ``make demo`` and ``make test``)
compiles the kernels once, one process per kernel module, so that the first fit of each
estimator loads its kernel from the cache (~0.2 s) instead of compiling it (10-20 s), and
parallel test workers do not compile the same kernel side by side.

Each kernel module compiles its C callbacks when it is imported (``numba.cfunc``); the
scoring kernel compiles on its first call, so it is called once on a tiny problem.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

# Largest first, so that the two longest compiles start together.
KERNEL_MODULES = (
    "bayesmixture.estimators._fast._gaussian_kernel",
    "bayesmixture.estimators._fast._univariate_kernel",
    "bayesmixture.estimators._fast._regression_kernel",
    "bayesmixture.estimators._fast._scoring_kernel",
)


def _compile_scoring(module) -> None:
    """One call of the fused membership kernel (2 rows, 1 draw, 2 components), with the
    argument types that GaussianEvaluator.totals passes."""
    rows, components, n_features = 2, 2, 1
    total = np.zeros((rows, components))
    module.membership_totals(
        np.zeros((rows, n_features)),
        np.zeros((components, n_features)),
        components,
        total,
        np.zeros_like(total),
        np.zeros(rows),
        True,
    )


def compile_module(name: str) -> tuple[str, float]:
    """Import (and so compile or load) one kernel module; returns its name and the seconds."""
    start = time.perf_counter()
    module = importlib.import_module(name)
    if name.endswith("_scoring_kernel"):
        _compile_scoring(module)
    return name, time.perf_counter() - start


def warm(processes: int | None = None) -> dict[str, float]:
    """Compile (or load) every kernel, ``processes`` at a time (default: the CPU count)."""
    workers = processes or min(len(KERNEL_MODULES), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(compile_module, KERNEL_MODULES))


def main() -> None:
    start = time.perf_counter()
    seconds = warm()
    for name, value in seconds.items():
        print(f"{name.rsplit('.', 1)[-1]:>20}: {value:5.1f} s", file=sys.stderr)
    print(f"Numba kernels ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
