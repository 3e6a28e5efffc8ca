"""Undo label switching: one consistent labelling for every draw of every chain.

Three methods, each a pure numpy function on responsibilities or parameters (axis order
draw, obs, component): ``"stephens"`` (Stephens 2000, KL to the permuted average),
``"ecr"`` (Papastamoulis & Iliopoulos 2010, agreement with a pivot allocation) and
``"pivot"`` (match component parameters to a reference draw). All start from the draw with
the highest likelihood, so chains that found the same clusters in different orders are merged.

Only the components in use are matched: when no draw gives more than m < K components a
row's worth of responsibility (an overfitted sparse or Dirichlet-process mixture), each draw's
m fullest components are relabelled by the method and its emptied ones follow, fullest first.
An emptied component's label carries no information (no row tells it from another emptied
one), and the methods' cost grows with the number of labels they match: Stephens' method on
ten labels of which four are in use kept reshuffling the empty ones for its 100 iterations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayesmixture.evaluation import (
    COMPONENT_DIM,
    check_posterior,
    permute_axis,
    stacked_draws,
    training_value,
)
from bayesmixture.relabelling._ecr import ecr_permutations
from bayesmixture.relabelling._pivot import pivot_permutations
from bayesmixture.relabelling._stephens import stephens_permutations

if TYPE_CHECKING:  # ArviZ and PyMC load in the functions that need them
    import arviz as az
    import pymc as pm
    import xarray as xr

    from bayesmixture.evaluation import MixtureEvaluator

__all__ = ["LabelSwitchingReport", "label_switching", "relabel"]

# Rows used to find permutations; evenly spaced, so the answer does not depend on a seed.
# A draw's permutation is chosen by sums over rows (Stephens: sum_i Q_ik log P_s[i, l]): every
# row that a wrong permutation moves adds |log P_s[i, l]| (large for a component that is told
# apart at all) to that permutation's cost, so a component holding 1% of the data, 20 rows
# of the 2,000, already decides its label, and more rows change no permutation while the work
# grows as rows x draws x K (10^5 rows x 2,000 draws would be 50 times this).
MAX_RELABEL_OBS = 2000
# A component is in use in a draw when its responsibilities sum to at least this many rows.
ROWS_IN_USE = 1.0


# ---------------------------------------------------------------------- the methods


def _stephens(resp: np.ndarray, reference: int, parameters) -> np.ndarray:
    return stephens_permutations(resp, initial=resp[reference])


def _ecr(resp: np.ndarray, reference: int, parameters) -> np.ndarray:
    return ecr_permutations(resp, pivot=resp[reference].argmax(axis=-1))


def _pivot(resp: np.ndarray, reference: int, parameters) -> np.ndarray:
    return pivot_permutations(parameters(), reference)


# Relabelling methods by name: (resp (draw, obs, component), index of the reference draw,
# parameters) -> permutations (draw, component); ``parameters()`` gives the components'
# parameters (draw, component, n_params) of the same components, for the methods that read them.
METHODS: dict[str, Callable[[np.ndarray, int, Callable[[], np.ndarray]], np.ndarray]] = {
    "stephens": _stephens,
    "ecr": _ecr,
    "pivot": _pivot,
}


def relabel(
    model: pm.Model,
    idata: az.InferenceData,
    name: str,
    *,
    method: str = "stephens",
) -> tuple[az.InferenceData, xr.DataArray]:
    """Give every draw of every chain the same labelling of the components.

    Parameters
    ----------
    model : pymc.Model
        A model whose likelihood ``name`` was built with :func:`bayesmixture.mixture`.
    idata : arviz.InferenceData
        Posterior of ``model``; not modified.
    name : str
        Name of the mixture's observed variable.
    method : {"stephens", "ecr", "pivot"}, default "stephens"
        ``"stephens"`` minimises the KL divergence between each draw's membership
        probabilities and their average; ``"ecr"`` maximises agreement of each draw's most
        probable allocation with a pivot allocation; ``"pivot"`` matches the parameters with
        dim ``"component"`` to those of a reference draw. All take as reference the draw of
        highest likelihood.

    Returns
    -------
    idata : arviz.InferenceData
        A new object whose posterior has every variable with dim ``"component"`` (and the
        last axis of the weights, when they are a named variable) permuted.
    permutations : xarray.DataArray of int, dims (chain, draw, component)
        New label k of a draw takes that draw's old label ``permutations[..., k]``.

    Examples
    --------
    >>> import numpy as np, pymc as pm, bayesmixture as bm
    >>> y = np.r_[np.full(20, -3.0), np.full(20, 3.0)] + np.random.default_rng(0).normal(size=40)
    >>> with pm.Model(coords={"component": [0, 1]}) as model:
    ...     w = pm.Dirichlet("w", np.ones(2), dims="component")
    ...     mu = pm.Normal("mu", 0.0, 5.0, dims="component")
    ...     _ = bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(2)], y)
    >>> idata = bm.sample(model, draws=100, tune=100, chains=2, random_seed=1,
    ...                   progressbar=False)
    >>> fixed, perms = bm.relabel(model, idata, "y")
    >>> chain_means = fixed.posterior["mu"].mean("draw")  # (chain, component)
    >>> perms.dims, bool((abs(chain_means[0] - chain_means[1]) < 0.5).all())
    (('chain', 'draw', 'component'), True)
    """
    from bayesmixture._spec import lookup
    from bayesmixture.evaluation import MixtureEvaluator

    spec = lookup(model, name)
    method = check_method(method)
    posterior = check_posterior(idata, model)
    evaluator = MixtureEvaluator(model, spec)
    perms = find_permutations(evaluator, posterior, method)
    return permute_posterior(idata, perms, weights_name=_named_weights(model, spec)), _as_dataarray(
        perms, posterior
    )


def find_permutations(
    evaluator: MixtureEvaluator,
    posterior: xr.Dataset,
    method: str,
    *,
    free: np.ndarray | None = None,
):
    """Permutations (chain * draw, K) for the stacked draws of ``posterior``.

    With ``free`` (indices of components), only those components' labels are permuted among
    themselves, from their responsibilities; the others keep theirs (a noise component, or
    components named by labelled rows). Of those, only the components in use are matched by
    the method (see the module's docstring).
    """
    draws = stacked_draws(posterior, evaluator.rv_names)
    value = training_value(evaluator)
    rows = _relabel_rows(evaluator, len(value))
    spec = evaluator.spec
    log_resp, log_marginal = evaluator.responsibilities(
        draws,
        value[rows],
        groups=spec.groups,
        case_weights=spec.case_weights,
    )
    resp = np.exp(log_resp)
    reference = int(np.argmax(log_marginal.sum(axis=1)))
    free = np.arange(spec.n_components) if free is None else np.asarray(free, dtype=np.intp)
    perms = np.tile(np.arange(spec.n_components), (len(resp), 1))
    if len(free) < 2:
        return perms
    resp = resp[..., free]
    weights = None if spec.case_weights is None or spec.groups is not None else spec.case_weights
    order, n_used = _labels_in_use(resp, None if weights is None else weights[rows])
    used = order[:, :n_used]  # (draw, n_used): each draw's components in use, among ``free``

    def parameters() -> np.ndarray:
        every = _component_parameters(posterior, spec.n_components)
        return np.take_along_axis(every, free[used][..., None], axis=1)

    sub = METHODS[method](np.take_along_axis(resp, used[:, None, :], axis=2), reference, parameters)
    perms[:, free[:n_used]] = free[np.take_along_axis(used, sub, axis=1)]
    perms[:, free[n_used:]] = free[order[:, n_used:]]
    return perms


def _labels_in_use(resp: np.ndarray, case_weights) -> tuple[np.ndarray, int]:
    """Each draw's labels, in use first, and how many are matched: ``order`` (draw, K) and m.

    ``resp`` (draw, row, K); ``case_weights`` (row,) counts each row that many times, or None.

    m is the largest number of components in use in any draw (at least 2). When every
    component is in use somewhere, ``order`` is the identity and every label is matched; else
    each draw's labels are ordered by the rows they hold, fullest first.
    """
    n_draws, _, n_components = resp.shape
    weights = np.ones(resp.shape[1]) if case_weights is None else np.asarray(case_weights)
    rows_held = np.einsum("sik,i->sk", resp, weights)
    n_used = max(2, int((rows_held >= ROWS_IN_USE).sum(axis=1).max()))
    if n_used >= n_components:
        return np.tile(np.arange(n_components), (n_draws, 1)), n_components
    return np.argsort(-rows_held, axis=1, kind="stable"), n_used


def permute_posterior(
    idata: az.InferenceData, perms: np.ndarray, *, weights_name: str | None
) -> az.InferenceData:
    """A new InferenceData whose posterior is permuted draw by draw."""
    import arviz as az

    posterior = idata.posterior
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    new_vars = {}
    for var_name, var in posterior.data_vars.items():
        if COMPONENT_DIM in var.dims:
            axis = var.dims.index(COMPONENT_DIM) - 1
        elif var_name == weights_name:
            axis = var.ndim - 2
        else:
            continue
        stacked = var.values.reshape(n_chains * n_draws, *var.shape[2:])
        permuted = permute_axis(stacked, perms, axis)
        new_vars[var_name] = var.copy(data=permuted.reshape(var.shape))
    new_posterior = posterior.assign(new_vars)
    new_posterior.attrs = {**posterior.attrs, "bayesmixture_relabelled": "true"}
    groups = {group: idata[group] for group in idata.groups()}
    groups["posterior"] = new_posterior
    return az.InferenceData(**groups)


@dataclass(frozen=True)
class LabelSwitchingReport:
    """What :func:`label_switching` found.

    Attributes
    ----------
    per_chain : pandas.DataFrame
        Per chain: ``share_switched`` (draws whose best permutation is not the identity) and
        ``modal_permutation`` (the most frequent permutation, as a tuple).
    chains_disagree : bool
        True when chains have different modal permutations: they found the components in
        different orders.
    method : str
        The relabelling method used.
    """

    per_chain: pd.DataFrame
    chains_disagree: bool
    method: str

    @property
    def switching_found(self) -> bool:
        return bool((self.per_chain["share_switched"] > 0).any())

    def __str__(self) -> str:
        verdict = (
            "chains found the components in different orders"
            if self.chains_disagree
            else "chains agree on the order of the components"
        )
        return f"Label switching ({self.method}): {verdict}\n{self.per_chain.to_string()}"


def label_switching(
    model: pm.Model, idata: az.InferenceData, name: str, *, method: str = "stephens"
) -> LabelSwitchingReport:
    """Measure label switching within and between chains, before any relabelling.

    Parameters
    ----------
    model, idata, name, method
        As in :func:`relabel`.

    Returns
    -------
    LabelSwitchingReport

    Examples
    --------
    >>> import numpy as np, pymc as pm, bayesmixture as bm
    >>> y = np.r_[np.full(20, -3.0), np.full(20, 3.0)] + np.random.default_rng(0).normal(size=40)
    >>> with pm.Model(coords={"component": [0, 1]}) as model:
    ...     w = pm.Dirichlet("w", np.ones(2), dims="component")
    ...     mu = pm.Normal("mu", 0.0, 5.0, dims="component")
    ...     _ = bm.mixture("y", w, [pm.Normal.dist(mu[k], 1.0) for k in range(2)], y)
    >>> idata = bm.sample(model, draws=100, tune=100, chains=2, random_seed=1,
    ...                   progressbar=False)
    >>> report = bm.label_switching(model, idata, "y")
    >>> list(report.per_chain.columns)
    ['share_switched', 'modal_permutation']
    """
    from bayesmixture._spec import lookup
    from bayesmixture.evaluation import MixtureEvaluator

    spec = lookup(model, name)
    method = check_method(method)
    posterior = check_posterior(idata, model)
    perms = find_permutations(MixtureEvaluator(model, spec), posterior, method)
    n_chains = posterior.sizes["chain"]
    by_chain = perms.reshape(n_chains, -1, spec.n_components)
    identity = np.arange(spec.n_components)
    rows = []
    for chain_perms in by_chain:
        switched = (chain_perms != identity).any(axis=1).mean()
        unique, counts = np.unique(chain_perms, axis=0, return_counts=True)
        rows.append((float(switched), tuple(int(k) for k in unique[counts.argmax()])))
    per_chain = pd.DataFrame(
        rows,
        columns=["share_switched", "modal_permutation"],
        index=pd.Index(posterior["chain"].values, name="chain"),
    )
    disagree = per_chain["modal_permutation"].nunique() > 1
    return LabelSwitchingReport(per_chain=per_chain, chains_disagree=bool(disagree), method=method)


def check_method(method) -> str:
    """``method`` if it names a relabelling method, else a ValueError listing them."""
    if method not in METHODS:
        raise ValueError(
            f"method={method!r} is not a relabelling method; choose one of {tuple(METHODS)}."
        )
    return method


def _relabel_rows(evaluator: MixtureEvaluator, n_rows: int) -> np.ndarray:
    if not evaluator.row_chunkable or n_rows <= MAX_RELABEL_OBS:
        return np.arange(n_rows)
    return np.unique(np.linspace(0, n_rows - 1, MAX_RELABEL_OBS).round().astype(int))


def _named_weights(model: pm.Model, spec) -> str | None:
    name = spec.weights.name
    return name if name is not None and model.named_vars.get(name) is spec.weights else None


def _component_parameters(posterior: xr.Dataset, n_components: int) -> np.ndarray:
    blocks = []
    for var in posterior.data_vars.values():
        if COMPONENT_DIM not in var.dims or var.sizes[COMPONENT_DIM] != n_components:
            continue
        moved = var.transpose("chain", "draw", COMPONENT_DIM, ...).values
        blocks.append(moved.reshape(moved.shape[0] * moved.shape[1], n_components, -1))
    if not blocks:
        raise ValueError(
            "method='pivot' matches parameters with dim 'component', and the posterior has none; "
            "give component-indexed variables dims='component', or use method='stephens'."
        )
    return np.concatenate(blocks, axis=-1)


def _as_dataarray(perms: np.ndarray, posterior: xr.Dataset) -> xr.DataArray:
    import xarray as xr

    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    return xr.DataArray(
        perms.reshape(n_chains, n_draws, -1),
        dims=("chain", "draw", COMPONENT_DIM),
        coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values},
        name="permutation",
    )
