"""The choices the options offer, read from the library's tables when first needed.

Families, covariance types, weight priors and samplers are the library's tables
(``estimators.FAMILIES`` with whether a family needs trials, ``estimators.COVARIANCES`` with
their notes, ``NAMED_PRIORS`` of ``estimators/_weights.py``, ``inference.SAMPLERS``); this
module adds only what the command line says about them. Importing the estimators loads
scikit-learn and SciPy (most of a second), which ``bayesmixture --help``, ``--version`` and
bad input must not wait for: the tables are read when a command checks its options, and
when a command shows its own help, whose texts name them by placeholders (``{models}``,
``{covariances}``, ...) filled in then.
The help classes also show boolean flags as flags.
"""

from __future__ import annotations

import click
from typer.core import TyperCommand, TyperGroup

# models of any number of columns (the others are the one-column families)
TABLE_MODELS = ("gaussian", "t")
# A word of help on some samplers (covariance types carry their own notes).
SAMPLER_NOTES = {
    "auto": "fastest installed",
    "compiled": "the estimator's own fast density, on nutpie",
}


def tables() -> dict[str, tuple[str, ...]]:
    """The library's choices by option: models, covariances, samplers, named priors; and the
    families whose rows need a number of trials, which the command line does not take.

    Read from the tables each time (a family or covariance type registered at run time is
    offered); only the first call imports the estimators.
    """
    from bayesmixture.estimators import COVARIANCES, FAMILIES
    from bayesmixture.estimators._weights import NAMED_PRIORS
    from bayesmixture.inference import SAMPLERS

    return {
        "models": (*TABLE_MODELS, *FAMILIES),
        "one_column_families": tuple(f for f, family in FAMILIES.items() if not family.trials),
        "needs_trials": tuple(f for f, family in FAMILIES.items() if family.trials),
        "covariances": tuple(COVARIANCES),
        "samplers": tuple(SAMPLERS),
        "named_priors": tuple(NAMED_PRIORS),
    }


def help_words() -> dict[str, str]:
    """The placeholders of the help texts, in words."""
    from bayesmixture.estimators import COVARIANCES

    found = tables()
    notes = {name: kind.note for name, kind in COVARIANCES.items()}
    return {
        "models": ", ".join(found["one_column_families"]),
        "covariances": _listed(found["covariances"], notes, ", "),
        "samplers": _listed(found["samplers"], SAMPLER_NOTES, " or "),
        "named_priors": " or ".join(found["named_priors"]),
    }


class _FlagsWithoutType:
    """Help that shows a flag as a flag (typer would print ``--noise <bool>``)."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class HelpCommand(_FlagsWithoutType, TyperCommand):
    """A command whose option help names the library's choices, read when help is shown."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        words = None
        for param in self.params:
            text = getattr(param, "help", None)
            if text and "{" in text:
                words = words or help_words()
                param.help = text.format(**words)
        super().format_help(ctx, formatter)


class HelpGroup(_FlagsWithoutType, TyperGroup):
    """The ``bayesmixture`` group, its flags (--version, --help) shown as flags."""


def _listed(choices, notes: dict[str, str], last: str) -> str:
    """'a (note), b, c{last}d': the choices in words, each with its note if it has one."""
    words = [f"{c} ({notes[c]})" if c in notes else c for c in choices]
    return ", ".join(words[:-1]) + last + words[-1] if len(words) > 1 else words[0]
