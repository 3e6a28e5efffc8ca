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
