"""Slow, independent references for mclust's 14 covariance models.

Written from Celeux & Govaert (1995, Pattern Recognition 28(5), section 3)
and Browne & McNicholas (2014, Statistics and Computing 24, "Orthogonal
Stiefel manifold optimization for eigen-decomposed covariance parameter
estimation in mixture models"), not from skmix's code: the closed forms in
their lambda / A / D form; the models without one by a different algorithm
than skmix's (Newton's method on a profile likelihood for VEI, VEV and
VEE; Browne & McNicholas's MM iterations, then Riemannian Newton steps,
for the common orientation of EVE and VVE). Also the naive E-step, the
statistics of given responsibilities, each model's local parametrisation
(to perturb a solution inside its model), and mclust's own variant of the
VVE M-step.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import minimize
from scipy.special import logsumexp

MODELS = (
    "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
    "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV",
)  # fmt: skip

#: ``nMclustParams(model, d, G)`` of R mclust 6.0.0 for d = 1..5 (outer) and
#: G = 1..4 (inner), printed by
#: ``for (d in 1:5) for (G in 1:4) cat(nMclustParams(m, d, G), "")``.
MCLUST_N_PARAMETERS = {
    "EII": "2 4 6 8 3 6 9 12 4 8 12 16 5 10 15 20 6 12 18 24",
    "VII": "2 5 8 11 3 7 11 15 4 9 14 19 5 11 17 23 6 13 20 27",
    "EEI": "2 4 6 8 4 7 10 13 6 10 14 18 8 13 18 23 10 16 22 28",
    "VEI": "2 5 8 11 4 8 12 16 6 11 16 21 8 14 20 26 10 17 24 31",
    "EVI": "2 4 6 8 4 8 12 16 6 12 18 24 8 16 24 32 10 20 30 40",
    "VVI": "2 5 8 11 4 9 14 19 6 13 20 27 8 17 26 35 10 21 32 43",
    "EEE": "2 4 6 8 5 8 11 14 9 13 17 21 14 19 24 29 20 26 32 38",
    "VEE": "2 5 8 11 5 9 13 17 9 14 19 24 14 20 26 32 20 27 34 41",
    "EVE": "2 4 6 8 5 9 13 17 9 15 21 27 14 22 30 38 20 30 40 50",
    "VVE": "2 5 8 11 5 10 15 20 9 16 23 30 14 23 32 41 20 31 42 53",
    "EEV": "2 4 6 8 5 9 13 17 9 16 23 30 14 25 36 47 20 36 52 68",
    "VEV": "2 5 8 11 5 10 15 20 9 17 25 33 14 26 38 50 20 37 54 71",
    "EVV": "2 4 6 8 5 10 15 20 9 18 27 36 14 28 42 56 20 40 60 80",
    "VVV": "2 5 8 11 5 11 17 23 9 19 29 39 14 29 44 59 20 41 62 83",
}


# ------------------------------------------------------------ E-step, stats


def e_step(X, weights, means, covariances):
    """Total log-likelihood and responsibilities: log w_k + log N(x | mu_k,
    Sigma_k) through each Sigma_k's Cholesky factor, then log-sum-exp."""
    d = X.shape[1]
    log_joint = np.empty((len(X), len(weights)))
    for c, (w, mean, cov) in enumerate(zip(weights, means, covariances)):
        L = np.linalg.cholesky(cov)
        z = solve_triangular(L, (X - mean).T, lower=True)
        log_det = 2.0 * np.log(np.diag(L)).sum()
        log_joint[:, c] = np.log(w) - 0.5 * (
            (z**2).sum(axis=0) + log_det + d * np.log(2.0 * np.pi)
        )
    log_px = logsumexp(log_joint, axis=1)
    return float(log_px.sum()), np.exp(log_joint - log_px[:, None])


def statistics(X, resp):
    """n_k, the weighted means, and the scatter matrices about them."""
    n = resp.sum(axis=0)
    means = resp.T @ X / n[:, None]
    scatter = np.array(
        [(r[:, None] * (X - m)).T @ (X - m) for r, m in zip(resp.T, means)]
    )
    return n, means, scatter


def expected_loglik(n, scatter, covariances):
    """The covariance part of the expected complete-data log-likelihood,
    -1/2 sum_k [n_k log det Sigma_k + tr(W_k Sigma_k^{-1})]."""
    total = 0.0
    for n_k, W, S in zip(n, scatter, covariances):
        total += n_k * np.linalg.slogdet(S)[1] + np.trace(np.linalg.solve(S, W))
    return -0.5 * total


def random_problem(rng, k, d, model=None):
    """Random n_k and scatter matrices: Wishart-like draws about random
    covariances of distinct shapes, or (``model`` given) the scatter of
    n_k Gaussian rows about covariances drawn from that model."""
    n = rng.uniform(5.0, 40.0, size=k)
    if model is None:
        scatter = []
        for n_k in n:
            A = rng.normal(size=(d, d)) * np.exp(rng.normal(size=d))
            scatter.append(n_k * (A @ A.T / d + 0.1 * np.eye(d)))
        return n, np.array(scatter)
    n = np.round(n) + d
    covariances = random_model_covariances(rng, model, k, d)
    scatter = []
    for n_k, S in zip(n, covariances):
        rows = rng.multivariate_normal(np.zeros(d), S, size=int(n_k))
        rows -= rows.mean(axis=0)
        scatter.append(rows.T @ rows)
    return n, np.array(scatter)


def random_model_covariances(rng, model, k, d):
    """Covariances lambda_k D_k A_k D_k^T drawn with the model's equalities."""

    def draw(letter, make):
        if letter == "E":
            return [make()] * k
        return [make() for _ in range(k)]

    def shape():
        a = np.exp(rng.normal(size=d))
        return a / _volume_of(a)

    def rotation():
        return np.linalg.qr(rng.normal(size=(d, d)))[0]

    volumes = draw(model[0], lambda: np.exp(rng.normal()))
    shapes = [np.ones(d)] * k if model[1] == "I" else draw(model[1], shape)
    if model[2] == "I":
        rotations = [np.eye(d)] * k
    else:
        rotations = draw(model[2], rotation)
    return np.array(
        [v * D @ np.diag(a) @ D.T for v, a, D in zip(volumes, shapes, rotations)]
    )


# --------------------------------------------------------------- M-steps


def _diag_stack(rows):
    return np.array([np.diag(r) for r in np.atleast_2d(rows)])


def _volume_of(diagonal):
    """|A|^(1/d) of a diagonal matrix given by its entries."""
    return np.prod(diagonal) ** (1.0 / len(diagonal))


def reference_m_step(model, n, scatter, reg_covar=0.0, start=None):
    """The model's covariances, (k, d, d): Celeux & Govaert's M-step on the
    regularised scatters W_k + n_k reg_covar I. ``start`` is the starting
    orientation D of EVE and VVE (default: eigenvectors of the pooled
    W_k / n_k)."""
    k, d, _ = scatter.shape
    W = scatter + reg_covar * n[:, None, None] * np.eye(d)
    total = n.sum()
    if model == "EII":
        return np.array([np.trace(W.sum(0)) / (total * d) * np.eye(d)] * k)
    if model == "VII":
        return np.array([np.trace(Wk) / (d * nk) * np.eye(d) for nk, Wk in zip(n, W)])
    if model == "EEI":
        B = np.diag(W.sum(0))
        return np.array([np.diag(B / _volume_of(B)) * _volume_of(B) / total] * k)
    if model == "EVI":
        dets = [_volume_of(np.diag(Wk)) for Wk in W]
        lam = sum(dets) / total
        return np.array([lam * np.diag(np.diag(Wk) / g) for Wk, g in zip(W, dets)])
    if model == "VVI":
        return np.array([np.diag(np.diag(Wk)) / nk for nk, Wk in zip(n, W)])
    if model == "EEE":
        return np.array([W.sum(0) / total] * k)
    if model == "VVV":
        return W / n[:, None, None]
    if model == "EVV":
        dets = [np.linalg.det(Wk) ** (1.0 / d) for Wk in W]
        lam = sum(dets) / total
        return np.array([lam * Wk / g for Wk, g in zip(W, dets)])
    if model == "EEV":
        return _eev(n, W)
    if model in ("VEI", "VEV"):
        return _vei_vev(model, n, W)
    if model == "VEE":
        return _vee(n, W)
    return _eve_vve(model, n, W, start)


def _eigen_descending(W):
    values, vectors = np.linalg.eigh(W)
    return values[::-1], vectors[:, ::-1]


def _eev(n, W):
    """Sigma_k = lambda D_k A D_k^T: D_k the eigenvectors of W_k (eigenvalues
    Omega_k decreasing), A = sum Omega_k / |sum Omega_k|^(1/d),
    lambda = |sum Omega_k|^(1/d) / n."""
    pairs = [_eigen_descending(Wk) for Wk in W]
    omega = sum(values for values, _ in pairs)
    lam = _volume_of(omega) / n.sum()
    A = omega / _volume_of(omega)
    return np.array([lam * D @ np.diag(A) @ D.T for _, D in pairs])


def _minimise(parts, x0):
    """Minimise a smooth function by scipy's trust-region Newton, then
    polish with plain Newton steps (scipy stops ~1e-7 short of rounding).
    ``parts(x)`` returns the value, gradient and Hessian."""
    x = minimize(
        lambda x: parts(x)[0],
        x0,
        jac=lambda x: parts(x)[1],
        hess=lambda x: parts(x)[2],
        method="trust-exact",
    ).x
    for _ in range(20):
        _, grad, hess = parts(x)
        step = np.linalg.solve(hess, grad)
        x = x - step
        if np.abs(step).max() < 1e-15 * (1 + np.abs(x).max()):
            break
    return x


def _vei_vev(model, n, W):
    """Sigma_k = lambda_k B_k A B_k^T (B_k = I for VEI, the eigenvectors of
    W_k for VEV): minimise the convex profile sum_k n_k log sum_j w_kj
    e^(-a_j) over log A = a (sum a = 0) by Newton's method; then
    lambda_k = sum_j w_kj e^(-a_j) / (d n_k)."""
    d = W.shape[1]
    if model == "VEI":
        w = np.array([np.diag(Wk) for Wk in W])
        bases = [np.eye(d)] * len(n)
    else:
        pairs = [_eigen_descending(Wk) for Wk in W]
        w = np.array([values for values, _ in pairs])
        bases = [vectors for _, vectors in pairs]
    # a = P x with P (d, d - 1) a basis of {sum a = 0}.
    P = np.linalg.qr(np.vstack([np.ones(d), np.eye(d)[: d - 1]]).T)[0][:, 1:]

    def profile(x):
        a = P @ x
        terms = w * np.exp(-a)  # (k, d)
        totals = terms.sum(1)
        pi = terms / totals[:, None]
        value = (n * np.log(totals)).sum()
        grad = -(n[:, None] * pi).sum(0)
        hess = sum(nk * (np.diag(p) - np.outer(p, p)) for nk, p in zip(n, pi))
        return value, P.T @ grad, P.T @ hess @ P

    x = _minimise(profile, np.zeros(d - 1)) if d > 1 else np.zeros(0)
    A = np.exp(P @ x)
    lam = (w / A).sum(1) / (d * n)
    return np.array([lk * B @ np.diag(A) @ B.T for lk, B in zip(lam, bases)])


def _vee(n, W):
    """Sigma_k = lambda_k C: minimise the profile h(u) = sum_k n_k u_k +
    det(S)^(1/d), S = sum_k e^(-u_k) W_k, over u = log lambda by scipy's
    Newton's method (exact gradient and Hessian); C = S / det(S)^(1/d).
    """
    k, d, _ = W.shape

    def parts(u):
        V = np.exp(-u)[:, None, None] * W
        S = V.sum(0)
        g = np.linalg.det(S) ** (1.0 / d)
        SiV = np.array([np.linalg.solve(S, Vk) for Vk in V])
        t = np.trace(SiV, axis1=1, axis2=2)
        T = np.einsum("kij,lji->kl", SiV, SiV)
        value = (n * u).sum() + g
        grad = n - g * t / d
        hess = g * np.outer(t, t) / d**2 - g * (T - np.diag(t)) / d
        return value, grad, hess

    u = _minimise(parts, np.log(np.trace(W, axis1=1, axis2=2) / (d * n)))
    S = (np.exp(-u)[:, None, None] * W).sum(0)
    C = S / np.linalg.det(S) ** (1.0 / d)
    lam = np.array(
        [np.trace(np.linalg.solve(C, Wk)) / (d * nk) for nk, Wk in zip(n, W)]
    )
    return lam[:, None, None] * C


# ------------------------------------------------ EVE and VVE: orientation


def rotated_diagonals(W, D):
    """b_kj = (D^T W_k D)_jj, shape (k, d)."""
    return ((W @ D) * D).sum(axis=1)


def orientation_deltas(model, n, W, D):
    """Given the common orientation D, the diagonal Delta_k of Sigma_k =
    D Delta_k D^T: VVE diag(D^T W_k D) / n_k; EVE lambda A_k with A_k =
    diag(D^T W_k D) / |.|^(1/d) and lambda = sum_k |diag(D^T W_k D)|^(1/d) / n
    (Celeux & Govaert, section 3). EVE's also serve mclust's VVE variant."""
    b = rotated_diagonals(W, D)
    if model == "VVE":
        return b / n[:, None]
    volumes = np.array([_volume_of(row) for row in b])
    return volumes.sum() / n.sum() * b / volumes[:, None]


def orientation_objective(model, n, W, D):
    """What D minimises: VVE sum_k n_k sum_j log b_kj; EVE log sum_k
    prod_j b_kj^(1/d) (each -2 Q / d plus constants, Q maximised over the
    volumes and shapes given D)."""
    b = rotated_diagonals(W, D)
    if model == "VVE":
        return float((n[:, None] * np.log(b)).sum())
    return float(np.log(np.exp(np.log(b).mean(axis=1)).sum()))


def expm(K):
    """The rotation exp(K) of a skew-symmetric K, from the eigenvectors of
    the Hermitian 1j K (scipy's general expm is far slower on small K)."""
    values, vectors = np.linalg.eigh(1j * K)
    return ((vectors * np.exp(-1j * values)) @ vectors.conj().T).real


def _skew(x, d):
    K = np.zeros((d, d))
    K[np.triu_indices(d, 1)] = x
    return K - K.T


def orientation_gradient(model, n, W, D):
    """dF/dx_ij at D of F(D expm(K)), K skew with K_ij = x_ij (i < j):
    sum_k 2 (D^T W_k D)_ij (c_kj - c_ki), c_kj = dF/db_kj."""
    B = D.T @ W @ D
    b = np.diagonal(B, axis1=1, axis2=2)
    if model == "VVE":
        c = n[:, None] / b
    else:
        g = np.exp(np.log(b).mean(axis=1))
        c = (g / g.sum())[:, None] / (b.shape[1] * b)
    i, j = np.triu_indices(b.shape[1], 1)
    return (2.0 * B[:, i, j] * (c[:, j] - c[:, i])).sum(axis=0)


def _mm_orientation(model, n, W, D, iterations):
    """Browne & McNicholas's two MM updates of D, alternated with the
    closed-form Delta_k, ``iterations`` times (each lowers F)."""
    largest = np.linalg.eigvalsh(W)[:, -1]
    d = W.shape[1]
    for _ in range(iterations):
        inverse = 1.0 / orientation_deltas(model, n, W, D)
        Z = sum(
            (om * np.eye(d) - Wk) @ D @ np.diag(iv)
            for om, Wk, iv in zip(largest, W, inverse)
        )
        U, _, Vt = np.linalg.svd(Z)
        D = U @ Vt
        inverse = 1.0 / orientation_deltas(model, n, W, D)
        Z = sum(Wk @ D @ np.diag(iv.max() - iv) for Wk, iv in zip(W, inverse))
        U, _, Vt = np.linalg.svd(Z)
        D = U @ Vt
    return D


def _newton_orientation(model, n, W, D, steps=50):
    """Riemannian Newton steps on F(D expm(K)) with a Hessian by forward
    differences of the analytic gradient, backtracking so F never rises."""
    d = W.shape[1]
    m = d * (d - 1) // 2
    scale = n.sum() if model == "VVE" else 1.0
    for _ in range(steps):
        g = orientation_gradient(model, n, W, D)
        if np.abs(g).max() < 1e-13 * scale:
            break
        eps = 1e-7
        H = np.empty((m, m))
        for col in range(m):
            e = np.zeros(m)
            e[col] = eps
            moved = orientation_gradient(model, n, W, D @ expm(_skew(e, d)))
            H[:, col] = (moved - g) / eps
        H = 0.5 * (H + H.T)
        low = np.linalg.eigvalsh(H)[0]
        shift = 0.0 if low > 0 else 1e-3 - low
        step = -np.linalg.solve(H + shift * np.eye(m), g)
        f = orientation_objective(model, n, W, D)
        while np.abs(step).max() > 1e-16:
            trial = D @ expm(_skew(step, d))
            if orientation_objective(model, n, W, trial) <= f:
                D = trial
                break
            step = step / 2
        if np.abs(step).max() < 1e-14:
            break
    return D


def common_orientation(model, n, W, start=None, mm_iterations=100):
    """EVE's or VVE's orientation D: MM iterations, then Newton steps, from
    ``start``; by default from the eigenvectors of the pooled W_k / n_k and
    from those of each W_k, keeping the best (as skmix starts)."""
    if start is None:
        starts = [np.linalg.eigh((W / n[:, None, None]).sum(0))[1]]
        starts += [np.linalg.eigh(Wk)[1] for Wk in W] if len(W) > 1 else []
        ends = [common_orientation(model, n, W, s, mm_iterations) for s in starts]
        return min(ends, key=lambda D: orientation_objective(model, n, W, D))
    D = _mm_orientation(model, n, W, start, mm_iterations)
    if W.shape[1] > 1:
        D = _newton_orientation(model, n, W, D)
    return D


def _eve_vve(model, n, W, start):
    D = common_orientation(model, n, W, start)
    return np.array(
        [D @ np.diag(delta) @ D.T for delta in orientation_deltas(model, n, W, D)]
    )


def mclust_vve_m_step(n, W, start=None):
    """mclust 6's VVE M-step (``msvve`` in its mclust2.f): its orientation
    iterations use the shapes A_k without the volumes lambda_k, the same
    iterations as its EVE, so D minimises EVE's criterion; then
    lambda_k A_k = diag(D^T W_k D) / n_k."""
    D = common_orientation("EVE", n, W, start)
    return np.array(
        [D @ np.diag(delta) @ D.T for delta in orientation_deltas("VVE", n, W, D)]
    )


# ------------------------------------------- a model's parametrisation


def decompose(model, covariances):
    """(volumes (k,), shapes (k, d) with product 1, orientations (k, d, d))
    with Sigma_k = volume_k D_k diag(shape_k) D_k^T, read the way ``model``
    is built: axis-aligned (orientation letter I), one D from the common
    eigenvectors (E), or each Sigma_k's eigenvectors, eigenvalues
    decreasing (V)."""
    k, d, _ = covariances.shape
    letter = model[2]
    if letter == "I":
        D = np.repeat(np.eye(d)[None], k, axis=0)
    elif letter == "E":
        weights = 1.0 + np.arange(k) * 0.618
        common = np.linalg.eigh(np.einsum("k,kij->ij", weights, covariances))[1]
        D = np.repeat(common[None], k, axis=0)
    else:
        D = np.array([_eigen_descending(S)[1] for S in covariances])
    deltas = np.array([np.diag(Dk.T @ S @ Dk) for Dk, S in zip(D, covariances)])
    volumes = np.array([_volume_of(row) for row in deltas])
    return volumes, deltas / volumes[:, None], D


def membership_errors(model, covariances):
    """How far ``covariances`` are from ``model``: the largest relative
    spread of the volumes (letter E), of the shapes (E), the shape's
    distance from I (I), and the reconstruction error of the orientation
    reading (off-diagonal mass for I, non-shared eigenvectors for E)."""
    volumes, shapes, D = decompose(model, covariances)
    rebuilt = np.array(
        [v * Dk @ np.diag(a) @ Dk.T for v, a, Dk in zip(volumes, shapes, D)]
    )
    scale = np.abs(covariances).max()
    errors = {"orientation": np.abs(rebuilt - covariances).max() / scale}
    if model[0] == "E":
        errors["volume"] = np.ptp(volumes) / volumes.max()
    if model[1] == "E":
        errors["shape"] = np.abs(shapes - shapes[0]).max() / shapes.max()
    if model[1] == "I":
        errors["shape"] = np.abs(shapes - 1.0).max()
    return errors


def chart_size(model, k, d):
    """Free parameters of the model's covariances, counted from its chart."""
    per = {"E": 1, "V": k, "I": 0}
    return per[model[0]] + per[model[1]] * (d - 1) + per[model[2]] * (d * (d - 1) // 2)


def chart(model, base, x):
    """Covariances of ``model`` near ``base`` (a decomposition): volumes
    times e^v, shapes times e^(s - mean s), orientations times expm(K),
    each shared (E) or per component (V) as the model says; x = 0 is
    ``base`` itself."""
    volumes, shapes, D = base
    k, d = shapes.shape
    per = {"E": 1, "V": k, "I": 0}
    sizes = [per[model[0]], per[model[1]] * (d - 1), per[model[2]] * (d * (d - 1) // 2)]
    v, s, o = np.split(np.asarray(x, dtype=float), np.cumsum(sizes)[:2])
    out = []
    for c in range(k):
        vol = (
            volumes[c] * np.exp(v[0 if model[0] == "E" else c])
            if v.size
            else volumes[c]
        )
        shape = shapes[c]
        if s.size:
            part = s.reshape(-1, d - 1)[0 if model[1] == "E" else c]
            full = np.append(part, 0.0)
            shape = shape * np.exp(full - full.mean())
        Dk = D[c]
        if o.size:
            part = o.reshape(-1, d * (d - 1) // 2)[0 if model[2] == "E" else c]
            Dk = Dk @ expm(_skew(part, d))
        out.append(vol * Dk @ np.diag(shape) @ Dk.T)
    return np.array(out)


# ------------------------------------------------------------------- EM


def run_em(X, resp, m_step, n_iter=None, tol=1e-10, max_iter=10000):
    """EM from responsibilities ``resp``: the M-step's means and weights
    from :func:`statistics`, its covariances from ``m_step(n, scatter,
    previous)``. Runs ``n_iter`` iterations, or until the log-likelihood
    changes by at most ``tol`` relative (mclust's rule). Returns the
    log-likelihood, the iterations run, and (weights, means, covariances)
    after every iteration."""
    history = []
    previous, last = None, -np.inf
    for _ in range(n_iter or max_iter):
        n, means, scatter = statistics(X, resp)
        previous = m_step(n, scatter, previous)
        weights = n / n.sum()
        history.append((weights, means, previous))
        loglik, resp = e_step(X, weights, means, previous)
        if n_iter is None and abs(loglik - last) <= tol * (1 + abs(loglik)):
            break
        last = loglik
    return loglik, len(history), history
