# Two set-up commands: `make demo` and `make test`. Both create .venv when it is missing.
# `make docs` builds the documentation site (docs/_build/html).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Long statistical runs are marked `slow`; `make test-all` runs them too. Test files are
# spread over two worker processes (pytest-xdist), one file per worker at a time, so that
# module- and session-scoped fits are built once per file.
PYTEST_ARGS ?= -m "not slow" -n 2 --dist loadfile

.PHONY: demo test test-all docs lint bench clean

# Packages are installed with uv (from PyPI, into .venv): it resolves the same versions as
# pip and installs them in ~1 min where pip takes ~2.5 min. --compile-bytecode writes the
# .pyc files at install, as pip does: where PYTHONDONTWRITEBYTECODE is set (as on CI), Python
# would otherwise compile every module again in every process (import bayesmixture: 28 s
# instead of 9 s).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv>=0.5"

$(VENV)/.installed: $(BIN)/uv pyproject.toml
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[test]"
	touch $@

$(VENV)/.installed-docs: $(VENV)/.installed-test pyproject.toml
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[docs]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/bayesmixture demo

# The fast path's Numba kernels are compiled first, one process per kernel, so the two test
# workers load them from Numba's cache instead of compiling the same kernel side by side.
test: $(VENV)/.installed-test
	$(BIN)/python -m bayesmixture._kernels.warm
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-all: $(VENV)/.installed-test
	$(BIN)/python -m bayesmixture._kernels.warm
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The site, with Sphinx: warnings are errors (cross-references to the library included), and
# every gallery example runs (sphinx-gallery skips an example whose script has not changed
# since it last ran; `make clean` or `rm -rf docs/_build docs/gallery` runs them all again).
# Then headless Chromium opens the built pages (tests/test_docs_site.py).
docs: $(VENV)/.installed-docs
	$(BIN)/python -m bayesmixture._kernels.warm
	$(BIN)/python -m sphinx -b html -n -W --keep-going docs docs/_build/html
	BAYESMIXTURE_DOCS_BUILT=1 $(BIN)/python -m pytest -p no:cacheprovider tests/test_docs_site.py

# Benchmarks against PyMC, nutpie, numpyro and scikit-learn; fills docs/benchmarks.md.
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
	rm -rf docs/_build docs/gallery docs/api/generated docs/sg_execution_times.rst
