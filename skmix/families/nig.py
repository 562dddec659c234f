"""The multivariate normal-inverse-Gaussian (NIG) family.

Component k is the normal variance-mean mixture

    W ~ InverseGaussian(mean m_k, shape lambda_k),
    X | W ~ N(mu_k + W gamma_k, W Sigma_k).

EM fills in the component label and W. Given x, W is generalised inverse
Gaussian, so the E-step yields E[W | x] and E[1/W | x] (see
:mod:`skmix._kernels.nig`) and the statistics below are additive over rows.

Identifiability gauge
---------------------
``(gamma / c, Sigma / c, c m, c lambda)`` gives the same law for any c > 0,
so one scale per component is redundant. The M-step maximises over the
expanded parameters (m free, as in parameter-expanded EM, which speeds EM
up) and then moves along that orbit to ``m_k = 1`` (E[W] = 1): a
likelihood-preserving step, so EM stays monotone. Stored parameters always
have ``m_k = 1``; the free parameters are the weights, ``mu_k``,
``gamma_k``, ``Sigma_k`` and ``lambda_k``.

With ``covariance_type='tied'`` the components share ``Sigma`` *in the gauge
m_k = 1*, so that in the Gaussian limit (lambda -> infinity) 'tied' means
equal covariances, as for Gaussian mixtures. A per-component rescaling would
untie Sigma, so only one global scale is free: the M-step maximises over a
common ``m`` (a one-dimensional problem solved by bracketing; see
:func:`_common_scale`) and rescales all components by the same factor.

Tail shapes are kept in [``LAMBDA_MIN``, ``LAMBDA_MAX``] (the objective is
concave in lambda, so clipping keeps each M-step an improvement). Near
``LAMBDA_MAX`` a component is Gaussian to within double precision and the
location/skewness split is no longer identifiable from E[W]E[1/W] - 1 ~
1/lambda; there (and only there) the M-step keeps gamma and maximises over
mu alone (an ECM step; EM stays monotone).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import brentq

from .._kernels import nig as kernels
from .._kernels.bessel import log_kve_ratio_table
from ._base import MixtureFamily, column_means, kernel_weights
from .gaussian import GaussianFamily, symmetrise_upper

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")

#: Largest tail shape lambda (m = 1); larger means "Gaussian" in float64.
LAMBDA_MAX = 1e8
#: Smallest tail shape: Var(W) = 1/lambda <= 1e6. Below it, E[1/W | x] for a
#: row at a collapsing component's location grows like 1/lambda and the
#: centred scatter loses all precision (degenerate data, e.g. n < d).
LAMBDA_MIN = 1e-6
_LOG_2PI = math.log(2.0 * math.pi)
_LOG_2_OVER_PI = math.log(2.0 / math.pi)
# A component whose responsibility sum is below this share of all rows is
# empty: it keeps its parameters (a generalised EM step).
_EMPTY_SHARE = 1e-12


class NIGParams(NamedTuple):
    """NIG mixture parameters in the gauge m_k = 1.

    ``dispersions`` is shaped by covariance type as Gaussian covariances:
    (k, d, d) full, (d, d) tied, (k, d) diag, (k,) spherical;
    ``precisions_cholesky`` are the upper Cholesky factors of their inverses,
    shaped likewise (scikit-learn's convention).
    """

    locations: np.ndarray
    skewness: np.ndarray | None
    dispersions: np.ndarray | None
    tail_shapes: np.ndarray | None
    precisions_cholesky: np.ndarray | None


class NIGPrepared(NamedTuple):
    """The E-step's view of the parameters (``NIGFamily.prepare``): the
    locations and :meth:`NIGFamily.kernel_inputs`."""

    params: Any
    log_weights: np.ndarray
    locations: np.ndarray
    stack: np.ndarray
    white_skew: np.ndarray
    tails: np.ndarray
    log_const: np.ndarray


class NIGStats(NamedTuple):
    """Additive statistics; ``z = x - mu_k`` is centred on the locations the
    statistics were computed under, ``s = E[W | x]``, ``t = E[1/W | x]``.

    ``sum_tzz`` holds upper triangles of sum r t z z^T (only the diagonal is
    filled for 'diag' and 'spherical').
    """

    resp_sum: np.ndarray
    log_likelihood: np.ndarray
    sum_w: np.ndarray
    sum_inv_w: np.ndarray
    sum_z: np.ndarray
    sum_tz: np.ndarray
    sum_tzz: np.ndarray


def _as_float64(X):
    return np.ascontiguousarray(X, dtype=np.float64)


def _outer(a, b):
    return np.einsum("ki,kj->kij", a, b)


def _common_scale(n, s, t):
    """Common u = 1/m maximising the tied M-step over the shared scale.

    Minimises F(u) = sum_k n_k log(s_k u^2 - 2 u + t_k) (the profile of the
    inverse-Gaussian part over the tail shapes). F' < 0 below min_k 1/s_k and
    > 0 above max_k 1/s_k, so the minimiser is bracketed there; u = 1 (no
    move) is kept if it is at least as good.
    """

    def objective(u):
        return float(np.sum(n * np.log(np.maximum(s * u * u - 2 * u + t, 1e-300))))

    def slope(u):
        q = np.maximum(s * u * u - 2 * u + t, 1e-300)
        return float(np.sum(n * (2 * s * u - 2) / q))

    low, high = float(np.min(1 / s)), float(np.max(1 / s))
    if high - low <= 1e-15 * high:
        u = high
    else:
        u = brentq(slope, low, high, xtol=1e-15 * high, rtol=1e-14)
    return u if objective(u) <= objective(1.0) else 1.0


class NIGFamily(MixtureFamily):
    """Multivariate NIG components with one of four dispersion structures.

    Parameters
    ----------
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
        Structure of the dispersion matrices Sigma_k.
    reg_covar : float
        Non-negative value added to the diagonal of every dispersion.
    """

    def __init__(self, covariance_type="full", reg_covar=1e-6):
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self._gaussian = GaussianFamily(covariance_type, reg_covar)

    # --------------------------------------------------- kernel-side views
    def precision_stack(self, params):
        """Upper Cholesky factors of the precisions as a (k, d, d) stack."""
        pc = params.precisions_cholesky
        k, d = params.locations.shape
        if self.covariance_type == "full":
            stack = pc
        elif self.covariance_type == "tied":
            stack = np.repeat(pc[None], k, axis=0)
        elif self.covariance_type == "diag":
            stack = pc[:, :, None] * np.eye(d)
        else:
            stack = pc[:, None, None] * np.eye(d)
        return np.ascontiguousarray(stack, dtype=np.float64)

    def kernel_inputs(self, params, log_weights):
        """(U stack, whitened skewness U^T gamma, lambda, log_const) per component.

        ``log_const_k = log w_k - d/2 log(2 pi) + log det U_k
        + 1/2 log(2 lambda_k / pi) + (d + 1)/4 log(lambda_k + |U_k^T gamma_k|^2)``.
        """
        stack = self.precision_stack(params)
        d = stack.shape[1]
        white_skew = np.ascontiguousarray(
            np.einsum("kij,ki->kj", stack, params.skewness)
        )
        tails = np.ascontiguousarray(params.tail_shapes, dtype=np.float64)
        log_det = np.log(np.einsum("kii->ki", stack)).sum(axis=1)
        big_g = np.einsum("kj,kj->k", white_skew, white_skew)
        log_const = (
            np.asarray(log_weights, dtype=np.float64)
            - 0.5 * d * _LOG_2PI
            + log_det
            + 0.5 * (_LOG_2_OVER_PI + np.log(tails))
            + 0.25 * (d + 1) * np.log(tails + big_g)
        )
        return stack, white_skew, tails, log_const

    # --------------------------------------------------- contract
    def _empty_stats(self, k, d):
        return NIGStats(
            np.zeros(k),
            np.zeros(()),
            np.zeros(k),
            np.zeros(k),
            np.zeros((k, d)),
            np.zeros((k, d)),
            np.zeros((k, d, d)),
        )

    def prepare(self, params, log_weights):
        locations = np.ascontiguousarray(params.locations, dtype=np.float64)
        return NIGPrepared(
            params, log_weights, locations, *self.kernel_inputs(params, log_weights)
        )

    def accumulate(self, X, prepared, sample_weight):
        X = _as_float64(X)
        k, d = prepared.locations.shape
        stats = self._empty_stats(k, d)
        weights, weighted = kernel_weights(sample_weight)
        ll = kernels.accumulate(
            X,
            weights,
            weighted,
            prepared.locations,
            prepared.stack,
            prepared.white_skew,
            prepared.tails,
            prepared.log_const,
            d + 1,
            log_kve_ratio_table(d + 1),
            self.covariance_type in ("full", "tied"),
            stats.resp_sum,
            stats.sum_w,
            stats.sum_inv_w,
            stats.sum_z,
            stats.sum_tz,
            stats.sum_tzz,
        )
        return stats._replace(log_likelihood=np.asarray(ll))

    def reference(self, X, n_components):
        """Centre of the initial statistics: the column means of X."""
        locations = np.repeat(column_means(X)[None, :], n_components, axis=0)
        return NIGParams(locations, None, None, None, None)

    def accumulate_responsibilities(self, X, resp, sample_weight, reference):
        """Initial statistics with W = 1 for every row (so s = t = 1)."""
        X = _as_float64(X)
        resp = np.asarray(resp, dtype=np.float64)
        if sample_weight is not None:
            resp = resp * sample_weight[:, None]
        z = X - reference.locations[0]
        resp_sum = resp.sum(axis=0)
        sum_z = resp.T @ z
        if self.covariance_type in ("full", "tied"):
            sum_zz = np.einsum("nk,ni,nj->kij", resp, z, z)
        else:
            sum_zz = np.einsum("ki,ij->kij", resp.T @ (z * z), np.eye(X.shape[1]))
        # Statistics are centred on each component's location: all equal here.
        return NIGStats(
            resp_sum,
            np.zeros(()),
            resp_sum.copy(),
            resp_sum.copy(),
            sum_z,
            sum_z.copy(),
            sum_zz,
        )

    def initial_m_step(self, stats, reference):
        """The moment-matched start of each cluster: its mean as location,
        gamma = 0, its covariance (plus ``reg_covar``) as dispersion and
        lambda = 1 (statistics with W = 1 about the :meth:`reference`)."""
        return self._m_step(stats, reference, init=True)

    def m_step(self, stats, params):
        """Expanded-parameter M-step, then the move to the gauge m_k = 1.

        ``params`` are the parameters the statistics were computed under.
        """
        return self._m_step(stats, params, init=False)

    def _m_step(self, stats, params, init):
        """The M-step of :meth:`m_step`, or of :meth:`initial_m_step` with
        ``init`` (``params`` is then the reference)."""
        n = np.asarray(stats.resp_sum, dtype=np.float64)
        k, d = stats.sum_z.shape
        empty = n <= _EMPTY_SHARE * max(n.sum(), np.finfo(float).tiny)
        n_safe = np.where(empty, 1.0, n)
        s_bar = np.where(empty, 1.0, stats.sum_w / n_safe)
        t_bar = np.where(empty, 1.0, stats.sum_inv_w / n_safe)
        z_bar = stats.sum_z / n_safe[:, None]
        z_tilde = stats.sum_tz / n_safe[:, None]
        delta = s_bar * t_bar - 1.0
        if init:
            gamma = np.zeros((k, d))
            shift = z_bar
        else:
            old_gamma = params.skewness
            exact = delta > 1.0 / LAMBDA_MAX
            delta_safe = np.where(exact, delta, 1.0)[:, None]
            shift = np.where(
                exact[:, None],
                (s_bar[:, None] * z_tilde - z_bar) / delta_safe,
                (z_tilde - old_gamma) / t_bar[:, None],
            )
            gamma = np.where(
                exact[:, None],
                (t_bar[:, None] * z_bar - z_tilde) / delta_safe,
                old_gamma,
            )
        locations = params.locations + shift
        dispersions = self._dispersions(
            stats, n_safe, s_bar, t_bar, shift, gamma, z_bar, z_tilde
        )
        if init:
            u = np.ones(k)
            tails = np.ones(k)
        else:
            if self.covariance_type == "tied":
                full = ~empty
                u = np.full(k, _common_scale(n[full], s_bar[full], t_bar[full]))
            else:
                u = 1.0 / s_bar
            denominator = s_bar * u * u - 2 * u + t_bar
            tails = np.where(
                denominator * LAMBDA_MAX > u,
                u / np.maximum(denominator, 1e-300),
                LAMBDA_MAX,
            )
            tails = np.maximum(tails, LAMBDA_MIN)
        gamma = gamma / u[:, None]
        dispersions = self._finish_dispersions(dispersions, n, u, empty, init)
        if not init and np.any(empty):
            locations[empty] = params.locations[empty]
            gamma[empty] = params.skewness[empty]
            tails[empty] = params.tail_shapes[empty]
            if self.covariance_type != "tied":
                dispersions[empty] = params.dispersions[empty]
        precisions_cholesky, dispersions = self._gaussian.precisions_cholesky(
            dispersions
        )
        return NIGParams(locations, gamma, dispersions, tails, precisions_cholesky)

    def _dispersions(self, stats, n, s_bar, t_bar, shift, gamma, z_bar, z_tilde):
        """Expanded-gauge Sigma_k: t-weighted scatter about mu_k, minus the
        skewness terms, (k, d, d) for full/tied, (k, d) diagonals otherwise.

        Sigma = S_t - gamma D^T - D gamma^T + s gamma gamma^T with D = x_bar - mu
        (D = s gamma at the exact optimum, giving S_t - s gamma gamma^T).
        """
        offset = z_bar - shift
        if self.covariance_type in ("full", "tied"):
            scatter = symmetrise_upper(stats.sum_tzz) / n[:, None, None]
            scatter_t = (
                scatter
                - _outer(z_tilde, shift)
                - _outer(shift, z_tilde)
                + t_bar[:, None, None] * _outer(shift, shift)
            )
            return (
                scatter_t
                - _outer(gamma, offset)
                - _outer(offset, gamma)
                + s_bar[:, None, None] * _outer(gamma, gamma)
            )
        diag = np.einsum("kii->ki", stats.sum_tzz) / n[:, None]
        scatter_t = diag - 2 * z_tilde * shift + t_bar[:, None] * shift**2
        return scatter_t - 2 * gamma * offset + s_bar[:, None] * gamma**2

    def _finish_dispersions(self, dispersions, n, u, empty, init):
        """Move to the gauge m = 1 (divide by u), pool (tied) or average
        (spherical), and add reg_covar to the diagonal.

        At initialisation an empty cluster gets the mean of the others.
        """
        cov_type = self.covariance_type
        d = dispersions.shape[1]
        idx = np.arange(d)
        if cov_type == "tied":
            full = ~empty
            pooled = np.einsum("k,kij->ij", n[full], dispersions[full]) / n[full].sum()
            pooled = pooled / u[0]
            pooled[idx, idx] += self.reg_covar
            return pooled
        shape = (-1,) + (1,) * (dispersions.ndim - 1)
        out = dispersions / u.reshape(shape)
        if cov_type != "full":
            out = np.maximum(out, 0.0)
        if init and np.any(empty):
            out[empty] = out[~empty].mean(axis=0)
        if cov_type == "full":
            out[:, idx, idx] += self.reg_covar
            return out
        out = out + self.reg_covar
        return out if cov_type == "diag" else out.mean(axis=1)

    def log_prob(self, X, params):
        log_prob = self.log_prob_moments(X, params, moments=False)[0]
        # Far out (|x| ~ 1e155 and beyond) the squared distance overflows and
        # -alpha sqrt(delta^2 + q) + beta'(x - mu) is -inf + inf: the density
        # is 0 to double precision there (the tails decay exponentially: alpha
        # exceeds the Sigma-norm of beta), not NaN.
        log_prob[np.isnan(log_prob)] = -np.inf
        return log_prob

    def log_prob_moments(self, X, params, moments=True):
        """Per-component log densities and (optionally) E[W|x], E[1/W|x]."""
        X = _as_float64(X)
        k = params.locations.shape[0]
        stack, white_skew, tails, log_const = self.kernel_inputs(params, np.zeros(k))
        out = np.empty((X.shape[0], k))
        mean_w = np.empty((X.shape[0], k) if moments else (0, k))
        mean_inv_w = np.empty_like(mean_w)
        kernels.log_prob_moments(
            X,
            np.ascontiguousarray(params.locations, dtype=np.float64),
            stack,
            white_skew,
            tails,
            log_const,
            X.shape[1] + 1,
            log_kve_ratio_table(X.shape[1] + 1),
            out,
            mean_w,
            mean_inv_w,
            moments,
        )
        return out, mean_w, mean_inv_w

    def sample(self, params, n_samples_per_component, rng):
        """W ~ IG(1, lambda_k), then X | W ~ N(mu_k + W gamma_k, W Sigma_k)."""
        stack = self.precision_stack(params)
        d = stack.shape[1]
        parts = []
        for c, count in enumerate(n_samples_per_component):
            count = int(count)
            w = rng.wald(1.0, params.tail_shapes[c], size=count)
            # Sigma = L L^T with L = U^{-T}: noise = sqrt(w) * (U^{-T} e).
            noise = np.linalg.solve(stack[c].T, rng.standard_normal((d, count))).T
            parts.append(
                params.locations[c]
                + w[:, None] * params.skewness[c]
                + np.sqrt(w)[:, None] * noise
            )
        return np.vstack(parts) if parts else np.empty((0, d))

    def n_parameters(self, params):
        k, d = params.locations.shape
        n_dispersion = {
            "full": k * d * (d + 1) / 2.0,
            "tied": d * (d + 1) / 2.0,
            "diag": k * d,
            "spherical": k,
        }[self.covariance_type]
        return int(n_dispersion + k * (2 * d + 1))


def nig_moments(params, covariance_type):
    """Mean mu + gamma and covariance Sigma + gamma gamma^T / lambda (m = 1)
    of every component; covariances are (k, d, d) whatever the type."""
    locations, gamma = params.locations, params.skewness
    k, d = locations.shape
    disp = params.dispersions
    if covariance_type == "full":
        sigma = disp
    elif covariance_type == "tied":
        sigma = np.repeat(disp[None], k, axis=0)
    elif covariance_type == "diag":
        sigma = disp[:, :, None] * np.eye(d)
    else:
        sigma = disp[:, None, None] * np.eye(d)
    means = locations + gamma
    covariances = sigma + _outer(gamma, gamma) / params.tail_shapes[:, None, None]
    return means, covariances
