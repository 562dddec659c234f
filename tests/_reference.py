"""Slow, obviously-correct NumPy/SciPy references for the fast kernels."""

import numpy as np
from scipy.special import kve, logsumexp
from scipy.stats import multivariate_normal


def gaussian_covariance_stack(covariances, covariance_type, n_components, n_features):
    """Every component's full covariance matrix, shape (k, d, d)."""
    if covariance_type == "full":
        return np.asarray(covariances)
    if covariance_type == "tied":
        return np.repeat(np.asarray(covariances)[None], n_components, axis=0)
    if covariance_type == "diag":
        return np.array([np.diag(c) for c in covariances])
    return np.array([c * np.eye(n_features) for c in covariances])


def gaussian_log_prob(X, means, covariances, covariance_type):
    """log N(x | mu_k, Sigma_k) with scipy.stats, shape (n, k)."""
    k, d = means.shape
    covs = gaussian_covariance_stack(covariances, covariance_type, k, d)
    return np.column_stack(
        [multivariate_normal(means[c], covs[c]).logpdf(X) for c in range(k)]
    ).reshape(len(X), k)


def gaussian_em_step(
    X, weights, means, covariances, covariance_type, reg_covar, sample_weight=None
):
    """One textbook EM iteration; returns (mean log-lik, weights, means, covs)."""
    n = X.shape[0]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    log_joint = gaussian_log_prob(X, means, covariances, covariance_type) + np.log(
        weights
    )
    log_px = logsumexp(log_joint, axis=1)
    resp = np.exp(log_joint - log_px[:, None])
    nk, new_means, covs = gaussian_mle(X, resp, w, covariance_type, reg_covar)
    return float((w * log_px).sum() / w.sum()), nk / nk.sum(), new_means, covs


def gaussian_mle(X, resp, sample_weight, covariance_type, reg_covar):
    """Weighted maximum-likelihood Gaussian parameters given responsibilities
    ``resp`` (n, k): ``(n_k, means, covariances)``, the covariances shaped by
    ``covariance_type`` with ``reg_covar`` on their diagonal."""
    d = X.shape[1]
    resp = resp * sample_weight[:, None]
    nk = resp.sum(axis=0)
    means = resp.T @ X / nk[:, None]
    scatters = np.array(
        [(resp[:, c, None] * (X - means[c])).T @ (X - means[c]) for c in range(len(nk))]
    )
    if covariance_type == "full":
        covs = scatters / nk[:, None, None] + reg_covar * np.eye(d)
    elif covariance_type == "tied":
        covs = scatters.sum(axis=0) / nk.sum() + reg_covar * np.eye(d)
    elif covariance_type == "diag":
        covs = np.array([np.diag(s) for s in scatters]) / nk[:, None] + reg_covar
    else:
        covs = (
            np.array([np.diag(s) for s in scatters]) / nk[:, None] + reg_covar
        ).mean(axis=1)
    return nk, means, covs


def random_spd(rng, d, scale=1.0):
    """A random well-conditioned symmetric positive definite matrix."""
    A = rng.normal(size=(d, d))
    return scale * (A @ A.T / d + np.eye(d))


def random_gaussian_params(rng, k, d, covariance_type):
    """Random means and covariances shaped as the covariance type."""
    means = rng.normal(scale=3.0, size=(k, d))
    if covariance_type == "full":
        covs = np.array([random_spd(rng, d) for _ in range(k)])
    elif covariance_type == "tied":
        covs = random_spd(rng, d)
    elif covariance_type == "diag":
        covs = rng.uniform(0.5, 2.0, size=(k, d))
    else:
        covs = rng.uniform(0.5, 2.0, size=k)
    return means, covs


# ---------------------------------------------------------------- NIG
def ref_log_density(X, mu, gamma, sigma, lam, m=1.0):
    """Closed-form NIG log density (the issue's formula, scipy's kve)."""
    X = np.atleast_2d(X)
    d = mu.shape[0]
    precision = np.linalg.inv(sigma)
    diff = X - mu
    q = np.einsum("ni,ij,nj->n", diff, precision, diff)
    g = gamma @ precision @ gamma
    a = lam / m**2 + g
    b = lam + q
    z = np.sqrt(a * b)
    return (
        -0.5 * d * np.log(2 * np.pi)
        - 0.5 * np.linalg.slogdet(sigma)[1]
        + 0.5 * np.log(2 * lam / np.pi)
        + lam / m
        + 0.25 * (d + 1) * np.log(a / b)
        + np.log(kve(0.5 * (d + 1), z))
        - z
        + diff @ precision @ gamma
    )


def ref_posterior_w(X, mu, gamma, sigma, lam):
    """E[W | x] and E[1/W | x] from the GIG(-(d+1)/2, A, B) posterior."""
    d = mu.shape[0]
    precision = np.linalg.inv(sigma)
    diff = np.atleast_2d(X) - mu
    a = lam + gamma @ precision @ gamma
    b = lam + np.einsum("ni,ij,nj->n", diff, precision, diff)
    z = np.sqrt(a * b)
    nu = 0.5 * (d + 1)
    ratio = kve(nu - 1, z) / kve(nu, z)
    return np.sqrt(b / a) * ratio, np.sqrt(a / b) * ratio + (d + 1) / b


def dense_dispersion(dispersion, covariance_type, k, d):
    if covariance_type == "full":
        return dispersion
    if covariance_type == "tied":
        return np.repeat(dispersion[None], k, axis=0)
    if covariance_type == "diag":
        return dispersion[:, :, None] * np.eye(d)
    return dispersion[:, None, None] * np.eye(d)
