"""Minibatch ADVI for mixtures too large for NUTS: a fast, approximate posterior.

The model is the caller's own (built with :func:`bayesmixture.mixture` on all the data). A
copy of it is made in which the mixture's observed rows are a ``pm.Minibatch`` of the data
and the likelihood is scaled by n_obs / batch_size (PyMC's ``total_size``), so each step of
the optimiser sees one random batch. Draws from the fitted mean-field Gaussian come back with
the model's variable names, so :func:`bayesmixture.membership` and
:func:`bayesmixture.predict_membership` work on them with the full-data model.

Mean-field ADVI finds one mode and underestimates posterior spread; docs/scaling.md compares
it with NUTS where both run.
"""

from __future__ import annotations

import time

import arviz as az
import numpy as np
import pymc as pm
import pytensor
from pymc.model.fgraph import fgraph_from_model, model_from_fgraph, model_observed_rv
from pymc.variational.minibatch_rv import create_minibatch_rv

from bayesmixture._spec import lookup
from bayesmixture._validation import check_positive_int
from bayesmixture.evaluation import rows_are_independent

__all__ = ["fit_advi_minibatch"]

# Share of the last iterations whose mean loss is reported as the final loss.
FINAL_LOSS_SHARE = 0.1


def fit_advi_minibatch(
    model: pm.Model,
    name: str,
    *,
    batch_size: int = 1_000,
    n_iter: int = 20_000,
    draws: int = 1_000,
    learning_rate: float = 0.01,
    start: dict | None = None,
    random_seed: int | None = None,
    progressbar: bool = False,
) -> az.InferenceData:
    """Fit ``model`` by mean-field ADVI on minibatches of the mixture's rows.

    Parameters
    ----------
    model : pymc.Model
        A model whose likelihood ``name`` was built with :func:`bayesmixture.mixture` on the
        full data, with independent rows (no per-observation weights, groups or
        case_weights) and no ``initval`` (pass ``start`` instead). Not modified.
    name : str
        Name of the mixture's observed variable.
    batch_size : int, default 1000
        Rows per optimisation step (at most the number of rows).
    n_iter : int, default 20000
        Optimisation steps (Adam).
    draws : int, default 1000
        Draws taken from the fitted approximation.
    learning_rate : float, default 0.01
        Adam's step size.
    start : dict, optional
        Starting means of the approximation by variable name (constrained values), e.g.
        k-means centres for the component means. Mixtures are multimodal: a good start
        matters more for ADVI than for NUTS.
    random_seed : int, optional
        Seed of the batches, the optimiser's noise and the draws.
    progressbar : bool, default False
        Show the optimiser's progress.

    Returns
    -------
    arviz.InferenceData
        A ``posterior`` group with one chain of ``draws`` draws of every free variable and
        deterministic, under the model's names and dims; ``posterior.attrs`` records the
        method, ``batch_size``, ``n_iter``, the final loss and the wall time.

    Raises
    ------
    ValueError
        If ``name`` is not a mixture of ``model``, its rows are not independent, the model
        sets initial values, or ``batch_size`` is larger than the data.

    Examples
    --------
    >>> import numpy as np, pymc as pm, bayesmixture as bm
    >>> from bayesmixture.inference import fit_advi_minibatch
    >>> y = np.random.default_rng(0).normal(size=400) + np.repeat([-4.0, 4.0], 200)
    >>> with pm.Model(coords={"component": [0, 1]}) as model:
    ...     w = pm.Dirichlet("w", np.ones(2), dims="component")
    ...     mu = pm.Normal("mu", 0.0, 5.0, dims="component")
    ...     _ = bm.mixture("y", w, pm.Normal.dist(mu, 1.0), y)
    >>> idata = fit_advi_minibatch(model, "y", batch_size=100, n_iter=3000, draws=200,
    ...                            start={"mu": np.array([-1.0, 1.0])}, random_seed=1)
    >>> np.round(np.sort(idata.posterior["mu"].mean(("chain", "draw")).values)).tolist()
    [-4.0, 4.0]
    >>> labels = bm.membership(model, idata, "y")["label"].values
    >>> len(set(labels[:200])), len(set(labels[200:])), bool(labels[0] != labels[-1])
    (1, 1, True)
    """
    values = _check_mixture(model, name)
    batch_size = check_positive_int(batch_size, "batch_size", maximum=len(values))
    n_iter = check_positive_int(n_iter, "n_iter")
    draws = check_positive_int(draws, "draws")
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate={learning_rate!r} must be a positive number.")
    rng = np.random.default_rng(random_seed)
    fit_seed, draw_seed = (int(s) for s in rng.integers(2**31 - 1, size=2))
    fit_model = _minibatch_model(model, name, values, batch_size)
    started = time.perf_counter()
    with fit_model:
        approx = pm.fit(
            n_iter,
            method="advi",
            start=start,
            random_seed=fit_seed,
            progressbar=progressbar,
            obj_optimizer=pm.adam(learning_rate=learning_rate),
        )
    posterior = approx.sample(draws, random_seed=draw_seed, return_inferencedata=True).posterior
    tail = approx.hist[-max(1, int(len(approx.hist) * FINAL_LOSS_SHARE)) :]
    posterior.attrs.update(
        {
            "bayesmixture_method": "advi-minibatch",
            "bayesmixture_batch_size": batch_size,
            "bayesmixture_n_iter": n_iter,
            "bayesmixture_final_loss": float(np.mean(tail)),
            "bayesmixture_wall_time": time.perf_counter() - started,
        }
    )
    return az.InferenceData(posterior=posterior)


def _check_mixture(model: pm.Model, name: str) -> np.ndarray:
    """The mixture's data, after checking that its rows can be drawn in batches."""
    spec = lookup(model, name)
    if not rows_are_independent(spec) or spec.case_weights is not None:
        raise ValueError(
            f"mixture {name!r} has per-observation weights, groups or case_weights, which "
            "cannot follow random batches of rows; fit it with bayesmixture.inference.sample."
        )
    if any(value is not None for value in model.rvs_to_initial_values.values()):
        set_by = sorted(rv.name for rv, v in model.rvs_to_initial_values.items() if v is not None)
        raise ValueError(
            f"the model sets initial values for {set_by} (initval=...), which the minibatch "
            "copy of the model cannot carry; build the model without initval and pass "
            "start={...} to fit_advi_minibatch instead."
        )
    observed = spec.observed
    return np.asarray(observed.get_value() if hasattr(observed, "get_value") else observed)


def _minibatch_model(model: pm.Model, name: str, values: np.ndarray, batch_size: int):
    """A copy of ``model`` whose mixture sees random batches, scaled up to all the rows."""
    fgraph, memo = fgraph_from_model(model)
    old = memo[model[name]]
    rv = old.owner.inputs[0]
    batch = pm.Minibatch(pytensor.shared(values), batch_size=batch_size)
    # Dims are dropped: the batch is not the "obs" dim.
    new = model_observed_rv(create_minibatch_rv(rv, total_size=len(values)), batch)
    new.name = name
    fgraph.replace(old, new, import_missing=True)
    return model_from_fgraph(fgraph, mutate_fgraph=True)
