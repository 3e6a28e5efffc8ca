"""Shared fixtures. Compiled models and fits are session-scoped: tests only read them."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)
