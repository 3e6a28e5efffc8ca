"""The options the commands share: each defined once, in groups, with its help and checks.

An option group is a dataclass whose fields are typer options (``ModelOptions``,
``SamplingOptions``, ``TableFormat``); a command decorated with :func:`with_option_groups`
takes a group as one parameter, and typer shows its fields as options. ``fit`` and ``select``
take the same groups, so they offer the same options with the same help and defaults.
The choices come from the library's tables, read when first needed (``_choices``).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import shlex
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bayesmixture.cli._choices import TABLE_MODELS, tables
from bayesmixture.cli._dialect import check_format_options
from bayesmixture.cli._errors import InputError, check_choice

# Rows with missing values: as the estimators' missing= ("error", "marginalize"), or dropped.
MISSING = ("error", "drop", "marginalize")

# ---------------------------------------------------------------------- typer options

DataArg = Annotated[
    Path,
    typer.Argument(
        metavar="DATA",
        help="Table with a header row: CSV (any usual separator), TSV or Parquet, or - for "
        "standard input, e.g. data.csv.",
    ),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        "-c",
        help="Comma-separated numeric columns to cluster on, e.g. --columns height,weight. "
        "Default: every column of numbers (text, dates, constant columns and row numbers are "
        "skipped, and the run says so).",
    ),
]
MissingOpt = Annotated[
    str,
    typer.Option(
        help="Rows with a missing value in the chosen columns: error (stop and name them, "
        "the default, as in the library), drop them (their count is printed), or "
        "marginalize (--model gaussian or t: each such row counts by its observed columns, "
        "no imputation). E.g. --missing drop.",
    ),
]
ModelOpt = Annotated[
    str,
    typer.Option(
        help="gaussian or t (any number of columns; t: heavy-tailed Student-t clusters, "
        "robust to outliers) or a one-column family: {models}. E.g. --model t.",
    ),
]
CovarianceOpt = Annotated[
    str,
    typer.Option(help="Shape of each Gaussian cluster: {covariances}. E.g. --covariance diag."),
]
NoiseOpt = Annotated[
    bool,
    typer.Option(
        "--noise/--no-noise",
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
WeightsPriorOpt = Annotated[
    str,
    typer.Option(
        "--weights-prior",
        help="Prior of the cluster weights: a Dirichlet concentration (a positive number), "
        "or {named_priors} (let superfluous clusters empty out; read the number in use from "
        "the report). E.g. --weights-prior dirichlet_process -k 10.",
    ),
]
SamplerOpt = Annotated[
    str, typer.Option(help="Sampling backend: {samplers}. E.g. --sampler nutpie.")
]
DrawsOpt = Annotated[
    int, typer.Option(help="Posterior draws kept per chain, e.g. --draws 2000 for a final run.")
]
TuneOpt = Annotated[
    int | None,
    typer.Option(
        help="Tuning (warm-up) steps per chain, discarded, e.g. --tune 1000. Default, as in "
        "the library: 300 on the compiled path, 1000 on PyMC's graph.",
    ),
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
ProgressOpt = Annotated[
    bool,
    typer.Option(
        "--progress/--no-progress",
        help="Show a spinner while compiling and the sampler's progress bar.",
    ),
]
SepOpt = Annotated[
    str | None,
    typer.Option(
        "--sep",
        help="Column separator of a text table, e.g. --sep ';' or --sep tab. Default: found "
        "from the file (a tab for .tsv files).",
    ),
]
DecimalOpt = Annotated[
    str | None,
    typer.Option(
        "--decimal",
        help="Decimal mark, . or , (e.g. --decimal , reads 1,5 as 1.5). Default: found from "
        "the numbers (a comma only where no value has a decimal point).",
    ),
]
ThousandsOpt = Annotated[
    str | None,
    typer.Option(
        "--thousands",
        help="Thousands separator inside numbers, e.g. --thousands , reads 12,500 as 12500. "
        "Default: none; a column of numbers with separators stops the run and says so.",
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Text encoding of the file, e.g. --encoding cp1252 (Excel's CSV on Windows). "
        "Default: UTF-8, or as the file's byte-order mark says.",
    ),
]

# ---------------------------------------------------------------------- option groups


@dataclass
class ModelOptions:
    """The model: ``fit`` and ``select``."""

    model: ModelOpt = "gaussian"
    covariance: CovarianceOpt = "full"
    noise: NoiseOpt = False
    labels: LabelsOpt = None
    weights_prior: WeightsPriorOpt = "1"


@dataclass
class SamplingOptions:
    """How the posterior is sampled: ``fit`` and ``select``."""

    sampler: SamplerOpt = "auto"
    draws: DrawsOpt = 1000
    tune: TuneOpt = None
    chains: ChainsOpt = 4
    seed: SeedOpt = None
    progress: ProgressOpt = True


@dataclass
class TableFormat:
    """How a text table is written: ``fit``, ``select`` and ``predict``. None: found."""

    sep: SepOpt = None
    decimal: DecimalOpt = None
    thousands: ThousandsOpt = None
    encoding: EncodingOpt = None

    def checked(self) -> dict[str, str | None]:
        """The options as the reader takes them ('tab' -> '\\t'), or InputError."""
        sep, decimal, thousands, encoding = check_format_options(
            self.sep, self.decimal, self.thousands, self.encoding
        )
        return {"sep": sep, "decimal": decimal, "thousands": thousands, "encoding": encoding}

    def words(self) -> list[str]:
        """The options given, as command-line words (for the command that repeats a fit)."""
        given = [(f"--{f.name}", getattr(self, f.name)) for f in dataclasses.fields(self)]
        return [word for name, value in given if value is not None for word in (name, value)]


def with_option_groups(command):
    """Let ``command`` take option groups as parameters: typer sees each group's fields.

    A parameter annotated with one of the groups above becomes that group's options (keyword
    parameters with the fields' typer annotations and defaults); the command is called with
    the group built from them.
    """
    signature = inspect.signature(command, eval_str=True)
    params, groups = [], {}
    for param in signature.parameters.values():
        group = param.annotation
        if not (isinstance(group, type) and dataclasses.is_dataclass(group)):
            params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))
            continue
        hints = typing.get_type_hints(group, include_extras=True)
        fields = dataclasses.fields(group)
        groups[param.name] = (group, [f.name for f in fields])
        params += [
            inspect.Parameter(
                f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name]
            )
            for f in fields
        ]

    @functools.wraps(command)
    def run(**kwargs):
        for name, (group, names) in groups.items():
            kwargs[name] = group(**{n: kwargs.pop(n) for n in names})
        return command(**kwargs)

    run.__signature__ = signature.replace(parameters=params)
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


# ---------------------------------------------------------------------- one fit's options


@dataclass
class FitOptions:
    """What ``fit``, ``select`` and ``demo`` were asked for, in the command's own terms."""

    model: str = "gaussian"
    components: int = 2
    covariance: str = "full"
    sampler: str = "auto"
    draws: int = 1000
    tune: int | None = None
    chains: int = 4
    seed: int | None = None
    missing: str = "error"
    progress: bool = True
    weights_prior: str = "1"
    noise: bool = False
    labels: str | None = None

    @classmethod
    def of(
        cls,
        components: int,
        missing: str,
        model: ModelOptions | None = None,
        sampling: SamplingOptions | None = None,
    ) -> FitOptions:
        """The options of one fit from the command's groups."""
        groups = [model or ModelOptions(), sampling or SamplingOptions()]
        values = {k: v for group in groups for k, v in dataclasses.asdict(group).items()}
        return cls(components=components, missing=missing, **values)

    @property
    def weights_prior_value(self) -> float | str:
        """``--weights-prior`` as the estimators take it: a number, or a named prior."""
        try:
            return float(self.weights_prior)
        except ValueError:
            return self.weights_prior


def check_plain_options(options: FitOptions) -> None:
    """InputError for options checked without the library's tables (numbers, --missing)."""
    check_choice(options.missing, MISSING, "--missing")
    if options.components < 1:
        raise InputError(
            f"-k {options.components}: the number of clusters must be at least 1, e.g. -k 3."
        )
    for name in ("draws", "chains"):
        if getattr(options, name) < 1:
            raise InputError(f"--{name} {getattr(options, name)} must be at least 1.")
    if options.tune is not None and options.tune < 0:
        raise InputError(f"--tune {options.tune} must be 0 or more.")
    if options.missing == "marginalize" and options.model not in TABLE_MODELS:
        raise InputError(
            f"--missing marginalize needs --model gaussian or t; --model {options.model} "
            "models one column: pass --missing drop or error."
        )
    if options.noise and options.model not in TABLE_MODELS:
        raise InputError(
            f"--noise needs --model gaussian or t; --model {options.model} has no noise component."
        )


def check_options(options: FitOptions) -> None:
    """InputError for any option the fit cannot take, before anything is compiled.

    Reads the library's tables (most of a second): commands call it after the input is read.
    """
    check_plain_options(options)
    found = tables()
    check_choice(options.model, found["models"], "--model")
    check_choice(options.covariance, found["covariances"], "--covariance")
    check_choice(options.sampler, found["samplers"], "--sampler")
    prior = options.weights_prior_value
    if (isinstance(prior, str) and prior not in found["named_priors"]) or (
        not isinstance(prior, str) and not 0 < prior < float("inf")
    ):
        raise InputError(
            f"--weights-prior {options.weights_prior} must be a positive number or one of "
            f"{', '.join(found['named_priors'])}, e.g. --weights-prior 1."
        )
    if options.model in found["needs_trials"]:
        raise InputError(
            f"--model {options.model} needs the number of trials of every row, which the "
            "command line does not take; use the Python API: "
            f"bm.Mixture('{options.model}', k, trials=...)."
        )
    from bayesmixture.inference import resolve_sampler

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
    table_format: TableFormat | None = None,
) -> str:
    """The command that repeats this fit exactly: every option spelled out, seed included."""
    words = ["bayesmixture", command, *([str(data)] if data is not None else [])]
    if columns is not None:
        words += ["--columns", ",".join(columns)]
    words += table_format.words() if table_format is not None else []
    if command == "fit":
        words += ["-k", str(options.components)]
    if command == "select":
        words += ["-k", str(ks), "--method", str(method)]
    if command != "demo":
        words += ["--model", options.model]
        if options.model in TABLE_MODELS:
            words += ["--covariance", options.covariance]
    words += ["--sampler", options.sampler, "--draws", str(options.draws)]
    words += ["--tune", str(options.tune)] if options.tune is not None else []
    words += ["--chains", str(options.chains)]
    words += ["--seed", str(options.seed)]
    if command != "demo":
        words += ["--missing", options.missing]
        words += ["--weights-prior", options.weights_prior]
        words += ["--noise"] * options.noise
        words += ["--labels", options.labels] if options.labels is not None else []
    return shlex.join([*words, "--out", str(out)])
