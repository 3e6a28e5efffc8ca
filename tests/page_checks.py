"""Helpers of the tests that check pages: the names a code block uses from ``bm``, and
headless Chromium's command line (tests/test_docs_site.py, test_readme.py, test_report.py)."""

from __future__ import annotations

import ast
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Chromium without a display, a sandbox, a GPU or anything that reaches the network.
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def bm_names(source: str) -> set[str]:
    """Dotted names used after ``bm.``, e.g. ``datasets.load_penguins``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            parts = []
            while isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name) and node.id == "bm":
                names.add(".".join(reversed(parts)))
    return names
