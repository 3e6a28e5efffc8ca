"""Covariance types of GaussianMixture and StudentTMixture: one record each, read by every layer.

A covariance type is three choices: one matrix per component or one ``shared`` by all, one
sd per feature or one per matrix (``round``), and whether features are ``correlated``
(correlations through canonical partial correlations, ``_cholesky.py``). From these the
record gives the PyMC factor (dims and shapes of ``sd`` and ``cpc``), the EM start
(scikit-learn's covariance type to run, and the conversion of its answer), the starting
``sd``/``cpc`` values, the compiled kernel's flags, and the words users see (``--help``,
messages). Adding a type is one entry in ``COVARIANCES`` (see
``docs/architecture.md``, "A covariance type").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesmixture._cholesky import covariance_to_sd_cpc


@dataclass(frozen=True)
class CovarianceType:
    """One covariance structure of Gaussian (or Student-t) components.

    Attributes
    ----------
    name : str
        What ``covariance_type=`` takes.
    shared : bool
        One covariance matrix shared by every component (else one per component).
    round : bool
        One sd per matrix (else one per feature).
    correlated : bool
        Features are correlated (LKJ prior through CPCs); else the matrix is diagonal.
    note : str
        A few words of help (the command line's ``--covariance`` lists them).
    em_type : str
        scikit-learn's ``covariance_type`` whose EM fit starts the chains.
    """

    name: str
    shared: bool
    round: bool
    correlated: bool
    note: str
    em_type: str

    def __post_init__(self):
        if self.round and self.correlated:
            raise ValueError(f"covariance type {self.name!r}: a round matrix has no correlations.")

    def sd_dims(self) -> tuple[str, ...]:
        """Dims of the ``sd`` variable."""
        return (() if self.shared else ("component",)) + (() if self.round else ("feature",))

    def cpc_dims(self) -> tuple[str, ...]:
        """Dims of the ``cpc`` variable (when ``correlated``)."""
        return (() if self.shared else ("component",)) + ("feature_pair",)

    def n_factors(self, n_components: int) -> int:
        return 1 if self.shared else n_components

    def n_parameters(self, n_components: int, n_features: int) -> int:
        """Free parameters of the covariances (sds and correlations)."""
        per_matrix = (1 if self.round else n_features) + (
            n_features * (n_features - 1) // 2 if self.correlated else 0
        )
        return self.n_factors(n_components) * per_matrix

    def rows_per_component(self, n_features: int) -> int:
        """Rows each component needs so that its covariance is learnt from its rows (the
        scatter of m rows about their mean has rank m - 1): one more than the features when
        a component has its own correlations, else 2 (see ``min_rows``)."""
        return n_features + 1 if self.correlated and not self.shared else 2

    def min_rows(self, n_components: int, n_features: int) -> int:
        """Fewest rows for ``n_components`` components: ``rows_per_component`` each, and for
        a shared matrix with correlations the rows less one mean per component must reach
        the features (n_components + n_features in all)."""
        rows = n_components * self.rows_per_component(n_features)
        if self.shared and self.correlated:
            rows = max(rows, n_components + n_features)
        return int(rows)

    def from_em(self, covariances: np.ndarray, n_features: int) -> np.ndarray:
        """scikit-learn's ``covariances_`` of an ``em_type`` fit, in this type's layout."""
        layout = _SKLEARN_LAYOUT[self.em_type]
        return self._from_full(layout(np.asarray(covariances), n_features))

    def from_variances(self, variances: np.ndarray) -> np.ndarray:
        """This type's covariances (layout of ``from_em``) from per-component variances (K, D)."""
        return self._from_full(np.stack([np.diag(v) for v in variances]))

    def _from_full(self, full: np.ndarray) -> np.ndarray:
        """(K, D, D) matrices in this type's layout: full (K, D, D), shared (D, D), a
        diagonal (K, D) or (D,), round (K,) or ()."""
        if self.shared:
            full = full.mean(axis=0, keepdims=True)
        if not self.correlated:
            full = np.diagonal(full, axis1=-2, axis2=-1)  # (F, D) variances
            if self.round:
                full = full.mean(axis=-1)
        return full[0] if self.shared else full

    def sd_and_cpc(self, covariances: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Starting ``sd`` (shape of ``sd_dims``) and CPCs (or None) of covariances in this
        type's layout."""
        if self.correlated:
            return covariance_to_sd_cpc(covariances)
        return np.sqrt(covariances), None


COVARIANCES: dict[str, CovarianceType] = {
    "full": CovarianceType("full", False, False, True, "any orientation", "full"),
    "tied": CovarianceType("tied", True, False, True, "one shared covariance", "tied"),
    "diag": CovarianceType("diag", False, False, False, "axis-aligned", "diag"),
    "spherical": CovarianceType("spherical", False, True, False, "round", "spherical"),
}


def covariance_types() -> tuple[str, ...]:
    """The names ``covariance_type=`` takes, in the table's order."""
    return tuple(COVARIANCES)


def register_covariance_type(kind: CovarianceType) -> CovarianceType:
    """Add a covariance type (or replace one of the same name); every layer reads the table."""
    COVARIANCES[kind.name] = kind
    return kind


def check_covariance_type(name) -> CovarianceType:
    """The record of ``covariance_type=name``; ``ValueError`` listing the types otherwise."""
    kind = COVARIANCES.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValueError(f"covariance_type={name!r}; choose one of {covariance_types()}.")
    return kind


# scikit-learn's covariances_ of each covariance_type as (K, D, D) matrices (tied: (1, D, D))
_SKLEARN_LAYOUT = {
    "full": lambda c, d: c,
    "tied": lambda c, d: c[None],
    "diag": lambda c, d: np.stack([np.diag(v) for v in c]),
    "spherical": lambda c, d: c[:, None, None] * np.eye(d),
}
