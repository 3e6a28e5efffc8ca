"""Shared fixtures. Compiled models and fits are session-scoped: tests only read them."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)


# Tests that import JAX when they run go last (see tests/test_calibration.py): once JAX's
# threads exist, PyMC samples chains one after the other in this process.
_JAX_MODULES = ("test_calibration.py",)


def _imports_jax(item) -> bool:
    return item.path.name in _JAX_MODULES or "JAX" in item.nodeid


def pytest_collection_modifyitems(config, items):
    items.sort(key=_imports_jax)  # stable: the order is otherwise kept


@pytest.fixture(scope="module")
def python_linker():
    """Evaluate PyTensor graphs with its Python implementations, no C compiler (cxx="").

    For modules that compile many small graphs to compare values with a reference: each
    graph then costs well under a second instead of seconds of gcc on a fresh machine. The
    values are the same float64 arithmetic; sampling tests keep PyTensor's default C backend.
    """
    import pytensor

    with pytensor.config.change_flags(cxx=""):
        yield
