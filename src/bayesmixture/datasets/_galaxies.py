"""The galaxies velocities, shipped inside the package: the classic test of "how many clusters"."""

from __future__ import annotations

from importlib import resources

import numpy as np


def load_galaxies() -> np.ndarray:
    """Load the velocities (km/s) of 82 galaxies in the Corona Borealis region.

    The data of Postman, Huchra and Geller (1986) as Roeder (1990) analysed them and R's
    MASS package ships them (``MASS::galaxies``), sorted. Clustered velocities suggest
    superclusters separated by voids; how many there are is the classic test of mixtures
    with an unknown number of components (Richardson and Green 1997), whose answer depends
    on the priors.

    Returns
    -------
    numpy.ndarray of shape (82,)
        The velocities in km/s, ascending.

    References
    ----------
    Postman, M., Huchra, J. P. and Geller, M. J. (1986). Probes of large-scale structure in
    the Corona Borealis region. The Astronomical Journal 92, 1238-1247.

    Roeder, K. (1990). Density estimation with confidence sets exemplified by superclusters
    and voids in the galaxies. Journal of the American Statistical Association 85, 617-624.

    Richardson, S. and Green, P. J. (1997). On Bayesian analysis of mixtures with an unknown
    number of components. Journal of the Royal Statistical Society B 59, 731-792.

    Examples
    --------
    >>> from bayesmixture.datasets import load_galaxies
    >>> velocities = load_galaxies()
    >>> velocities.shape, velocities.min(), velocities.max()
    ((82,), np.float64(9172.0), np.float64(34279.0))
    """
    with resources.files(__package__).joinpath("data/galaxies.csv").open("r") as handle:
        return np.loadtxt(handle, skiprows=1, dtype=float)
