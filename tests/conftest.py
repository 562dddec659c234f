"""Test configuration shared by every test module."""

import os

# scikit-learn's array-API estimator check runs (instead of being skipped)
# only when SciPy's array-API mode is on; it must be set before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
