"""Sphinx pieces of the bayesmixture site that read the code instead of repeating it.

- ``command-help``: the ``--help`` of the ``bayesmixture`` command (or one of its commands),
  as the installed command prints it, run at build time.
- ``covariance-types`` and ``component-families``: tables of the estimators' records
  (``bayesmixture.estimators.COVARIANCES`` and ``FAMILIES``), so a new entry shows up here.
- The API check: every name a public module exports (its ``__all__``) is documented
  somewhere on the site; a name that is not is a build warning (an error under ``-W``).
- ``GalleryOrder``: the order of the gallery's examples.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

# The public modules whose ``__all__`` the API reference must cover.
PUBLIC_MODULES = (
    "bayesmixture",
    "bayesmixture.datasets",
    "bayesmixture.diagnostics",
    "bayesmixture.estimators",
    "bayesmixture.exceptions",
    "bayesmixture.inference",
    "bayesmixture.io",
    "bayesmixture.plots",
    "bayesmixture.report",
    "bayesmixture.selection",
)
# Width of the rendered --help, in characters (rich wraps its panels to it).
HELP_WIDTH = 100

# The gallery, in reading order (file names in examples/gallery).
GALLERY = (
    "plot_penguins.py",
    "plot_operator_mixture.py",
    "plot_label_switching.py",
    "plot_galaxies.py",
    "plot_outliers.py",
    "plot_partly_labelled.py",
    "plot_counts.py",
    "plot_poisson_regression.py",
    "plot_diagnostics.py",
    "plot_dask_scoring.py",
    "plot_command_line.py",
)


class GalleryOrder:
    """Sort key of sphinx-gallery's ``within_subsection_order``: ``GALLERY``'s order."""

    def __init__(self, src_dir: str):
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        name = Path(filename).name
        return (GALLERY.index(name) if name in GALLERY else len(GALLERY), name)

    def __repr__(self) -> str:  # sphinx-gallery keys its cache on the config's repr
        return f"GalleryOrder({GALLERY})"


class LibraryFigures:
    """Image scraper of sphinx-gallery for the figures ``bayesmixture.plots`` returns.

    Those figures are built without pyplot (nothing is kept in pyplot's list), so the
    matplotlib scraper does not see them. After each code block, every such figure among
    the example's variables that has not been shown yet is saved and shown.
    """

    def __init__(self):
        self._shown: dict[str, list] = {}

    def __repr__(self) -> str:
        return "LibraryFigures()"

    def __call__(self, block, block_vars, gallery_conf) -> str:
        from matplotlib.figure import Figure
        from sphinx_gallery.scrapers import figure_rst

        shown = self._shown.setdefault(str(block_vars["src_file"]), [])
        paths = []
        for value in list(block_vars["example_globals"].values()):
            if not isinstance(value, Figure) or any(value is fig for fig in shown):
                continue
            shown.append(value)
            if getattr(value.canvas, "manager", None) is not None:
                continue  # a pyplot figure: the matplotlib scraper shows it
            path = next(block_vars["image_path_iterator"])
            value.savefig(path, dpi=96, bbox_inches="tight")
            paths.append(path)
        return figure_rst(paths, gallery_conf["src_dir"]) if paths else ""


library_figures = LibraryFigures()


class CommandHelp(SphinxDirective):
    """``.. command-help:: fit``: the output of ``bayesmixture fit --help``."""

    optional_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        words = self.arguments[0].split() if self.arguments else []
        command = [sys.executable, "-m", "bayesmixture", *words, "--help"]
        env = {
            **os.environ,
            "COLUMNS": str(HELP_WIDTH),
            "TERMINAL_WIDTH": str(HELP_WIDTH),
            "NO_COLOR": "1",
            "TERM": "dumb",
        }
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=120, check=False
        )
        if result.returncode != 0:
            raise self.error(
                f"{' '.join(command[2:])} exited with {result.returncode}: {result.stderr}"
            )
        text = "\n".join(line.rstrip() for line in result.stdout.strip("\n").splitlines())
        block = nodes.literal_block(text, text, language="text")
        block["classes"].append("command-help")
        return [block]


def _table(header: list[str], rows: list[list[str]]) -> nodes.table:
    """A docutils table of plain text cells."""
    table = nodes.table(classes=["choices-table"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in header)

    def row(cells: list[str]) -> nodes.row:
        line = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=cell)
            line += entry
        return line

    head = nodes.thead()
    head += row(header)
    body = nodes.tbody()
    body.extend(row(cells) for cells in rows)
    group += head
    group += body
    return table


class CovarianceTypes(SphinxDirective):
    """``.. covariance-types::``: one row per record of ``estimators.COVARIANCES``."""

    def run(self) -> list[nodes.Node]:
        from bayesmixture.estimators import COVARIANCES

        rows = [
            [
                name,
                "one for all components" if kind.shared else "one per component",
                "one sd" if kind.round else "one sd per feature",
                "yes" if kind.correlated else "no",
                kind.em_type,
                kind.note,
            ]
            for name, kind in COVARIANCES.items()
        ]
        header = ["covariance_type", "matrices", "scales", "correlated", "EM start", "note"]
        return [_table(header, rows)]


class ComponentFamilies(SphinxDirective):
    """``.. component-families::``: one row per family of ``estimators.FAMILIES``."""

    def run(self) -> list[nodes.Node]:
        from bayesmixture.estimators import FAMILIES

        rows = [
            [name, family.support, "counts" if family.discrete else "continuous"]
            for name, family in FAMILIES.items()
        ]
        return [_table(["family", "support", "values"], rows)]


def _documented_objects(env) -> dict[str, object]:
    """Full name -> object of everything the Python domain documents."""
    found = {}
    for name in env.get_domain("py").objects:
        module, _, attr = name.rpartition(".")
        try:
            found[name] = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError, ValueError):
            continue  # a method or attribute of a class: not a module-level name
    return found


def check_api_coverage(app, env) -> None:
    """Warn about every public name (a module's ``__all__``) that no page documents."""
    if app.builder.name not in ("html", "dirhtml"):
        return
    documented = _documented_objects(env)
    objects = list(documented.values())
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            full = f"{module_name}.{name}"
            if full in documented or (module_name == "bayesmixture" and name == "__version__"):
                continue
            value = getattr(module, name)
            if isinstance(value, type(sys)):  # a submodule: its own section covers it
                continue
            if any(value is obj for obj in objects):  # documented under another public name
                continue
            logger.warning(
                "%s is public (in %s.__all__) but no page documents it; add it to "
                "docs/api/index.md",
                full,
                module_name,
            )


# Full name -> object of what the site documents, filled when references are resolved.
_DOCUMENTED: dict[str, object] = {}


def _import_dotted(name: str):
    """The object a dotted name points to (module, then attributes), or None."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def resolve_public_alias(app, env, node, contnode):
    """A reference to a public name documented under another public name resolves to it.

    ``bm.load`` is ``bm.io.load`` and ``bm.diagnose`` is ``bm.diagnostics.diagnose``: each
    object is documented once, and a docstring may name it either way (``:func:`diagnose```
    inside ``bayesmixture.diagnostics`` included).
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    module = node.get("py:module") or ""
    candidates = [target] + ([f"{module}.{target}"] if module else [])
    if not any(name.startswith("bayesmixture") for name in candidates):
        return None
    if not _DOCUMENTED:  # once per build, after every page has been read
        _DOCUMENTED.update(_documented_objects(env))
    for candidate in candidates:
        obj = _import_dotted(candidate)
        if obj is None:
            continue
        for name, documented in _DOCUMENTED.items():
            if documented is obj and name != candidate:
                domain = env.get_domain("py")
                return domain.resolve_xref(
                    env, node["refdoc"], app.builder, node["reftype"], name, node, contnode
                )
    return None


def plain_third_party_types(app, config) -> None:
    """Keep only the library's own names as links in numpydoc's type lines.

    numpydoc links ``int``, ``bool``, ``array-like``... to Python's and NumPy's sites through
    their inventories; without a network there are none, and the link text would show
    ``python:int``. Runs after numpydoc has merged its defaults into the aliases.
    """
    from numpydoc.xref import DEFAULT_LINKS

    config.numpydoc_xref_aliases_complete = {
        word: target
        for word, target in config.numpydoc_xref_aliases_complete.items()
        if word not in DEFAULT_LINKS
    }


def estimator_signature(app, what, name, obj, options, signature, return_annotation):
    """The estimators' signature from ``__init__`` (autodoc reads their ``__new__``,
    which takes ``*args, **kwargs``), without annotations, as for every other name."""
    if what != "class" or signature != "(*args, **kwargs)":
        return None
    init = next((c.__dict__["__init__"] for c in obj.__mro__ if "__init__" in c.__dict__), None)
    if init is None or init is object.__init__:
        return None
    parameters = list(inspect.signature(init).parameters.values())[1:]  # without self
    plain = [p.replace(annotation=inspect.Parameter.empty) for p in parameters]
    return str(inspect.Signature(plain)), None


def skip_scikit_learn_members(app, what, name, obj, skip, options):
    """Leave out what the estimators inherit from scikit-learn's ``BaseEstimator`` (its
    parameter and metadata-routing plumbing): scikit-learn documents it."""
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and module.split(".")[0] == "sklearn":
        return True
    return skip


def setup(app):
    app.add_directive("command-help", CommandHelp)
    app.add_directive("covariance-types", CovarianceTypes)
    app.add_directive("component-families", ComponentFamilies)
    app.connect("env-check-consistency", check_api_coverage)
    app.connect("autodoc-skip-member", skip_scikit_learn_members)
    app.connect("missing-reference", resolve_public_alias)
    app.connect("config-inited", plain_third_party_types, priority=600)
    app.connect("autodoc-process-signature", estimator_signature)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
