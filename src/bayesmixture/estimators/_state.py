"""What a fit learned from its data: one frozen dataclass per estimator.

``fit`` validates the data once and keeps the result as a fit state: the observed array as
the mixture sees it, the standardisation, groups, labelled rows and their classes, the noise
component's box, trials, designs. Everything after validation reads it (the PyMC model, the
compiled density, the starts, the scorers, prediction), and :mod:`bayesmixture.io` saves it
by walking its fields, so a new field is saved and loaded without touching ``io``. A typo in
a field name is an ``AttributeError`` at once, not a missing dict key later.

Fields hold arrays, numbers, strings, lists and ``None`` (what ``io`` knows how to store);
``data`` maps the names of the model's ``pm.Data`` containers to their values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Name of a noise component in membership tables (and in predictions when the classes of
# partly labelled rows are strings; otherwise predictions give the noise as -1).
NOISE = "noise"
NOISE_CODE = -1


@dataclass(frozen=True, kw_only=True)
class FitState:
    """Validated training data, as the model sees it, plus what prediction needs again.

    Attributes
    ----------
    value : ndarray
        The mixture's observed array (standardised X, y, ...); NaN marks missing entries.
    n_obs : int
        Rows of the training data.
    feature_names : list of str or None
        The user's column names when X was a DataFrame.
    data : dict of str to ndarray
        Values of the model's ``pm.Data`` containers (group index, designs, trials).
    row_labels : ndarray of int or None
        Partly labelled rows: each row's class code (index into ``classes``), -1 if unknown.
    classes : list or None
        The classes of labelled rows, sorted, in the user's own type (str, int or float).
    """

    value: np.ndarray
    n_obs: int
    feature_names: list[str] | None = None
    data: dict[str, np.ndarray] = field(default_factory=dict)
    row_labels: np.ndarray | None = None
    classes: list | None = None

    @property
    def labelled(self) -> bool:
        """Whether some rows were fitted with a known class."""
        return self.classes is not None


@dataclass(frozen=True, kw_only=True)
class GaussianFitState(FitState):
    """Fit state of :class:`~bayesmixture.GaussianMixture` and ``StudentTMixture``.

    Attributes
    ----------
    names : list of str
        Column names (the user's, or ``x0, x1, ...``).
    center, scale : ndarray of shape (n_features,)
        Standardisation: ``value = (X - center) / scale``.
    group_names : ndarray or None
        Per-group weights: the groups, in the order of ``data["group_index"]``.
    label_group_names, label_group_codes : ndarray or None
        ``shared_label=True``: the groups, and each row's group.
    sample_weight : ndarray or None
        Frequency weights of the rows.
    noise_lower, noise_upper : ndarray or None
        The noise component's box (standardised units), with ``noise=True``.
    """

    names: list[str]
    center: np.ndarray
    scale: np.ndarray
    group_names: np.ndarray | None = None
    label_group_names: np.ndarray | None = None
    label_group_codes: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    noise_lower: np.ndarray | None = None
    noise_upper: np.ndarray | None = None

    @property
    def has_noise(self) -> bool:
        return self.noise_lower is not None

    @property
    def shared_label(self) -> bool:
        return self.label_group_codes is not None


@dataclass(frozen=True, kw_only=True)
class MixtureFitState(FitState):
    """Fit state of :class:`~bayesmixture.Mixture`.

    Attributes
    ----------
    trials : int, ndarray or None
        Trials of binomial components (one number, or one per row).
    """

    trials: int | np.ndarray | None = None


@dataclass(frozen=True, kw_only=True)
class RegressionFitState(FitState):
    """Fit state of :class:`~bayesmixture.MixtureRegression`.

    Attributes
    ----------
    names : list of str
        Columns of the design(s).
    per_component : bool
        One design per component (else one shared design).
    gate : list of int
        Columns of X that set the weights (``weights_from=``).
    x_center, x_scale : ndarray of shape (n_coef,)
        Standardisation of the design's columns.
    y_center, y_scale : float
        Standardisation of the response (0 and 1 for counts).
    """

    names: list[str]
    per_component: bool
    gate: list[int]
    x_center: np.ndarray
    x_scale: np.ndarray
    y_center: float
    y_scale: float


def prediction_labels(component_names: list, classes: list | None, noise: bool) -> np.ndarray:
    """What :meth:`predict` gives for each component index (the noise last).

    Without classes, components are 0..K-1. With classes, the components' names in the
    classes' own type. A noise component is -1 (``NOISE_CODE``), or ``"noise"`` when the
    classes are strings.
    """
    names = list(component_names) if classes is not None else list(range(len(component_names)))
    if noise:
        names.append(NOISE if classes is not None and _are_strings(classes) else NOISE_CODE)
    array = np.asarray(names)
    if classes is not None and not _are_strings(classes):
        array = array.astype(np.asarray(classes).dtype)
    return array


def _are_strings(classes: list) -> bool:
    return any(isinstance(c, str) for c in classes)
