"""Test configuration shared by every test module."""

import importlib.util
import os
from pathlib import Path

import pytest

# scikit-learn's array-API estimator check runs (instead of being skipped)
# only when SciPy's array-API mode is on; it must be set before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")


def _drop_stale_kernel_cache():
    """In a checkout, drop numba's cached kernels if a kernel source (or
    ``skmix/_config.py``) changed since they were built: numba would not
    notice (``tools/clear_kernel_cache.py``). Runs before any test imports
    skmix."""
    tool = Path(__file__).resolve().parent.parent / "tools" / "clear_kernel_cache.py"
    if not tool.exists():  # an installed skmix, tested without its checkout
        return
    spec = importlib.util.spec_from_file_location("clear_kernel_cache", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.drop_stale_cache(module.KERNELS, [module.CONFIG])


_drop_stale_kernel_cache()


@pytest.fixture
def engine_squarem(monkeypatch):
    """Every SQUAREM run in the engine's cycle of Python calls (the
    Gaussian families' compiled cycle, which must equal it bit for bit,
    ``tests/test_compiled_loop.py``, is not observable by spies)."""
    from skmix.families.gaussian import GaussianFamily

    monkeypatch.setattr(GaussianFamily, "compiled_squarem", lambda self, *a: None)


@pytest.fixture
def extrapolations(monkeypatch, engine_squarem):
    """Counts the accepted SQUAREM extrapolations (alpha > 1) of every fit
    (in the engine's cycle, ``engine_squarem``)."""
    from skmix._engine import acceleration

    accepted = []
    grow = acceleration.Squarem._grow

    def spy(self, alpha):
        if alpha > 1:
            accepted.append(alpha)
        return grow(self, alpha)

    monkeypatch.setattr(acceleration.Squarem, "_grow", spy)
    return accepted
