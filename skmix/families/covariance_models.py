"""mclust's 14 Gaussian covariance models: their M-steps and parameter counts.

Celeux & Govaert (1995, Pattern Recognition 28(5)) write a component's
covariance as Sigma_k = lambda_k D_k A_k D_k^T: a volume lambda_k (a
scalar), a shape A_k (diagonal, det A_k = 1) and an orientation D_k
(orthogonal). Each is equal across components (E) or varying (V), and
shape and orientation may be the identity (I). mclust names a model by
its volume, shape and orientation letters:

=====  ======================  =====  ======================
model  Sigma_k                 model  Sigma_k
=====  ======================  =====  ======================
EII    lambda I                EEE    lambda D A D^T
VII    lambda_k I              VEE    lambda_k D A D^T
EEI    lambda A                EVE    lambda D A_k D^T
VEI    lambda_k A              VVE    lambda_k D A_k D^T
EVI    lambda A_k              EEV    lambda D_k A D_k^T
VVI    lambda_k A_k            VEV    lambda_k D_k A D_k^T
                               EVV    lambda D_k A_k D_k^T
                               VVV    lambda_k D_k A_k D_k^T
=====  ======================  =====  ======================

scikit-learn's 'spherical', 'diag', 'tied' and 'full' are VII, VVI, EEE
and VVV.

The M-step of a model maximises the expected complete-data
log-likelihood's covariance part, -1/2 sum_k [n_k log det Sigma_k +
tr(W_k Sigma_k^{-1})], over the model's covariances, given each
component's responsibility sum n_k and scatter matrix W_k = sum_t r_tk
(x_t - mu_k)(x_t - mu_k)^T about its new mean. Closed forms (Celeux &
Govaert, section 3): EII, VII, EEI, EVI, VVI, EEE, EEV, EVV, VVV; EEV and
EVV through the eigenvalues of each W_k, which make them EEI and EVI on
sorted eigenvalues. Iterations where there is none:

- VEI and VEV (VEI on the sorted eigenvalues of each W_k) alternate the
  volumes lambda_k = tr(W_k A^{-1}) / (d n_k) and the shape A proportional
  to diag(sum_k W_k / lambda_k), as mclust does; the problem is convex in
  (log lambda, log A), so this reaches its unique maximum.
- VEE alternates lambda_k = tr(W_k C^{-1}) / (d n_k) and C = D A D^T
  proportional to sum_k W_k / lambda_k (mclust's iteration; the problem is
  geodesically convex in C, so again one maximum).
- EVE and VVE minimise over the common orientation D by Jacobi sweeps
  (``skmix._kernels.orientation``); shapes and volumes follow from D in
  closed form. The orientation problem may have several local optima: a
  warm start from the previous iteration's covariances keeps EM on one.

``reg_covar`` regularises every scatter matrix as W_k + n_k reg_covar I
(the scatter of the component's rows plus reg_covar in every direction)
before the model's constraints are imposed. For EII, VII, EEI, VVI, EEE
and VVV that is scikit-learn's rule exactly (reg_covar is added to the
diagonal of every covariance); for the other models it keeps every
covariance inside its model (equal volumes stay equal, a shared
orientation stays shared) and their M-steps well defined, where adding
reg_covar after the fact would not: for EVI, EVV, EEV, VEI, VEV, VEE, EVE
and VVE the unregularised maximum need not exist when a scatter matrix is
singular. mclust's conjugate prior (Fraley & Raftery 2007) likewise adds
its scale to the scatter matrices.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from .._kernels.gaussian.linalg import precision_cholesky as _factor_kernel
from .._kernels.gaussian.models import M_STEP_KERNELS, MODEL_CODES
from .._kernels.orientation import common_orientation

#: mclust's model names, in its order.
MODELS = (
    "EII",
    "VII",
    "EEI",
    "VEI",
    "EVI",
    "VVI",
    "EEE",
    "VEE",
    "EVE",
    "VVE",
    "EEV",
    "VEV",
    "EVV",
    "VVV",
)
#: scikit-learn's covariance types and the mclust model each one is.
SKLEARN_MODELS = {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}
#: The models whose M-step iterates.
ITERATIVE_MODELS = ("VEI", "VEV", "VEE", "EVE", "VVE")
#: The models whose whole M-step :func:`compiled_m_step` runs in one numba
#: kernel: mclust's, less scikit-learn's four (whose M-steps are the
#: Gaussian family's own kernels).
COMPILED_MODELS = MODEL_CODES

#: Convergence of the iterative M-steps: the largest relative change of the
#: volumes lambda_k in an alternation (VEI, VEV, VEE), the largest rotation
#: angle in radians of a Jacobi sweep (EVE, VVE). Their errors then sit near
#: rounding, so EM's fixed points are those of the exact M-step.
INNER_TOL = 1e-12
#: Iterations (alternations or sweeps) at most per M-step. The last iterate
#: is returned if the cap is reached (``converged=False``): every iteration
#: raises the expected complete-data log-likelihood, so EM stays monotone.
INNER_MAX_ITER = 1000
#: Sweeps at most of EVE's and VVE's orientation in one M-step. A sweep
#: costs d (d - 1) / 2 one-dimensional searches over every component; where
#: a component is nearly singular the angles turn within directions where
#: F is almost flat and the sweeps would run to ``INNER_MAX_ITER`` without
#: moving any Sigma_k. Every sweep lowers F, so a capped M-step is still a
#: generalised EM step (see doc/performance.rst, "ORIENTATION_MAX_SWEEPS").
ORIENTATION_MAX_SWEEPS = 100
#: Sweeps each cold start of EVE's and VVE's orientation runs before the
#: best one is continued (see ``_common_orientation``).
SCREEN_SWEEPS = 10


class CovarianceMStep(NamedTuple):
    """The covariances a model's M-step chose.

    ``covariances`` and ``precisions_cholesky`` are (k, d, d); the latter
    holds upper-triangular U_k with Sigma_k^{-1} = U_k U_k^T (scikit-learn's
    convention). ``n_iter`` counts the iterations of an iterative model (0
    for a closed form); ``converged`` is False if they reached the cap.
    """

    covariances: np.ndarray
    precisions_cholesky: np.ndarray
    n_iter: int
    converged: bool


def ill_defined_covariance(model):
    """The error message of a model whose covariance is singular."""
    return (
        f"Fitting the {model} covariance model failed because some components "
        "have ill-defined empirical covariance (for instance caused by "
        "singleton or collapsed samples). Try to decrease the number of "
        "components, increase reg_covar, or scale the input data."
    )


# ----------------------------------------------------------------- counts


def n_covariance_parameters(model, n_components, n_features):
    """Free parameters of the covariances (mclust's ``nVarParams``).

    A volume is 1 parameter, a shape d - 1, an orientation d (d - 1) / 2;
    each counted once if equal (E) and per component if varying (V).
    """
    model = check_model(model)
    k, d = int(n_components), int(n_features)
    counts = {"E": 1, "V": k, "I": 0}
    volume, shape, orientation = (counts[letter] for letter in model)
    return volume + shape * (d - 1) + orientation * d * (d - 1) // 2


def n_parameters(model, n_components, n_features):
    """Free parameters of a Gaussian mixture with this covariance model:
    means, mixing proportions and covariances (mclust's ``nMclustParams``).
    """
    k, d = int(n_components), int(n_features)
    return k * d + (k - 1) + n_covariance_parameters(model, k, d)


def check_model(model):
    """``model`` as an mclust name (scikit-learn's four names are mapped)."""
    model = SKLEARN_MODELS.get(model, model)
    if model not in MODELS:
        raise ValueError(
            f"Unknown covariance model {model!r}: use one of mclust's "
            f"{', '.join(MODELS)} or one of scikit-learn's "
            f"{', '.join(SKLEARN_MODELS)}."
        )
    return model


# ------------------------------------------------------------ the M-step


def covariance_m_step(
    model,
    resp_sum,
    scatter,
    reg_covar=0.0,
    previous=None,
    max_inner=None,
    trusted=False,
):
    """The covariances that maximise the expected complete-data
    log-likelihood under ``model``.

    Parameters
    ----------
    model : str
        One of :data:`MODELS` (or scikit-learn's 'spherical', 'diag',
        'tied', 'full').
    resp_sum : ndarray of shape (n_components,)
        Each component's sum of responsibilities n_k (all positive).
    scatter : ndarray of shape (n_components, n_features, n_features)
        Each component's scatter matrix W_k about its new mean.
    reg_covar : float, default=0.0
        Added in every direction to each component's scatter per unit of
        responsibility (W_k + n_k reg_covar I) before the model's
        constraints are imposed; see the module's docstring.
    previous : ndarray of shape (n_components, n_features, n_features), \
            default=None
        The previous iteration's covariances under the same model: the
        starting point of an iterative model's M-step (for EVE and VVE it
        also chooses among local optima). Ignored by closed forms, and
        where it is not finite and positive definite.
    max_inner : int, default=None
        Iterations at most of an iterative model's M-step (VEI, VEV and
        VEE alternations, EVE's and VVE's orientation sweeps; None: to
        convergence within ``INNER_MAX_ITER`` and
        ``ORIENTATION_MAX_SWEEPS``). Each iteration raises the expected
        complete-data log-likelihood, so a smaller cap still makes a
        generalised EM step; a model search uses one while it compares
        starts (see ``skmix.select_model``).
    trusted : bool, default=False
        Whether the statistics are well-formed by construction (the
        Gaussian family's: shapes as above, ``resp_sum`` positive and
        finite, ``scatter`` symmetric and overwritable): their checks and
        the copy are then skipped. A covariance that comes out not finite
        still raises.

    Returns
    -------
    CovarianceMStep

    Raises
    ------
    ValueError
        If a covariance is not numerically positive definite (with
        ``reg_covar=0``, for instance, a component on fewer rows than
        features under VVV), or the input is malformed.
    """
    model = check_model(model)
    if not trusted:
        resp_sum, scatter = _check_statistics(resp_sum, scatter)
    if not reg_covar >= 0:
        raise ValueError(f"reg_covar must be non-negative, got {reg_covar!r}.")
    if reg_covar:
        diagonal = np.arange(scatter.shape[1])
        scatter[:, diagonal, diagonal] += (resp_sum * reg_covar)[:, None]
    n_iter, converged = 0, True
    with np.errstate(all="ignore"):
        if model in ITERATIVE_MODELS:
            start = _usable_previous(previous, scatter.shape)
            iterate = partial(_ITERATIVE[model], max_inner=max_inner)
            covariances, n_iter, converged = iterate(resp_sum, scatter, start, model)
        else:
            covariances = _CLOSED_FORMS[model](resp_sum, scatter)
    precisions_cholesky = precision_cholesky(covariances, model)
    return CovarianceMStep(covariances, precisions_cholesky, n_iter, converged)


def compiled_m_step(
    model, resp_sum, sum_z, sum_zz, centres, reg_covar, eps, previous, max_inner
):
    """The whole M-step of one of :data:`COMPILED_MODELS` from the
    full-covariance E-step's statistics, in one numba call.

    The means ``centres + sum_z / n_k`` and the covariances
    :func:`covariance_m_step` gives for the scatter matrices ``sum_zz -
    n_k shift shift^T`` about them (``shift = sum_z / n_k``, ``sum_zz``'s
    upper triangles read), with ``n_k = resp_sum + eps``; equal to it to
    rounding (``skmix._kernels.gaussian.models`` follows it step by step).

    Parameters
    ----------
    model : str
        One of :data:`COMPILED_MODELS`.
    resp_sum : ndarray of shape (n_components,)
    sum_z : ndarray of shape (n_components, n_features)
    sum_zz : ndarray of shape (n_components, n_features, n_features)
        The statistics, about ``centres`` (n_components, n_features).
    reg_covar : float
        Non-negative, as :func:`covariance_m_step`'s.
    eps : float
        Added to every ``resp_sum`` (no division by zero).
    previous : ndarray of shape (n_components, n_features, n_features) or None
        As :func:`covariance_m_step`'s.
    max_inner : int or None
        As :func:`covariance_m_step`'s.

    Returns
    -------
    means : ndarray of shape (n_components, n_features)
    step : CovarianceMStep

    Raises
    ------
    ValueError
        Where :func:`covariance_m_step` raises for these statistics (the
        message of :func:`ill_defined_covariance`).
    """
    sum_z = np.ascontiguousarray(sum_z, dtype=np.float64)
    k, d = sum_z.shape
    if previous is None or np.shape(previous) != (k, d, d):
        previous = np.empty((0, d, d))
    means = np.empty((k, d))
    covariances = np.empty((k, d, d))
    factors = np.empty((k, d, d))
    code = MODEL_CODES.index(model)
    reg, inner_tol, inner_max, max_sweeps, screen = m_step_options(reg_covar, max_inner)
    failed, n_iter, converged = M_STEP_KERNELS[code](
        code,
        np.ascontiguousarray(resp_sum, dtype=np.float64),
        sum_z,
        np.ascontiguousarray(sum_zz, dtype=np.float64),
        np.ascontiguousarray(centres, dtype=np.float64),
        np.ascontiguousarray(previous, dtype=np.float64),
        reg,
        float(eps),
        inner_tol,
        inner_max,
        max_sweeps,
        screen,
        means,
        covariances,
        factors,
    )
    if failed:
        raise ValueError(ill_defined_covariance(model))
    return means, CovarianceMStep(covariances, factors, int(n_iter), bool(converged))


def m_step_options(reg_covar, max_inner):
    """``(reg, inner tolerance, inner iterations, orientation sweeps, screen
    sweeps)``, the options the M-step kernels of :data:`COMPILED_MODELS`
    take after the statistics, for ``reg_covar`` and ``max_inner`` (as
    :func:`compiled_m_step`'s)."""
    return (
        float(reg_covar),
        INNER_TOL,
        INNER_MAX_ITER if max_inner is None else int(max_inner),
        ORIENTATION_MAX_SWEEPS if max_inner is None else int(max_inner),
        SCREEN_SWEEPS,
    )


def precision_cholesky(covariances, model="VVV"):
    """Upper-triangular U_k with Sigma_k^{-1} = U_k U_k^T, (k, d, d).

    Raises the ``ValueError`` of :func:`ill_defined_covariance` if a
    covariance is not finite or not numerically positive definite (a
    Cholesky pivot within rounding of zero counts as not positive).
    """
    covariances = np.ascontiguousarray(covariances, dtype=np.float64)
    if covariances.ndim != 3 or not np.all(np.isfinite(covariances)):
        raise ValueError(ill_defined_covariance(model))
    factors = np.empty_like(covariances)
    # The Gaussian kernels' rule: a pivot must exceed (j + 1) times four
    # rounding errors of its diagonal entry.
    if _factor_kernel(covariances, factors) >= 0:
        raise ValueError(ill_defined_covariance(model))
    return factors


def _check_statistics(resp_sum, scatter):
    resp_sum = np.asarray(resp_sum, dtype=np.float64)
    scatter = np.asarray(scatter, dtype=np.float64)
    if resp_sum.ndim != 1 or scatter.shape != (
        resp_sum.shape[0],
        *scatter.shape[1:2] * 2,
    ):
        raise ValueError(
            "resp_sum must have shape (n_components,) and scatter "
            "(n_components, n_features, n_features); got "
            f"{resp_sum.shape} and {scatter.shape}."
        )
    if scatter.shape[0] == 0 or scatter.shape[1] == 0:
        raise ValueError("At least one component and one feature are needed.")
    if not np.all(resp_sum > 0) or not np.all(np.isfinite(resp_sum)):
        raise ValueError(
            "Every component needs a positive, finite sum of responsibilities "
            f"(got {resp_sum}); an empty component has no covariance."
        )
    if not np.all(np.isfinite(scatter)):
        raise ValueError("The scatter matrices must be finite.")
    # Symmetric by construction; averaging the triangles removes rounding.
    return resp_sum, 0.5 * (scatter + scatter.transpose(0, 2, 1))


def _usable_previous(previous, shape):
    """``previous`` as a (k, d, d) stack if it can start an iteration."""
    if previous is None:
        return None
    previous = np.ascontiguousarray(previous, dtype=np.float64)
    if previous.shape != shape or not np.all(np.isfinite(previous)):
        return None
    if _factor_kernel(previous, np.empty_like(previous)) >= 0:
        return None  # not positive definite
    return previous


# ------------------------------------------------------------ closed forms


def _diagonal_matrices(diagonals):
    """(k, d) diagonals as (k, d, d) matrices."""
    k, d = diagonals.shape
    out = np.zeros((k, d, d))
    out[:, np.arange(d), np.arange(d)] = diagonals
    return out


def _diagonals(scatter):
    return np.diagonal(scatter, axis1=1, axis2=2)


def _geometric_mean(values):
    """Geometric means along the last axis (0 if a value is 0)."""
    return np.exp(np.mean(np.log(values), axis=-1))


def _repeat(matrix, k):
    return np.repeat(matrix[None], k, axis=0)


def _eii(n, W):
    k, d, _ = W.shape
    return _repeat(np.trace(W.sum(axis=0)) / (n.sum() * d) * np.eye(d), k)


def _vii(n, W):
    k, d, _ = W.shape
    return (np.trace(W, axis1=1, axis2=2) / (n * d))[:, None, None] * np.eye(d)


def _eei(n, W):
    return _repeat(np.diag(_diagonals(W).sum(axis=0) / n.sum()), W.shape[0])


def _vvi(n, W):
    return _diagonal_matrices(_diagonals(W) / n[:, None])


def _evi(n, W):
    """Sigma_k = lambda B_k: B_k = diag(W_k) / g_k with g_k the geometric
    mean of diag(W_k), and lambda = sum_k g_k / n."""
    diagonals = _diagonals(W)
    g = _geometric_mean(diagonals)
    return _diagonal_matrices(g.sum() / n.sum() * diagonals / g[:, None])


def _eee(n, W):
    return _repeat(W.sum(axis=0) / n.sum(), W.shape[0])


def _vvv(n, W):
    return W / n[:, None, None]


def _evv(n, W):
    """Sigma_k = lambda C_k: C_k = W_k / det(W_k)^(1/d), lambda = sum_k
    det(W_k)^(1/d) / n."""
    d = W.shape[1]
    sign, logdet = np.linalg.slogdet(W)
    g = np.where(sign > 0, np.exp(logdet / d), np.nan)
    return g.sum() / n.sum() * W / g[:, None, None]


def _sorted_eigen(W):
    """Eigenvalues (k, d) in decreasing order and their eigenvectors."""
    values, vectors = np.linalg.eigh(W)
    return values[:, ::-1], vectors[:, :, ::-1]


def _rotate(vectors, diagonals):
    """V_k diag(diagonals_k) V_k^T for (k, d, d) V and (k, d) or (d,) diagonals."""
    return np.einsum(
        "kij,kj,klj->kil",
        vectors,
        np.broadcast_to(diagonals, vectors.shape[:2]),
        vectors,
    )


def _eev(n, W):
    """Sigma_k = L_k diag(sum_j Omega_j / n) L_k^T with W_k = L_k Omega_k
    L_k^T, eigenvalues in decreasing order (pairing the largest with the
    largest minimises every tr(W_k Sigma_k^{-1}))."""
    values, vectors = _sorted_eigen(W)
    return _rotate(vectors, values.sum(axis=0) / n.sum())


_CLOSED_FORMS = {
    "EII": _eii,
    "VII": _vii,
    "EEI": _eei,
    "VVI": _vvi,
    "EVI": _evi,
    "EEE": _eee,
    "EEV": _eev,
    "EVV": _evv,
    "VVV": _vvv,
}


# ------------------------------------------------------------- iterations


def _volumes_and_shape(n, diagonals, shape, max_inner=None):
    """VEI's M-step on (k, d) scatter diagonals: the volumes lambda_k and
    the shape a (geometric mean 1) of lambda_k diag(a), alternating
    lambda_k = sum_j w_kj / a_j / (d n_k) and a proportional to
    sum_k w_k / lambda_k from ``shape`` (None: the pooled diagonals), at
    most ``max_inner`` times (None: ``INNER_MAX_ITER``)."""
    d = diagonals.shape[1]
    if shape is None:
        shape = (diagonals / n[:, None]).sum(axis=0)
    shape = shape / _geometric_mean(shape)
    volumes = (diagonals / shape).sum(axis=1) / (d * n)
    cap = INNER_MAX_ITER if max_inner is None else max_inner
    for n_iter in range(1, cap + 1):
        shape = (diagonals / volumes[:, None]).sum(axis=0)
        shape = shape / _geometric_mean(shape)
        new = (diagonals / shape).sum(axis=1) / (d * n)
        change = np.max(np.abs(new - volumes) / volumes)
        volumes = new
        if not change > INNER_TOL:  # also stops on NaN (singular)
            return volumes, shape, n_iter, True
    return volumes, shape, cap, False


def _vei(n, W, previous, model, max_inner=None):
    shape = None if previous is None else _diagonals(previous)[0]
    volumes, shape, n_iter, converged = _volumes_and_shape(
        n, _diagonals(W), shape, max_inner
    )
    return _diagonal_matrices(volumes[:, None] * shape), n_iter, converged


def _vev(n, W, previous, model, max_inner=None):
    """VEI on the sorted eigenvalues of each W_k, rotated back by its
    eigenvectors (the orientation that pairs them with the sorted shape)."""
    values, vectors = _sorted_eigen(W)
    shape = None
    if previous is not None:
        shape = np.linalg.eigvalsh(previous[0])[::-1]
    volumes, shape, n_iter, converged = _volumes_and_shape(n, values, shape, max_inner)
    return _rotate(vectors, volumes[:, None] * shape), n_iter, converged


def _vee(n, W, previous, model, max_inner=None):
    """Sigma_k = lambda_k C: alternate lambda_k = tr(W_k C^{-1}) / (d n_k)
    and C = S / det(S)^(1/d) with S = sum_k W_k / lambda_k, from C of
    ``previous`` or of the pooled W_k / n_k, at most ``max_inner`` times
    (None: ``INNER_MAX_ITER``)."""
    d = W.shape[1]
    start = previous[0] if previous is not None else (W / n[:, None, None]).sum(0)
    volumes = _vee_volumes(n, W, start)
    cap = INNER_MAX_ITER if max_inner is None else max_inner
    n_iter, converged = cap, False
    for iteration in range(1, cap + 1):
        new = _vee_volumes(n, W, (W / volumes[:, None, None]).sum(axis=0))
        change = np.max(np.abs(new - volumes) / volumes)
        volumes = new
        if not change > INNER_TOL:  # also stops on NaN (singular)
            n_iter, converged = iteration, True
            break
    common = (W / volumes[:, None, None]).sum(axis=0)
    sign, logdet = np.linalg.slogdet(common)
    common = common / np.exp(logdet / d) if sign > 0 else common * np.nan
    return volumes[:, None, None] * common, n_iter, converged


def _vee_volumes(n, W, S):
    """lambda_k = tr(W_k C^{-1}) / (d n_k) with C = S / det(S)^(1/d)."""
    d = W.shape[1]
    try:
        factor = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        return np.full(n.shape, np.nan)
    inverse = np.linalg.inv(S)
    scale = np.exp(2.0 * np.log(np.diagonal(factor)).sum() / d)  # det(S)^(1/d)
    return np.einsum("kij,ji->k", W, inverse) * scale / (d * n)


def _orientation_starts(n, W, previous):
    """Starting orientations: the common eigenvectors of ``previous`` (from
    a generic combination, so that no eigenvalues tie); without it, those
    of the pooled W_k / n_k and of each W_k (the orientation problem can
    have several local optima, and the best of these starts reaches the
    best one far more often than any single start)."""
    if previous is not None:
        k = previous.shape[0]
        weights = 1.0 + np.arange(k) * (np.sqrt(5.0) - 1.0) / 2.0
        return [np.linalg.eigh(np.einsum("k,kij->ij", weights, previous))[1]]
    pooled = (W / n[:, None, None]).sum(axis=0)
    starts = [np.linalg.eigh(pooled)[1]]
    if W.shape[0] > 1:
        starts.extend(np.linalg.eigh(W)[1])
    return starts


def _orientation_objective(model, n, diagonals):
    """What D minimises, from b_kj = (D^T W_k D)_jj: VVE sum_k n_k sum_j
    log b_kj, EVE log sum_k g_k (see ``skmix._kernels.orientation``)."""
    logs = np.log(diagonals)
    if model == "VVE":
        return float((n[:, None] * logs).sum())
    return float(np.log(np.exp(logs.mean(axis=1)).sum()))


def _common_orientation(n, W, previous, model, max_inner=None):
    """EVE and VVE: D by Jacobi sweeps, then the shapes and volumes from
    the diagonals b_kj of D^T W_k D: VVE Delta_k = diag(b_k) / n_k; EVE
    Delta_k = lambda diag(b_k) / g_k with g_k = prod_j b_kj^(1/d) and
    lambda = sum_k g_k / n. With several starts, each runs
    ``SCREEN_SWEEPS`` sweeps and the best continues to convergence;
    ``max_inner`` caps every sweep count (None: ``ORIENTATION_MAX_SWEEPS``
    for a search, ``SCREEN_SWEEPS`` for a screen)."""
    W = np.ascontiguousarray(W)
    precision_cholesky(W, model)  # the orientation of a singular W_k is free
    rotated = np.empty_like(W)
    starts = _orientation_starts(n, W, previous)
    cap = ORIENTATION_MAX_SWEEPS if max_inner is None else max_inner
    screen = min(SCREEN_SWEEPS, cap) if len(starts) > 1 else cap
    best, n_iter = None, 0
    for start in starts:
        orientation = np.ascontiguousarray(start)
        sweeps = common_orientation(
            W, n, model == "EVE", orientation, rotated, INNER_TOL, screen
        )
        n_iter += abs(sweeps)
        objective = _orientation_objective(model, n, _diagonals(rotated))
        if best is None or objective < best[0]:
            best = (objective, orientation, sweeps)
    _, orientation, sweeps = best
    if sweeps < 0 and len(starts) > 1:
        sweeps = common_orientation(
            W,
            n,
            model == "EVE",
            orientation,
            rotated,
            INNER_TOL,
            cap,
        )
        n_iter += abs(sweeps)
    diagonals = (W @ orientation * orientation).sum(axis=1)
    if model == "VVE":
        deltas = diagonals / n[:, None]
    else:
        g = _geometric_mean(diagonals)
        deltas = g.sum() / n.sum() * diagonals / g[:, None]
    covariances = _rotate(np.broadcast_to(orientation, W.shape), deltas)
    return covariances, n_iter, sweeps > 0


_ITERATIVE = {
    "VEI": _vei,
    "VEV": _vev,
    "VEE": _vee,
    "EVE": _common_orientation,
    "VVE": _common_orientation,
}
