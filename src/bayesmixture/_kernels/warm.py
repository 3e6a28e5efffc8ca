"""Compile kernel variants of the fast path into Numba's on-disk cache.

``python -m bayesmixture._kernels.warm gaussian:0:0:0`` compiles one variant (the
fit of a plain Gaussian mixture starts this in the background, see ``compiling.py``);
without arguments, every variant of every kernel, one process per variant, largest first
(``make test`` runs this first, so that parallel test workers load the kernels from the cache
instead of compiling the same one side by side).
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from bayesmixture._kernels.compiling import KERNELS, parse_spec, variant_spec

# The variants the test suite fits, largest compile first
# (``gaussian.callbacks(general, student, stick_breaking)``, ``univariate.callbacks(
# stick_breaking)``, ``regression.callbacks(family, stick_breaking)`` with the family codes
# normal 0, poisson 1, negbinomial 2, binomial 3); any other compiles on first use.
ALL_VARIANTS = (
    ("gaussian", (1, 1, 0)),
    ("univariate", (0,)),
    ("gaussian", (1, 0, 0)),
    ("gaussian", (0, 1, 0)),
    ("gaussian", (0, 0, 0)),
    ("regression", (0, 0)),
    ("regression", (1, 0)),
    ("regression", (2, 0)),
    ("regression", (3, 0)),
    ("gaussian", (0, 0, 1)),
    ("univariate", (1,)),
    ("regression", (0, 1)),
    ("regression", (1, 1)),
)


def _compile_scoring() -> None:
    """One call of each fused membership kernel (2 rows, 1 draw, 2 components), with the
    argument types that GaussianEvaluator.totals and Mixture's fused pass
    (``estimators._fast.univariate.fused_totals``) pass."""
    from bayesmixture._kernels.scoring import membership_totals, univariate_totals
    from bayesmixture._kernels.univariate import MAX_PARAMS, N_OBS_COLUMNS

    rows, components, n_features = 2, 2, 1
    total = np.zeros((rows, components))
    membership_totals(
        np.zeros((rows, n_features)),
        np.zeros((components, n_features)),
        components,
        total,
        np.zeros_like(total),
        np.zeros(rows),
        True,
    )
    log_density = np.zeros(rows)
    univariate_totals(
        np.zeros(rows * N_OBS_COLUMNS),
        rows,
        0,
        rows,
        np.zeros(components, dtype=np.int64),
        np.ones((1, components, MAX_PARAMS)),
        np.zeros((1, components)),
        total[0:rows],
        total[0:rows].copy(),
        log_density[0:rows],
        True,
    )


def compile_variant(spec: str) -> tuple[str, float]:
    """Compile (or load) one variant, ``kernel:flags`` or ``scoring``; its spec and seconds."""
    import importlib

    start = time.perf_counter()
    if spec == "scoring":
        _compile_scoring()
    else:
        kernel, variant = parse_spec(spec)
        importlib.import_module(KERNELS[kernel]).callbacks(*variant)
    return spec, time.perf_counter() - start


def warm(specs: list[str], processes: int | None = None) -> dict[str, float]:
    """Compile (or load) every variant in ``specs``, ``processes`` at a time."""
    if len(specs) == 1:
        return dict([compile_variant(specs[0])])
    workers = processes or min(len(specs), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(compile_variant, specs))


def main(argv: list[str]) -> None:
    specs = argv or [variant_spec(kernel, flags) for kernel, flags in ALL_VARIANTS] + ["scoring"]
    for spec in specs:
        if spec != "scoring":
            parse_spec(spec)  # refuse a bad spec before any process starts
    start = time.perf_counter()
    seconds = warm(specs)
    if argv:
        return
    for name, value in seconds.items():
        print(f"{name:>20}: {value:5.1f} s", file=sys.stderr)
    print(f"Numba kernels ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
