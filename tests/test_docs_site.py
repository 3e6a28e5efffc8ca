"""The built site in a real browser: pages load their images and raise no console error.

`make docs` builds the site into docs/_build/html and then runs this file with
BAYESMIXTURE_DOCS_BUILT=1, so a missing page or browser fails there. Under `make test`,
which runs before the site is built, the tests skip when the site is absent.
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

SITE = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"
CHROMIUM = Path("/usr/bin/chromium")
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
        return "the site is not built (make docs)"
    if not (CHROMIUM.exists() and shutil.which(str(CHROMIUM))):
        return "the headless check needs /usr/bin/chromium"
    return None


_MISSING = _site_missing_reason()
if BUILT and _MISSING:
    # `make docs` has just built the site: a missing page or browser is a failure there.
    raise RuntimeError(f"BAYESMIXTURE_DOCS_BUILT is set but {_MISSING}.")
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


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
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
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


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_its_images_without_errors(name, tmp_path):
    seen = probe_page(SITE / name, tmp_path / "profile")
    assert seen["images"] > 0, f"{name} shows no image"
    assert seen["broken"] == [], f"{name}: images that did not load: {seen['broken']}"
    assert seen["errors"] == [], f"{name}: errors in the browser: {seen['errors']}"


def test_every_gallery_example_was_run_and_drew_its_figures():
    # sphinx-gallery writes an example's figures only when it has run it
    pages = sorted((SITE / "gallery").glob("plot_*.html"))
    assert len(pages) >= 8
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "Total running time of the script" in text, page.name
    drawn = {p.name.split("_thumb")[0] for p in (SITE / "_images").glob("sphx_glr_plot_*.png")}
    assert len(drawn) >= 8


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
