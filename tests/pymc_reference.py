"""PyMC's own log-density as the reference of the compiled kernels (tests/test_fast_density*).

The reference graph is compiled with PyTensor's pure-Python linker: no C compiler, exact
float64 arithmetic, a few seconds per model.
"""

from __future__ import annotations

import numpy as np
import pytensor
from pytensor.compile.mode import Mode

PYTHON_MODE = Mode(linker="py", optimizer="fast_compile")
# Without graph rewrites: the graph evaluated as PyMC builds it. Enough for the Gaussian and
# regression densities (their logsumexp is explicit; every case, slow ones included, agrees to
# 1e-10) and faster (test_fast_density 45.6 -> 31.7 s, test_fast_density_regression 25.6 ->
# 21.5 s on 2 workers: rewriting the gradient graphs was most of a case's time); not for the
# univariate families, whose gradients need the rewrites to drop a masked branch (gamma and
# lognormal give NaN without).
UNREWRITTEN_MODE = Mode(linker="py", optimizer=None)


def theta_of(model, point) -> np.ndarray:
    """A point (value variables by name) as the flat vector the kernels take."""
    return np.concatenate([np.asarray(point[v.name]).ravel() for v in model.value_vars])


def random_points(model, rng, n=4) -> list[dict]:
    """``n`` unconstrained points around the model's initial point (sd 0.7 each coordinate)."""
    start = model.initial_point()
    return [{k: v + 0.7 * rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(n)]


# PyTensor's own C compiler setting, read before any test changes it (conftest.python_linker)
DEFAULT_CXX = pytensor.config.cxx


def c_backend():
    """PyTensor's default C backend again, inside a module that uses ``python_linker``."""
    return pytensor.config.change_flags(cxx=DEFAULT_CXX)


def python_backend():
    """PyTensor's Python implementations (no C compiler) for one block of a test: for graphs
    compiled to compare values, where gcc would take longer than the evaluation."""
    return pytensor.config.change_flags(cxx="")
