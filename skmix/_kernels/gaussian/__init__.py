"""Gaussian mixture kernels: fused E-steps with their sufficient statistics,
fused inference, moments of given assignments, M-steps.

Modules by concern: ``linalg`` (triangular factors, quadratic forms, log
normalisers), ``distances`` and ``sums`` (a tile's per-component distances
and log densities, and its weighted sums), ``estep_full`` and
``estep_diag`` (the fused E-steps), ``inference``, ``moments`` (the
initialisations), ``mstep``.

Conventions: n rows, d features, k components; means (k, d) float64;
``log_norm[k] = log w_k + log det(U_k) - d/2 log(2 pi)``, so that
``log w_k + log N(x | mu_k, Sigma_k) = log_norm[k] - |U_k^T (x - mu_k)|^2 / 2``
with U_k the upper-triangular Cholesky factor of the precision
(``Sigma_k^{-1} = U_k U_k^T``), as scikit-learn's ``precisions_cholesky_``.
X is (n, d) float64 or float32 with any strides (contiguous rows are read
fastest); kernels read it a tile of ``TILE`` rows at a time, transposed to
(d, TILE) so that inner loops run across rows and vectorise even for two
features. No array of shape (n, k) is stored.
"""

from ..._config import LOG_PROB
from ..blocks import fold_parts
from .estep_diag import diag_accumulate, diag_accumulate_columns, spherical_accumulate
from .estep_full import full_accumulate, tied_accumulate
from .inference import diag_infer, full_infer
from .linalg import (
    diagonal_log_norm,
    factor_coordinates,
    factors_from_coordinates,
    precision_cholesky,
    spherical_log_norm,
    symmetrise_upper,
    triangular_log_norm,
)
from .moments import (
    DIAG,
    FULL,
    SPHERICAL,
    TIED,
    grouped_label_moments,
    label_moments,
    nearest_label_moments,
    responsibility_moments,
)
from .mstep import diagonal_m_step, full_m_step

__all__ = [
    "DIAG",
    "FULL",
    "LOG_PROB",
    "SPHERICAL",
    "TIED",
    "diag_accumulate",
    "diag_accumulate_columns",
    "diag_infer",
    "diagonal_log_norm",
    "diagonal_m_step",
    "factor_coordinates",
    "factors_from_coordinates",
    "fold_parts",
    "full_accumulate",
    "full_infer",
    "full_m_step",
    "grouped_label_moments",
    "label_moments",
    "nearest_label_moments",
    "precision_cholesky",
    "responsibility_moments",
    "spherical_accumulate",
    "spherical_log_norm",
    "symmetrise_upper",
    "tied_accumulate",
    "triangular_log_norm",
]
