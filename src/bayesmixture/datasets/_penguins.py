"""The Palmer penguins table, shipped inside the package (CC0; Horst, Hill & Gorman 2020)."""

from __future__ import annotations

from importlib import resources

import pandas as pd

PENGUIN_MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def load_penguins(*, dropna: bool = True) -> pd.DataFrame:
    """Load the Palmer penguins data: species, island, four measurements, sex and year.

    Parameters
    ----------
    dropna : bool, default True
        Drop the rows with a missing measurement (2 of 344), leaving 342 penguins. Rows with
        only ``sex`` missing are kept.

    Returns
    -------
    pandas.DataFrame
        One row per penguin; ``species``, ``island`` and ``sex`` are categorical, the
        measurements (``PENGUIN_MEASUREMENTS``) are floats. The index runs 0..n-1.

    Examples
    --------
    >>> from bayesmixture.datasets import load_penguins, PENGUIN_MEASUREMENTS
    >>> df = load_penguins()
    >>> df.shape, df["species"].value_counts().to_dict()
    ((342, 8), {'Adelie': 151, 'Gentoo': 123, 'Chinstrap': 68})
    >>> len(load_penguins(dropna=False))
    344
    """
    with resources.files(__package__).joinpath("data/penguins.csv").open("r") as handle:
        frame = pd.read_csv(handle)
    for column in ("species", "island", "sex"):
        frame[column] = frame[column].astype("category")
    frame[PENGUIN_MEASUREMENTS] = frame[PENGUIN_MEASUREMENTS].astype(float)
    if dropna:
        frame = frame.dropna(subset=PENGUIN_MEASUREMENTS).reset_index(drop=True)
    return frame
