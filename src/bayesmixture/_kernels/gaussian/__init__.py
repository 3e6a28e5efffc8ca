"""Log-density and gradient of the Gaussian and Student-t mixtures' models, in Numba.

A pure function of (unconstrained parameters ``theta``, ``payload``): ``theta`` is PyMC's own
value vector of the model (``model.value_vars`` order, transforms and Jacobians included);
``payload`` is one float64 buffer holding the sizes, the prior constants and the data (laid
out by ``GAUSSIAN``, packed by :mod:`bayesmixture.estimators._fast.gaussian`). Because the
data travel in the payload instead of being frozen into the compiled code, one compilation
serves every data set, covariance type and option, and Numba caches it on disk.

Notation. Rows i, components k, factors f (one per component, or one shared for "tied").
L_f = diag(sd_f) C_f is the Cholesky factor of a covariance, C_f the Cholesky factor of its
correlation, built from canonical partial correlations (``bayesmixture._cholesky``). With
v = L^{-1} (x - mu) and q = |v|^2, a component's log-density is

- Gaussian: -q / 2 - log|L| - D log(2 pi) / 2;
- Student-t with nu degrees of freedom: lgamma((nu + D) / 2) - lgamma(nu / 2)
  - D log(nu pi) / 2 - log|L| - (nu + D) / 2 log(1 + q / nu).

With a_ik = d logp / d log p_k(x_i) (responsibilities times case weights) and
u_ik = -2 d log p_k / d q (1 for the Gaussian, (nu + D) / (nu + q) for the t), the gradient
comes from sums over rows:

    d/d mu_k = L^{-T} sum_i a_ik u_ik v_i
    d/d L    = tril(L^{-T} (sum_i a_ik u_ik v_i v_i^T - (sum_i a_ik) I)),

then the chain rule to the standard deviations, the CPCs and their unconstrained values. An
optional noise component has a fixed log-density per row (mclust's uniform background); a
labelled row (semi-supervised fits) mixes over its own component only.

Rows with missing entries (``missing="marginalize"``) contribute the marginal density of their
observed coordinates o, with covariance L_o L_o^T (L_o: rows o of L); modified Gram-Schmidt on
the rows of L_o gives L_o = J_o Q_o, J_o lower triangular and Q_o with orthonormal rows, and
in the formulas above J_o takes the place of L, D the number of observed coordinates, and
d/d L_o = J_o^{-T} (...) Q_o is added into rows o of d/dL.

Two variants, chosen per fit: "complete" rows (one pass over the rows, each row's terms summed
as it goes: ``_complete.py``) and "general" (rows with gaps, grouped by missingness pattern,
and shared labels, whose responsibilities need every row of a group first: ``_general.py``),
each with or without t components and stick-breaking weights. Numba compiles a variant on
first use (its flags are constants of the compiled code, so a plain fit compiles no code for
gaps, t components or stick-breaking weights); the parts both share (``_parameters.py``:
priors, factors, their chain rule; ``bayesmixture._kernels.weights``: the weights) are
inlined into each.
"""

from __future__ import annotations

import functools

from bayesmixture._kernels.callbacks import compile_logp, expand_cfunc, source_stamp
from bayesmixture._kernels.gaussian._complete import make_complete
from bayesmixture._kernels.gaussian._general import make_general
from bayesmixture._kernels.gaussian._layout import (
    DIAG,
    FULL,
    GAUSSIAN,
    SPHERICAL,
    TIED,
    n_cpc_params,
    n_scale_params,
)
from bayesmixture._kernels.gaussian._parameters import FASTMATH
from bayesmixture._kernels.special import HALF_LOG_2PI

__all__ = [
    "DIAG",
    "FULL",
    "GAUSSIAN",
    "HALF_LOG_2PI",
    "SPHERICAL",
    "TIED",
    "callbacks",
    "n_cpc_params",
    "n_scale_params",
]


@functools.cache
def callbacks(general: bool = False, student: bool = False, stick_breaking: bool = False) -> tuple:
    """The C callbacks nutpie calls for one variant: (logp, expand), compiled on first use
    or loaded from Numba's disk cache (see ``compiling.py``)."""
    make = make_general if general else make_complete
    logp = make(bool(student), bool(stick_breaking), source_stamp())
    return compile_logp(logp, fastmath=FASTMATH), expand_cfunc()
