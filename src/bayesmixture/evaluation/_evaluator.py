"""Evaluate a mixture's per-draw responsibilities and marginal densities, in bounded memory.

One PyTensor function is compiled per mixture from PyMC's own component log-densities,
vectorised over a leading draw axis, with JAX by default (no C compiler); it is then called on
chunks of draws (and of rows, where the model allows) so that draws x obs x components never
has to sit in memory at once.
Axis order of every array: (draw, obs, component).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.pytensorf import rvs_in_graph
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.graph.traversal import ancestors

from bayesmixture import _logp
from bayesmixture._rewrites import default_backend, evaluator_mode, python_mode
from bayesmixture._spec import MixtureSpec
from bayesmixture.evaluation._chunks import BLOCK_ELEMENTS, ROW_BLOCK, Chunk, assemble

__all__ = ["BLOCK_ELEMENTS", "ROW_BLOCK", "Chunk", "MixtureEvaluator", "rows_are_independent"]


class MixtureEvaluator:
    """Compiled log-responsibilities and log marginal densities of one mixture.

    Parameters
    ----------
    model : pymc.Model
        The model holding the mixture.
    spec : MixtureSpec
        The mixture's record.
    backend : {"JAX", "NUMBA", "FAST_RUN", "PYTHON"}, optional
        PyTensor backend of the compiled function; default JAX (no C compiler, fastest to
        compile). ``"FAST_RUN"`` is PyTensor's default (C, or Python without a compiler).
    """

    def __init__(self, model: pm.Model, spec: MixtureSpec, *, backend: str | None = None):
        self.model = model
        self.spec = spec
        self.backend = default_backend() if backend is None else backend
        graphs = [spec.weights, *_flat(spec.components)]
        # a free variable's own parents (a Dirichlet process's concentration above its
        # weights) are not inputs of the densities: the traversal stops at free variables
        upstream = set(ancestors(graphs, blockers=model.free_RVs))
        self.rv_names = [rv.name for rv in model.free_RVs if rv in upstream]
        self.data_names = [
            name
            for name, var in model.named_vars.items()
            if isinstance(var, SharedVariable) and var in upstream
        ]
        # Lengths of dims are shared scalars; as constants they give JAX static shapes.
        self._frozen_dims = {
            length: pt.constant(length.get_value(), dtype=length.dtype)
            for length in model.dim_lengths.values()
            if isinstance(length, SharedVariable) and length in upstream
        }
        self.row_chunkable = rows_are_independent(spec)
        self.value_dtype = _value_dtype(spec)
        self._fn = self._compile(None, spec.n_groups)
        self._other_fns: dict[tuple, object] = {}

    def _function_for(self, value: np.ndarray, n_terms: int):
        """The compiled function for these rows: missing entries, or another number of
        groups (a static shape, for JAX), make their own graph."""
        spec = self.spec
        mask = np.isnan(value) if spec.allow_missing and np.isnan(value).any() else None
        n_groups = None if spec.groups is None else n_terms
        if mask is None and n_groups == spec.n_groups:
            return self._fn, value
        pattern = b"" if mask is None else mask.tobytes() + bytes(str(mask.shape), "ascii")
        key = (pattern, n_groups)
        if key not in self._other_fns:
            self._other_fns = {key: self._compile(mask, n_groups)}  # one: masks rarely repeat
        return self._other_fns[key], value if mask is None else np.where(mask, 0.0, value)

    def _compile(self, missing_mask: np.ndarray | None, n_groups: int | None):
        spec, model = self.spec, self.model
        value = pt.tensor(
            "value",
            shape=(None,) * spec.batch_ndim + (None,) * spec.ndim_supp,
            dtype=self.value_dtype,
        )
        data_inputs = {
            model[name]: pt.tensor(name, shape=(None,) * model[name].ndim, dtype=model[name].dtype)
            for name in self.data_names
        }
        grouped = spec.groups is not None
        groups = pt.lvector("groups") if grouped else None
        case_weights = pt.vector("case_weights") if grouped else None
        joint = _logp.log_joint(
            spec.weights,
            spec.components,
            value,
            **{**spec.layout(), "missing_mask": missing_mask},
            case_weights=case_weights,
            groups=groups,
            n_groups=n_groups,
        )
        log_marginal = pt.logsumexp(joint, axis=-1)
        log_resp = joint - log_marginal[..., None]
        # Replace the free variables by draw-batched inputs first: that cuts the graph above
        # them, so the later replacements (data, dim lengths) cannot rebuild them as fresh
        # random variables.
        shapes = _static_shapes([model[name] for name in self.rv_names])
        draw_inputs = {
            model[name]: pt.tensor(name, shape=(None, *shape), dtype=model[name].dtype)
            for name, shape in zip(self.rv_names, shapes, strict=True)
        }
        outputs = vectorize_graph([log_resp, log_marginal], replace=draw_inputs)
        outputs = graph_replace(outputs, {**data_inputs, **self._frozen_dims}, strict=False)
        leftover = rvs_in_graph(outputs)
        if leftover:
            raise RuntimeError(
                f"the densities of mixture {spec.name!r} still depend on random variables "
                f"{sorted(str(v) for v in leftover)} that are not free variables of the model."
            )
        inputs = [*draw_inputs.values(), value, *data_inputs.values()]
        if grouped:
            inputs += [groups, case_weights]
        return self._function(inputs, outputs)

    def _function(self, inputs, outputs):
        """The compiled function on this evaluator's backend; PyTensor's default backend for
        a graph with an operation that JAX or Numba does not implement."""
        with warnings.catch_warnings():
            # JAX drops runtime assertions (broadcast checks); the draws are valid parameters.
            warnings.filterwarnings("ignore", message="Skipping .* as JAX tracing would remove it")
            try:
                return pytensor.function(inputs, outputs, mode=evaluator_mode(self.backend))
            except NotImplementedError:
                if self.backend not in ("JAX", "NUMBA"):
                    raise
            self.backend = "FAST_RUN"
            return pytensor.function(inputs, outputs, mode=evaluator_mode(self.backend))

    def data_values(self, data: Mapping[str, object] | None) -> dict[str, np.ndarray]:
        """Current values of the data containers, with ``data`` overriding some of them."""
        data = dict(data or {})
        unknown = sorted(set(data) - set(self.data_names))
        if unknown:
            raise ValueError(
                f"data has {unknown}, which the mixture {self.spec.name!r} does not depend on; "
                f"its data containers are {self.data_names}."
            )
        values = {}
        for name in self.data_names:
            current = self.model[name].get_value()
            new = np.asarray(data.get(name, current))
            if new.ndim != current.ndim:
                raise ValueError(
                    f"data[{name!r}] has {new.ndim} dimensions; the container has {current.ndim}."
                )
            values[name] = new.astype(current.dtype, copy=False)
        return values

    def chunks(
        self,
        draws: Mapping[str, np.ndarray],
        value: np.ndarray,
        *,
        data: Mapping[str, np.ndarray] | None = None,
        groups: np.ndarray | None = None,
        case_weights: np.ndarray | None = None,
        draw_index: np.ndarray | None = None,
        block_elements: int = BLOCK_ELEMENTS,
    ) -> Iterator[Chunk]:
        """Yield blocks of (log_resp, log_marginal) over draws (and rows, when allowed).

        ``draws`` maps each free variable name to an array (n_draws, *shape).
        """
        n_draws = next(iter(draws.values())).shape[0] if draws else 1
        index = np.arange(n_draws) if draw_index is None else np.asarray(draw_index)
        data_values = self.data_values(data)
        value = np.asarray(value).astype(self.value_dtype, copy=False)
        n_rows = value.shape[0]
        n_terms = n_rows if groups is None else int(groups.max()) + 1
        fn, value = self._function_for(value, n_terms)
        row_chunkable = self.row_chunkable and fn is self._fn
        row_block = min(n_rows, ROW_BLOCK) if row_chunkable else n_rows
        per_draw = max(1, min(row_block, n_terms) * self.spec.n_components)
        draw_block = min(len(index), max(1, block_elements // per_draw))
        extra = []
        if self.spec.groups is not None:
            weights = np.ones(n_rows) if case_weights is None else case_weights
            extra = [groups, weights]
        for row_start in range(0, n_rows, row_block):
            row_stop = min(n_rows, row_start + row_block)
            rows = self._pad(value[row_start:row_stop], row_block)
            for start in range(0, len(index), draw_block):
                stop = min(len(index), start + draw_block)
                picked = self._pad(index[start:stop], draw_block)
                args = [draws[name][picked] for name in self.rv_names]
                log_resp, log_marginal = fn(*args, rows, *data_values.values(), *extra)
                n_terms_here = row_stop - row_start if row_chunkable else n_terms
                log_resp = np.asarray(log_resp)[: stop - start, :n_terms_here]
                log_marginal = np.asarray(log_marginal)[: stop - start, :n_terms_here]
                terms_stop = row_start + log_resp.shape[1]
                yield Chunk(start, stop, row_start, terms_stop, log_resp, log_marginal)

    def _pad(self, block: np.ndarray, size: int) -> np.ndarray:
        """JAX compiles once per input shape: give every call the same shape."""
        if self.backend != "JAX" or len(block) == size:
            return block
        filler = np.repeat(block[-1:], size - len(block), axis=0)
        return np.concatenate([block, filler])

    def responsibilities(self, draws, value, **kwargs) -> tuple[np.ndarray, np.ndarray]:
        """All blocks assembled: log_resp (draws, obs, K) and log_marginal (draws, obs)."""
        return assemble(self.chunks(draws, value, **kwargs), self.spec.n_components)


def _static_shapes(rvs) -> list[tuple[int, ...]]:
    """Shapes of the free variables (dims make them symbolic; JAX needs them fixed)."""
    if not rvs:
        return []
    shape_fn = pytensor.function([], [rv.shape for rv in rvs], mode=python_mode())
    return [tuple(int(n) for n in shape) for shape in shape_fn()]


def _flat(components) -> list:
    """Component distributions, with products over responses flattened."""
    return [d for comp in components for d in (comp if isinstance(comp, tuple) else (comp,))]


def _value_dtype(spec: MixtureSpec) -> str:
    dtypes = {comp.dtype for comp in _flat(spec.components)}
    return "int64" if all(d.startswith("int") for d in dtypes) else pytensor.config.floatX


def rows_are_independent(spec: MixtureSpec) -> bool:
    """Rows can be evaluated in blocks when nothing is indexed by observation."""
    if spec.groups is not None or spec.weights.ndim > 1:
        return False
    if spec.parts is not None:
        return all(d.ndim == d.owner.op.ndim_supp for d in _flat(spec.components))
    own_axes = spec.ndim_supp + int(spec.batched)
    return all(comp.ndim == own_axes for comp in spec.components)
