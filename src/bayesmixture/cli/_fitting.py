"""From the command's options to a fitted estimator of the library (the CLI's only model code)."""

from __future__ import annotations

import secrets

import pandas as pd
from rich.console import Console

import bayesmixture as bm
from bayesmixture.cli._choices import TABLE_MODELS
from bayesmixture.cli._errors import InputError
from bayesmixture.cli._input import Rows, check_components_fit
from bayesmixture.cli._options import FitOptions
from bayesmixture.cli._progress import FitProgress, stderr_console


def make_estimator(options: FitOptions):
    """The unfitted estimator the options ask for: GaussianMixture or a one-family Mixture."""
    params = {
        "draws": options.draws,
        "tune": options.tune,
        "chains": options.chains,
        "sampler": options.sampler,
        "random_seed": options.seed,
        "progressbar": options.progress,
        "weights_prior": options.weights_prior_value,
    }
    if options.model in TABLE_MODELS:
        estimator = bm.StudentTMixture if options.model == "t" else bm.GaussianMixture
        missing = "marginalize" if options.missing == "marginalize" else "error"
        return estimator(
            options.components,
            covariance_type=options.covariance,
            noise=options.noise,
            missing=missing,
            **params,
        )
    return bm.Mixture(options.model, options.components, **params)


def model_input(frame: pd.DataFrame, model: str):
    """What the estimator's fit/predict takes: the table, or its one column."""
    if model in TABLE_MODELS:
        return frame
    if frame.shape[1] != 1:
        raise InputError(
            f"--model {model} models one column, but {frame.shape[1]} were chosen "
            f"({', '.join(frame.columns)}); pass one with --columns, or use --model gaussian."
        )
    return frame.iloc[:, 0]


def fit_arguments(rows: Rows, options: FitOptions) -> tuple[tuple, dict]:
    """The positional and keyword arguments of the estimator's fit: the rows, the classes."""
    X = model_input(rows.frame, options.model)
    if rows.labels is None:
        return (X,), {}
    return (X,), {"labels": _typed(rows.labels)}


def _typed(labels: pd.Series):
    """The labels column as the estimators take it: numbers stay numbers (whole numbers as
    integers), text stays text; empty cells are unlabelled."""
    numbers = pd.to_numeric(labels, errors="coerce")
    if numbers.notna().sum() == labels.notna().sum():  # every given class is a number
        whole = numbers.dropna()
        if (whole == whole.round()).all():
            return numbers.fillna(-1).astype(int).to_numpy()
        return numbers.to_numpy(dtype=float)
    return labels.to_numpy(dtype=object)


def check_rows_fit(k: int, rows: Rows, options: FitOptions) -> None:
    """InputError if the rows are too few for ``k`` clusters of the chosen model."""
    covariance = options.covariance if options.model in TABLE_MODELS else None
    check_components_fit(k, rows, covariance)


def fit_rows(rows: Rows, options: FitOptions, console: Console):
    """Fit the chosen model to the rows, with a spinner while it compiles."""
    check_rows_fit(options.components, rows, options)
    resolve_seed(options)
    estimator = make_estimator(options)
    args, kwargs = fit_arguments(rows, options)
    what = f"{options.components} clusters"
    # Sampling checks come back as ConvergenceWarnings: the summary printed after the fit
    # lists every failed one with its advice, and the command's tidy_warnings drops them.
    with FitProgress(stderr_console(), options, stdout=console, what=what):
        return estimator.fit(*args, **kwargs)


def resolve_seed(options: FitOptions) -> None:
    """Draw a seed when none was given, and record it in ``options`` so the fit can be repeated."""
    if options.seed is None:
        options.seed = secrets.randbelow(2**31 - 1)
