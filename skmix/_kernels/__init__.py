"""numba kernels.

numba checks a cached kernel against the modification time and size of the
file that defines it, not of the files whose functions it inlines: after an
edit of ``_math.py`` alone, the kernels of ``gaussian.py`` would go on
running the old ``exp_tile`` from the on-disk cache (it happened here, and a
timing compared old code with old code). So the cache is dropped whenever any
kernel source differs from the one it was built from.
"""

import hashlib
from pathlib import Path

_STAMP_NAME = "skmix-kernel-sources.sha256"


def drop_stale_cache(directory: Path) -> None:
    """Delete numba's cache files in ``directory/__pycache__`` unless they
    were built from the ``*.py`` files now in ``directory``."""
    stamp = directory / "__pycache__" / _STAMP_NAME
    digest = hashlib.sha256()
    for source in sorted(directory.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    current = digest.hexdigest()
    try:
        if stamp.read_text() == current:
            return
    except OSError:
        pass
    try:
        for cached in stamp.parent.glob("*.nb[ic]"):
            cached.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(current)
    except OSError:
        pass  # a read-only install: numba caches in a user directory instead


drop_stale_cache(Path(__file__).resolve().parent)
