"""numba's on-disk cache of the kernels, and the fall-back without one.

A read-only install run by a user without a writable cache directory has
nowhere to write numba's cache; a kernel declared with ``cache=True`` would
then raise ``RuntimeError`` when its module is imported. skmix then
compiles in memory. The test builds such an install: a copy of the package
whose ``__pycache__`` directories are regular files (so that no directory
can be made there, even by root, who ignores permission bits) and whose
user cache directory lies under a regular file too.

A read-only install whose user has a cache directory: numba caches there,
and the compiled kernels the package carries (``setup.py``) are copied there
first (``seed_user_cache``): the copying, that numba loads the copies, and
a fit of such an install (numba told to cache in the user's directory
alone, which root's writes cannot otherwise show) that compiles nothing.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import skmix
from skmix import GaussianMixtureEM
from skmix._config import CACHE_KERNELS, numba_cache_subpath, seed_user_cache
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


# ------------------------------------------- a read-only install's own files
def _fill(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_package_kernels_are_copied_where_numba_caches_instead(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    package = tmp_path / "site" / "skmix"
    _fill(package / "__pycache__" / "_config.f-1.py311.nbi", "index")
    _fill(package / "__pycache__" / "_config.cpython-311.pyc", "bytecode")
    _fill(package / "_kernels" / "__pycache__" / "rows.g-2.py311.1.nbc", "code")
    root = tmp_path / "user_cache"
    in_user = root / numba_cache_subpath(str(package))
    kernels_in_user = root / numba_cache_subpath(str(package / "_kernels"))
    assert seed_user_cache(str(in_user), str(package)) == 2
    assert (in_user / "_config.f-1.py311.nbi").read_text() == "index"
    assert (kernels_in_user / "rows.g-2.py311.1.nbc").read_text() == "code"
    assert not (in_user / "_config.cpython-311.pyc").exists()
    # numba's own newer file is kept; a newer install's file replaces it.
    written = kernels_in_user / "rows.g-2.py311.1.nbc"
    written.write_text("compiled here")
    assert seed_user_cache(str(in_user), str(package)) == 0
    later = time.time() + 100
    os.utime(
        package / "_kernels" / "__pycache__" / "rows.g-2.py311.1.nbc", (later,) * 2
    )
    assert seed_user_cache(str(in_user), str(package)) == 1
    assert written.read_text() == "code"
    # Beside the package, or under NUMBA_CACHE_DIR: nothing to copy.
    assert seed_user_cache(str(package / "__pycache__"), str(package)) == 0
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(root))
    assert seed_user_cache(str(in_user), str(package)) == 0


#: A module whose kernel numba caches, and a script that reports how many
#: functions it compiled to run it.
STAND_IN = """
import numba


@numba.njit(cache=True)
def kernel(x):
    return x + 1
"""
COUNT = """
import sys
from numba.core import event
sys.path.insert(0, sys.argv[1])
with event.install_recorder("numba:compile") as recorder:
    import stand_in
    assert stand_in.kernel(1.0) == 2.0
print(sum(1 for _, ev in recorder.buffer if ev.is_start))
"""


def test_numba_loads_the_copied_kernels(tmp_path, monkeypatch):
    # The copies stand where numba's locator looks for the user's cache (the
    # same place under NUMBA_CACHE_DIR), away from the package's own.
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    package = tmp_path / "package"
    _fill(package / "stand_in.py", STAND_IN)
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}

    def compiled(**extra):
        done = subprocess.run(
            [sys.executable, "-c", COUNT, str(package)],
            env=dict(env, **extra),
            capture_output=True,
            text=True,
            check=True,
        )
        return int(done.stdout.split()[-1])

    assert compiled() == 1  # compiles, numba writes beside the source
    root = tmp_path / "user_cache"
    assert compiled(NUMBA_CACHE_DIR=str(root)) == 1  # an empty cache: compiles
    shutil.rmtree(root)
    in_user = root / numba_cache_subpath(str(package))
    assert seed_user_cache(str(in_user), str(package)) >= 2
    assert compiled(NUMBA_CACHE_DIR=str(root)) == 0


FIT_COUNT = """
from numba.core import event
from skmix import GaussianMixtureEM
from skmix.datasets import load_faithful
X = load_faithful(return_X_y=True)
with event.install_recorder("numba:compile") as recorder:
    GaussianMixtureEM(2, covariance_type="diag", random_state=0).fit(X)
print(sum(1 for _, ev in recorder.buffer if ev.is_start))
"""


def test_an_install_numba_cannot_write_to_loads_its_own_kernels(tmp_path):
    # A copy of the package compiles a fit's kernels beside its sources (as
    # the build does); then numba is made to cache in the user's directory
    # alone (its locator setting), as where the package is read-only.
    shutil.copytree(
        Path(skmix.__file__).parent,
        tmp_path / "skmix",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NUMBA_CACHE_DIR", "PYTHONPATH")
    }
    env.update(PYTHONPATH=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "home"))

    def compiled(**extra):
        done = subprocess.run(
            [sys.executable, "-c", FIT_COUNT],
            env=dict(env, **extra),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        return int(done.stdout.split()[-1])

    assert compiled() > 0
    assert not (tmp_path / "home").exists()
    assert compiled(NUMBA_CACHE_LOCATOR_CLASSES="UserWideCacheLocator") == 0
    assert list((tmp_path / "home" / "numba").rglob("*.nbi"))
