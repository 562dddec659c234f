"""The documentation site builds with warnings as errors, gallery included.

The sources (``doc/``, ``examples/``, the data the examples read) are copied
into a temporary folder and built there, so that the test leaves no files
in the source tree. Sphinx and its extensions come with the ``doc`` extra
(``python -m pip install ".[test,plot,doc,dask]"``); without them the test is
skipped, and CI installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
    pytest.importorskip(module)
pytest.importorskip("matplotlib")


def test_documentation_builds_without_warnings(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(
        ROOT / "doc",
        source / "doc",
        ignore=shutil.ignore_patterns("_build", "generated", "auto_examples"),
    )
    shutil.copytree(ROOT / "examples", source / "examples")
    shutil.copytree(ROOT / "tests" / "data", source / "tests" / "data")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    out = tmp_path / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(source / "doc"),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    for page in (
        "index.html",
        "api.html",
        "performance.html",
        "user_guide/gaussian.html",
        "user_guide/coming_from.html",
        "generated/skmix.GaussianMixtureEM.html",
        "generated/skmix.plotting.BICDisplay.html",
        "auto_examples/index.html",
    ):
        assert (out / page).exists(), page
    examples = sorted(p.stem for p in (ROOT / "examples").glob("*.py"))
    for name in examples:
        page = out / "auto_examples" / f"{name}.html"
        assert page.exists(), name
        # Every example draws at least one figure.
        assert list((out / "_images").glob(f"sphx_glr_{name}_001.png")), name
