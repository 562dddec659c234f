"""Kernels compiled when the package is built (``setup.py``,
``skmix._precompile``): the build step's plumbing on a stand-in package,
and that the precompiled cache leaves the command line nothing to compile."""

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = runpy.run_path(str(ROOT / "setup.py"), run_name="skmix_build_hook")

#: A stand-in for skmix._precompile: compiles one kernel with numba's cache.
STAND_IN = """
import numba


@numba.njit(cache=True)
def kernel(x):
    return x + 1


if __name__ == "__main__":
    assert kernel(1.0) == 2.0
"""


def stand_in_package(root):
    package = root / "skmix"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "_precompile.py").write_text(STAND_IN)
    return package


def test_build_step_compiles_beside_the_sources_and_copies(tmp_path, monkeypatch):
    # NUMBA_CACHE_DIR of the building shell must not take the files away.
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(elsewhere))
    source = stand_in_package(tmp_path / "source")
    built = stand_in_package(tmp_path / "build")
    (source / "other").mkdir()
    (source / "other" / "__pycache__").mkdir()
    (source / "other" / "__pycache__" / "x.f-1.py311.nbi").write_text("")
    BUILD["precompile"](tmp_path / "source")
    cached = sorted(p.name for p in (source / "__pycache__").glob("*.nb[ic]"))
    assert [name.split("-")[0] for name in cached] == ["_precompile.kernel"] * 2
    assert not elsewhere.exists()
    # Only beside modules the built copy has (no "other" there).
    assert BUILD["copy_caches"](tmp_path / "source", tmp_path / "build") == 2
    assert sorted(p.name for p in (built / "__pycache__").glob("*.nb[ic]")) == cached
    assert not (built / "other").exists()


def test_build_step_drops_caches_of_other_kernel_sources_first(tmp_path):
    # A checkout's caches from edited helpers or constants would be shipped.
    (tmp_path / "tools").mkdir()
    shutil.copy2(ROOT / "tools" / "clear_kernel_cache.py", tmp_path / "tools")
    kernels = tmp_path / "skmix" / "_kernels"
    (kernels / "__pycache__").mkdir(parents=True)
    (kernels / "numerics.py").write_text("x = 1\n")
    (tmp_path / "skmix" / "_config.py").write_text("TILE = 256\n")
    stale = kernels / "__pycache__" / "numerics.f-1.py311.nbi"
    stale.write_text("")
    BUILD["drop_stale_caches"](tmp_path)  # built from unknown sources
    assert not stale.exists()
    stale.write_text("")
    BUILD["drop_stale_caches"](tmp_path)  # the sources it was built from
    assert stale.exists()
    BUILD["drop_stale_caches"](tmp_path / "sdist")  # no tool: nothing to do


def test_precompiled_kernels_leave_the_command_line_nothing_to_compile(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-m", "skmix._precompile"], env=env, cwd=ROOT, check=True
    )
    script = """
import contextlib, io
from numba.core import event
from skmix._cli_input import kernels_need_compiling
from skmix.__main__ import main
assert not kernels_need_compiling()
with event.install_recorder("numba:compile") as recorder:
    with contextlib.redirect_stdout(io.StringIO()):
        main([])
print(sum(1 for _, ev in recorder.buffer if ev.is_start))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    assert done.stdout.split() == ["0"], done.stdout + done.stderr
    assert "compiling kernels" not in done.stderr


#: Two stand-in kernels in one module: ``COUNT_TWO`` calls the given ones
#: and prints how many numba compiled.
TWO_KERNELS = """
import numba


@numba.njit(cache=True)
def first(x):
    return x + 1


@numba.njit(cache=True)
def second(x):
    return x * 2
"""
COUNT_TWO = """
import sys
from numba.core import event
sys.path.insert(0, sys.argv[1])
import two
with event.install_recorder("numba:compile") as recorder:
    for name in sys.argv[2:]:
        getattr(two, name)(1.0)
print(sum(1 for _, ev in recorder.buffer if ev.is_start))
"""


def test_a_second_process_cache_merges_without_rewriting_an_index(
    tmp_path, monkeypatch
):
    # skmix._precompile's two processes: the second caches under its own
    # NUMBA_CACHE_DIR, and merge_cache copies its kernels to where the first
    # caches (beside the sources, or its NUMBA_CACHE_DIR), except those the
    # first has cached.
    from skmix._precompile import merge_cache

    package = tmp_path / "package"
    package.mkdir()
    (package / "two.py").write_text(TWO_KERNELS)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    env = dict(os.environ)

    def compiled(*names, cache=None):
        done = subprocess.run(
            [sys.executable, "-c", COUNT_TWO, str(package), *names],
            env=env if cache is None else dict(env, NUMBA_CACHE_DIR=str(cache)),
            capture_output=True,
            text=True,
            check=True,
        )
        return int(done.stdout.split()[-1])

    other = tmp_path / "other"
    assert compiled("first", "second", cache=other) == 2
    # Beside the sources: the first process cached "first" on its own.
    assert compiled("first") == 1
    pycache = package / "__pycache__"
    kept = {p.name: p.read_bytes() for p in pycache.glob("two.first*")}
    assert merge_cache(str(other), str(tmp_path)) == 2  # second's index and data
    assert {p.name: p.read_bytes() for p in pycache.glob("two.first*")} == kept
    assert compiled("first", "second") == 0
    # Under the first process's own NUMBA_CACHE_DIR.
    mine = tmp_path / "mine"
    assert compiled("second", cache=mine) == 1
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(mine))
    assert merge_cache(str(other), str(tmp_path)) == 2  # first's files only
    assert compiled("first", "second", cache=mine) == 0
