"""Step timers for our fit: which step of ``fit``, and which part of PyTensor's compiler.

Used by the ours paths of ``bench_penguins.py``, whose figures ``profile_fit.py`` reports.
Wrapping adds one Python call per timed call (a few hundred per fit), far below the
resolution of the figures.
"""

from __future__ import annotations

import functools
import time
from typing import Any

# (fit step, what) in the order the profile lists them; the steps are set by ``instrument``.
PARTS = (
    ("build", "validation"),
    ("build", "model building"),
    ("build", "EM start"),
    ("build", "graph rewriting"),
    ("build", "linking (C/Numba code, cache, load)"),
    ("sample", "graph rewriting"),
    ("sample", "linking (C/Numba code, cache, load)"),
    ("sample", "C compiler (gcc)"),
    ("post", "membership evaluator build"),
    ("post", "graph rewriting"),
    ("post", "linking (C/Numba code, cache, load)"),
    ("post", "C compiler (gcc)"),
    ("post", "relabelling and membership of the training rows"),
    ("post", "sampling checks (diagnose)"),
)


class StepTimers:
    """Seconds and calls per "step: what"; ``step`` is whichever fit step is running."""

    def __init__(self) -> None:
        self.step = "outside"
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._depth: dict[str, int] = {}

    def wrap(self, owner: Any, name: str, label: str, *, static: bool = False) -> bool:
        """Time every outermost call of ``owner.name`` under ``label``; False if absent."""
        original = getattr(owner, name, None)
        if original is None:
            return False

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = self._depth.get(label, 0)
            self._depth[label] = depth + 1
            begin = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth[label] = depth
                if depth == 0:
                    key = f"{self.step}: {label}"
                    self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - begin
                    self.calls[key] = self.calls.get(key, 0) + 1

        setattr(owner, name, staticmethod(timed) if static else timed)
        return True


def instrument(timers: StepTimers) -> None:
    """Wrap the steps of ``GaussianMixture.fit`` (and PyTensor's compiler, if loaded) with
    ``timers``.

    The step is "build" until the sampling call starts, "sample" during it and "post" after
    it. Call after ``import bayesmixture`` and before ``fit``. PyTensor is not imported here:
    on the compiled path a fit imports it while its kernel compiles, and importing it earlier
    would move that time out of the fit.
    """
    import sys

    import bayesmixture.estimators._base as base
    from bayesmixture.estimators._gaussian import GaussianMixture

    timers.step = "build"
    if "pytensor" in sys.modules:
        import pytensor.compile.function.types as function_types
        import pytensor.link.c.cmodule as cmodule

        timers.wrap(function_types.FunctionMaker, "__init__", "graph rewriting")
        timers.wrap(function_types.FunctionMaker, "create", "linking (C/Numba code, cache, load)")
        timers.wrap(cmodule.GCC_compiler, "compile_str", "C compiler (gcc)", static=True)
    timers.wrap(GaussianMixture, "_validate_fit_data", "validation")
    timers.wrap(GaussianMixture, "_build_model", "model building")
    timers.wrap(GaussianMixture, "_initial_values", "EM start")
    timers.wrap(GaussianMixture, "_training_evaluator", "membership evaluator build")
    timers.wrap(base, "relabel_and_assign", "relabelling and membership of the training rows")
    timers.wrap(GaussianMixture, "_run_checks", "sampling checks (diagnose)")
    original_draw = base.draw_posterior

    @functools.wraps(original_draw)
    def draw_posterior(*args: Any, **kwargs: Any) -> Any:
        timers.step = "sample"
        try:
            return original_draw(*args, **kwargs)
        finally:
            timers.step = "post"

    base.draw_posterior = draw_posterior


def gradient_cost(gm: Any, *, repeats: int = 2000) -> float:
    """Seconds per evaluation of the fitted model's log-density and gradient (C backend).

    The same ``logp_dlogp_function`` PyMC's NUTS calls, at the model's initial point, with
    one BLAS thread; the mean of ``repeats`` calls after one warm-up call.
    """
    import numpy as np
    from threadpoolctl import threadpool_limits

    model = gm.model_
    function = model.logp_dlogp_function(ravel_inputs=True)
    function.set_extra_values({})
    point = model.initial_point()
    array = np.concatenate([np.ravel(point[v.name]) for v in function._grad_vars])
    # one BLAS thread, as in the sampler's workers (bayesmixture.inference)
    with threadpool_limits(limits=1):
        function(array)
        begin = time.perf_counter()
        for _ in range(repeats):
            function(array)
        return (time.perf_counter() - begin) / repeats
