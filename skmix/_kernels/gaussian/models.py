"""The M-step of mclust's covariance models beyond scikit-learn's four, in
one numba call: EII, EEI, VEI, EVI, VEE, EVE, VVE, EEV, VEV and EVV.

``M_STEP_KERNELS[code]`` is the kernel of the model ``MODEL_CODES[code]``.
It takes the full-covariance E-step's statistics and returns the means, the
model's covariances and their precision factors. It follows
``skmix.families.covariance_models``'s NumPy M-step step by step (the
formulas, the iterations, their starts and stopping rules are documented
there) in IEEE arithmetic, so the two agree to rounding; eigenvectors come
from ``eigen.symmetric_eigen`` in ``np.linalg.eigh``'s order (their signs may
differ, which changes no covariance). The kernels validate nothing: the
family passes well-formed statistics.

Two kernels share the ten models: ``direct_m_step`` (EII, EEI, EVI, EVV,
VEE) and ``eigen_m_step`` (EEV, VEI, VEV, EVE, VVE, every eigenvector
model), so that a fit of a direct model does not compile the eigensolver.
Each is written flat, calling a few leaf kernels once or twice: numba
compiles a kernel's callees again inside it (their code is linked in and
optimised with the caller's) and types and lowers every statement of a
kernel, so a tree of small helpers is compiled several times over, and the
kernels share no helper whose code they could hold once. No statement
formats an exception (no copies between arrays by slices, no broadcasting,
no matrix products), which would make numba compile its string formatting.

Every kernel takes, in this order: ``model`` the index in ``MODEL_CODES``;
resp_sum (k,), sum_z (k, d) and sum_zz (k, d, d) the statistics about
``centres`` (k, d) (sum_zz's upper triangles are read); ``previous`` (k, d,
d) the previous covariances, or (0, d, d) for none (ignored unless finite
and positive definite); ``reg`` added per unit of responsibility to every
scatter's diagonal; ``eps`` added to every resp_sum; ``tol`` the
iterations' tolerance; ``max_iter`` the cap of the VEI, VEV and VEE
alternations, ``max_sweeps`` of EVE's and VVE's orientation sweeps,
``screen_sweeps`` the sweeps of each of their cold starts; means (k, d),
covariances and prec_chol (k, d, d), written. It returns (failed, n_iter,
converged): ``failed`` if a covariance is not finite or not numerically
positive definite (``precision_cholesky``'s rule), or, for EVE and VVE, a
regularised scatter is not. Below, n_k are the responsibility sums plus
``eps`` and W_k the regularised scatter matrices (``scatter_from_moments``).
"""

import math

import numpy as np
from numba import njit

from ..._config import IEEE_JIT_OPTIONS
from ..orientation import common_orientation
from .eigen import cholesky_log_det, symmetric_eigen
from .linalg import precision_cholesky

#: The models, by the code the kernels take (their index here).
MODEL_CODES = ("EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV")
_EII, _EEI, _VEI, _EVI, _VEE, _EVE, _VVE, _EEV, _VEV, _EVV = range(10)
#: The weights of the generic combination of the previous covariances whose
#: eigenvectors start EVE's and VVE's orientation: 1 + m (sqrt 5 - 1) / 2.
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@njit(no_cpython_wrapper=True, no_cfunc_wrapper=True, **IEEE_JIT_OPTIONS)
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


@njit(no_cpython_wrapper=True, no_cfunc_wrapper=True, **IEEE_JIT_OPTIONS)
def _factor(a, prec_chol):
    """Whether every entry of ``a`` (k, d, d) is finite and
    ``precision_cholesky`` factors it (into ``prec_chol``): positive
    definite to its rule."""
    k, d, _ = a.shape
    for c in range(k):
        for i in range(d):
            for j in range(d):
                if not math.isfinite(a[c, i, j]):
                    return False
    return precision_cholesky(a, prec_chol) < 0


@njit(**IEEE_JIT_OPTIONS)
def direct_m_step(
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
    """EII: lambda I with lambda = tr(sum_k W_k) / (n d); EEI: diag(sum_k
    W_k) / n; EVI: lambda diag(W_k) / g_k with g_k the geometric mean of
    diag(W_k); EVV: lambda W_k / g_k with g_k = det(W_k)^(1/d) (NaN unless
    W_k is positive definite); lambda = sum_k g_k / n for EVI and EVV.

    VEE: lambda_k C by the alternation of lambda_k = tr(W_k C^{-1}) / (d
    n_k) and C = S / det(S)^(1/d), S = sum_k W_k / lambda_k, from C of the
    previous first covariance if usable, else of the pooled W_k / n_k; the
    volumes are NaN once S is not positive definite. Iteration 0 gives the
    volumes of the starting S; the pass after the last iteration only
    forms S of the final volumes."""
    k, d = sum_z.shape
    n = np.empty(k)
    W = np.empty((k, d, d))
    scatter_from_moments(resp_sum, sum_z, sum_zz, centres, reg, eps, n, means, W)
    total = 0.0
    for c in range(k):
        total += n[c]
    g = np.empty(k)
    g_sum = 0.0
    S = np.empty((d, d))
    L = np.empty((d, d))
    inverse = np.empty((d, d))
    work = np.empty((d, d))
    n_iter, converged = 0, True
    if model == _EVV:
        for c in range(k):
            g[c] = math.exp(cholesky_log_det(W[c], L) / d)
            g_sum += g[c]
        for c in range(k):
            for i in range(d):
                for j in range(d):
                    covariances[c, i, j] = g_sum / total * W[c, i, j] / g[c]
    elif model == _VEE:
        start = previous.shape[0] == k and _factor(previous, prec_chol)
        volumes = np.empty(k)
        for c in range(k):
            volumes[c] = 1.0  # any finite value: iteration 0 sets them
        new = np.empty(k)
        n_iter, converged = max_iter, False
        final = False
        log_det = 0.0
        for iteration in range(max_iter + 2):
            for i in range(d):
                for j in range(d):
                    if iteration == 0 and start:
                        S[i, j] = previous[0, i, j]
                        continue
                    acc = 0.0
                    for c in range(k):
                        acc += W[c, i, j] / (n[c] if iteration == 0 else volumes[c])
                    S[i, j] = acc
            log_det = cholesky_log_det(S, L)
            if final or iteration == max_iter + 1:
                break
            # inverse = S^{-1} = L^{-T} L^{-1}, work = L^{-1} (if S is regular)
            for j in range(d if log_det == log_det else 0):
                work[j, j] = 1.0 / L[j, j]
                for i in range(j + 1, d):
                    acc = 0.0
                    for p in range(j, i):
                        acc -= L[i, p] * work[p, j]
                    work[i, j] = acc / L[i, i]
                for i in range(j):
                    work[i, j] = 0.0
            for i in range(d if log_det == log_det else 0):
                for j in range(i, d):
                    acc = 0.0
                    for p in range(j, d):
                        acc += work[p, i] * work[p, j]
                    inverse[i, j] = acc
                    inverse[j, i] = acc
            scale = math.exp(log_det / d)
            change = 0.0
            for c in range(k):
                acc = 0.0
                for i in range(d):
                    for j in range(d):
                        acc += W[c, i, j] * inverse[j, i]
                new[c] = acc * scale / (d * n[c]) if log_det == log_det else np.nan
                r = abs(new[c] - volumes[c]) / volumes[c]
                change = (
                    np.nan
                    if r != r or change != change
                    else (r if r > change else change)
                )
            for c in range(k):
                volumes[c] = new[c]
            if iteration > 0 and not change > tol:  # also stops on NaN
                n_iter, converged = iteration, True
                final = True
        scale = math.exp(log_det / d)  # NaN unless S is regular
        for c in range(k):
            for i in range(d):
                for j in range(d):
                    covariances[c, i, j] = volumes[c] * (S[i, j] / scale)
    else:
        if model == _EVI:
            for c in range(k):
                acc = 0.0
                for i in range(d):
                    v = W[c, i, i]
                    acc += math.log(v) if v > 0.0 else (-np.inf if v == 0.0 else np.nan)
                g[c] = math.exp(acc / d)
                g_sum += g[c]
        trace = 0.0
        for i in range(d):
            acc = 0.0
            for c in range(k):
                acc += W[c, i, i]
            S[0, i] = acc
            trace += acc
        for c in range(k):
            for i in range(d):
                for j in range(d):
                    covariances[c, i, j] = 0.0
                if model == _EVI:
                    covariances[c, i, i] = g_sum / total * W[c, i, i] / g[c]
                elif model == _EII:
                    covariances[c, i, i] = trace / (total * d)
                else:
                    covariances[c, i, i] = S[0, i] / total
    return not _factor(covariances, prec_chol), n_iter, converged


@njit(**IEEE_JIT_OPTIONS)
def eigen_m_step(
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
    """Sigma_k = R_k diag(delta_k) R_k^T, R_k the eigenvectors or the
    orientation (the identity for VEI).

    EEV: R_k diag(sum_j Omega_j / n) R_k^T from W_k = R_k Omega_k R_k^T,
    eigenvalues in decreasing order. VEI: lambda_k diag(a) by the
    alternation of lambda_k = sum_j w_kj / a_j / (d n_k) and a = sum_k w_k
    / lambda_k normalised to determinant 1, on the diagonals w_k of the W_k;
    VEV the same on their sorted eigenvalues, rotated back by their
    eigenvectors. The shape a starts from the previous first covariance's
    diagonal (VEI) or sorted eigenvalues (VEV) if usable, else from the
    pooled w_k / n_k; iteration 0 gives the volumes of the starting shape.

    EVE and VVE: the common orientation D by ``common_orientation``'s
    Jacobi sweeps from each start, ``screen_sweeps`` sweeps each if there
    are several and the best (lowest objective: VVE sum_k n_k sum_j log
    b_kj, EVE log sum_k g_k, from b_kj = (D^T W_k D)_jj) continued to
    ``max_sweeps``; then Delta_k from the b_kj, VVE b_k / n_k, EVE lambda
    b_k / g_k with g_k = prod_j b_kj^(1/d) and lambda = sum_k g_k / n. The
    starts: if the previous covariances are usable, the eigenvectors of
    sum_m (1 + m golden) previous_m only; else those of the pooled W_k /
    n_k, then those of each W_k.

    Every eigen-decomposition is one batch of ``symmetric_eigen``: of the
    W_k and (VEV, if usable) the previous first covariance, or of the
    starts of the orientation.
    """
    k, d = sum_z.shape
    n = np.empty(k)
    W = np.empty((k, d, d))
    scatter_from_moments(resp_sum, sum_z, sum_zz, centres, reg, eps, n, means, W)
    start = model != _EEV and previous.shape[0] == k and _factor(previous, prec_chol)
    orientation = model == _EVE or model == _VVE
    # The orientation of a singular W_k is free: the NumPy M-step raises.
    if orientation and not _factor(W, prec_chol):
        return True, 0, False
    if orientation:
        m = 1 if (start or k == 1) else k + 1
    elif model == _VEI:
        m = 0
    else:
        m = k + 1 if start else k
    A = np.empty((m, d, d))
    for b in range(m):
        for i in range(d):
            for j in range(d):
                acc = 0.0
                if orientation and start:
                    for c in range(k):
                        acc += (1.0 + c * _GOLDEN) * previous[c, i, j]
                elif orientation and b == 0:
                    for c in range(k):
                        acc += W[c, i, j] / n[c]
                elif orientation:
                    acc = W[b - 1, i, j]
                else:
                    acc = W[b, i, j] if b < k else previous[0, i, j]
                A[b, i, j] = acc
    values = np.empty((m, d))
    vectors = np.empty((m, d, d))
    work = np.empty(d)
    symmetric_eigen(A, values, vectors, work)
    R = np.empty((k, d, d))
    w = np.empty((k, d))
    delta = np.empty((k, d))
    total = 0.0
    for c in range(k):
        total += n[c]
    n_iter, converged = 0, True
    if orientation:
        equal_volume = model == _EVE
        cap = max_sweeps if m == 1 or max_sweeps < screen_sweeps else screen_sweeps
        best_objective = np.nan
        best = 0
        sweeps = 0
        for index in range(m):
            found = common_orientation(W, n, equal_volume, vectors[index], R, tol, cap)
            n_iter += abs(found)
            objective = 0.0
            for c in range(k):
                acc = 0.0
                for j in range(d):
                    v = R[c, j, j]
                    acc += math.log(v) if v > 0.0 else (-np.inf if v == 0.0 else np.nan)
                objective += math.exp(acc / d) if equal_volume else n[c] * acc
            if equal_volume:
                objective = math.log(objective)
            if index == 0 or objective < best_objective:
                best_objective = objective
                best = index
                sweeps = found
        D = vectors[best]
        if sweeps < 0 and m > 1:
            found = common_orientation(W, n, equal_volume, D, R, tol, max_sweeps)
            n_iter += abs(found)
            sweeps = found
        converged = sweeps > 0
        g_sum = 0.0
        for c in range(k):
            acc = 0.0
            for j in range(d):
                b_kj = 0.0
                for i in range(d):
                    row = 0.0
                    for p in range(d):
                        row += W[c, i, p] * D[p, j]
                    b_kj += row * D[i, j]
                delta[c, j] = b_kj
                acc += (
                    math.log(b_kj)
                    if b_kj > 0.0
                    else (-np.inf if b_kj == 0.0 else np.nan)
                )
            w[c, 0] = math.exp(acc / d)  # g_k
            g_sum += w[c, 0]
        for c in range(k):
            for j in range(d):
                if equal_volume:
                    delta[c, j] = g_sum / total * delta[c, j] / w[c, 0]
                else:
                    delta[c, j] = delta[c, j] / n[c]
                for i in range(d):
                    R[c, i, j] = D[i, j]
    else:
        # w_k: diag(W_k) (VEI), or the eigenvalues of W_k in decreasing
        # order, their eigenvectors the columns of R_k.
        for c in range(k):
            for j in range(d):
                w[c, j] = W[c, j, j] if model == _VEI else values[c, d - 1 - j]
                for i in range(d):
                    R[c, i, j] = 0.0 if model == _VEI else vectors[c, i, d - 1 - j]
        shape = work
        volumes = np.empty(k)
        for c in range(k):
            volumes[c] = 1.0  # any finite value: iteration 0 sets them
        if model == _EEV:
            for j in range(d):
                acc = 0.0
                for c in range(k):
                    acc += w[c, j]
                shape[j] = acc / total
        else:
            for j in range(d):
                if start:
                    shape[j] = (
                        previous[0, j, j] if model == _VEI else values[k, d - 1 - j]
                    )
                else:
                    acc = 0.0
                    for c in range(k):
                        acc += w[c, j] / n[c]
                    shape[j] = acc
            new = np.empty(k)
            n_iter, converged = max_iter, False
            for iteration in range(max_iter + 1):
                if iteration > 0:
                    for j in range(d):
                        acc = 0.0
                        for c in range(k):
                            acc += w[c, j] / volumes[c]
                        shape[j] = acc
                acc = 0.0
                for j in range(d):
                    v = shape[j]
                    acc += math.log(v) if v > 0.0 else (-np.inf if v == 0.0 else np.nan)
                g = math.exp(acc / d)
                for j in range(d):
                    shape[j] /= g
                change = 0.0
                for c in range(k):
                    acc = 0.0
                    for j in range(d):
                        acc += w[c, j] / shape[j]
                    new[c] = acc / (d * n[c])
                    r = abs(new[c] - volumes[c]) / volumes[c]
                    change = (
                        np.nan
                        if r != r or change != change
                        else (r if r > change else change)
                    )
                for c in range(k):
                    volumes[c] = new[c]
                if iteration > 0 and not change > tol:  # also stops on NaN
                    n_iter, converged = iteration, True
                    break
        for c in range(k):
            for j in range(d):
                delta[c, j] = shape[j] if model == _EEV else volumes[c] * shape[j]
    for c in range(k):
        for i in range(d):
            for j in range(i, d):
                if model == _VEI:
                    acc = delta[c, i] if i == j else 0.0
                else:
                    acc = 0.0
                    for p in range(d):
                        acc += R[c, i, p] * delta[c, p] * R[c, j, p]
                covariances[c, i, j] = acc
                covariances[c, j, i] = acc
    return not _factor(covariances, prec_chol), n_iter, converged


#: The models ``eigen_m_step`` fits (``direct_m_step`` the others).
EIGEN_MODELS = ("EEV", "VEI", "VEV", "EVE", "VVE")

#: The kernel of each model, by its code.
M_STEP_KERNELS = tuple(
    eigen_m_step if code in EIGEN_MODELS else direct_m_step for code in MODEL_CODES
)
