"""The documentation site: its Python snippets name real things, and the built pages load
their images and raise no console error in a real browser.

`make docs` builds the site into docs/_build/html and then runs this file with
BAYESMIXTURE_DOCS_BUILT=1, so a site that is not there fails. Under `make test`, which runs
before the site is built, the browser tests skip when the site is absent; without Debian's
chromium they skip too, except in CI (.ci/run installs it).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import bayesmixture as bm
from page_checks import CHROMIUM, HEADLESS, bm_names

DOCS = Path(__file__).resolve().parents[1] / "docs"
SITE = DOCS / "_build" / "html"
BUILT = bool(os.environ.get("BAYESMIXTURE_DOCS_BUILT"))
# The home page (its gallery cards), the gallery's index and an example with figures.
PAGES = ["index.html", "gallery/index.html", "gallery/plot_penguins.html"]

# Injected first into <head>: records failed loads (images, scripts, styles), uncaught
# errors and console.error calls, then, once the page and its timers have run, writes what
# it saw into the page for --dump-dom to return.
_PROBE = """<script>
window.__probe = [];
window.addEventListener("error", function (event) {
  var target = event.target;
  if (target && target !== window && (target.src || target.href)) {
    window.__probe.push("failed to load " + (target.src || target.href));
  } else {
    window.__probe.push("error: " + event.message);
  }
}, true);
window.addEventListener("unhandledrejection", function (event) {
  window.__probe.push("unhandled rejection: " + event.reason);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__probe.push("console.error: " + Array.from(arguments).join(" "));
    return original.apply(console, arguments);
  };
})();
window.addEventListener("load", function () {
  setTimeout(function () {
    var images = Array.from(document.images);
    var broken = images.filter(function (im) { return !(im.complete && im.naturalWidth > 0); });
    var out = document.createElement("pre");
    out.id = "probe-result";
    out.textContent = JSON.stringify({
      images: images.length,
      broken: broken.map(function (im) { return im.src; }),
      errors: window.__probe,
    });
    document.body.appendChild(out);
  }, 1000);
});
</script>"""


def _site_missing_reason() -> str | None:
    if not (SITE / "index.html").exists():
        if BUILT:  # `make docs` has just built it
            raise RuntimeError(f"BAYESMIXTURE_DOCS_BUILT is set but {SITE} has no index.html.")
        return "the site is not built (make docs)"
    if not (CHROMIUM.exists() and shutil.which(str(CHROMIUM))):
        if os.environ.get("CI"):  # .ci/run installs Debian's chromium
            raise RuntimeError("CI is set but /usr/bin/chromium is missing; .ci/run installs it.")
        return "the headless check needs /usr/bin/chromium (apt-get install chromium)"
    return None


_MISSING = _site_missing_reason()
needs_site = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


def _python_blocks() -> list[tuple[str, str]]:
    """(page, code) of every ```python block of the site's Markdown pages."""
    blocks = []
    for page in sorted(DOCS.rglob("*.md")):
        if "_build" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        for code in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL):
            blocks.append((str(page.relative_to(DOCS)), code))
    return blocks


@pytest.mark.parametrize(
    ("page", "code"),
    _python_blocks(),
    ids=[f"{page}-{n}" for n, (page, _) in enumerate(_python_blocks())],
)
def test_every_library_name_in_the_pages_exists(page, code):
    # Code the build does not run (it includes the gallery's, which it does) is still
    # Python, and every bayesmixture name in it exists.
    for dotted in bm_names(code):
        obj = bm
        for part in dotted.split("."):
            assert hasattr(obj, part), f"{page} uses bm.{dotted}, which does not exist"
            obj = getattr(obj, part)


def probe_page(page: Path, profile: Path) -> dict:
    """Open ``page`` in headless Chromium; its images and the errors it raised.

    The probed copy sits beside the page (so its relative links resolve) and is removed.
    """
    text = page.read_text(encoding="utf-8")
    probed = page.with_name(f"probe-{page.name}")
    probed.write_text(re.sub(r"<head>", "<head>" + _PROBE, text, count=1), encoding="utf-8")
    try:
        result = subprocess.run(
            [
                str(CHROMIUM),
                *HEADLESS,
                "--allow-file-access-from-files",
                "--window-size=1400,20000",  # every image in view, lazy or not
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                probed.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        probed.unlink()
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', result.stdout, flags=re.DOTALL)
    assert found is not None, f"no probe result from chromium: {result.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


@needs_site
@pytest.mark.parametrize("name", PAGES)
def test_page_loads_its_images_without_errors(name, tmp_path):
    seen = probe_page(SITE / name, tmp_path / "profile")
    assert seen["images"] > 0, f"{name} shows no image"
    assert seen["broken"] == [], f"{name}: images that did not load: {seen['broken']}"
    assert seen["errors"] == [], f"{name}: errors in the browser: {seen['errors']}"


@needs_site
def test_every_gallery_example_was_run_and_drew_its_figures():
    # sphinx-gallery writes an example's figures only when it has run it
    pages = sorted((SITE / "gallery").glob("plot_*.html"))
    assert len(pages) >= 8
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "Total running time of the script" in text, page.name
    drawn = {p.name.split("_thumb")[0] for p in (SITE / "_images").glob("sphx_glr_plot_*.png")}
    assert len(drawn) >= 8


@needs_site
def test_probe_reports_a_broken_image_and_a_script_error(tmp_path):
    # The probe itself must be able to fail.
    page = SITE / "probe-selftest.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body>"
        '<img src="no-such-image.png"><script>undefined_name();</script></body></html>',
        encoding="utf-8",
    )
    try:
        seen = probe_page(page, tmp_path / "profile")
    finally:
        page.unlink()
    assert seen["images"] == 1 and len(seen["broken"]) == 1
    assert any("undefined_name" in error for error in seen["errors"])
    assert any("no-such-image.png" in error for error in seen["errors"])
