"""GaussianMixture's PyMC model: the reference density that the compiled kernel is tested
against, built in named steps from the fit state and the estimator's priors; and the names
of its variables (dims, coords, data) without building it, for draws sampled on the kernel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bayesmixture._cholesky import corr_cholesky, lkj_cpc_concentration
from bayesmixture._validation import check_case_weights, group_codes
from bayesmixture.estimators._covariance import CovarianceType, check_covariance_type
from bayesmixture.estimators._labels import component_names
from bayesmixture.estimators._state import GaussianFitState
from bayesmixture.estimators._weights import (
    dirichlet_concentration,
    is_dirichlet_process,
    noise_concentration,
    weights_variable,
)

if TYPE_CHECKING:
    import pymc as pm


def model_coords(estimator, fit: GaussianFitState) -> dict:
    """The model's coordinates: components (the classes of labelled rows first), the columns,
    their pairs (as the CPCs order them), rows and groups."""
    K, D = estimator.n_components, len(fit.names)
    rows, cols = np.tril_indices(D, -1)
    coords = {
        "component": np.arange(K) if fit.classes is None else component_names(fit.classes, K),
        "feature": fit.names,
        "feature2": fit.names,
        "obs": np.arange(fit.n_obs),
        "feature_pair": [f"{fit.names[i]}|{fit.names[j]}" for i, j in zip(rows, cols, strict=True)],
    }
    if fit.group_names is not None:
        coords["group"] = fit.group_names
    return coords


def inference_layout(estimator, fit: GaussianFitState):
    """What ``pm.sample`` records from the model of ``build_gaussian_model`` besides the draws
    (each variable's dims, the coords, the observed and constant data), without building it.

    The variables and their dims are those the steps below create; a test holds the
    InferenceData built with this equal to the one built from the model, option by option.
    """
    from bayesmixture.inference._compiled import InferenceLayout, pymc_coords, pymc_data

    kind = check_covariance_type(estimator.covariance_type)
    component_feature = ("component", "feature")
    dims = {
        "mu": component_feature,
        "sd": kind.sd_dims(),
        "means": component_feature,
        estimator._matrix_name: ("component", "feature", "feature2"),
        "sigmas": component_feature,
        "X": ("obs", "feature"),
        **estimator._component_param_dims(),
    }
    if kind.correlated and len(fit.names) > 1:
        dims["cpc"] = kind.cpc_dims()
    constant = {}
    if "group_index" in fit.data:
        dims.update(group_weights=("group", "component"), group_index=("obs",))
        constant["group_index"] = pymc_data(fit.data["group_index"])
    else:
        dims["weights"] = ("component",)
        if is_dirichlet_process(estimator.weights_prior):
            dims["concentration"] = ()
    if fit.has_noise:
        dims["noise_weight"] = ()
    if estimator.missing != "marginalize":
        dims["X_std"] = ("obs", "feature")
    # the observed value PyMC keeps: the data, with zeros where an entry is missing
    observed = np.where(np.isnan(fit.value), 0.0, fit.value)
    return InferenceLayout(
        coords=pymc_coords(model_coords(estimator, fit)),
        dims=dims,
        observed={"X": pymc_data(observed)},
        constant=constant,
    )


def scoring_spec(estimator, fit: GaussianFitState):
    """The ``ArraySpec`` of the mixture ``build_gaussian_model`` records (``lookup(model,
    "X")``): its components (the noise included), data, weights' name, label groups and
    case weights, from the fit state."""
    from bayesmixture._spec import ArraySpec

    groups = group_names = case_weights = None
    label_groups = _label_groups(fit)
    if label_groups is not None:
        groups, group_names = group_codes(label_groups, fit.n_obs)
    if fit.sample_weight is not None:
        case_weights = check_case_weights(fit.sample_weight, fit.n_obs)
    named = "group_index" not in fit.data and not fit.has_noise
    return ArraySpec(
        name="X",
        n_components=estimator.n_components + int(fit.has_noise),
        value=fit.value,
        weights_name="weights" if named else None,
        groups=groups,
        group_names=group_names,
        case_weights=case_weights,
    )


def build_gaussian_model(estimator, fit: GaussianFitState) -> pm.Model:
    """Weights, means, covariance factors and components, then the mixture and the
    deterministics in data units."""
    import pymc as pm

    from bayesmixture.likelihood import mixture

    K, D = estimator.n_components, fit.value.shape[1]
    if "group_index" in fit.data and is_dirichlet_process(estimator.weights_prior):
        raise ValueError(
            "weights_prior='dirichlet_process' gives one set of weights; with groups= each "
            "group has its own weights: use a Dirichlet weights_prior, or shared_label=True."
        )
    with pm.Model(coords=model_coords(estimator, fit)) as model:
        # Rows with gaps are marginalised from a constant (pm.Data refuses NaN).
        marginalize = estimator.missing == "marginalize"
        X_std = fit.value if marginalize else pm.Data("X_std", fit.value, dims=("obs", "feature"))
        weights = _weights(estimator, fit, K)
        # float64 scales: PyTensor stores a Python float such as 1.5 as a float32 constant,
        # and its log then loses ~1e-8 per term. Static shapes beside the dims: the mixture
        # then knows K without evaluating it.
        mean_sd = np.float64(estimator.mean_prior_sd)
        mu = pm.Normal("mu", 0.0, mean_sd, dims=("component", "feature"), shape=(K, D))
        kind = check_covariance_type(estimator.covariance_type)
        chol = cholesky_factors(kind, K, D, estimator.scale_prior_sd, estimator.lkj_eta)
        mixture(
            "X",
            weights,
            _components(estimator, fit, mu, chol, K),
            X_std,
            dims=("obs", "feature"),
            groups=_label_groups(fit),
            case_weights=fit.sample_weight,
            missing=estimator.missing,
            known=fit.row_labels,
        )
        report_original_units(estimator, mu, chol, fit)
    return model


def _weights(estimator, fit: GaussianFitState, K: int):
    import pymc as pm

    if "group_index" in fit.data:
        group_index = pm.Data("group_index", fit.data["group_index"], dims="obs")
        alpha = dirichlet_concentration(estimator.weights_prior, K)
        n_groups = len(fit.group_names)
        W = pm.Dirichlet(
            "group_weights",
            np.broadcast_to(alpha, (n_groups, K)),
            dims=("group", "component"),
            shape=(n_groups, K),
        )
        weights = W[group_index]
    else:
        weights = weights_variable(estimator.weights_prior, K)
    return _with_noise_weight(estimator, weights, K) if fit.has_noise else weights


def _components(estimator, fit: GaussianFitState, mu, chol, K: int):
    params = estimator._component_params()
    if not fit.has_noise:
        return estimator._component_dist(mu, chol, **params)
    # one distribution per component, then the noise
    return [
        estimator._component_dist(
            mu[k],
            chol[k] if chol.ndim == 3 else chol,
            **{name: value[k] for name, value in params.items()},
        )
        for k in range(K)
    ] + [noise_component(fit.noise_lower, fit.noise_upper)]


def _with_noise_weight(estimator, weights, K: int):
    """The mixture's weights with a noise component: [(1 - pi) w, pi], pi the variable
    ``noise_weight`` ~ Beta(mean(alpha), sum(alpha)) (see ``noise``)."""
    import pymc as pm
    import pytensor.tensor as pt

    alpha = dirichlet_concentration(estimator.weights_prior, K)
    concentration = np.float64(noise_concentration(alpha))
    pi = pm.Beta("noise_weight", concentration, np.float64(alpha.sum()))
    return pt.concatenate([(1.0 - pi) * weights, pi[None]])


def cholesky_factors(kind: CovarianceType, K: int, D: int, scale_prior_sd: float, lkj_eta: float):
    """Cholesky factors of the covariances (model scale): (K, D, D), or (D, D) when shared.

    ``sd`` ~ HalfNormal(scale_prior_sd) with the type's dims; correlated types add ``cpc``
    ~ Beta (LKJ(lkj_eta) correlations through canonical partial correlations).
    """
    import pymc as pm
    import pytensor.tensor as pt

    sizes = {"component": K, "feature": D, "feature_pair": D * (D - 1) // 2}
    sd_dims = kind.sd_dims()
    sd = pm.HalfNormal(
        "sd",
        np.float64(scale_prior_sd),
        dims=sd_dims,
        shape=tuple(sizes[dim] for dim in sd_dims),
    )
    if kind.round:
        return (sd if kind.shared else sd[:, None, None]) * pt.eye(D)
    if not kind.correlated or D == 1:
        return pt.expand_dims(sd, -1) * pt.eye(D)
    concentration = lkj_cpc_concentration(lkj_eta, D)
    cpc_dims = kind.cpc_dims()
    cpc_shape = tuple(sizes[dim] for dim in cpc_dims)
    cpc = pm.Beta("cpc", concentration, concentration, dims=cpc_dims, shape=cpc_shape)
    return pt.expand_dims(sd, -1) * corr_cholesky(2.0 * cpc - 1.0, D)


def report_original_units(estimator, mu, chol, fit: GaussianFitState) -> None:
    """``means``, the components' matrices and ``sigmas`` in the data's units."""
    import pymc as pm
    import pytensor.tensor as pt

    K = estimator.n_components
    scale, center = fit.scale, fit.center
    cov = pt.matmul(chol, pt.swapaxes(chol, -1, -2)) * np.outer(scale, scale)
    cov = pt.broadcast_to(cov, (K, len(scale), len(scale)))
    pm.Deterministic("means", mu * scale + center, dims=("component", "feature"))
    pm.Deterministic(estimator._matrix_name, cov, dims=("component", "feature", "feature2"))
    sigmas = pt.sqrt(pt.diagonal(cov, axis1=-2, axis2=-1))
    pm.Deterministic("sigmas", sigmas, dims=("component", "feature"))


def noise_component(lower: np.ndarray, upper: np.ndarray):
    """mclust's noise component: a constant density 1 / volume of the box [lower, upper]
    (standardised units) for every row, drawn uniformly in the box."""
    import pymc as pm
    import pytensor.tensor as pt

    log_volume = float(np.log(np.asarray(upper) - np.asarray(lower)).sum())

    def logp(value, lower, upper):
        return pt.zeros(value.shape[:-1]) - log_volume

    def random(lower, upper, rng=None, size=None):
        shape = (*(size or ()), len(lower)) if size is not None else np.shape(lower)
        return rng.uniform(lower, upper, size=shape)

    return pm.CustomDist.dist(
        np.asarray(lower, dtype=float),
        np.asarray(upper, dtype=float),
        logp=logp,
        random=random,
        signature="(d),(d)->(d)",
    )


def _label_groups(fit: GaussianFitState):
    """Each row's group label for a shared-label fit (None otherwise)."""
    if fit.label_group_codes is None:
        return None
    return np.asarray(fit.label_group_names)[np.asarray(fit.label_group_codes)]
