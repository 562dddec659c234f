"""The development guard against stale numba caches, and a package import
that leaves the file system alone."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools.clear_kernel_cache import drop_stale_cache

ROOT = Path(__file__).resolve().parent.parent


def test_stale_cache_of_a_subfolder_or_an_extra_source_is_dropped(tmp_path):
    kernels = tmp_path / "_kernels"
    (kernels / "gaussian" / "__pycache__").mkdir(parents=True)
    (kernels / "__pycache__").mkdir()
    (kernels / "numerics.py").write_text("x = 1\n")
    (kernels / "gaussian" / "estep.py").write_text("y = 1\n")
    config = tmp_path / "_config.py"
    config.write_text("TILE = 256\n")
    nested = kernels / "gaussian" / "__pycache__" / "estep.f-1.py311.nbi"
    top = kernels / "__pycache__" / "numerics.g-1.py311.1.nbc"
    bytecode = kernels / "gaussian" / "__pycache__" / "estep.cpython-311.pyc"

    def fill():
        for path in (nested, top, bytecode):
            path.write_text("cached")

    fill()
    assert drop_stale_cache(kernels, [config])  # no stamp: built from unknown
    assert not nested.exists() and not top.exists() and bytecode.exists()
    fill()
    assert not drop_stale_cache(kernels, [config])  # unchanged: kept
    assert nested.exists() and top.exists()
    for edited in (kernels / "gaussian" / "estep.py", config):
        edited.write_text(edited.read_text() + "# edited\n")
        assert drop_stale_cache(kernels, [config])
        assert not nested.exists() and not top.exists() and bytecode.exists()
        fill()


def test_importing_skmix_writes_no_file(tmp_path):
    # Files only: numba makes (empty) __pycache__ folders for its caches
    # when a kernel with cache=True is defined.
    shutil.copytree(
        ROOT / "skmix", tmp_path / "skmix", ignore=shutil.ignore_patterns("__pycache__")
    )

    def files():
        return {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    before = files()
    env = dict(os.environ, PYTHONPATH=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    env.pop("NUMBA_CACHE_DIR", None)
    subprocess.run(
        [sys.executable, "-c", "import skmix, skmix._kernels.gaussian"],
        check=True,
        env=env,
        cwd=tmp_path,
    )
    assert files() == before
