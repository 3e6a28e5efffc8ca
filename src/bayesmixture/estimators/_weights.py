"""The prior of the mixture weights, shared by every estimator (``weights_prior=``).

- A number, or one number per component: a Dirichlet concentration.
- ``"sparse"``: the sparse finite mixture's Dirichlet(0.01, ..., 0.01) (Malsiner-Walli,
  Fruehwirth-Schnatter & Gruen 2016), small enough that superfluous components empty out.
- ``"dirichlet_process"``: a Dirichlet process truncated at ``n_components`` sticks
  (Ishwaran & James 2001), with a Gamma(1, 1) prior on its concentration ``concentration``.
  The weights are stick-breaking: w_1 = v_1, w_k = v_k prod_{j<k} (1 - v_j) with
  v_k ~ Beta(1, concentration), and the last component takes what is left. As
  scikit-learn's ``BayesianGaussianMixture(weight_concentration_prior_type=
  "dirichlet_process")``, components beyond those the data need get little weight;
  ``n_components_posterior()`` gives the posterior of the number in use.
"""

from __future__ import annotations

import numpy as np

# Dirichlet concentration of sparse finite mixtures: below d/2 (d parameters per component)
# the weight of a superfluous component goes to 0 (Rousseau & Mengersen 2011).
SPARSE_CONCENTRATION = 0.01
DIRICHLET_PROCESS = "dirichlet_process"
NAMED_PRIORS = ("sparse", DIRICHLET_PROCESS)
# Gamma(shape, rate) of the Dirichlet process concentration: mean 1, a common default
# (Escobar & West 1995 discuss the choice); with N rows it puts the prior expected number of
# clusters near log(N).
CONCENTRATION_PRIOR = (1.0, 1.0)


def is_dirichlet_process(prior) -> bool:
    """Whether ``weights_prior=prior`` asks for Dirichlet-process (stick-breaking) weights."""
    return isinstance(prior, str) and prior == DIRICHLET_PROCESS


def empties_components(prior) -> bool:
    """Whether the prior is meant to empty the components the data do not need (sparse and
    Dirichlet-process weights): an empty component is then the answer, not a failure."""
    return isinstance(prior, str) and prior in NAMED_PRIORS


def noise_concentration(alpha: np.ndarray) -> float:
    """Beta prior concentration of a noise weight: the clusters' mean Dirichlet concentration,
    so that (weights, noise weight) is a priori Dirichlet(alpha, mean(alpha))."""
    return float(np.mean(alpha))


def check_weights_prior(prior, n_components: int) -> None:
    """Raise ``ValueError`` naming ``weights_prior`` unless it is a valid prior for these sizes."""
    if is_dirichlet_process(prior):
        if n_components < 2:
            raise ValueError(
                "weights_prior='dirichlet_process' needs n_components >= 2 (the truncation: "
                "the largest number of components the fit may use)."
            )
        return
    dirichlet_concentration(prior, n_components)


def dirichlet_concentration(prior, n_components: int) -> np.ndarray:
    """The Dirichlet concentration of ``weights_prior=prior``, one positive number per component.

    Raises ``ValueError`` naming ``weights_prior`` when ``prior`` is not a positive number,
    ``n_components`` positive numbers, or ``"sparse"``.

    Examples
    --------
    >>> dirichlet_concentration(2.0, 3)
    array([2., 2., 2.])
    >>> dirichlet_concentration("sparse", 2)
    array([0.01, 0.01])
    """
    if isinstance(prior, bool | np.bool_) or (
        isinstance(prior, np.ndarray | list | tuple) and np.asarray(prior).dtype == bool
    ):
        raise ValueError(
            f"weights_prior={prior!r} is a boolean; pass a positive number (a Dirichlet "
            f"concentration, e.g. 1.0), {n_components} positive numbers, or one of "
            f"{list(NAMED_PRIORS)}."
        )
    if isinstance(prior, str):
        if prior == "sparse":
            return np.full(n_components, SPARSE_CONCENTRATION)
        if is_dirichlet_process(prior):
            raise ValueError(
                "weights_prior='dirichlet_process' has no fixed Dirichlet concentration."
            )
        alpha = None
    else:
        try:
            alpha = np.asarray(prior, dtype=float)
        except (TypeError, ValueError):
            alpha = None
    if alpha is None or alpha.ndim > 1 or (alpha.ndim == 1 and alpha.shape != (n_components,)):
        raise ValueError(
            f"weights_prior={prior!r} must be a positive number, {n_components} positive "
            f"numbers (a Dirichlet concentration), or one of {list(NAMED_PRIORS)}."
        )
    if not np.all(np.isfinite(alpha)) or np.any(alpha <= 0):
        raise ValueError(f"weights_prior={prior!r} must be positive.")
    return np.broadcast_to(alpha, (n_components,)).copy()


def weights_variable(prior, n_components: int, name: str = "weights", dims="component"):
    """The weights' random variable in the current PyMC model.

    Dirichlet(concentration) for a fixed concentration; for ``"dirichlet_process"`` a
    ``concentration`` ~ Gamma(1, 1) and ``pm.StickBreakingWeights`` with ``n_components - 1``
    sticks (so ``n_components`` weights).
    """
    import pymc as pm

    if is_dirichlet_process(prior):
        shape, rate = (np.float64(value) for value in CONCENTRATION_PRIOR)
        concentration = pm.Gamma("concentration", alpha=shape, beta=rate)
        return pm.StickBreakingWeights(name, alpha=concentration, K=n_components - 1, dims=dims)
    return pm.Dirichlet(name, dirichlet_concentration(prior, n_components), dims=dims)
