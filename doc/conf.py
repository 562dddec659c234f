"""Sphinx configuration of the skmix documentation.

Build it with ``python -m sphinx -W -b html doc doc/_build/html`` (the
``doc`` extra installs what it needs: ``python -m pip install ".[doc]"``).
The gallery runs every script of ``examples/`` and keeps its figures.
"""

import os
import sys
from pathlib import Path

# Document the skmix beside this folder when there is one (a source tree),
# else the installed one.
_ROOT = Path(__file__).resolve().parent.parent
if (_ROOT / "skmix" / "__init__.py").exists():
    sys.path.insert(0, str(_ROOT))

import skmix  # noqa: E402

os.environ.setdefault("MPLBACKEND", "Agg")

project = "skmix"
author = "the skmix developers"
copyright = "the skmix developers"
release = skmix.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**/sg_execution_times.rst", "sg_execution_times.rst"]
autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"skmix {release}"
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run every script (not only plot_*.py): each is a short, figure-making
    # example, and a gallery that does not run would not catch a broken one.
    "filename_pattern": "/",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "write_computation_times": False,
    "matplotlib_animations": False,
}
