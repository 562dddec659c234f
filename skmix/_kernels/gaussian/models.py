"""The M-step of mclust's covariance models beyond scikit-learn's four, in
one numba call: EII, EEI, VEI, EVI, VEE, EVE, VVE, EEV, VEV and EVV.

``model_m_step`` takes the full-covariance E-step's statistics and returns
the means, the model's covariances and their precision factors. It follows
``skmix.families.covariance_models``'s NumPy M-step step by step (the
formulas, the iterations, their starts and stopping rules are documented
there) in IEEE arithmetic, so the two agree to rounding; eigenvectors come
from ``eigen.symmetric_eigen`` in ``np.linalg.eigh``'s order (their signs may
differ, which changes no covariance). The kernel validates nothing: the
family passes well-formed statistics.

Shared arguments: n (k,) the responsibility sums n_k; W (k, d, d) the
regularised scatter matrices, symmetric; covariances (k, d, d), written.
"""

import math

import numpy as np
from numba import njit

from ..._config import IEEE_JIT_OPTIONS
from ..orientation import common_orientation
from .eigen import cholesky_log_det, inverse_from_cholesky, symmetric_eigen
from .linalg import precision_cholesky

#: The models, by the code ``model_m_step`` takes (their index here).
MODEL_CODES = ("EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV")
_EII, _EEI, _VEI, _EVI, _VEE, _EVE, _VVE, _EEV, _VEV, _EVV = range(10)
#: The weights of the generic combination of the previous covariances whose
#: eigenvectors start EVE's and VVE's orientation: 1 + m (sqrt 5 - 1) / 2.
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@njit(**IEEE_JIT_OPTIONS)
def model_m_step(
    model,
    resp_sum,
    sum_z,
    sum_zz,
    centres,
    previous,
    reg,
    eps,
    tol,
    max_iter,
    max_sweeps,
    screen_sweeps,
    means,
    covariances,
    prec_chol,
):
    """Means, covariances and precision factors of one M-step.

    Parameters: ``model`` the index in ``MODEL_CODES``; resp_sum (k,),
    sum_z (k, d) and sum_zz (k, d, d) the statistics about ``centres``
    (k, d) (sum_zz's upper triangles are read); ``previous`` (k, d, d) the
    previous covariances, or (0, d, d) for none (ignored unless finite and
    positive definite); ``reg`` added per unit of responsibility to every
    scatter's diagonal; ``eps`` added to every resp_sum; ``tol`` the
    iterations' tolerance; ``max_iter`` the cap of the VEI, VEV and VEE
    alternations, ``max_sweeps`` of EVE's and VVE's orientation sweeps,
    ``screen_sweeps`` the sweeps of each of their cold starts. means (k, d),
    covariances and prec_chol (k, d, d) are written.

    Returns (failed, n_iter, converged): ``failed`` if a covariance is not
    finite or not numerically positive definite (``precision_cholesky``'s
    rule), or, for EVE and VVE, a regularised scatter is not.
    """
    k, d = sum_z.shape
    n = np.empty(k)
    W = np.empty((k, d, d))
    scatter_from_moments(resp_sum, sum_z, sum_zz, centres, reg, eps, n, means, W)
    start = False
    alternation = model == _VEI or model == _VEV or model == _VEE
    if (alternation or model == _EVE or model == _VVE) and previous.shape[0] == k:
        start = _all_finite(previous) and precision_cholesky(previous, prec_chol) < 0
    n_iter, converged = 0, True
    if model == _EII or model == _EEI or model == _EVI:
        _diagonal_closed_form(model, n, W, covariances)
    elif model == _EEV:
        _eev(n, W, covariances)
    elif model == _EVV:
        _evv(n, W, covariances)
    elif model == _VEI or model == _VEV:
        n_iter, converged = _vei_vev(
            model == _VEV, n, W, previous, start, tol, max_iter, covariances
        )
    elif model == _VEE:
        n_iter, converged = _vee(n, W, previous, start, tol, max_iter, covariances)
    else:
        # The orientation of a singular W_k is free: the NumPy M-step raises.
        if not _all_finite(W) or precision_cholesky(W, prec_chol) >= 0:
            return True, 0, False
        n_iter, converged = _common_orientation(
            model == _EVE,
            n,
            W,
            previous,
            start,
            tol,
            max_sweeps,
            screen_sweeps,
            covariances,
        )
    if not _all_finite(covariances):
        return True, n_iter, converged
    return precision_cholesky(covariances, prec_chol) >= 0, n_iter, converged


@njit(**IEEE_JIT_OPTIONS)
def scatter_from_moments(resp_sum, sum_z, sum_zz, centres, reg, eps, n, means, W):
    """n_k = resp_sum_k + eps, the means centres + sum_z / n_k, and the
    scatter matrices about them, sum_zz - n_k shift shift^T with shift =
    sum_z / n_k (from sum_zz's upper triangles), plus n_k reg on their
    diagonals; n (k,), means (k, d), W (k, d, d) written."""
    k, d = sum_z.shape
    for c in range(k):
        nk = resp_sum[c] + eps
        n[c] = nk
        for i in range(d):
            means[c, i] = centres[c, i] + sum_z[c, i] / nk
        for i in range(d):
            si = sum_z[c, i] / nk
            for j in range(i, d):
                v = sum_zz[c, i, j] - nk * si * (sum_z[c, j] / nk)
                W[c, i, j] = v
                W[c, j, i] = v
            if reg != 0.0:
                W[c, i, i] += nk * reg


@njit(**IEEE_JIT_OPTIONS)
def _all_finite(a):
    for v in a.reshape(-1):
        if not math.isfinite(v):
            return False
    return True


@njit(**IEEE_JIT_OPTIONS)
def _geometric_mean(values):
    """exp(mean(log(values))) (0 if a value is 0, NaN if one is negative)."""
    acc = 0.0
    for v in values:
        acc += _log(v)
    return math.exp(acc / values.shape[0])


@njit(**IEEE_JIT_OPTIONS)
def _log(v):
    """``np.log``: -inf at 0, NaN below."""
    return math.log(v) if v > 0.0 else (-np.inf if v == 0.0 else np.nan)


@njit(**IEEE_JIT_OPTIONS)
def _rotate(vectors, diagonal, out):
    """out = V diag(diagonal) V^T for V (d, d), diagonal (d,)."""
    d = vectors.shape[0]
    for i in range(d):
        for j in range(i, d):
            acc = 0.0
            for p in range(d):
                acc += vectors[i, p] * diagonal[p] * vectors[j, p]
            out[i, j] = acc
            out[j, i] = acc


@njit(**IEEE_JIT_OPTIONS)
def _set_diagonal(diagonal, out):
    d = out.shape[0]
    for i in range(d):
        for j in range(d):
            out[i, j] = 0.0
        out[i, i] = diagonal[i]


# ------------------------------------------------------------ closed forms


@njit(**IEEE_JIT_OPTIONS)
def _diagonal_closed_form(model, n, W, covariances):
    """EII: lambda I with lambda = tr(sum_k W_k) / (n d); EEI: diag(sum_k
    W_k) / n; EVI: lambda diag(W_k) / g_k with g_k the geometric mean of
    diag(W_k) and lambda = sum_k g_k / n."""
    k, d, _ = W.shape
    total = 0.0
    for c in range(k):
        total += n[c]
    diagonal = np.zeros(d)
    if model == _EVI:
        g = np.empty(k)
        g_sum = 0.0
        for c in range(k):
            for i in range(d):
                diagonal[i] = W[c, i, i]
            g[c] = _geometric_mean(diagonal)
            g_sum += g[c]
        for c in range(k):
            for i in range(d):
                diagonal[i] = g_sum / total * W[c, i, i] / g[c]
            _set_diagonal(diagonal, covariances[c])
        return
    for i in range(d):
        for c in range(k):
            diagonal[i] += W[c, i, i]
    if model == _EII:
        trace = 0.0
        for i in range(d):
            trace += diagonal[i]
        diagonal[:] = trace / (total * d)
    else:
        for i in range(d):
            diagonal[i] /= total
    for c in range(k):
        _set_diagonal(diagonal, covariances[c])


@njit(**IEEE_JIT_OPTIONS)
def _sorted_eigen(W, values, vectors):
    """Eigenvalues of each W_k in decreasing order into values (k, d), their
    eigenvectors into the columns of vectors (k, d, d)."""
    k, d, _ = W.shape
    work = np.empty(d)
    ascending = np.empty(d)
    V = np.empty((d, d))
    for c in range(k):
        symmetric_eigen(W[c], ascending, V, work)
        for j in range(d):
            values[c, j] = ascending[d - 1 - j]
            for i in range(d):
                vectors[c, i, j] = V[i, d - 1 - j]


@njit(**IEEE_JIT_OPTIONS)
def _eev(n, W, covariances):
    """Sigma_k = L_k diag(sum_j Omega_j / n) L_k^T from W_k = L_k Omega_k
    L_k^T, eigenvalues in decreasing order."""
    k, d, _ = W.shape
    values = np.empty((k, d))
    vectors = np.empty((k, d, d))
    _sorted_eigen(W, values, vectors)
    total = 0.0
    for c in range(k):
        total += n[c]
    shape = np.zeros(d)
    for c in range(k):
        for j in range(d):
            shape[j] += values[c, j]
    for j in range(d):
        shape[j] /= total
    for c in range(k):
        _rotate(vectors[c], shape, covariances[c])


@njit(**IEEE_JIT_OPTIONS)
def _evv(n, W, covariances):
    """Sigma_k = lambda W_k / g_k with g_k = det(W_k)^(1/d) (NaN unless
    W_k is positive definite) and lambda = sum_k g_k / n."""
    k, d, _ = W.shape
    L = np.empty((d, d))
    g = np.empty(k)
    g_sum = 0.0
    total = 0.0
    for c in range(k):
        g[c] = math.exp(cholesky_log_det(W[c], L) / d)
        g_sum += g[c]
        total += n[c]
    for c in range(k):
        for i in range(d):
            for j in range(d):
                covariances[c, i, j] = g_sum / total * W[c, i, j] / g[c]


# ------------------------------------------------------------- iterations


@njit(**IEEE_JIT_OPTIONS)
def _relative_change(new, old):
    """max_k |new_k - old_k| / old_k, NaN if one is NaN (as ``np.max``)."""
    change = 0.0
    for c in range(new.shape[0]):
        r = abs(new[c] - old[c]) / old[c]
        if r != r:
            return np.nan
        change = max(change, r)
    return change


@njit(**IEEE_JIT_OPTIONS)
def _vei_volumes(n, diagonals, shape, volumes):
    """volumes_k = sum_j w_kj / a_j / (d n_k)."""
    k, d = diagonals.shape
    for c in range(k):
        acc = 0.0
        for j in range(d):
            acc += diagonals[c, j] / shape[j]
        volumes[c] = acc / (d * n[c])


@njit(**IEEE_JIT_OPTIONS)
def _normalise(shape):
    g = _geometric_mean(shape)
    for j in range(shape.shape[0]):
        shape[j] /= g


@njit(**IEEE_JIT_OPTIONS)
def _volumes_and_shape(n, diagonals, shape, has_shape, tol, max_iter, volumes):
    """VEI's alternation on (k, d) diagonals (``_volumes_and_shape`` of the
    NumPy M-step): from ``shape`` (d,) if ``has_shape``, else the pooled
    diagonals; volumes (k,) and shape written. Returns (n_iter, converged).
    """
    k, d = diagonals.shape
    if not has_shape:
        shape[:] = 0.0
        for c in range(k):
            for j in range(d):
                shape[j] += diagonals[c, j] / n[c]
    _normalise(shape)
    _vei_volumes(n, diagonals, shape, volumes)
    new = np.empty(k)
    for n_iter in range(1, max_iter + 1):
        shape[:] = 0.0
        for c in range(k):
            for j in range(d):
                shape[j] += diagonals[c, j] / volumes[c]
        _normalise(shape)
        _vei_volumes(n, diagonals, shape, new)
        change = _relative_change(new, volumes)
        volumes[:] = new
        if not change > tol:  # also stops on NaN (singular)
            return n_iter, True
    return max_iter, False


@njit(**IEEE_JIT_OPTIONS)
def _vei_vev(rotated, n, W, previous, start, tol, max_iter, covariances):
    """VEI on the diagonals of the W_k, or (``rotated``, VEV) on their
    sorted eigenvalues, rotated back by their eigenvectors; the shape
    starts from the previous first covariance's diagonal (VEI) or sorted
    eigenvalues (VEV) if ``start``."""
    k, d, _ = W.shape
    diagonals = np.empty((k, d))
    vectors = np.empty((k, d, d))
    shape = np.empty(d)
    if rotated:
        _sorted_eigen(W, diagonals, vectors)
        if start:
            ascending = np.empty(d)
            symmetric_eigen(previous[0], ascending, np.empty((d, d)), np.empty(d))
            for j in range(d):
                shape[j] = ascending[d - 1 - j]
    else:
        for c in range(k):
            for j in range(d):
                diagonals[c, j] = W[c, j, j]
        if start:
            for j in range(d):
                shape[j] = previous[0, j, j]
    volumes = np.empty(k)
    n_iter, converged = _volumes_and_shape(
        n, diagonals, shape, start, tol, max_iter, volumes
    )
    diagonal = np.empty(d)
    for c in range(k):
        for j in range(d):
            diagonal[j] = volumes[c] * shape[j]
        if rotated:
            _rotate(vectors[c], diagonal, covariances[c])
        else:
            _set_diagonal(diagonal, covariances[c])
    return n_iter, converged


@njit(**IEEE_JIT_OPTIONS)
def _vee_volumes(n, W, S, L, inverse, work, volumes):
    """lambda_k = tr(W_k C^{-1}) / (d n_k) with C = S / det(S)^(1/d); NaN
    if S is not positive definite. L, inverse, work (d, d) scratch."""
    k, d, _ = W.shape
    log_det = cholesky_log_det(S, L)
    if log_det != log_det:
        volumes[:] = np.nan
        return
    inverse_from_cholesky(L, inverse, work)
    scale = math.exp(log_det / d)
    for c in range(k):
        acc = 0.0
        for i in range(d):
            for j in range(d):
                acc += W[c, i, j] * inverse[j, i]
        volumes[c] = acc * scale / (d * n[c])


@njit(**IEEE_JIT_OPTIONS)
def _weighted_sum(W, divisors, out):
    """out = sum_k W_k / divisors_k."""
    k, d, _ = W.shape
    out[:, :] = 0.0
    for c in range(k):
        for i in range(d):
            for j in range(d):
                out[i, j] += W[c, i, j] / divisors[c]


@njit(**IEEE_JIT_OPTIONS)
def _vee(n, W, previous, start, tol, max_iter, covariances):
    """VEE's alternation (``_vee`` of the NumPy M-step): lambda_k =
    tr(W_k C^{-1}) / (d n_k) and C = S / det(S)^(1/d), S = sum_k W_k /
    lambda_k, from C of the previous first covariance if ``start``, else of
    the pooled W_k / n_k. Returns (n_iter, converged)."""
    k, d, _ = W.shape
    S = np.empty((d, d))
    L = np.empty((d, d))
    inverse = np.empty((d, d))
    work = np.empty((d, d))
    volumes = np.empty(k)
    new = np.empty(k)
    if start:
        S[:, :] = previous[0]
    else:
        _weighted_sum(W, n, S)
    _vee_volumes(n, W, S, L, inverse, work, volumes)
    n_iter, converged = max_iter, False
    for iteration in range(1, max_iter + 1):
        _weighted_sum(W, volumes, S)
        _vee_volumes(n, W, S, L, inverse, work, new)
        change = _relative_change(new, volumes)
        volumes[:] = new
        if not change > tol:  # also stops on NaN (singular)
            n_iter, converged = iteration, True
            break
    _weighted_sum(W, volumes, S)
    scale = math.exp(cholesky_log_det(S, L) / d)  # NaN unless S is regular
    for c in range(k):
        for i in range(d):
            for j in range(d):
                covariances[c, i, j] = volumes[c] * (S[i, j] / scale)
    return n_iter, converged


# ------------------------------------------------------------- orientation


@njit(**IEEE_JIT_OPTIONS)
def _orientation_start(index, n, W, previous, start, orientation):
    """Starting orientation ``index`` (``_orientation_starts`` of the NumPy
    M-step): with ``start``, the eigenvectors of sum_m (1 + m golden)
    previous_m (the only start); else 0 the eigenvectors of the pooled
    W_k / n_k, then those of each W_k."""
    k, d, _ = W.shape
    A = np.zeros((d, d))
    if start:
        for c in range(k):
            weight = 1.0 + c * _GOLDEN
            for i in range(d):
                for j in range(d):
                    A[i, j] += weight * previous[c, i, j]
    elif index == 0:
        _weighted_sum(W, n, A)
    else:
        A[:, :] = W[index - 1]
    symmetric_eigen(A, np.empty(d), orientation, np.empty(d))


@njit(**IEEE_JIT_OPTIONS)
def _orientation_objective(equal_volume, n, rotated):
    """What the orientation minimises, from b_kj = (D^T W_k D)_jj: VVE
    sum_k n_k sum_j log b_kj, EVE log sum_k g_k."""
    k, d, _ = rotated.shape
    total = 0.0
    for c in range(k):
        acc = 0.0
        for j in range(d):
            acc += _log(rotated[c, j, j])
        total += math.exp(acc / d) if equal_volume else n[c] * acc
    return math.log(total) if equal_volume else total


@njit(**IEEE_JIT_OPTIONS)
def _common_orientation(
    equal_volume, n, W, previous, start, tol, max_sweeps, screen, covariances
):
    """EVE (``equal_volume``) and VVE: the common orientation D by Jacobi
    sweeps from each start, ``screen`` sweeps each if there are several and
    the best continued to ``max_sweeps``; then Delta_k from b_kj =
    (D^T W_k D)_jj (``_common_orientation`` of the NumPy M-step). Returns
    (n_iter, converged)."""
    k, d, _ = W.shape
    n_starts = 1 if (start or k == 1) else k + 1
    cap = max_sweeps if n_starts == 1 else min(screen, max_sweeps)
    rotated = np.empty((k, d, d))
    orientation = np.empty((d, d))
    best = np.empty((d, d))
    best_objective = np.nan
    best_sweeps = 0
    n_iter = 0
    for index in range(n_starts):
        _orientation_start(index, n, W, previous, start, orientation)
        sweeps = common_orientation(W, n, equal_volume, orientation, rotated, tol, cap)
        n_iter += abs(sweeps)
        objective = _orientation_objective(equal_volume, n, rotated)
        if index == 0 or objective < best_objective:
            best_objective = objective
            best[:, :] = orientation
            best_sweeps = sweeps
    sweeps = best_sweeps
    if sweeps < 0 and n_starts > 1:
        sweeps = common_orientation(W, n, equal_volume, best, rotated, tol, max_sweeps)
        n_iter += abs(sweeps)
    diagonals = np.empty((k, d))
    for c in range(k):
        for j in range(d):
            acc = 0.0
            for i in range(d):
                row = 0.0
                for p in range(d):
                    row += W[c, i, p] * best[p, j]
                acc += row * best[i, j]
            diagonals[c, j] = acc
    _orientation_deltas(equal_volume, n, diagonals)
    for c in range(k):
        _rotate(best, diagonals[c], covariances[c])
    return n_iter, sweeps > 0


@njit(**IEEE_JIT_OPTIONS)
def _orientation_deltas(equal_volume, n, diagonals):
    """Delta_k from b_kj, in place: VVE b_k / n_k; EVE lambda b_k / g_k
    with g_k = prod_j b_kj^(1/d) and lambda = sum_k g_k / n."""
    k, d = diagonals.shape
    if not equal_volume:
        for c in range(k):
            for j in range(d):
                diagonals[c, j] /= n[c]
        return
    g = np.empty(k)
    g_sum = 0.0
    total = 0.0
    for c in range(k):
        g[c] = _geometric_mean(diagonals[c])
        g_sum += g[c]
        total += n[c]
    for c in range(k):
        for j in range(d):
            diagonals[c, j] = g_sum / total * diagonals[c, j] / g[c]
