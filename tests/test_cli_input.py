"""Reading the tables people have: separators, decimal marks, thousands, encodings, Parquet,
standard input. Each file is read into the numbers that generated it, or refused with a
message naming the fix; none is read into other columns than the user's."""

from __future__ import annotations

import html
import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from bayesmixture._version import __version__
from bayesmixture.cli import app
from bayesmixture.cli._dialect import check_format_options
from bayesmixture.cli._errors import InputError
from bayesmixture.cli._input import read_rows
from bayesmixture.cli._numbers import parse
from bayesmixture.cli._options import TableFormat

N_ROWS = 40
TINY_FIT = ["--draws", "50", "--tune", "50", "--chains", "1", "--seed", "1", "--no-progress"]


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    """The numbers every file below is written from: two measurements and an income."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "height": np.round(rng.normal(170.0, 10.0, N_ROWS), 2),
            "weight": np.round(np.r_[rng.normal(60, 3, N_ROWS // 2), rng.normal(80, 3, 20)], 2),
            "income": rng.integers(1_000, 900_000, N_ROWS).astype(float),
        }
    )


def comma(x: float) -> str:
    return repr(float(x)).replace(".", ",")


def read(path, columns=None, **options):
    console = Console(file=io.StringIO(), width=300)
    rows = read_rows(path, columns, "drop", console, table_format=TableFormat(**options))
    return rows, console.file.getvalue()


def refused(path, *fragments, columns=None, **options) -> str:
    with pytest.raises(InputError) as error:
        read(path, columns, **options)
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def write(path, text: str, encoding: str = "utf-8", newline: str = "\n"):
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# ---------------------------------------------------------------------- files of each kind


def test_semicolons_and_decimal_commas_are_found(tmp_path, truth):
    lines = [f"{comma(h)};{comma(w)}" for h, w in zip(truth.height, truth.weight, strict=True)]
    path = write(tmp_path / "eu.csv", "height;weight\n" + "\n".join(lines) + "\n")
    rows, said = read(path)
    # the values are parsed from their shortest repr, so they are the same floats
    pd.testing.assert_frame_equal(rows.frame, truth[["height", "weight"]], check_names=False)
    assert "Using 40 of 40 rows" in said and "the columns height, weight" in said
    assert rows.format["separator"] == ";" and rows.format["decimal"] == ","
    assert rows.format["detected"] == ["sep", "decimal", "encoding"]


def test_thousands_separators_are_refused_until_given(tmp_path, truth):
    lines = [f'"{int(i):,}",{h}' for i, h in zip(truth.income, truth.height, strict=True)]
    path = write(tmp_path / "money.csv", "income,height\n" + "\n".join(lines) + "\n")
    message = refused(path, "'income'", "thousands separators", "pass --thousands ,")
    assert "--columns height" in message  # the other way out: leave it out
    refused(path, "'income'", "--thousands ,", columns="income,height")
    rows, said = read(path, thousands=",")
    np.testing.assert_array_equal(rows.frame["income"], truth.income)
    assert "',' thousands separators" in said


def test_european_thousands_and_decimals(tmp_path, truth):
    def european(x: float) -> str:
        return f"{x:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")

    lines = [
        f"{european(i + 0.25)};{comma(h)}" for i, h in zip(truth.income, truth.height, strict=True)
    ]
    path = write(tmp_path / "eu_money.csv", "income;height\n" + "\n".join(lines) + "\n")
    refused(path, "'.' thousands separators", "pass --thousands .")
    rows, _ = read(path, thousands=".")  # the decimal mark follows: ','
    np.testing.assert_allclose(rows.frame["income"], truth.income + 0.25, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(rows.frame["height"], truth.height)


@pytest.mark.parametrize("name", ["tabs.tsv", "tabs.csv", "tabs.txt"])
def test_tab_separated_files_are_read(tmp_path, truth, name):
    path = tmp_path / name
    truth.to_csv(path, sep="\t", index=False)
    rows, said = read(path)
    pd.testing.assert_frame_equal(rows.frame, truth, check_names=False)
    assert "tab separated" in said


def test_excel_csv_utf8_with_bom_crlf_and_text(tmp_path, truth):
    # Excel's "CSV UTF-8" in a decimal-comma locale: BOM, ';', CRLF, a text column
    lines = [
        f"Ärztin {i};{comma(h)};{comma(w)}"
        for i, (h, w) in enumerate(zip(truth.height, truth.weight, strict=True))
    ]
    text = "\ufeffname;height;weight\n" + "\n".join(lines) + "\n"
    path = write(tmp_path / "excel.csv", text, newline="\r\n")
    rows, said = read(path)
    assert list(rows.frame.columns) == ["height", "weight"]  # no BOM in the first name
    pd.testing.assert_frame_equal(rows.frame, truth[["height", "weight"]], check_names=False)
    assert "skipped 'name' (text)" in said and "UTF-8 with BOM" in said
    assert rows.skipped == {"name": "text"}


def test_duplicate_names_are_refused_when_used(tmp_path, truth):
    table = truth[["height", "weight", "height"]]
    path = tmp_path / "dup.csv"
    table.to_csv(path, index=False)  # pandas writes the names as they are: height twice
    refused(path, "2 columns named 'height'", "columns 1 and 3", "rename")
    refused(path, "2 columns named 'height'", columns="height")
    rows, _ = read(path, columns="weight")
    np.testing.assert_array_equal(rows.frame["weight"], truth.weight)


def test_text_columns_are_skipped_with_their_reason(tmp_path, truth):
    table = truth[["height", "weight"]].assign(
        name=[f"p{i}" for i in range(N_ROWS)],
        day=pd.date_range("2024-01-01", periods=N_ROWS).strftime("%Y-%m-%d"),
        smoker=np.where(np.arange(N_ROWS) % 2, "true", "false"),
        constant=3.0,
    )
    table.insert(0, "", np.arange(N_ROWS))  # pandas' index, written without a name
    path = tmp_path / "mixed.csv"
    table.to_csv(path, index=False)
    rows, said = read(path)
    assert list(rows.frame.columns) == ["height", "weight"]
    assert rows.skipped == {
        "Unnamed: 0": "row numbers 0 to 39",
        "name": "text",
        "day": "dates",
        "smoker": "true/false",
        "constant": "constant: every value is 3",
    }
    assert "skipped 'Unnamed: 0' (row numbers 0 to 39), 'name' (text)" in said
    refused(path, "column 'name'", "is text, not numbers", "row 0 holds 'p0'", columns="name")


def test_numbers_mixed_with_text_are_refused(tmp_path, truth):
    values = truth.height.astype(str).tolist()
    values[5] = "?"
    path = write(tmp_path / "odd.csv", "height\n" + "\n".join(values) + "\n")
    refused(path, "'height' holds numbers and text", "row 5 holds '?'", "blank out")


def test_parquet_files_keep_their_types(tmp_path, truth):
    pytest.importorskip("pyarrow")
    path = tmp_path / "data.parquet"
    truth.assign(group=["a", "b"] * (N_ROWS // 2)).to_parquet(path)
    rows, said = read(path)
    pd.testing.assert_frame_equal(rows.frame, truth, check_names=False)
    assert rows.skipped == {"group": "text"} and "Parquet" in said
    refused(path, "Parquet", "--sep", sep=";")


def test_standard_input_is_read_as_a_file(truth):
    data = truth.to_csv(index=False, sep=";").encode()
    console = Console(file=io.StringIO(), width=300)
    rows = read_rows("-", None, "drop", console, stdin=io.BytesIO(data))
    pd.testing.assert_frame_equal(rows.frame, truth, check_names=False)
    assert rows.source == "standard input"


# ---------------------------------------------------------------------- refusals that say how


def test_a_header_of_names_joined_by_another_separator_is_refused(tmp_path, truth):
    path = tmp_path / "joined.csv"
    truth[["height", "weight"]].to_csv(path, sep=";", index=False)
    refused(path, "'height;weight' looks like 2 names joined by ';'", "--sep ';'", sep=",")


def test_a_file_without_a_header_is_refused(tmp_path, truth):
    path = tmp_path / "bare.csv"
    truth.to_csv(path, index=False, header=False)
    refused(path, "holds numbers", "add a header row")


def test_one_column_of_decimal_commas(tmp_path, truth):
    path = write(tmp_path / "one.csv", "height\n" + "\n".join(map(comma, truth.height)) + "\n")
    refused(path, "line 2 has 2 fields", "--decimal ,")  # the header has 1 name
    rows, _ = read(path, decimal=",")
    np.testing.assert_array_equal(rows.frame["height"], truth.height)


def test_other_encodings_are_refused_until_given(tmp_path, truth):
    lines = [f"{h},{w}" for h, w in zip(truth.height, truth.weight, strict=True)]
    path = write(tmp_path / "latin.csv", "größe,gewicht\n" + "\n".join(lines) + "\n", "cp1252")
    refused(path, "is not utf-8 text", "--encoding cp1252")
    rows, said = read(path, encoding="cp1252")
    assert list(rows.frame.columns) == ["größe", "gewicht"] and "cp1252" in said


def test_a_workbook_is_refused(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    refused(path, "spreadsheet workbook", "CSV UTF-8")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"sep": ";;"}, "--sep ';;' must be one character"),
        ({"decimal": "x"}, "--decimal 'x' must be '.' or ','"),
        ({"thousands": ",", "decimal": ","}, "--thousands ',' is also the decimal mark"),
        ({"encoding": "klingon"}, "--encoding 'klingon' is not an encoding"),
    ],
)
def test_bad_format_options_are_named(options, fragment):
    args = {"sep": None, "decimal": None, "thousands": None, "encoding": None} | options
    with pytest.raises(InputError, match=fragment.replace("(", r"\(")):
        check_format_options(*args.values())


def test_tab_can_be_spelled_out():
    assert check_format_options("tab", None, None, None)[0] == "\t"


@pytest.mark.parametrize(
    ("text", "decimal", "thousands", "value"),
    [
        ("12,500", ".", ",", 12500.0),
        ("1,234,567.5", ".", ",", 1234567.5),
        ("1.234.567,5", ",", ".", 1234567.5),
        ("-3,25", ",", None, -3.25),
        ("12 500", ".", " ", 12500.0),
        ("12,50", ".", ",", np.nan),  # not a whole group of three: no number
        ("1.5", ",", None, np.nan),  # a point in a decimal-comma number
    ],
)
def test_numbers_in_each_style(text, decimal, thousands, value):
    np.testing.assert_equal(parse(pd.Series([text]), decimal, thousands).iloc[0], value)


# ---------------------------------------------------------------------- rows per cluster


def test_too_few_rows_per_cluster_is_the_same_rule_in_the_api_and_the_cli(tmp_path, truth):
    import bayesmixture as bm

    small = truth[["height", "weight"]].iloc[:5]
    with pytest.raises(ValueError, match=r"n_components=3 with covariance_type='full' needs"):
        bm.GaussianMixture(3).fit(small)
    path = tmp_path / "small.csv"
    small.to_csv(path, index=False)
    result = CliRunner().invoke(app, ["fit", str(path), "-k", "3", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "-k 3 with --covariance full needs at least 9 rows" in result.stderr
    assert "--covariance diag" not in result.stderr  # diag needs 6 rows: no way out there
    assert "-k 1" in result.stderr


# ---------------------------------------------------------------------- through the command


def test_a_spreadsheet_export_on_standard_input_is_fitted(tmp_path, truth):
    lines = [f"{comma(h)};{comma(w)};x{i}" for i, (h, w) in enumerate(truth.iloc[:, :2].values)]
    data = ("\ufeffheight;weight;id\n" + "\n".join(lines) + "\n").replace("\n", "\r\n")
    out = tmp_path / "fit"
    result = CliRunner().invoke(
        app, ["fit", "-", "-k", "2", "--out", str(out), *TINY_FIT], input=data.encode()
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "Using 40 of 40 rows of standard input and the columns height, weight" in said
    assert "skipped 'id' (text)" in said
    settings = json.loads((out / "settings.json").read_text())
    assert settings["columns"] == ["height", "weight"]
    assert settings["columns_skipped"] == {"id": "text"}
    assert settings["format"]["decimal"] == "," and settings["format"]["separator"] == ";"
    page = html.unescape((out / "report.html").read_text())
    assert "<td>columns_skipped</td>" in page and "<td>skipped 'id' (text)</td>" in page


def test_a_refused_file_exits_2_with_one_line_and_writes_nothing(tmp_path, truth):
    lines = [f'"{int(i):,}",{h}' for i, h in zip(truth.income, truth.height, strict=True)]
    path = write(tmp_path / "money.csv", "income,height\n" + "\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["fit", str(path), "--out", str(out), *TINY_FIT])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "pass --thousands ," in result.stderr
    assert not out.exists()


def test_help_and_version_import_no_modelling_library():
    code = """
import sys
from bayesmixture.cli import main
for args in (["--help"], ["--version"]):
    sys.argv = ["bayesmixture", *args]
    try:
        main()
    except SystemExit as done:
        assert done.code in (0, None), done.code
heavy = [m for m in ("arviz", "pymc", "pytensor", "sklearn", "matplotlib") if m in sys.modules]
print("HEAVY", heavy)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "HEAVY []" in done.stdout
    assert f"bayesmixture {__version__}" in done.stdout


def test_warnings_become_tidy_notes_without_file_paths():
    import warnings

    from bayesmixture.cli._warnings import tidy_lines
    from bayesmixture.exceptions import ConvergenceWarning, PredictionWarning

    def caught(message, category, filename):
        return warnings.WarningMessage(message, category, filename, 1)

    site = "/venv/lib/python3.11/site-packages/arviz/stats/stats.py"
    lines = tidy_lines(
        [
            caught("Shape validation failed\nsecond line", UserWarning, site),
            caught("Shape validation failed\nsecond line", UserWarning, site),
            caught("R-hat is 1.2", ConvergenceWarning, "/src/bayesmixture/estimators/_base.py"),
            caught("Pareto k > 0.7 for row 3", PredictionWarning, "/src/bayesmixture/selection.py"),
            caught("inplace is deprecated", FutureWarning, site),
        ]
    )
    assert lines == [
        "Note (arviz): Shape validation failed (2 times)",
        "Note (bayesmixture): Pareto k > 0.7 for row 3",
    ]
