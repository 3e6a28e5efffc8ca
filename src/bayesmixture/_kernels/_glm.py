"""MixtureRegression's component families at one (row, component): log p(y | eta) as PyMC
writes it, its score d/d eta, and d/d the family parameter's unconstrained value.

- normal (identity link): params (sigma, 1 / sigma, -log sigma - log(2 pi) / 2), and
  d/d log sigma = z^2 - 1 with z = (y - eta) / sigma;
- poisson (log link): mu = exp(eta), log p = y eta - mu - log y!;
- negbinomial (log link, PyMC's alpha per component): params (alpha, lgamma(alpha),
  digamma(alpha)); log p = lgamma(y + alpha) - lgamma(alpha) - log y!
  + alpha log(alpha / (mu + alpha)) + y log(mu / (mu + alpha)), the Poisson limit above
  ``NEGBINOMIAL_POISSON_ALPHA`` as PyMC;
- binomial (logit link, n trials): log p = log binom(n, y) + y log p + (n - y) log(1 - p),
  p = sigmoid(eta), with PyMC's log(0^0) = 0.

The observation-only terms (-log y!, log binom(n, y)) come precomputed in ``y_term``.
"""

from __future__ import annotations

import math

import numba

from bayesmixture._kernels.special import (
    HALF_LOG_2PI,
    NEGBINOMIAL_POISSON_ALPHA,
    digamma,
    log_sigmoid,
)

NORMAL, POISSON, NEGBINOMIAL, BINOMIAL = 0, 1, 2, 3
N_FAMILY_TERMS = 3  # per-component terms of the family's parameter

_inline = numba.njit(inline="always", error_model="numpy")


@_inline
def normal_terms(sigma, terms) -> None:
    terms[0], terms[1], terms[2] = sigma, 1.0 / sigma, -math.log(sigma) - HALF_LOG_2PI


@_inline
def negbinomial_terms(alpha, terms) -> None:
    terms[0], terms[1], terms[2] = alpha, math.lgamma(alpha), digamma(alpha)


@_inline
def component_term(family, y, y_term, n, eta, terms):
    """(log p(y | eta), d log p / d eta, d log p / d u) with u the family parameter's
    unconstrained value (log sigma or log alpha; 0 for the others)."""
    if family == NORMAL:
        z = (y - eta) * terms[1]
        return -0.5 * z * z + terms[2], z * terms[1], z * z - 1.0
    if family == BINOMIAL:
        lp = y_term
        if y != 0.0:
            lp += y * log_sigmoid(eta)
        if n - y != 0.0:
            lp += (n - y) * log_sigmoid(-eta)
        return lp, y - n * math.exp(log_sigmoid(eta)), 0.0
    mu = math.exp(eta)
    alpha = terms[0]
    if family == POISSON or alpha > NEGBINOMIAL_POISSON_ALPHA:
        return y * eta - mu + y_term, y - mu, 0.0
    total = mu + alpha
    log_total = math.log(total)
    log_share = math.log(alpha) - log_total  # log(alpha / (mu + alpha))
    lp = math.lgamma(y + alpha) - terms[1] + y_term + alpha * log_share + y * (eta - log_total)
    d_alpha = digamma(y + alpha) - terms[2] + log_share + (mu - y) / total
    return lp, y - (y + alpha) * mu / total, alpha * d_alpha
