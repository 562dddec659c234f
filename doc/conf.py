"""Sphinx configuration for the skmix documentation."""

import skmix

project = "skmix"
author = "the skmix developers"
release = skmix.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc"]
autosummary_generate = True
numpydoc_show_class_members = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
