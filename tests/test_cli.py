"""The command line: fit, predict, select and demo, and one-line errors for bad input."""

from __future__ import annotations

import json
import re
import runpy
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import bayesmixture as bm
from bayesmixture.cli import app
from bayesmixture.report import SECTIONS, match_clusters

# Small sampling settings: enough for well separated clusters, cheap to compile and run.
SAMPLING = ["--draws", "100", "--tune", "100", "--chains", "2", "--seed", "1"]
DROP = ["--missing", "drop"]  # data.csv has rows with missing values
N_ROWS, MISSING_ROWS = 150, [4, 9]
FIT_FILES = {"assignments.csv", "fit.nc", "summary.csv", "settings.json", "report.html"}

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, *fragments: str) -> str:
    """Exit code 2, a single 'Error: ...' line on stderr naming ``fragments``, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """CSV files: two clusters in columns a, b; a text column; missing values in rows 4, 9."""
    folder = tmp_path_factory.mktemp("data")
    X, z = bm.datasets.make_gaussian_mixture(
        N_ROWS, [0.4, 0.6], [[-2.5, 0.0], [2.5, 1.0]], [np.eye(2)] * 2, random_seed=3
    )
    table = pd.DataFrame(X, columns=["a", "b"])
    table["name"] = [f"r{i}" for i in range(N_ROWS)]
    table["constant"] = 1.0
    table["truth"] = z
    # known classes of every fifth row (--labels), the others left empty
    table["known"] = np.where(np.arange(N_ROWS) % 5 == 0, np.where(z == 0, "left", "right"), "")
    table.loc[MISSING_ROWS, "a"] = np.nan
    table.to_csv(folder / "data.csv", index=False)
    (folder / "empty.csv").write_text("")
    (folder / "header.csv").write_text("a,b\n")
    return folder


@pytest.fixture(scope="module")
def fitted(data_dir, tmp_path_factory):
    """One fit shared by the tests (compiling and sampling take 10-20 s); tests only read it."""
    out = tmp_path_factory.mktemp("fits") / "clusters"
    result = invoke("fit", data_dir / "data.csv", "--columns", "a,b", "-k", 2, "--out", out,
                    *SAMPLING, *DROP, "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, result


# ---------------------------------------------------------------------- fit


def test_fit_writes_every_file(fitted):
    out, _ = fitted
    assert {p.name for p in out.iterdir()} == FIT_FILES
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_fit_reports_the_dropped_rows_and_the_report(fitted):
    _, result = fitted
    stdout = " ".join(result.stdout.split())
    assert "Dropped 2 of 150 rows with missing values (rows 4 and 9)" in stdout
    assert "report.html" in stdout


def test_assignments_have_one_row_per_row_used(fitted):
    out, _ = fitted
    table = pd.read_csv(out / "assignments.csv")
    assert list(table.columns) == ["row", "label", "p_0", "p_1", "uncertainty"]
    assert table["row"].tolist() == [r for r in range(N_ROWS) if r not in MISSING_ROWS]
    p = table[["p_0", "p_1"]].to_numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)  # probabilities: only rounding
    np.testing.assert_array_equal(table["label"], p.argmax(axis=1))
    np.testing.assert_allclose(table["uncertainty"], 1.0 - p.max(axis=1), rtol=1e-12)


def test_fit_recovers_the_generating_clusters(fitted, data_dir):
    out, _ = fitted
    table = pd.read_csv(out / "assignments.csv")
    truth = pd.read_csv(data_dir / "data.csv")["truth"].to_numpy()[table["row"]]
    _, n_wrong = match_clusters(pd.crosstab(truth, table["label"]))
    # Means 5 sds apart: the Bayes classifier misassigns ~0.6% of rows (norm.cdf(-2.5)); 5 of
    # 148 leaves room for sampling noise with 100 draws.
    assert n_wrong <= 5


def test_saved_fit_predicts_the_assignments(fitted, data_dir):
    out, _ = fitted
    table = pd.read_csv(out / "assignments.csv")
    data = pd.read_csv(data_dir / "data.csv").loc[table["row"], ["a", "b"]]
    estimator = bm.load(out / "fit.nc")
    # the same draws and the same evaluator on both sides: only float rounding differs
    np.testing.assert_allclose(
        estimator.predict_proba(data), table[["p_0", "p_1"]].to_numpy(), atol=1e-9
    )


def test_summary_and_settings_describe_the_fit(fitted, data_dir):
    out, _ = fitted
    summary = pd.read_csv(out / "summary.csv", index_col="parameter")
    assert {"mean", "sd", "r_hat", "ess_bulk", "ess_tail"} <= set(summary.columns)
    assert "weights[0]" in summary.index
    settings = json.loads((out / "settings.json").read_text())
    assert settings["columns"] == ["a", "b"]
    assert settings["seed"] == 1 and settings["draws"] == 100 and settings["chains"] == 2
    assert settings["rows_used"] == N_ROWS - 2 and settings["rows_dropped"] == MISSING_ROWS
    assert settings["sampler_used"] in {"compiled", "pymc", "nutpie", "numpyro"}
    assert settings["command"].startswith(f"bayesmixture fit {data_dir / 'data.csv'} --columns a,b")
    assert "--seed 1" in settings["command"]


def test_report_of_the_fit_has_every_section(fitted, data_dir):
    out, _ = fitted
    page = (out / "report.html").read_text()
    for anchor, _ in SECTIONS:
        assert f'<section id="{anchor}">' in page
    assert page.count('<img src="data:image/png;base64,') == 4
    assert str(data_dir / "data.csv") in page
    assert "2 (rows 4 and 9)" in page


# ---------------------------------------------------------------------- predict


def test_predict_assigns_new_rows_without_sampling(fitted, data_dir, tmp_path):
    out, _ = fitted
    data = pd.read_csv(data_dir / "data.csv")
    new = data.loc[10:29, ["name", "b", "a"]].reset_index(drop=True)  # other order, extra column
    new.loc[3, "b"] = np.nan
    new.to_csv(tmp_path / "new.csv", index=False)
    result = invoke("predict", out, tmp_path / "new.csv", "--out", tmp_path / "preds.csv",
                    "--missing", "drop")  # fmt: skip
    assert result.exit_code == 0, result.output
    preds = pd.read_csv(tmp_path / "preds.csv")
    assert list(preds.columns) == ["row", "label", "p_0", "p_1", "uncertainty"]
    assert preds["row"].tolist() == [r for r in range(20) if r != 3]
    expected = pd.read_csv(out / "assignments.csv").set_index("row").loc[preds["row"] + 10]
    np.testing.assert_allclose(preds[["p_0", "p_1"]], expected[["p_0", "p_1"]], atol=1e-9)
    assert "Dropped 1 of 20 rows" in " ".join(result.stdout.split())


def test_missing_values_are_an_error_by_default_as_in_the_library(fitted, data_dir, tmp_path):
    out, _ = fitted
    new = pd.read_csv(data_dir / "data.csv").loc[:5, ["a", "b"]]
    new.loc[2, "b"] = np.nan
    new.to_csv(tmp_path / "new.csv", index=False)
    result = invoke("predict", out, tmp_path / "new.csv", "--out", tmp_path / "preds.csv")
    assert_one_line_error(result, "missing values in rows 2 and 4", "--missing drop")


def test_missing_values_can_be_marginalized(data_dir, tmp_path):
    out = tmp_path / "gaps"
    result = invoke("fit", data_dir / "data.csv", "--columns", "a,b", "-k", 2,
                    "--missing", "marginalize", "--out", out, "--draws", 60, "--tune", 60,
                    "--chains", 2, "--seed", 1, "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "assignments.csv")
    assert {4, 9} <= set(table["row"])  # the rows with gaps are kept and assigned
    assert bm.load(out / "fit.nc").missing == "marginalize"


def test_predict_names_the_columns_the_new_file_lacks(fitted, data_dir, tmp_path):
    out, _ = fitted
    pd.read_csv(data_dir / "data.csv")[["a"]].to_csv(tmp_path / "new.csv", index=False)
    result = invoke("predict", out, tmp_path / "new.csv", "--out", tmp_path / "preds.csv")
    assert_one_line_error(result, "lacks the column(s) 'b' that the fit used")
    assert not (tmp_path / "preds.csv").exists()


def test_predict_needs_a_fit_folder(data_dir, tmp_path):
    result = invoke("predict", tmp_path, data_dir / "data.csv", "--out", tmp_path / "p.csv")
    assert_one_line_error(result, "is not a fit folder", "bayesmixture fit")


# ---------------------------------------------------------------------- bad input


BAD_INPUTS = {
    "missing file": (["nope.csv"], "nope.csv: no such file"),
    "unknown column": (["data.csv", "--columns", "a,zz"], "'zz' not in"),
    "non-numeric column": (["data.csv", "--columns", "a,name"], "column 'name' of"),
    "empty file": (["empty.csv"], "empty.csv is empty"),
    "header only": (["header.csv"], "has a header but no data rows"),
    "missing values": (
        ["data.csv", "--columns", "a,b", "--missing", "error"],
        "missing values in rows 4 and 9",
    ),
    "k too large": (["data.csv", "--columns", "a,b", "-k", "200"], "-k 200 is larger than"),
    "k below 1": (["data.csv", "--columns", "a,b", "-k", "0"], "at least 1"),
    "unknown covariance": (
        ["data.csv", "--covariance", "round"],
        "--covariance 'round' is not an option; choose one of full, tied, diag, spherical",
    ),
    "unknown weights prior": (
        ["data.csv", "--weights-prior", "flat"],
        "--weights-prior flat must be a positive number or one of sparse, dirichlet_process",
    ),
    "negative weights prior": (
        ["data.csv", "--weights-prior", "-1"],
        "--weights-prior -1 must be a positive number",
    ),
    # A ValueError of the library itself, passed through as the one line.
    "constant column": (["data.csv", "--columns", "a,constant"], "constant columns ['constant']"),
    "unknown labels column": (["data.csv", "--labels", "nope"], "--labels nope: no such column"),
    "labels among the columns": (
        ["data.csv", "--columns", "a,b", "--labels", "b"],
        "--labels b is also in --columns",
    ),
    "noise for a one-column family": (
        ["data.csv", "--columns", "a", "--model", "poisson", "--noise"],
        "--noise needs --model gaussian or t",
    ),
    "too many classes": (
        ["data.csv", "--columns", "a,b", "--labels", "name", "-k", "2"],
        "classes",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_writes_nothing(case, data_dir, tmp_path):
    args, message = BAD_INPUTS[case]
    out = tmp_path / "out"
    # --missing drop first: a case's own --missing comes later and wins
    result = invoke("fit", data_dir / args[0], *DROP, *args[1:], "--out", out, *SAMPLING)
    assert_one_line_error(result, message)
    assert list(tmp_path.iterdir()) == []  # no output folder, no staging folder


def test_a_failed_fit_keeps_the_previous_output(fitted, data_dir):
    out, _ = fitted
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    result = invoke("fit", data_dir / "data.csv", "--columns", "zz", "--out", out, *SAMPLING)
    assert_one_line_error(result, "'zz' not in")
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_fit_refuses_to_replace_a_folder_it_did_not_write(data_dir, tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    result = invoke("fit", data_dir / "data.csv", "--columns", "a,b", "--out", tmp_path, *SAMPLING)
    assert_one_line_error(result, "already holds files that bayesmixture did not write")
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_select_says_when_it_is_not_available(data_dir, tmp_path, monkeypatch):
    for cls in bm.GaussianMixture.__mro__:  # wherever select is defined, take it away
        if "select" in vars(cls):
            monkeypatch.delattr(cls, "select")
    result = invoke("select", data_dir / "data.csv", "-k", "1..3", "--out", tmp_path / "s", *DROP)
    assert_one_line_error(result, "model selection is not available")
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("ks", ["0..3", "a..b", ","])
def test_select_names_a_bad_range_of_clusters(data_dir, tmp_path, ks):
    result = invoke("select", data_dir / "data.csv", "-k", ks, "--out", tmp_path / "s")
    assert_one_line_error(result, f"-k {ks!r} is not a set of cluster numbers")


def test_select_writes_the_comparison_and_the_chosen_fit(fitted, data_dir, tmp_path, monkeypatch):
    # The command is a thin layer over the estimator's select (tested with the library): a
    # stand-in that returns the shared fit keeps this test free of new sampling.
    calls = []

    def fake_select(self, X, y=None, *, n_components, method="loo", **kwargs):
        calls.append((list(X.columns), list(n_components), method, self.random_seed))
        table = pd.DataFrame(
            {"bic": [830.0, 778.0, 801.0], "icl": [830.0, 787.0, 855.0]},
            index=pd.Index([1, 2, 3], name="n_components"),
        )
        best = bm.load(fitted[0] / "fit.nc")
        return SimpleNamespace(comparison=table, best=best, fits={2: best})

    monkeypatch.setattr(bm.GaussianMixture, "select", fake_select, raising=False)
    out = tmp_path / "selection"
    result = invoke("select", data_dir / "data.csv", "--columns", "a,b", "-k", "1..3",
                    "--method", "bic", "--out", out, *SAMPLING, *DROP, "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert calls == [(["a", "b"], [1, 2, 3], "bic", 1)]
    assert {p.name for p in out.iterdir()} == FIT_FILES | {"comparison.csv", "comparison.png"}
    comparison = pd.read_csv(out / "comparison.csv", index_col="n_components")
    assert comparison.index.tolist() == [1, 2, 3]
    settings = json.loads((out / "settings.json").read_text())
    assert settings["n_components"] == 2
    assert "-k 1..3 --method bic" in settings["command"]
    page = (out / "report.html").read_text()
    assert '<section id="comparison">' in page and page.count("<figure>") == 5
    assert "Chosen: 2 clusters (bic)." in result.stdout


# ---------------------------------------------------------------------- demo


def test_demo_clusters_the_penguins_and_replaces_an_earlier_output(fitted, tmp_path):
    out = tmp_path / "demo"
    shutil.copytree(fitted[0], out)  # an earlier bayesmixture output: replaced on success
    result = invoke("demo", "--out", out, *SAMPLING, "--no-progress")
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == FIT_FILES | {"penguins.csv"}
    assert json.loads((out / "settings.json").read_text())["command"].startswith(
        "bayesmixture demo"
    )
    assert len(pd.read_csv(out / "assignments.csv")) == 342
    stdout = " ".join(result.stdout.split())
    for species in ("Adelie", "Chinstrap", "Gentoo"):
        assert species in stdout
    found = re.search(r"Misassigned after the best matching: (\d+) of 342 penguins", stdout)
    assert found is not None
    # A Gaussian mixture on the four measurements separates the species but for a few
    # Adelie/Chinstrap penguins (about 2% with long runs); 20 allows for 100-draw noise.
    assert int(found.group(1)) <= 20
    # the console wraps a long path anywhere (e.g. under pytest-xdist's longer tmp paths)
    assert "".join(stdout.split()).endswith(f"Report:{out / 'report.html'}")
    assert '<section id="reference">' in (out / "report.html").read_text()


# ---------------------------------------------------------------------- help


def test_every_option_has_help_and_every_command_an_example():
    command = typer.main.get_command(app)
    assert set(command.commands) == {"fit", "predict", "select", "demo"}
    for name, sub in command.commands.items():
        assert sub.help and "Example: bayesmixture " + name in (sub.epilog or "")
        for param in sub.params:
            assert getattr(param, "help", None), f"{name} {param.name} has no help"


def test_python_dash_m_runs_the_command_line(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["bayesmixture", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        # run the file itself, as `python -m bayesmixture` does, without re-importing it
        runpy.run_path(str(Path(bm.__file__).with_name("__main__.py")), run_name="__main__")
    assert exit_info.value.code == 0
    stdout = capsys.readouterr().out
    for name in ("fit", "predict", "select", "demo"):
        assert name in stdout


def test_a_family_added_to_the_table_reaches_the_cli_and_the_estimator():
    # Adding a Mixture family touches estimators/_families.py only: the CLI's --model choices
    # and the estimator's validation read that table (checked in a fresh interpreter, since
    # the CLI reads the table when it is imported).
    code = """
import dataclasses
from bayesmixture.estimators import _families
_families.FAMILIES["halfnormalish"] = dataclasses.replace(
    _families.FAMILIES["normal"], name="halfnormalish"
)
from typer.testing import CliRunner
from bayesmixture.cli import app
import bayesmixture as bm
bm.Mixture("halfnormalish", 2)._check_params()
help_text = CliRunner().invoke(app, ["fit", "--help"], terminal_width=200).output
print("LISTED" if "halfnormalish" in help_text else "MISSING")
"""
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LISTED" in done.stdout


def test_labels_noise_and_t_clusters_from_the_command_line(data_dir, tmp_path):
    out = tmp_path / "labelled"
    result = invoke("fit", data_dir / "data.csv", "--columns", "a,b", "-k", 2, "--model", "t",
                    "--noise", "--labels", "known", "--out", out, *SAMPLING, *DROP,
                    "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "assignments.csv")
    assert list(table.columns) == ["row", "label", "p_left", "p_right", "p_noise", "uncertainty"]
    truth = pd.read_csv(data_dir / "data.csv")["truth"].to_numpy()[table["row"]]
    named = np.where(truth == 0, "left", "right")
    # two clusters 5 sds apart: the classes name them and (nearly) every row follows
    assert np.mean(table["label"].to_numpy() == named) > 0.95
    settings = json.loads((out / "settings.json").read_text())
    assert settings["model"] == "t" and settings["noise"] and settings["labels"] == "known"
    assert "--noise --labels known" in settings["command"]
    assert bm.load(out / "fit.nc").__class__.__name__ == "StudentTMixture"


@pytest.mark.parametrize(
    ("text", "value"),
    [("2.5", 2.5), ("sparse", "sparse"), ("dirichlet_process", "dirichlet_process")],
)
def test_weights_prior_option_reaches_the_estimator(text, value):
    from bayesmixture.cli._fitting import make_estimator
    from bayesmixture.cli._options import FitOptions, check_options

    options = FitOptions(components=3, weights_prior=text)
    check_options(options)
    assert make_estimator(options).weights_prior == value


# ---------------------------------------------------------------------- select's model options


def test_select_takes_the_model_options_of_fit_and_tabulates_each_fits_checks(data_dir, tmp_path):
    out = tmp_path / "robust"
    result = invoke("select", data_dir / "data.csv", "--columns", "a,b", "-k", "1..2",
                    "--model", "t", "--noise", "--out", out, "--draws", 50, "--tune", 50,
                    "--chains", 2, "--seed", 1, "--missing", "drop", "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    comparison = pd.read_csv(out / "comparison.csv", index_col="n_components")
    assert sorted(comparison.index) == [1, 2]
    pattern = r"all checks passed|\d+ checks? failed \(.+\)"
    assert comparison["checks"].str.fullmatch(pattern).all(), comparison["checks"]
    stdout = " ".join(result.stdout.split())
    for k in (1, 2):
        assert re.search(rf"K={k}: ({pattern})", stdout)
    # the sampling checks are in the table, not raw warnings with file paths on stderr
    assert not re.search(r"\.py:\d+", result.stderr), result.stderr
    assert "Warning:" not in result.stderr
    settings = json.loads((out / "settings.json").read_text())
    assert settings["model"] == "t" and settings["noise"] is True
    assert "--model t" in settings["command"] and "--noise" in settings["command"]
    assert bm.load(out / "fit.nc").__class__.__name__ == "StudentTMixture"


def test_select_and_fit_offer_the_same_model_options():
    command = typer.main.get_command(app)

    def names(sub):
        return {opt for param in command.commands[sub].params for opt in param.opts}

    shared = {"--model", "--covariance", "--noise", "--labels", "--weights-prior", "--sampler"}
    shared |= {"--sep", "--decimal", "--thousands", "--encoding", "--missing", "--columns"}
    assert shared <= names("fit") and shared <= names("select")


def test_select_methods_are_the_librarys():
    from bayesmixture.cli._select import METHODS
    from bayesmixture.selection import METHODS as LIBRARY_METHODS

    assert tuple(METHODS) == tuple(LIBRARY_METHODS)


def test_boolean_options_are_flags_in_the_help():
    result = runner.invoke(app, ["fit", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--noise" in result.output and "--no-noise" in result.output
    assert "<bool>" not in result.output
    assert "{models}" not in result.output and "{covariances}" not in result.output
    assert "spherical" in result.output and "(round)" in result.output  # the note of the record


def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"bayesmixture {bm.__version__}"


def test_settings_say_what_was_used_in_words(fitted):
    out, result = fitted
    settings = json.loads((out / "settings.json").read_text())
    assert settings["columns_skipped"] == {
        name: "not in --columns" for name in ("name", "constant", "truth", "known")
    }
    assert settings["read_as"] == "',' separated, '.' decimals, UTF-8"
    stdout = " ".join(result.stdout.split())
    assert "Using 148 of 150 rows" in stdout and "the columns a, b" in stdout
    page = (out / "report.html").read_text()
    settings_html = page[page.index('<section id="settings">') :]
    settings_html = settings_html[: settings_html.index("</section>")]
    assert "<td>None</td>" not in settings_html and "<td>False</td>" not in settings_html
    assert "<td>labels</td>\n      <td>none</td>" in settings_html
    assert "<td>noise</td>\n      <td>no</td>" in settings_html
