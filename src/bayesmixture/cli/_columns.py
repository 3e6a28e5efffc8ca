"""Which columns of a table are clustered on, and why each other one is not.

Without --columns, every column of measurements is used and every other one is skipped with
its reason (text, dates, constant, ...). A column that holds numbers the reader could not
read as such, or a name given to two columns, stops the run: leaving the column out, or
taking one of the two, would cluster other columns than the user's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmixture.cli._errors import InputError
from bayesmixture.cli._numbers import not_a_measurement, parse
from bayesmixture.cli._table import Table


def choose_columns(
    table: Table, columns: str | list[str] | None, *, exclude: str | None = None
) -> tuple[list[int], dict[str, str]]:
    """Positions of the columns to use, and each other column's name with why it is not used.

    ``columns``: the --columns text, None for every column of measurements, or the list of
    columns a saved fit needs. ``exclude``: the --labels column.
    """
    if columns is None:
        return _every_measurement(table, exclude)
    if isinstance(columns, list):  # the columns of a saved fit
        lacking = [c for c in columns if c not in table.names]
        if lacking:
            raise InputError(
                f"{table.source} lacks the column(s) {', '.join(map(repr, lacking))} that the "
                f"fit used; it needs {', '.join(columns)} (other columns are ignored)."
            )
        names, others = list(columns), "not used by the fit"
    else:
        names, others = _named(table, columns, exclude), "not in --columns"
    chosen = [_position(table, name) for name in names]
    for j in chosen:
        _check_readable(table, j)
    skipped = {
        n: ("the --labels column" if n == exclude else others)
        for j, n in enumerate(table.names)
        if j not in chosen
    }
    return chosen, skipped


def classes(table: Table, name: str) -> pd.Series:
    """The --labels column: numbers if every class is a number (-1: unlabelled), else text."""
    raw = table.raw[table.names.index(name)]
    if table.kind == "parquet":
        return raw
    text = raw.astype(object).where(raw.notna(), None).str.strip().replace("", None)
    values = parse(text, table.format.decimal, table.format.thousands)
    if values[text.notna()].notna().all():
        whole = values.dropna().apply(float.is_integer).all()
        return values.map(lambda v: v if np.isnan(v) else int(v)) if whole else values
    return text


def _every_measurement(table: Table, exclude: str | None) -> tuple[list[int], dict[str, str]]:
    chosen, skipped, faults = [], {}, []
    for j, (name, reading) in enumerate(zip(table.names, table.readings, strict=True)):
        if name == exclude:
            skipped[name] = "the --labels column"
        elif reading.refuse:
            faults.append(
                f"column {name!r} holds {reading.reason} ({reading.example}): {reading.fix}"
            )
        elif reading.values is None:
            skipped[name] = reading.reason
        elif (why := not_a_measurement(reading.values)) is not None:
            skipped[name] = why
        else:
            chosen.append(j)
    used = [table.names[j] for j in chosen]
    if faults:
        leave_out = f"--columns {','.join(used)}" if used else "--columns"
        raise InputError(f"{table.source}: {'; '.join(faults)}; or leave it out with {leave_out}.")
    if not chosen:
        reasons = ", ".join(f"{n!r} ({r})" for n, r in skipped.items())
        raise InputError(
            f"{table.source} has no columns of numbers to cluster on: {reasons}. Read as "
            f"{table.describe_format()}; if that is wrong, pass --sep, --decimal or --encoding."
        )
    for name in dict.fromkeys(used):
        _position(table, name)  # a repeated name stops the run
    return chosen, skipped


def _named(table: Table, columns: str, exclude: str | None) -> list[str]:
    names = [c.strip() for c in columns.split(",") if c.strip()]
    if not names:
        raise InputError("--columns is empty; pass column names, e.g. --columns a,b.")
    unknown = [c for c in names if c not in table.names]
    if unknown:
        raise InputError(
            f"--columns: {', '.join(map(repr, unknown))} not in {table.source}; its columns "
            f"are {', '.join(table.names)}."
        )
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise InputError(f"--columns names {', '.join(repeated)} twice; list each column once.")
    if exclude in names:
        raise InputError(
            f"--labels {exclude} is also in --columns; the classes are not clustered on: "
            "drop it from --columns."
        )
    return names


def _position(table: Table, name: str) -> int:
    """The column called ``name``; InputError if two columns have that name."""
    positions = [j for j, n in enumerate(table.names) if n == name]
    if len(positions) > 1:
        where = " and ".join(str(j + 1) for j in positions)
        raise InputError(
            f"{table.source} has {len(positions)} columns named {name!r} (columns {where}, "
            "counting from 1); rename them so that each name is used once."
        )
    return positions[0]


def _check_readable(table: Table, j: int) -> None:
    reading, name = table.readings[j], table.names[j]
    if reading.values is not None:
        return
    example = f" ({reading.example})" if reading.example else ""
    if reading.refuse:
        raise InputError(
            f"column {name!r} of {table.source} holds {reading.reason}{example}: {reading.fix}."
        )
    raise InputError(
        f"column {name!r} of {table.source} is {reading.reason}, not numbers{example}; cluster "
        "on numeric columns (choose them with --columns) or encode this one as numbers first."
    )
