"""Kernel variants compile in another process, unless Numba's disk cache holds them already."""

from __future__ import annotations

import types

import numba
import pytest

from bayesmixture._kernels import compiling


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """compiling's state empty, its markers in ``tmp_path``, and processes recorded, not run."""
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(compiling, "_loaded", {})
    monkeypatch.setattr(compiling, "_compiling", {})
    started = []

    class Process:
        def __init__(self, command, **kwargs):
            started.append(command[-1])

        def wait(self):
            return 0

    monkeypatch.setattr(compiling.subprocess, "Popen", Process)
    module = types.SimpleNamespace(callbacks=lambda *variant: ("logp", "expand"))
    monkeypatch.setattr(compiling.importlib, "import_module", lambda name: module)
    return started


def test_a_variant_compiles_aside_once_then_loads_from_the_cache_without_a_process(fresh):
    compiling.start("gaussian", (0, 1, 0))
    compiling.start("gaussian", (0, 1, 0))  # on its way: not twice
    assert fresh == ["gaussian:0:1:0"]
    assert compiling.callbacks("gaussian", (0, 1, 0)) == ("logp", "expand")
    # a later process (its own empty state) finds the marker and starts none
    compiling._loaded.clear()
    compiling.start("gaussian", (0, 1, 0))
    compiling.start("gaussian", (0, 0, 1))  # another variant is not in the cache
    assert fresh == ["gaussian:0:1:0", "gaussian:0:0:1"]
