"""Compile modes without a C compiler: elementwise fusion is off, so each op is one numpy
call instead of a Python loop over elements (evaluators and PyMC's sampler)."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.scalar.basic import Composite

from bayesmixture._rewrites import evaluator_mode, without_compiler_fusion
from pymc_reference import python_backend


def _fused_ops(mode) -> list:
    x = pt.vector("x")
    fn = pytensor.function([x], pt.exp(x) * 2.0 + pt.log1p(x**2), mode=mode)
    np.testing.assert_allclose(fn(np.array([0.5])), np.exp(0.5) * 2 + np.log1p(0.25))
    return [
        node
        for node in fn.maker.fgraph.toposort()
        if isinstance(getattr(node.op, "scalar_op", None), Composite)
    ]


def test_without_a_compiler_nothing_is_fused():
    with python_backend():
        assert _fused_ops(without_compiler_fusion()) == []
        assert _fused_ops(evaluator_mode("FAST_RUN")) == []


def test_with_a_compiler_the_mode_is_unchanged():
    if not pytensor.config.cxx:
        pytest.skip("no C compiler on this machine")
    assert _fused_ops(without_compiler_fusion())  # the chain of elementwise ops is fused
