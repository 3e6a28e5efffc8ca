"""Bundled data (Palmer penguins) and generators of synthetic mixtures."""

from bayesmixture.datasets._generators import (
    OperatorMixture,
    make_gaussian_mixture,
    make_operator_mixture,
)
from bayesmixture.datasets._penguins import PENGUIN_MEASUREMENTS, load_penguins

__all__ = [
    "PENGUIN_MEASUREMENTS",
    "OperatorMixture",
    "load_penguins",
    "make_gaussian_mixture",
    "make_operator_mixture",
]
