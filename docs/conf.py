"""Sphinx configuration: ``python -m sphinx -W -b html docs docs/_build/html``.

API pages come from the numpydoc docstrings, the Markdown pages through MyST, and the
gallery from ``examples/`` (sphinx-gallery runs the ``plot_*`` examples, seconds on a
CPU, and renders their figures).
"""

import warnings

import matplotlib

import inrr_sklearn

matplotlib.use("Agg")
warnings.filterwarnings("ignore", message=".*Maximum iterations.*")

project = "inrr_sklearn"
author = "the inrr_sklearn developers"
copyright = "2026, the inrr_sklearn developers"
release = version = inrr_sklearn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# The per-run tables of the CPU grids are read on GitHub; the GPU grid is a docs page.
exclude_patterns = [
    "_build",
    "sweeps",
    "**.ipynb_checkpoints",
    "replication_quick.md",
    "replication_cpu128.md",
    "replication_overfitting.md",
    "inrr_early_stopping.md",
]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
autodoc_default_options = {}
intersphinx_mapping = {}
html_theme = "alabaster"
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
}
