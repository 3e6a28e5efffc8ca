"""Reading a table file as it is: text tables (CSV, TSV, ...), Parquet, or standard input.

Text tables are parsed to text cells by pandas, with the header row read as a row of its own,
so that nothing is renamed (pandas would turn a second ``x`` into ``x.1``) and no field becomes
the row index (pandas does that when the header has fewer names than the rows have fields).
``_numbers`` then reads each column as numbers.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bayesmixture.cli._dialect import (
    SEPARATORS,
    TextFormat,
    decode,
    find_decimal,
    find_separator,
)
from bayesmixture.cli._errors import InputError
from bayesmixture.cli._numbers import Reading, parse, read_column, read_typed

STDIN = "-"
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods")
# rows whose cells show the decimal mark (more would only cost time)
DECIMAL_SAMPLE_ROWS = 2000


@dataclass
class Table:
    """A table as read: its columns in file order, each read as numbers or with a reason."""

    source: str
    names: list[str]
    readings: list[Reading]
    raw: list[pd.Series]  # each column as read (text cells, or Parquet's typed values)
    n_rows: int
    kind: str  # "text" or "parquet"
    format: TextFormat | None = None
    renamed: dict[int, str] = field(default_factory=dict)  # position -> name given to a blank

    def describe_format(self) -> str:
        return self.format.describe() if self.format else "Parquet"


def read_table(
    source: str | Path,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    encoding: str | None = None,
    stdin=None,
) -> Table:
    """Read ``source`` (a path, or "-" for standard input) with the checked format options.

    Raises
    ------
    InputError
        Naming the file and how to fix it: no such file, a folder, an Excel workbook, not
        text in the encoding, rows with more fields than the header, a header that is data
        or several names joined by another separator, empty.
    """
    name, data = _load(source, stdin)
    if Path(name).suffix.lower() in PARQUET_SUFFIXES or data[:4] == b"PAR1":
        if sep is not None or encoding is not None:
            raise InputError(
                f"{name} is a Parquet file: its columns and types are stored, so --sep and "
                "--encoding do not apply; leave them out."
            )
        return _read_parquet(name, data, decimal or ".", thousands)
    if Path(name).suffix.lower() in EXCEL_SUFFIXES or data[:4] == b"PK\x03\x04":
        raise InputError(
            f"{name} is a spreadsheet workbook, not a table file; save the sheet as "
            "'CSV UTF-8' (or Parquet) and pass that file."
        )
    text, encoding_used = decode(data, encoding, name)
    if not text.strip():
        raise InputError(f"{name} is empty; pass a table with a header row and data rows.")
    tab = sep is None and Path(name).suffix.lower() in (".tsv", ".tab")
    sep_used = sep or find_separator(text, decimal=decimal, tab=tab)
    cells = _parse(text, sep_used, name)
    header, body = cells.iloc[0], cells.iloc[1:].reset_index(drop=True)
    if body.empty:
        raise InputError(f"{name} has a header but no data rows; add rows to cluster.")
    body.index = pd.RangeIndex(len(body), name="row")
    sample = [
        c.strip() for c in body.iloc[:DECIMAL_SAMPLE_ROWS].to_numpy().ravel() if isinstance(c, str)
    ]
    decimal_used = decimal or find_decimal(sample, sep_used)
    found = tuple(
        setting
        for setting, given in (("sep", sep), ("decimal", decimal), ("encoding", encoding))
        if given is None
    )
    fmt = TextFormat(sep_used, decimal_used, thousands, encoding_used, found)
    names, renamed = _names(header)
    _check_header(names, body, fmt, name)
    return Table(
        source=name,
        names=names,
        readings=[
            read_column(body[j], decimal_used, thousands, comma_separated=sep_used == ",")
            for j in body.columns
        ],
        raw=[body[j] for j in body.columns],
        n_rows=len(body),
        kind="text",
        format=fmt,
        renamed=renamed,
    )


def _load(source: str | Path, stdin) -> tuple[str, bytes]:
    """(name shown in messages, the bytes of the file or of standard input)."""
    if str(source) == STDIN:
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read()
        return "standard input", data.encode() if isinstance(data, str) else data
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path (relative to {Path.cwd()}).")
    if path.is_dir():
        raise InputError(f"{path} is a folder; pass a table file such as data.csv.")
    return str(path), path.read_bytes()


def _parse(text: str, sep: str, name: str) -> pd.DataFrame:
    """Every cell as text (NaN where empty or NA), the header as row 0."""
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            skip_blank_lines=True,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise InputError(
            f"{name} is empty; pass a table with a header row and data rows."
        ) from None
    except pd.errors.ParserError as err:
        raise InputError(_fields_message(str(err), sep, name)) from None


def _fields_message(error: str, sep: str, name: str) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", error)
    shown = "tab" if sep == "\t" else repr(sep)
    if found is None:
        return f"{name} could not be read as a table separated by {shown} ({error})."
    expected, line, saw = found.groups()
    hint = (
        "if ',' is the decimal mark, pass --decimal , (and --sep if the separator is not found)"
        if sep == ","
        else "pass the separator with --sep"
    )
    return (
        f"{name}: line {line} has {saw} fields separated by {shown} but the header has "
        f"{expected}; {hint}, or fix that line."
    )


def _names(header: pd.Series) -> tuple[list[str], dict[int, str]]:
    """Header cells as names, blanks named as pandas names them ('Unnamed: 2')."""
    names, renamed = [], {}
    for j, cell in enumerate(header):
        if pd.isna(cell) or not str(cell).strip():
            renamed[j] = f"Unnamed: {j}"
            names.append(renamed[j])
        else:
            names.append(str(cell).strip())
    return names, renamed


def _check_header(names: list[str], body: pd.DataFrame, fmt: TextFormat, name: str) -> None:
    """Refuse a header that is a data row, or names joined by another separator."""
    named = pd.Series([n for j, n in enumerate(names) if not n.startswith("Unnamed: ")])
    if len(named) == len(names) and parse(named, fmt.decimal, fmt.thousands).notna().all():
        raise InputError(
            f"the first row of {name} holds numbers ({', '.join(names[:4])}), not column "
            "names; add a header row naming the columns."
        )
    for j, column in enumerate(names):
        for other in SEPARATORS:
            if other == fmt.sep or other == fmt.decimal or len(column.split(other)) < 2:
                continue
            values = body.iloc[:, j].dropna().astype(str)
            if len(values) and values.str.contains(other, regex=False).mean() > 0.5:
                shown = "tab" if other == "\t" else repr(other)
                raise InputError(
                    f"{name}: the column name {column!r} looks like "
                    f"{len(column.split(other))} names joined by {shown}, and its values are "
                    f"joined the same way; pass --sep {'tab' if other == chr(9) else other!r}."
                )


def _read_parquet(name: str, data: bytes, decimal: str, thousands: str | None) -> Table:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except ImportError as err:
        raise InputError(f"reading {name} needs pyarrow ({err}); pip install pyarrow.") from None
    except Exception as err:  # pyarrow's errors have no common base class
        raise InputError(f"{name} could not be read as Parquet ({err}).") from None
    if frame.empty:
        raise InputError(f"{name} has no rows; add rows to cluster.")
    frame = frame.reset_index(drop=True)
    frame.index = pd.RangeIndex(len(frame), name="row")
    names = [str(c) for c in frame.columns]
    readings = []
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        text = not pd.api.types.is_numeric_dtype(column) and (decimal, thousands) != (".", None)
        reading = read_column(column, decimal, thousands) if text else read_typed(column)
        readings.append(reading)
    return Table(
        source=name,
        names=names,
        readings=readings,
        raw=[frame.iloc[:, j] for j in range(frame.shape[1])],
        n_rows=len(frame),
        kind="parquet",
    )
