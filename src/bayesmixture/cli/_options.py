"""The options the commands share: choices from the library's own tables, help, checks.

Families, covariance types and samplers are the library's tables (``estimators.FAMILIES``,
``estimators.COVARIANCE_TYPES``, ``inference.SAMPLERS``; ``select`` reads
``selection.METHODS``); this module adds only what the command line says about them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bayesmixture.cli._errors import InputError, check_choice
from bayesmixture.estimators import COVARIANCE_TYPES, FAMILIES
from bayesmixture.estimators._weights import NAMED_PRIORS
from bayesmixture.inference import SAMPLERS, resolve_sampler

# A word of help on some choices; the choices themselves come from the tables above.
COVARIANCE_NOTES = {
    "full": "any orientation",
    "diag": "axis-aligned",
    "tied": "one shared covariance",
    "spherical": "round",
}
SAMPLER_NOTES = {
    "auto": "fastest installed",
    "compiled": "the estimator's own fast density, on nutpie",
}
# Families whose rows need a number of trials, which the command line does not take.
NEEDS_TRIALS = ("binomial",)
MISSING = ("drop", "error")


def _noted_first(choices, notes: dict[str, str]) -> tuple[str, ...]:
    """The library's ``choices``: those with a note in the notes' order, then the others."""
    return tuple(c for c in notes if c in choices) + tuple(c for c in choices if c not in notes)


def _listed(choices, notes: dict[str, str], last: str) -> str:
    """'a (note), b, c{last}d': the choices in words, each with its note if it has one."""
    words = [f"{c} ({notes[c]})" if c in notes else c for c in choices]
    return ", ".join(words[:-1]) + last + words[-1] if len(words) > 1 else words[0]


# models of any number of columns, then the one-column families
TABLE_MODELS = ("gaussian", "t")
MODELS = (*TABLE_MODELS, *FAMILIES)
COVARIANCES = _noted_first(COVARIANCE_TYPES, COVARIANCE_NOTES)
ONE_COLUMN_FAMILIES = tuple(f for f in FAMILIES if f not in NEEDS_TRIALS)

# ---------------------------------------------------------------------- typer options

DataArg = Annotated[
    Path, typer.Argument(metavar="DATA.csv", help="CSV file with a header row, e.g. data.csv.")
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        "-c",
        help="Comma-separated numeric columns to cluster on, e.g. --columns height,weight. "
        "Default: every numeric column.",
    ),
]
ModelOpt = Annotated[
    str,
    typer.Option(
        help="gaussian or t (any number of columns; t: heavy-tailed Student-t clusters, "
        "robust to outliers) or a one-column family: "
        f"{', '.join(ONE_COLUMN_FAMILIES)}. E.g. --model t.",
    ),
]
CovarianceOpt = Annotated[
    str,
    typer.Option(
        help="Shape of each Gaussian cluster: "
        f"{_listed(COVARIANCES, COVARIANCE_NOTES, ', ')}. E.g. --covariance diag.",
    ),
]
SamplerOpt = Annotated[
    str,
    typer.Option(
        help=f"Sampling backend: {_listed(SAMPLERS, SAMPLER_NOTES, ' or ')}. "
        "E.g. --sampler nutpie.",
    ),
]
DrawsOpt = Annotated[
    int, typer.Option(help="Posterior draws kept per chain, e.g. --draws 2000 for a final run.")
]
TuneOpt = Annotated[
    int, typer.Option(help="Tuning (warm-up) steps per chain, discarded, e.g. --tune 1000.")
]
ChainsOpt = Annotated[
    int, typer.Option(help="Independent chains; 4 lets R-hat compare them, e.g. --chains 4.")
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        help="Random seed: the same seed gives the same numbers, e.g. --seed 1. Default: "
        "a random seed, recorded in settings.json and the report.",
    ),
]
MissingOpt = Annotated[
    str,
    typer.Option(
        help="Rows with a missing value in the chosen columns: drop them (their count is "
        "printed) or error (stop and name them). E.g. --missing error.",
    ),
]
WeightsPriorOpt = Annotated[
    str,
    typer.Option(
        "--weights-prior",
        help="Prior of the cluster weights: a Dirichlet concentration (a positive number), "
        f"or {' or '.join(NAMED_PRIORS)} (let superfluous clusters empty out; read the "
        "number in use from the report). E.g. --weights-prior dirichlet_process -k 10.",
    ),
]
NoiseOpt = Annotated[
    bool,
    typer.Option(
        "--noise",
        help="Add a noise component: a uniform background over the data's range for "
        "outliers and scattered rows, labelled 'noise' (--model gaussian or t).",
    ),
]
LabelsOpt = Annotated[
    str | None,
    typer.Option(
        "--labels",
        help="Column with the known class of some rows (others empty or -1): the classes "
        "name clusters and the rest are assigned to them, e.g. --labels species.",
    ),
]
ProgressOpt = Annotated[
    bool,
    typer.Option(help="Show a spinner while compiling and the sampler's progress bar."),
]


@dataclass
class FitOptions:
    """What ``fit``, ``select`` and ``demo`` were asked for, in the command's own terms."""

    model: str = "gaussian"
    components: int = 2
    covariance: str = "full"
    sampler: str = "auto"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int | None = None
    missing: str = "drop"
    progress: bool = True
    weights_prior: str = "1"
    noise: bool = False
    labels: str | None = None

    @property
    def weights_prior_value(self) -> float | str:
        """``--weights-prior`` as the estimators take it: a number, or a named prior."""
        try:
            return float(self.weights_prior)
        except ValueError:
            return self.weights_prior


def check_options(options: FitOptions) -> None:
    """InputError for any option the fit cannot take, before anything is read or compiled."""
    check_choice(options.model, MODELS, "--model")
    check_choice(options.covariance, COVARIANCES, "--covariance")
    check_choice(options.sampler, SAMPLERS, "--sampler")
    check_choice(options.missing, MISSING, "--missing")
    if options.components < 1:
        raise InputError(
            f"-k {options.components}: the number of clusters must be at least 1, e.g. -k 3."
        )
    for name in ("draws", "chains"):
        if getattr(options, name) < 1:
            raise InputError(f"--{name} {getattr(options, name)} must be at least 1.")
    if options.tune < 0:
        raise InputError(f"--tune {options.tune} must be 0 or more.")
    prior = options.weights_prior_value
    if (isinstance(prior, str) and prior not in NAMED_PRIORS) or (
        not isinstance(prior, str) and not 0 < prior < float("inf")
    ):
        raise InputError(
            f"--weights-prior {options.weights_prior} must be a positive number or one of "
            f"{', '.join(NAMED_PRIORS)}, e.g. --weights-prior 1."
        )
    if options.model in NEEDS_TRIALS:
        raise InputError(
            f"--model {options.model} needs the number of trials of every row, which the "
            "command line does not take; use the Python API: "
            f"bm.Mixture('{options.model}', k, trials=...)."
        )
    if options.noise and options.model not in TABLE_MODELS:
        raise InputError(
            f"--noise needs --model gaussian or t; --model {options.model} has no noise component."
        )
    resolve_sampler(options.sampler)  # a sampler that is not installed fails now, not later


def command_line(
    command: str,
    data: Path | None,
    out: Path,
    options: FitOptions,
    *,
    columns: list[str] | None = None,
    ks: str | None = None,
    method: str | None = None,
) -> str:
    """The command that repeats this fit exactly: every option spelled out, seed included."""
    words = ["bayesmixture", command, *([str(data)] if data is not None else [])]
    if columns is not None:
        words += ["--columns", ",".join(columns)]
    if command == "fit":
        words += ["-k", str(options.components), "--model", options.model]
    if command == "select":
        words += ["-k", str(ks), "--method", str(method)]
    if command != "demo" and options.model in TABLE_MODELS:
        words += ["--covariance", options.covariance]
    words += ["--sampler", options.sampler, "--draws", str(options.draws)]
    words += ["--tune", str(options.tune), "--chains", str(options.chains)]
    words += ["--seed", str(options.seed)]
    if command != "demo":
        words += ["--missing", options.missing]
    if command == "fit":
        words += ["--weights-prior", options.weights_prior]
        words += ["--noise"] * options.noise
        words += ["--labels", options.labels] if options.labels is not None else []
    return shlex.join([*words, "--out", str(out)])
