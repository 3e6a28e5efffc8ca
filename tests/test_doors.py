"""Every option through every door: fit, save, load in a fresh process, predict, the command
line and the report, with the user's own column and class names.

One case per option (or combination) an estimator accepts. Each case is fitted once, tiny
(a few dozen rows, 2 chains of 60 draws: these tests check the plumbing, not the
statistics, which the estimators' own tests check against references), then:

1. saved, and loaded again in one fresh Python process for all cases: the loaded fit's
   ``predict_proba`` of the training rows is bit-identical to the fitted one's, and its
   ``predict`` gives the same labels, of the same type;
2. ``predict`` names components as promised: the classes in their own type, -1 (or
   ``"noise"`` for string classes) for the noise component, 0..K-1 otherwise;
3. where the command line offers the options, ``bayesmixture fit`` and then
   ``bayesmixture predict`` on the same rows give the same assignments, and its report
   names the classes (and lists the noise rows);
4. the HTML report built from the fit names the classes and never the internal variables.

Combinations the estimators refuse are checked at the end: each refusal names the options.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import bayesmixture as bm
from bayesmixture.cli import app
from bayesmixture.report import build_report

TINY = {"draws": 60, "tune": 60, "chains": 2, "progressbar": False, "random_seed": 1}
N_PER = 24


def _two_clusters(n_per: int = N_PER, d: int = 2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(-3.0, 1.0, (n_per, d)), rng.normal(3.0, 1.0, (n_per, d))]
    return pd.DataFrame(X, columns=["height_cm", "weight_kg", "age", "score"][:d])


def _labels(kind: str, n_per: int = N_PER) -> np.ndarray:
    """Every fourth row labelled by its cluster, the others unlabelled; in the class type."""
    classes = {"str": ["small", "large"], "int": [3, 7], "float": [0.0, 1.0]}[kind]
    values = np.repeat(classes, n_per).astype(object)
    unlabelled = np.arange(2 * n_per) % 4 != 0
    values[unlabelled] = None if kind == "str" else (np.nan if kind == "float" else -1)
    return values if kind == "str" else values.astype(float if kind == "float" else int)


@dataclass
class Case:
    """One option (or combination) taken through every door."""

    name: str
    make: object  # () -> unfitted estimator
    data: object  # () -> (fit args tuple, fit kwargs dict, predict args tuple, predict kwargs)
    cli: list[str] | None = None  # fit options of the command line, None where it has none
    classes: list | None = None
    noise: bool = False
    extra: dict = field(default_factory=dict)


def _gaussian(**options):
    return lambda: bm.GaussianMixture(2, **options, **TINY)


def _table_data(labels: str | None = None, d: int = 2, **fit_kwargs):
    def data():
        X = _two_clusters(d=d)
        kwargs = dict(fit_kwargs)
        if labels is not None:
            kwargs["labels"] = _labels(labels)
        predict_kwargs = {"groups": kwargs["groups"]} if "groups" in kwargs else {}
        return (X,), kwargs, (X,), predict_kwargs

    return data


def _with_gaps():
    X = _two_clusters(d=3)
    X.iloc[1, 0] = X.iloc[30, 1] = X.iloc[31, 2] = np.nan
    return (X,), {}, (X,), {}


def _values(family: str = "normal", labels: str | None = None):
    def data():
        rng = np.random.default_rng(2)
        if family == "poisson":
            y = np.r_[rng.poisson(2, N_PER), rng.poisson(15, N_PER)].astype(float)
        else:
            y = np.r_[rng.normal(-3, 1, N_PER), rng.normal(3, 1, N_PER)]
        kwargs = {} if labels is None else {"labels": _labels(labels)}
        return (y,), kwargs, (y,), {}

    return data


def _regression(family: str = "normal", per_component: bool = False, labels: str | None = None):
    def data():
        rng = np.random.default_rng(3)
        x = pd.DataFrame({"dose": rng.normal(size=2 * N_PER), "age": rng.normal(size=2 * N_PER)})
        z = np.repeat([0, 1], N_PER)
        if family == "poisson":
            y = rng.poisson(np.exp(np.where(z == 0, 0.5 + x["dose"], 2.0 - x["dose"])))
        else:
            y = np.where(z == 0, 1 + 2 * x["dose"], -1 - 2 * x["dose"]) + rng.normal(
                0, 0.3, 2 * N_PER
            )
        X = [x, x * 0.5] if per_component else x
        kwargs = {} if labels is None else {"labels": _labels(labels)}
        return (X, y), kwargs, (X, y), {}

    return data


CASES = [
    Case("full", _gaussian(), _table_data(), ["--covariance", "full"]),
    Case("tied", _gaussian(covariance_type="tied"), _table_data(), ["--covariance", "tied"]),
    Case(
        "diag+noise",
        _gaussian(covariance_type="diag", noise=True),
        _table_data(),
        ["--covariance", "diag", "--noise"],
        noise=True,
    ),
    Case(
        "spherical+str labels",
        _gaussian(covariance_type="spherical"),
        _table_data("str"),
        ["--covariance", "spherical"],
        classes=["large", "small"],
    ),
    Case(
        "int labels+noise",
        _gaussian(noise=True),
        _table_data("int"),
        ["--noise"],
        classes=[3, 7],
        noise=True,
    ),
    # (the command line reads whole numbers in a labels column as integer classes)
    Case("float labels", _gaussian(), _table_data("float"), classes=[0.0, 1.0]),
    Case(
        "str labels+noise",
        _gaussian(noise=True),
        _table_data("str"),
        ["--noise"],
        classes=["large", "small"],
        noise=True,
    ),
    Case(
        "sparse weights",
        _gaussian(weights_prior="sparse"),
        _table_data(),
        ["--weights-prior", "sparse"],
    ),
    Case("per-group weights", _gaussian(), _table_data(groups=np.arange(2 * N_PER) % 3)),
    Case(
        "shared labels",
        _gaussian(),
        _table_data(groups=np.arange(2 * N_PER) // 4, shared_label=True),
    ),
    Case(
        "case weights",
        _gaussian(),
        _table_data(sample_weight=np.r_[np.ones(N_PER), 2 * np.ones(N_PER)]),
    ),
    Case("gaps", _gaussian(missing="marginalize"), _with_gaps),
    Case("student-t", lambda: bm.StudentTMixture(2, **TINY), _table_data(), ["--model", "t"]),
    Case(
        "student-t+str labels+noise",
        lambda: bm.StudentTMixture(2, noise=True, **TINY),
        _table_data("str"),
        ["--model", "t", "--noise"],
        classes=["large", "small"],
        noise=True,
    ),
    Case(
        "mixture normal", lambda: bm.Mixture("normal", 2, **TINY), _values(), ["--model", "normal"]
    ),
    Case(
        "mixture poisson+int labels",
        lambda: bm.Mixture("poisson", 2, **TINY),
        _values("poisson", "int"),
        ["--model", "poisson"],
        classes=[3, 7],
    ),
    Case("mixture of families", lambda: bm.Mixture(["normal", "studentt"], 2, **TINY), _values()),
    Case("regression", lambda: bm.MixtureRegression(2, **TINY), _regression()),
    Case(
        "regression, designs per component",
        lambda: bm.MixtureRegression(2, coefficients="shared", **TINY),
        _regression(per_component=True),
    ),
    Case(
        "regression, gated",
        lambda: bm.MixtureRegression(2, weights_from=["age"], **TINY),
        _regression(),
    ),
    Case(
        "regression+str labels",
        lambda: bm.MixtureRegression(2, **TINY),
        _regression(labels="str"),
        classes=["large", "small"],
    ),
    Case(
        "regression, gated+int labels",
        lambda: bm.MixtureRegression(2, weights_from=["age"], **TINY),
        _regression(labels="int"),
        classes=[3, 7],
    ),
]
# Options that sample through PyMC's graph take a minute or more cold: make test-all.
SLOW_CASES = [
    Case(
        "dirichlet process",
        _gaussian(weights_prior="dirichlet_process"),
        _table_data(),
        ["--weights-prior", "dirichlet_process"],
    ),
    Case(
        "poisson regression",
        lambda: bm.MixtureRegression(2, family="poisson", **TINY),
        _regression("poisson"),
    ),
]
ALL = [pytest.param(c, id=c.name) for c in CASES] + [
    pytest.param(c, id=c.name, marks=pytest.mark.slow) for c in SLOW_CASES
]


def _fit(case: Case):
    args, kwargs, predict_args, predict_kwargs = case.data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 120 draws: the ESS checks warn, by design
        estimator = case.make().fit(*args, **kwargs)
    return estimator, args, kwargs, predict_args, predict_kwargs


@pytest.fixture(scope="module")
def fitted(request, tmp_path_factory):
    """Each case fitted and saved once; loaded back in one fresh process for all of them."""
    folder = tmp_path_factory.mktemp("doors")
    slow_too = "not slow" not in (request.config.getoption("-m") or "")
    cases = CASES + SLOW_CASES if slow_too else CASES
    fits, jobs = {}, []
    for k, case in enumerate(cases):
        estimator, args, kwargs, predict_args, predict_kwargs = _fit(case)
        path = folder / f"case{k}.nc"
        estimator.save(path)
        inputs = folder / f"case{k}.pkl"
        pd.to_pickle((predict_args, predict_kwargs), inputs)
        fits[case.name] = (estimator, args, kwargs, predict_args, predict_kwargs)
        jobs.append((case.name, str(path), str(inputs), str(folder / f"case{k}.out.pkl")))
    script = textwrap.dedent(
        """
        import json, sys, warnings
        import pandas as pd
        import bayesmixture as bm
        for name, path, inputs, out in json.loads(sys.argv[1]):
            args, kwargs = pd.read_pickle(inputs)
            loaded = bm.load(path)
            pd.to_pickle((loaded.predict_proba(*args, **kwargs),
                          loaded.predict(*args, **kwargs),
                          loaded.diagnose(), type(loaded).__name__), out)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(jobs)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = {name: pd.read_pickle(out) for name, _, _, out in jobs}
    return fits, loaded


@pytest.mark.parametrize("case", ALL)
def test_a_fit_loaded_in_a_fresh_process_predicts_bit_identically(case, fitted):
    fits, loaded = fitted
    estimator, _, _, predict_args, predict_kwargs = fits[case.name]
    probability, labels, diagnostics, class_name = loaded[case.name]
    assert class_name == type(estimator).__name__
    np.testing.assert_array_equal(
        probability, estimator.predict_proba(*predict_args, **predict_kwargs)
    )
    expected = estimator.predict(*predict_args, **predict_kwargs)
    np.testing.assert_array_equal(labels, expected)
    assert labels.dtype == expected.dtype
    pd.testing.assert_frame_equal(diagnostics, estimator.diagnose())


@pytest.mark.parametrize("case", ALL)
def test_predictions_name_the_components_in_the_classes_own_type(case, fitted):
    estimator, _, kwargs, predict_args, predict_kwargs = fitted[0][case.name]
    labels = estimator.predict(*predict_args, **predict_kwargs)
    noise_label = "noise" if case.classes and isinstance(case.classes[0], str) else -1
    allowed = list(case.classes or range(estimator.n_components))
    allowed += [noise_label] if case.noise else []
    assert set(labels.tolist()) <= set(allowed)
    if case.classes is not None:
        kind = str if isinstance(case.classes[0], str) else type(case.classes[0])
        assert all(isinstance(label, kind) for label in labels.tolist())
    expected = estimator.predict(*predict_args, **predict_kwargs)
    if "labels" in kwargs:
        # a labelled training row belongs to its class for certain, even where predict (which
        # sees the row as new, without its label) prefers another component
        given = pd.Series(kwargs["labels"], dtype=object)
        known = (given.notna() & (given.astype(str) != "-1")).to_numpy()
        expected = np.where(known, given.to_numpy(), expected.astype(object))
    np.testing.assert_array_equal(estimator.labels_.astype(object), expected)


@pytest.mark.parametrize("case", ALL)
def test_the_report_names_the_classes_and_the_columns_never_internal_variables(case, fitted):
    estimator, args, *_ = fitted[0][case.name]
    data = args[0] if isinstance(args[0], pd.DataFrame) else pd.DataFrame({"y": args[-1]})
    if len(data) != len(estimator.membership_["probability"]):  # one row per group
        pytest.skip("membership is per group (shared labels)")
    page = build_report(
        estimator.idata_,
        estimator.membership_,
        data,
        settings={"case": case.name},
        diagnostics=estimator.diagnostics_,
    )
    for name in case.classes or []:
        assert f"cluster {name}" in page
    assert "Rows taken by the noise component" in page if case.noise else True
    for internal in ("cpc[", "sd[", "mu["):
        assert internal not in page.split('id="parameters"')[0]  # the ArviZ table aside
    assert not re.search(r"cluster \d+ = ", page) or case.classes is None


CLI_CASES = [pytest.param(c, id=c.name) for c in CASES if c.cli is not None]


@pytest.mark.parametrize("case", CLI_CASES)
def test_the_command_line_fits_and_predicts_the_same_assignments(case, tmp_path):
    args, kwargs, *_ = case.data()
    if isinstance(args[0], pd.DataFrame):
        table = args[0].copy()
        columns = list(table.columns)
        model = [] if "--model" in case.cli else ["--model", "gaussian"]
    else:
        table = pd.DataFrame({"value": args[0]})
        columns = ["value"]
        model = []
    labels = []
    if "labels" in kwargs:
        table["species"] = kwargs["labels"]
        labels = ["--labels", "species"]
    table.to_csv(tmp_path / "data.csv", index=False)
    runner = CliRunner()
    options = ["--draws", "60", "--tune", "60", "--chains", "2", "--seed", "1"]
    result = runner.invoke(
        app,
        [
            "fit",
            str(tmp_path / "data.csv"),
            "--columns",
            ",".join(columns),
            "-k",
            "2",
            *model,
            *case.cli,
            *labels,
            *options,
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        [
            "predict",
            str(tmp_path / "out"),
            str(tmp_path / "data.csv"),
            "--out",
            str(tmp_path / "new.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    fitted_rows = pd.read_csv(tmp_path / "out" / "assignments.csv")
    predicted = pd.read_csv(tmp_path / "new.csv")
    pd.testing.assert_series_equal(fitted_rows["label"], predicted["label"])
    page = (tmp_path / "out" / "report.html").read_text()
    for name in case.classes or []:
        assert f"cluster {name}" in page
    if case.noise:
        assert "Rows taken by the noise component" in page
    settings = json.loads((tmp_path / "out" / "settings.json").read_text())
    assert settings["compile_and_sample_seconds"] > 0


@pytest.mark.parametrize(
    ("make", "fit_kwargs", "message"),
    [
        (
            lambda: bm.GaussianMixture(2, noise=True),
            {"groups": np.arange(48) % 2},
            "noise=True gives one noise weight; with groups=",
        ),
        (
            lambda: bm.GaussianMixture(2, noise=True, missing="marginalize"),
            {},
            "noise=True needs complete rows",
        ),
        (
            lambda: bm.GaussianMixture(2, noise=True, weights_prior="dirichlet_process"),
            {},
            "noise=True takes a Dirichlet weights_prior",
        ),
        (
            lambda: bm.GaussianMixture(2),
            {"labels": _labels("str"), "groups": np.arange(48) % 2},
            "labels (partly labelled rows) do not combine with groups=",
        ),
        (
            lambda: bm.GaussianMixture(2, weights_prior="dirichlet_process"),
            {"groups": np.arange(48) % 2},
            "weights_prior='dirichlet_process' gives one set",
        ),
        (
            lambda: bm.GaussianMixture(2, noise=True),
            {"labels": np.r_[["noise"] * 4, [None] * 44]},
            "class named 'noise'",
        ),
        (lambda: bm.GaussianMixture(2, weights_prior=True), {}, "weights_prior=True is a boolean"),
    ],
)
def test_refused_combinations_name_the_options(make, fit_kwargs, message):
    X = _two_clusters()
    with pytest.raises(ValueError, match=re.escape(message)):
        make().fit(X, **fit_kwargs)
