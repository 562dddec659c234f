"""Build hook: the package carries its compiled kernels.

Everything else about the build is in ``pyproject.toml``. After the sources
are copied to the build directory, ``python -m skmix._precompile`` runs on
the source tree's package, so that numba writes the kernels a first
``python -m skmix`` and the first fits need into its ``__pycache__``
directories; those files are then copied beside the built copy, which the
wheel contains. Both places matter: ``python -m skmix`` run in the project's
directory (the README's first command) imports the source tree, an installed
package its own copy. numba loads such a file for any copy of the same
source text, with the same numba, Python and CPU, and compiles again
otherwise (``skmix/_precompile.py``). The package works without them: where
the step fails, or is skipped, the kernels compile on first use instead.

``SKMIX_PRECOMPILE=0`` skips the step; editable installs never run it (their
kernels compile beside the sources on first use).
"""

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: Seconds after which the step is abandoned (the build goes on without it).
PRECOMPILE_TIMEOUT = 1800
#: numba's index and data files.
CACHE_FILES = ("*.nbi", "*.nbc")


def precompile(root: Path) -> None:
    """Run ``skmix._precompile`` on the package in ``root``, with numba's
    cache beside its sources (``NUMBA_CACHE_DIR`` would take it elsewhere)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(root)] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    env.pop("NUMBA_CACHE_DIR", None)
    subprocess.run(
        [sys.executable, "-m", "skmix._precompile"],
        cwd=root,
        env=env,
        check=True,
        timeout=PRECOMPILE_TIMEOUT,
    )


def drop_stale_caches(root: Path) -> None:
    """In a checkout, delete the cache files built from other kernel sources
    than these first (``tools/clear_kernel_cache.py``): numba checks a
    kernel against the file that defines it only, not against the helpers
    it inlines nor the constants of ``skmix/_config.py``. (An sdist has no
    such files, nor the tool.)"""
    tool = root / "tools" / "clear_kernel_cache.py"
    if tool.is_file():
        guard = runpy.run_path(str(tool), run_name="clear_kernel_cache")
        guard["drop_stale_cache"](guard["KERNELS"], [guard["CONFIG"]])


def copy_caches(source: Path, target: Path) -> int:
    """Copy numba's cache files of the package in ``source`` beside the same
    modules in ``target``; how many were copied."""
    copied = 0
    for pattern in CACHE_FILES:
        for path in (source / "skmix").rglob(f"__pycache__/{pattern}"):
            module_dir = path.parent.parent.relative_to(source)
            if not (target / module_dir).is_dir():
                continue
            destination = target / module_dir / "__pycache__"
            destination.mkdir(exist_ok=True)
            shutil.copy2(path, destination / path.name)
            copied += 1
    return copied


class BuildWithKernels(build_py):
    """``build_py``, then the kernels compiled for the package."""

    def run(self):
        super().run()
        if self.editable_mode or os.environ.get("SKMIX_PRECOMPILE") == "0":
            return
        root = Path(__file__).resolve().parent
        build_lib = Path(self.build_lib).resolve()
        print("compiling skmix's kernels (SKMIX_PRECOMPILE=0 skips this step)")
        try:
            drop_stale_caches(root)
            precompile(root)
            if not copy_caches(root, build_lib):
                # numba kept them elsewhere (a read-only source tree):
                # compile the built copy's own.
                precompile(build_lib)
        except (OSError, subprocess.SubprocessError) as error:
            print(
                f"warning: skmix's kernels were not compiled ({error}); "
                "they will compile on first use instead",
                file=sys.stderr,
            )


# setuptools runs this file as __main__; tests load its functions under
# another name.
if __name__ == "__main__":
    setup(cmdclass={"build_py": BuildWithKernels})
