"""Response families of MixtureRegression (``family=``): the link, the component
distribution given the linear predictor, what y may hold, and a start for EM.

``"normal"`` is the linear regression (identity link, y standardised); the count and binary
families are generalised linear models as flexmix's GLM components: ``"poisson"`` and
``"negbinomial"`` with a log link, ``"binomial"`` with a logit link and ``trials`` per row.
For these y is modelled in its own units (not standardised); the design still is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Prior of the negative binomial's dispersion (PyMC's alpha: variance mu + mu^2 / alpha),
# the same as Mixture's "negbinomial" family: Gamma(2, 0.5), mean 4.
DISPERSION_PRIOR = (2.0, 0.5)


@dataclass(frozen=True)
class ResponseFamily:
    name: str
    link: str  # "identity", "log" or "logit"
    counts: bool  # y holds non-negative integers

    def start_response(self, y: np.ndarray, trials) -> np.ndarray:
        """y on the scale of the linear predictor, for the EM start (a least-squares fit)."""
        if self.link == "log":
            return np.log(y + 0.5)
        if self.link == "logit":
            return np.log((y + 0.5) / (trials - y + 0.5))
        return y

    def component(self, eta, trials):
        """The components' distribution given the linear predictor ``eta`` (obs, component)."""
        import pymc as pm

        if self.name == "poisson":
            return pm.Poisson.dist(mu=pm.math.exp(eta))
        if self.name == "negbinomial":
            shape, rate = (np.float64(v) for v in DISPERSION_PRIOR)
            dispersion = pm.Gamma("dispersion", alpha=shape, beta=rate, dims="component")
            return pm.NegativeBinomial.dist(mu=pm.math.exp(eta), alpha=dispersion)
        if self.name == "binomial":
            return pm.Binomial.dist(n=trials, logit_p=eta)
        raise ValueError(f"family {self.name!r} has no count component")

    def check_response(self, y: np.ndarray, trials) -> None:
        """Raise ``ValueError`` naming the first row of y outside the family's support."""
        if not self.counts:
            return
        bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
        what = "a non-negative integer"
        if self.name == "binomial":
            bad |= y > trials
            what = f"an integer from 0 to trials={trials}"
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"y[{row}] = {float(y[row])}: family={self.name!r} needs each y to be {what}."
            )


RESPONSE_FAMILIES = {
    family.name: family
    for family in (
        ResponseFamily("normal", "identity", counts=False),
        ResponseFamily("poisson", "log", counts=True),
        ResponseFamily("negbinomial", "log", counts=True),
        ResponseFamily("binomial", "logit", counts=True),
    )
}


def check_trials(family: str, trials) -> int | None:
    """``trials=`` as an int for the binomial family (None otherwise); ValueError when bad."""
    if family != "binomial":
        if trials is not None:
            raise ValueError(f"trials={trials!r} is for family='binomial' only; drop it.")
        return None
    if isinstance(trials, bool) or not isinstance(trials, int | np.integer) or trials < 1:
        raise ValueError(
            f"trials={trials!r}: family='binomial' needs trials= as one positive integer "
            "(the number of trials behind every y)."
        )
    return int(trials)
