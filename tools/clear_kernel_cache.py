"""Drop skmix's cached numba kernels when a kernel source changed.

A development tool, not part of the package (``setup.py`` runs it before
compiling the kernels of a checkout). numba checks a cached kernel against
the file that defines it only (a hash of its text; its modification time
and size in older numba), not against the files whose functions it
inlines, nor ``skmix/_config.py``, whose constants it freezes at compile
time: after an edit of ``skmix/_kernels/numerics.py`` alone, the kernels
of ``skmix/_kernels/gaussian/`` would go on running the old ``exp_tile``
from the on-disk cache. So this hashes every ``*.py`` under ``skmix/_kernels`` (every
subfolder) and ``skmix/_config.py``, and when the hash differs from the one
the cache was built from, deletes numba's cache files (``*.nbi``, ``*.nbc``)
in every ``__pycache__`` folder under ``skmix/_kernels``.

``tests/conftest.py`` runs it at the start of every test session in a
checkout; run it by hand before a benchmark after editing a kernel:

    python tools/clear_kernel_cache.py [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "skmix" / "_kernels"
CONFIG = ROOT / "skmix" / "_config.py"
STAMP_NAME = "skmix-kernel-sources.sha256"


def sources_digest(directory: Path, extra_sources=()) -> str:
    """SHA-256 of the names and contents of every ``*.py`` under
    ``directory`` (recursively) and of ``extra_sources``."""
    digest = hashlib.sha256()
    sources = sorted(directory.rglob("*.py")) + [Path(p) for p in extra_sources]
    for source in sources:
        inside = source.is_relative_to(directory)
        name = source.relative_to(directory) if inside else source.name
        digest.update(str(name).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def drop_stale_cache(directory: Path, extra_sources=(), force=False) -> bool:
    """Delete numba's cache files in the ``__pycache__`` folders under
    ``directory`` unless they were built from the sources there now (and
    ``extra_sources``); return whether they were deleted.

    The hash of the sources the cache was built from is kept in
    ``directory/__pycache__/skmix-kernel-sources.sha256``. Python's own
    ``*.pyc`` files are left alone. A read-only tree is left as it is.
    """
    directory = Path(directory)
    stamp = directory / "__pycache__" / STAMP_NAME
    current = sources_digest(directory, extra_sources)
    try:
        if not force and stamp.read_text() == current:
            return False
    except OSError:
        pass
    try:
        for cache in directory.rglob("__pycache__"):
            for cached in cache.glob("*.nb[ic]"):
                cached.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(current)
    except OSError:
        return False  # read-only: numba caches in a user directory instead
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--force", action="store_true", help="delete the cache even if up to date"
    )
    args = parser.parse_args(argv)
    dropped = drop_stale_cache(KERNELS, [CONFIG], force=args.force)
    print("numba cache of skmix's kernels", "dropped" if dropped else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
