"""The HTML report: self-contained, every section, every image loads in a real browser."""

from __future__ import annotations

import copy
import itertools
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayesmixture.report import (
    SECTIONS,
    build_report,
    diagnostics_table,
    label_switching_table,
    match_clusters,
    write_report,
)
from page_checks import CHROMIUM, HEADLESS

N_CHAINS, N_DRAWS, K = 2, 100, 3


@pytest.fixture(scope="module")
def fit_parts():
    """A fake fit: relabelled posterior, sample stats, permutations (chain 1 swapped 0 and 1).

    Module-scoped (building a report takes about a second): tests only read it.
    """
    rng = np.random.default_rng(20261125)
    permutations = np.broadcast_to(np.arange(K), (N_CHAINS, N_DRAWS, K)).copy()
    permutations[1] = [1, 0, 2]
    idata = az.from_dict(
        posterior={
            "weights": rng.dirichlet([30, 30, 40], size=(N_CHAINS, N_DRAWS)),
            "means": rng.normal(
                [[0.0, 0.0], [4.0, 4.0], [0.0, 6.0]], 0.1, (N_CHAINS, N_DRAWS, K, 2)
            ),
            "sigmas": np.abs(rng.normal(1.0, 0.05, (N_CHAINS, N_DRAWS, K, 2))),
        },
        sample_stats={"diverging": np.zeros((N_CHAINS, N_DRAWS), dtype=bool)},
        dims={
            "weights": ["component"],
            "means": ["component", "feature"],
            "sigmas": ["component", "feature"],
        },
        coords={"component": np.arange(K), "feature": ["x", "y"]},
    )
    perms = xr.DataArray(
        permutations,
        dims=("chain", "draw", "component"),
        coords={"chain": np.arange(N_CHAINS), "draw": np.arange(N_DRAWS)},
        name="permutation",
    )
    idata.add_groups({"label_permutation": perms.to_dataset()})
    labels = np.repeat(np.arange(K), 30)
    X = rng.normal(size=(90, 2)) + np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 6.0]])[labels]
    probability = rng.dirichlet(np.ones(K) * 0.3, size=90)
    probability[np.arange(90), labels] += 2.0
    probability /= probability.sum(axis=1, keepdims=True)
    membership = xr.Dataset(
        {
            "probability": (("obs", "component"), probability),
            "label": ("obs", probability.argmax(axis=1)),
            "uncertainty": ("obs", 1.0 - probability.max(axis=1)),
        },
        coords={"obs": np.arange(90), "component": np.arange(K)},
    )
    data = pd.DataFrame(X, columns=["x", "y"])
    return idata, membership, data


@pytest.fixture(scope="module")
def page(fit_parts):
    idata, membership, data = fit_parts
    return build_report(
        idata,
        membership,
        data,
        settings={"data": "points.csv", "draws": N_DRAWS, "note": "<b>escaped</b>"},
        description="Gaussian mixture with 3 clusters.",
    )


def test_report_has_every_section_in_order(page):
    positions = [page.index(f'<section id="{anchor}">') for anchor, _ in SECTIONS]
    assert positions == sorted(positions)
    for anchor, heading in SECTIONS:
        assert f'<a href="#{anchor}">{heading}</a>' in page  # the navigation bar


def test_report_is_self_contained(page):
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page)
    images = [r for r in references if not r.startswith("#")]
    assert len(images) == 4  # pair plot, membership strip, posterior, trace/rank
    assert all(r.startswith("data:image/png;base64,") for r in images)
    assert "<script" not in page and "<link" not in page and "url(" not in page


def test_every_figure_has_a_numbered_title_and_a_caption(page):
    figures = re.findall(r"<figure>.*?</figure>", page, flags=re.S)
    assert len(figures) == 4
    for n, figure in enumerate(figures, start=1):
        caption = re.search(r"<figcaption><b>Figure (\d+)\. (.+?)\.</b> (.+?)</figcaption>", figure)
        assert caption is not None and int(caption.group(1)) == n
        assert len(caption.group(3)) > 40  # a real sentence, not a placeholder


def test_report_escapes_what_it_is_given(page):
    assert "&lt;b&gt;escaped&lt;/b&gt;" in page
    assert "<b>escaped</b>" not in page


def test_report_shows_diagnostics_and_switching_found(page):
    diagnostics = page[page.index('<section id="diagnostics">') :]
    for check in ("Largest R-hat", "Smallest bulk ESS", "Smallest tail ESS", "Divergent"):
        assert check in diagnostics
    assert "chain 0: 0%, chain 1: 100%" in diagnostics
    assert '<tr class="fixed">' in diagnostics


def test_optional_sections_appear_when_given(fit_parts):
    idata, membership, data = fit_parts
    confusion = pd.DataFrame([[28, 2, 0], [1, 29, 0], [0, 0, 30]], index=["a", "b", "c"])
    comparison = pd.DataFrame(
        {
            "rank": [0, 1],
            "elpd_loo": [-10.0, -14.0],
            "p_loo": [3.0, 5.0],
            "elpd_diff": [0.0, 4.0],
            "weight": [0.9, 0.1],
            "se": [1.0, 1.2],
            "dse": [0.0, 1.5],
            "warning": [False, False],
            "scale": "log",
        },
        index=["k=3", "k=2"],
    )
    page = build_report(
        idata, membership, data, settings={}, reference=confusion, comparison=comparison
    )
    assert '<section id="reference">' in page and '<section id="comparison">' in page
    assert "<b>3</b> of 90 rows (3.3%)" in page
    assert page.count("<figure>") == 5
    assert page.index('id="comparison"') < page.index('id="settings"')


def test_noise_section_lists_the_rows_the_noise_took(fit_parts):
    idata, membership, data = fit_parts
    K = membership.sizes["component"]
    probability = np.c_[
        membership["probability"].values * 0.9, np.full(membership.sizes["obs"], 0.1)
    ]
    probability[[3, 7]] = np.r_[np.full(K, 0.02), 1 - 0.02 * K]  # rows 3 and 7: noise
    noisy = xr.Dataset(
        {
            "probability": (("obs", "component"), probability),
            "label": ("obs", probability.argmax(axis=1)),
            "uncertainty": ("obs", 1 - probability.max(axis=1)),
        },
        coords={"component": [*range(K), "noise"]},
    )
    page = build_report(idata, noisy, data, settings={})
    section = page[page.index('<section id="noise">') :]
    section = section[: section.index("</section>")]
    assert "It takes <b>2</b> of" in section
    assert section.count("</tr>") == 3 and "<th>3</th>" in section and "<th>7</th>" in section
    assert page.index('id="noise"') < page.index('id="settings"')


def test_write_report_leaves_no_temporary_file(fit_parts, tmp_path):
    idata, membership, data = fit_parts
    path = write_report(tmp_path / "report.html", idata, membership, data, settings={})
    assert path.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_label_switching_table_measures_each_chain(fit_parts):
    idata, _, _ = fit_parts
    table = label_switching_table(idata["label_permutation"]["permutation"])
    assert table["share_switched"].tolist() == [0.0, 1.0]
    assert table["modal_permutation"].tolist() == [(0, 1, 2), (1, 0, 2)]


def test_diagnostics_table_counts_divergences(fit_parts):
    idata = copy.deepcopy(fit_parts[0])
    diverging = idata.sample_stats["diverging"].copy()
    diverging[0, :3] = True
    idata.sample_stats["diverging"] = diverging
    table = diagnostics_table(idata).set_index("check")
    assert table.loc["Divergent transitions", "value"] == f"3 of {N_CHAINS * N_DRAWS} draws"
    assert table.loc["Divergent transitions", "status"] == "check"
    assert table.loc["Chains numbered the clusters differently", "status"] == "fixed"


def test_match_clusters_agrees_with_brute_force(rng):
    counts = rng.integers(0, 30, size=(4, 4))
    confusion = pd.DataFrame(counts, index=list("abcd"))
    mapping, n_wrong = match_clusters(confusion)
    best = max(
        itertools.permutations(range(4)), key=lambda p: sum(counts[r, p[r]] for r in range(4))
    )
    assert n_wrong == counts.sum() - sum(counts[r, best[r]] for r in range(4))
    assert sorted(mapping.values()) == list("abcd")


# ---------------------------------------------------------------------- in a real browser

_PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var broken = images.filter(function (im) { return !(im.complete && im.naturalWidth > 0); });
  document.title = "PROBE images=" + images.length + " broken=" + broken.length;
});
</script></body>"""


def _images_in_chromium(page: str, tmp_path: Path) -> tuple[int, int]:
    """(images, images that did not load) of ``page`` opened in headless Chromium."""
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", _PROBE), encoding="utf-8")
    result = subprocess.run(
        [
            str(CHROMIUM),
            *HEADLESS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.search(r"<title>PROBE images=(\d+) broken=(\d+)</title>", result.stdout)
    assert found is not None, f"no probe result from chromium: {result.stderr[-2000:]}"
    return int(found.group(1)), int(found.group(2))


_HAS_CHROMIUM = CHROMIUM.exists() and shutil.which(str(CHROMIUM)) is not None
if os.environ.get("CI") and not _HAS_CHROMIUM:
    # .ci/run installs Debian's chromium: in CI a missing browser is a broken set-up, not a
    # reason to leave the report unchecked.
    raise RuntimeError("CI is set but /usr/bin/chromium is missing; .ci/run installs it.")
needs_chromium = pytest.mark.skipif(
    not _HAS_CHROMIUM, reason="headless check needs /usr/bin/chromium"
)


@needs_chromium
def test_every_image_loads_in_chromium(page, tmp_path):
    assert _images_in_chromium(page, tmp_path) == (4, 0)


@needs_chromium
def test_chromium_probe_detects_a_broken_image(tmp_path):
    # The probe itself must be able to fail: a truncated PNG has naturalWidth 0.
    page = '<!DOCTYPE html><html><body><img src="data:image/png;base64,iVBORw0KGgo="></body></html>'
    assert _images_in_chromium(page, tmp_path) == (1, 1)
