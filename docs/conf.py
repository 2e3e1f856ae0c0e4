"""Sphinx configuration of the conv1x1 course website.

Build (no network needed, none used when reading)::

    pip install -e ".[docs]"
    python -m sphinx -W -b html docs docs/_build/html

The chapters are Markdown (MyST), the example gallery is sphinx-gallery's run of every
script in ``examples/`` (their output and figures are the build machine's), the API reference
is autosummary + numpydoc. MathJax 3 is copied into the site by sphinx-mathjax-offline, so
formulas typeset without a CDN; nothing else is loaded from outside the site either.
"""

import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))          # the checkout's package, installed or not
os.environ.setdefault("CONV1X1_GALLERY", "1")   # the examples time fewer repeats when the gallery runs them
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")        # one BLAS thread (set before NumPy loads): steadier on a shared machine
os.environ.setdefault("MPLBACKEND", "Agg")

import conv1x1  # noqa: E402

# autosummary writes a page per API entry into generated/ but never deletes one; start afresh so that a
# name moved or removed from api.rst leaves no orphan page behind (Sphinx -W would fail on it).
shutil.rmtree(DOCS / "generated", ignore_errors=True)

project = "conv1x1"
author = "the conv1x1 authors"
copyright = "the conv1x1 authors, MIT licence"
version = release = conv1x1.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",       # MathJax 3 served from _static/mathjax/, no CDN
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "generated/*.examples", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5",
                    "sg_execution_times.rst", "auto_examples/sg_execution_times.rst"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["conv1x1.css"]

# -- MyST: the chapters' Markdown --------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- API reference ------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"                       # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False              # one page per class, its methods listed by autosummary
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# -- the example gallery ------------------------------------------------------------------------------
# An example that needs a package the build machine lacks gets its page (code, text) but is not run.
NEEDS = {"15_to_pytorch.py": "torch"}
NOT_RUN = sorted(name for name, module in NEEDS.items() if importlib.util.find_spec(module) is None)
RUN = r"/(?!" + "|".join(re.escape(name) for name in NOT_RUN) + r")\d\d_" if NOT_RUN else r"/\d\d_"
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": RUN,                     # every numbered example (not only plot_*.py) that can run here
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "download_all_examples": True,
    "remove_config_comments": True,
    "capture_repr": (),                          # printed output only, as when the script runs
    "doc_module": ("conv1x1",),
    "reference_url": {"conv1x1": None},          # code names link to the API reference
    "backreferences_dir": "generated/backreferences",
    "show_memory": False,
    "write_computation_times": False,            # its page loads jQuery and DataTables from a CDN
    "show_signature": False,
    "promote_jupyter_magic": False,
    "first_notebook_cell": "# conv1x1: run the cells top to bottom (in a clone: pip install -e \".[examples]\")",
}

# -- HTML: pydata-sphinx-theme, nothing loaded from outside the site ------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "conv1x1: the 1x1 convolution, taught in NumPy"
html_short_title = "conv1x1"
html_theme_options = {
    "logo": {"text": f"conv1x1 {release}"},
    "icon_links": [],                            # no remote icons or badges
    "navbar_center": [],                         # the chapters are in the left sidebar (fifteen overflow a navbar)
    "navbar_end": ["search-button", "theme-switcher"],
    "navbar_persistent": [],
    "show_prev_next": True,
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"**": ["course-nav"]}           # the whole course on every page (_templates/course-nav.html)
html_show_sourcelink = True
html_copy_source = True
html_last_updated_fmt = None

nitpicky = False
