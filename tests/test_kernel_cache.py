"""Kernel variants compiled by different processes load side by side from Numba's cache.

A fit compiles its kernel variant in a process of its own (``python -m
bayesmixture._kernels.warm``), and one session may then load several variants from the disk
cache. Numba names compiled code ``qualname$n`` with n counted per process, so two variants
compiled apart must not share a name: the second one loaded would silently run the first
one's code (a Student-t fit sampling the Gaussian density). Each variant's callback and
per-flag pieces carry their flags in their names; here two variants of each kernel are
compiled in two cold processes, loaded into a third, and each gives there what it gave alone.
(The regression kernel's case is in tests/test_fast_density_regression.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

# Builds the densities of the named estimators (compiling or loading their kernel variants)
# and prints each one's log-density and gradient at a fixed point. No PyMC: this process only
# needs the kernels, and what is compared is the same code compiled alone or loaded together.
EVALUATE = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import bayesmixture as bm

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 1, (20, 2)), rng.normal(2, 1, (20, 2))]
    ESTIMATORS = {
        "gaussian": lambda: bm.GaussianMixture(2),
        "student": lambda: bm.StudentTMixture(2),
        "normal": lambda: bm.Mixture("normal", 2),
        "normal-dp": lambda: bm.Mixture("normal", 2, weights_prior="dirichlet_process"),
    }
    out = {}
    for name in sys.argv[1:]:  # in this order: the second variant is loaded after the first
        estimator = ESTIMATORS[name]()
        data = X[:, 0] if isinstance(estimator, bm.Mixture) else X
        estimator._check_params()
        density = estimator._compiled_density(estimator._validate_fit_data(data, None))
        theta = 0.3 * np.random.default_rng(1).standard_normal(density.n_dim)
        value, grad = density.logp_and_grad(theta)
        out[name] = [float(value), *map(float, grad)]
    print(json.dumps(out))
    """
)


def evaluate(names: list[str], env: dict) -> dict[str, list[float]]:
    done = subprocess.run(
        [sys.executable, "-c", EVALUATE, *names], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    "estimators",
    [
        ["gaussian", "student"],  # the Gaussian kernel's variants 0:0:0 and 0:1:0
        ["normal", "normal-dp"],  # the univariate kernel's Dirichlet and stick-breaking weights
    ],
    ids=["gaussian", "univariate"],
)
def test_variants_compiled_apart_load_side_by_side(tmp_path, estimators):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}  # a cold cache of its own
    # each variant compiled in a cold process of its own, the two side by side
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", EVALUATE, name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in estimators
    ]
    alone = {}
    for run in runs:
        stdout, stderr = run.communicate()
        assert run.returncode == 0, stderr[-3000:]
        alone.update(json.loads(stdout.strip().splitlines()[-1]))
    assert len(set(map(tuple, alone.values()))) == 2  # the variants compute different things
    together = evaluate(estimators, env)  # both loaded from the cache into one process
    # the same machine code gives the same numbers; a name clash would run the first
    # variant's code for the second and change its values entirely
    for name in estimators:
        np.testing.assert_allclose(together[name], alone[name], rtol=1e-13, atol=0)
