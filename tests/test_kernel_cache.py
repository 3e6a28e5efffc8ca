"""Kernel variants compiled by different processes load side by side from Numba's cache.

A fit compiles its kernel variant in a process of its own (``python -m
bayesmixture._kernels.warm``), and one session may then load several variants from the disk
cache. Numba names compiled code ``qualname$n`` with n counted per process, so two variants
compiled apart must not share a name: the second one loaded would silently run the first
one's code (a Student-t fit sampling the Gaussian density). Each variant's callback and
per-flag pieces carry their flags in their names; here two variants of each kernel are
compiled in two cold processes, loaded into a third, and each equals PyMC's log-density.
(The regression kernel's case is in tests/test_fast_density_regression.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LOAD_BOTH = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import bayesmixture as bm
    from pymc_reference import PYTHON_MODE, random_points, theta_of

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 1, (20, 2)), rng.normal(2, 1, (20, 2))]
    y = X[:, 0]
    estimators = {
        "gaussian": [bm.GaussianMixture(2), bm.StudentTMixture(2)],
        "univariate": [bm.Mixture("normal", 2),
                       bm.Mixture("normal", 2, weights_prior="dirichlet_process")],
    }[sys.argv[2]]
    errors = []
    for estimator in estimators:  # the second variant loaded after the first
        data = y if isinstance(estimator, bm.Mixture) else X
        estimator._check_params()
        fit = estimator._validate_fit_data(data, None)
        density = estimator._compiled_density(fit)
        model = estimator._build_model(fit)
        reference = model.compile_logp(jacobian=True, mode=PYTHON_MODE)
        point = random_points(model, rng, n=1)[0]
        value = density.logp_and_grad(theta_of(model, point))[0]
        errors.append(abs(value / float(reference(point)) - 1.0))
    print(json.dumps(errors))
    """
)


def compile_apart(variants: list[str], env: dict) -> None:
    """Compile each variant in a process of its own, the processes side by side (as a fit's
    background compile and ``make test``'s warm-up do)."""
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "bayesmixture._kernels.warm", variant],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for variant in variants
    ]
    for run in runs:
        _, stderr = run.communicate()
        assert run.returncode == 0, stderr.decode()[-3000:]


@pytest.mark.parametrize(
    ("kernel", "variants"),
    [
        ("gaussian", ["gaussian:0:0:0", "gaussian:0:1:0"]),  # Gaussian, then Student-t rows
        ("univariate", ["univariate:0", "univariate:1"]),  # Dirichlet, then stick-breaking
    ],
)
def test_variants_compiled_apart_load_side_by_side(tmp_path, kernel, variants):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}  # a cold cache of its own
    compile_apart(variants, env)
    tests = str(Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_BOTH, tests, kernel], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    errors = json.loads(done.stdout.strip().splitlines()[-1])
    # both variants, loaded from the cache into one process, equal PyMC (rounding only)
    assert max(errors) < 1e-10, errors
