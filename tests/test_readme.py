"""The README's Python examples: every name they use exists, and (slow) they run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import bayesmixture as bm
from page_checks import bm_names

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_has_the_quick_start_and_the_core_example():
    blocks = _python_blocks()
    assert len(blocks) >= 2
    assert "bm.GaussianMixture(3" in blocks[0] and ".fit(X)" in blocks[0]
    assert len([line for line in blocks[0].splitlines() if line and not line.startswith("#")]) <= 5


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_every_library_name_in_the_readme_exists(index):
    source = _python_blocks()[index]
    for dotted in bm_names(source):
        obj = bm
        for part in dotted.split("."):
            assert hasattr(obj, part), (
                f"README block {index} uses bm.{dotted}, which does not exist"
            )
            obj = getattr(obj, part)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_examples_run_as_written(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    exec(compile(_python_blocks()[index], f"README block {index}", "exec"), {})
