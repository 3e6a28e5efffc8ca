"""Sphinx configuration of the bayesmixture site (``make docs``).

Everything on the site is built from the code: the API reference from the numpydoc
docstrings (autosummary), the command-line reference from the ``--help`` of the installed
command, and the gallery from the scripts in ``examples/gallery``, which run at build time.
The build runs with warnings as errors and nitpicky cross-references (``make docs``).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import logging  # noqa: E402
import warnings  # noqa: E402

import bayesmixture  # noqa: E402

# The gallery runs inside this process. Notes users cannot act on stay out of its pages
# (as in the test suite's settings), and PyMC's progress lines out of the build's log.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
warnings.filterwarnings("ignore", message="We recommend running at least 4 chains")
import pymc  # noqa: E402,F401  (sets its logger's level when imported: import it first)

logging.getLogger("pymc").setLevel(logging.WARNING)

project = "bayesmixture"
author = "the bayesmixture developers"
copyright = "the bayesmixture developers"
version = release = bayesmixture.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
    "bm_docs",  # docs/_ext: --help pages, the tables of choices, the API coverage check
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# sphinx-gallery's pages of computation times load scripts from CDNs (no network here):
# the times are in the build's log instead.
exclude_patterns = [
    "_build",
    "**/GALLERY_HEADER.rst",
    "sg_execution_times.rst",
    "gallery/sg_execution_times.rst",
]
templates_path = ["_templates"]

# ------------------------------------------------------------------ cross-references
# Every reference to the library's own names must resolve (nitpicky). There is no network
# where the site is built, so no intersphinx inventory can be fetched: references to other
# packages' names (":class:`sklearn.exceptions.ConvergenceWarning`") stay plain text, and
# this list of packages says which those are; nothing of bayesmixture is ignored.
nitpicky = True
THIRD_PARTY = (
    "numpy",
    "scipy",
    "pandas",
    "xarray",
    "arviz",
    "pymc",
    "pytensor",
    "matplotlib",
    "sklearn",
    "dask",
    "distributed",
    "typer",
)
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(THIRD_PARTY)})(\..*)?"),
]
# Type lines of numpydoc ("array-like of shape (n_obs,)", "pandas.DataFrame") are text;
# only the library's own classes named in them become links (docs/_ext/bm_docs.py drops
# numpydoc's links of builtins and NumPy terms, which would need those inventories).
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    name: f"bayesmixture.{name}"
    for name in (
        "GaussianMixture",
        "StudentTMixture",
        "Mixture",
        "MixtureRegression",
        "ModelFinding",
        "LabelSwitchingReport",
        "SelectionResult",
    )
}
numpydoc_show_class_members = False  # the class template lists members (autosummary)
numpydoc_validation_checks: set[str] = set()

autosummary_generate = True
autosummary_ignore_module_all = False
autodoc_typehints = "none"  # numpydoc's type lines say more (shapes, options, defaults)
autodoc_default_options = {"member-order": "groupwise"}
add_module_names = False
python_display_short_literal_types = True

# ------------------------------------------------------------------ MyST
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# ------------------------------------------------------------------ the gallery
sphinx_gallery_conf = {
    "examples_dirs": ["../examples/gallery"],
    "gallery_dirs": ["gallery"],
    # every example runs; a failing one fails the build
    "filename_pattern": r".*\.py$",
    "abort_on_example_error": True,
    "within_subsection_order": "bm_docs.GalleryOrder",
    # the library's figures (built without pyplot), then pyplot's
    "image_scrapers": ("bm_docs.library_figures", "matplotlib"),
    "ignore_repr_types": r"matplotlib\..*",  # figures are shown as images
    "reset_modules": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_signature": False,
    "backreferences_dir": None,
    "write_computation_times": True,
    "matplotlib_animations": False,
}

# ------------------------------------------------------------------ HTML
html_theme = "pydata_sphinx_theme"
html_title = "bayesmixture"
html_static_path = ["_static"]
html_css_files = ["bayesmixture.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "header_links_before_dropdown": 7,
}
# Light or dark as the reader's system prefers (unset, the theme logs an error on a first
# visit, before it has stored a choice).
html_context = {"default_mode": "auto"}
html_sidebars = {
    "index": [],
    "gallery/index": [],
    "cli": [],
    "development": [],
    "coming-from/*": [],  # side-by-side code needs the width
}
html_show_sourcelink = False
html_copy_source = False
