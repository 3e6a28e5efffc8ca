"""Bundled data (Palmer penguins, galaxy velocities) and generators of synthetic mixtures."""

from bayesmixture.datasets._galaxies import load_galaxies
from bayesmixture.datasets._generators import (
    OperatorMixture,
    make_gaussian_mixture,
    make_operator_mixture,
)
from bayesmixture.datasets._penguins import PENGUIN_MEASUREMENTS, load_penguins

__all__ = [
    "PENGUIN_MEASUREMENTS",
    "OperatorMixture",
    "load_galaxies",
    "load_penguins",
    "make_gaussian_mixture",
    "make_operator_mixture",
]
