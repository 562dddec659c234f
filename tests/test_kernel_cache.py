"""numba's on-disk cache of the kernels, and the fall-back without one.

A read-only install run by a user without a writable cache directory has
nowhere to write numba's cache; a kernel declared with ``cache=True`` would
then raise ``RuntimeError`` when its module is imported. skmix then
compiles in memory. The test builds such an install: a copy of the package
whose ``__pycache__`` directories are regular files (so that no directory
can be made there, even by root, who ignores permission bits) and whose
user cache directory lies under a regular file too.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import skmix
from skmix import GaussianMixtureEM
from skmix._config import CACHE_KERNELS
from skmix.datasets import load_faithful

SCRIPT = """
import json
from skmix import GaussianMixtureEM
from skmix._config import CACHE_KERNELS
from skmix.datasets import load_faithful
gm = GaussianMixtureEM(2, covariance_type="diag", random_state=0)
gm.fit(load_faithful(return_X_y=True))
print(json.dumps(dict(cache=CACHE_KERNELS, means=gm.means_.tolist(),
                      lower_bound=gm.lower_bound_)))
"""


def _read_only_copy(root):
    package = root / "skmix"
    shutil.copytree(
        Path(skmix.__file__).parent,
        package,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for directory in [package, *(p for p in package.rglob("*") if p.is_dir())]:
        (directory / "__pycache__").touch()
    (root / "blocker").touch()
    return root


def test_kernels_cache_on_disk_in_a_writable_tree():
    assert CACHE_KERNELS


def test_read_only_install_imports_and_fits_in_memory(tmp_path):
    root = _read_only_copy(tmp_path)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NUMBA_CACHE_DIR", "PYTHONPATH")
    }
    env.update(
        PYTHONPATH=str(root),
        PYTHONDONTWRITEBYTECODE="1",
        XDG_CACHE_HOME=str(root / "blocker" / "cache"),
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["cache"] is False
    here = GaussianMixtureEM(2, covariance_type="diag", random_state=0)
    here.fit(load_faithful(return_X_y=True))
    np.testing.assert_allclose(result["means"], here.means_, rtol=1e-12)
    np.testing.assert_allclose(result["lower_bound"], here.lower_bound_, rtol=1e-12)
    assert not list(root.rglob("*.nbi"))
