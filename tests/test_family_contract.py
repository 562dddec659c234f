"""The family contract (``skmix.families.MixtureFamily``), checked for every
family against naive NumPy / SciPy code written from the formulas.

Every family (Gaussian x 4 covariance types, NIG x 4, multinomial, composite
tables with several column families and missing values, a heterogeneous
composite) must:

- give statistics that are additive over any chunking of the rows (split
  points drawn by hypothesis), and through ``accumulate_chunks`` exactly the
  ordered sum of its chunks whatever runs the work (several threads);
- turn the statistics of given responsibilities (``initial_m_step``) and of
  an E-step (``m_step``) into the weighted maximum-likelihood estimate; the
  NIG's M-step is an ECM step in an expanded parametrisation, so for it the
  closed-form location is checked and the expected complete-data
  log-likelihood must not decrease (and, without ties, be maximal);
- infer (LOG_PROB, SCORES, PROBABILITIES, LABELS) consistently with the
  naive log densities (scipy's logsumexp, softmax, argmax);
- count its free parameters as an independent count does;
- sample rows whose moments match each component's (large n, within a few
  standard errors).

The references live in this file (the formulas of each family) and in
``tests/_reference.py``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import optimize, stats
from scipy.special import logsumexp, softmax

from skmix._config import LABELS, LOG_PROB, PROBABILITIES, SCORES
from skmix._engine import LocalThreads, accumulate
from skmix.families import MixtureFamily, add_stats, chunk_bounds
from skmix.families.columns import (
    Bernoulli,
    Categorical,
    Exponential,
    Gaussian,
    LogNormal,
    Poisson,
)
from skmix.families.composite import ColumnGroup, CompositeFamily
from skmix.families.gaussian import GaussianFamily, GaussianParams
from skmix.families.multinomial import MultinomialFamily, MultinomialParams
from skmix.families.nig import NIGFamily, NIGParams

from ._reference import (
    dense_dispersion,
    gaussian_covariance_stack,
    gaussian_log_prob,
    gaussian_mle,
    random_gaussian_params,
    random_spd,
    ref_log_density,
    ref_posterior_w,
)

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
REG = 1e-6


def _serial(work, n_units):
    work()


def _threaded(work, n_units):
    """A runner (``skmix.families.Runner``) on three threads at once."""
    threads = [threading.Thread(target=work) for _ in range(min(3, n_units) - 1)]
    for thread in threads:
        thread.start()
    work()
    for thread in threads:
        thread.join()


def _random_resp(rng, n, k):
    return rng.dirichlet(np.ones(k), size=n)


# ------------------------------------------------------------------- cases
class GaussianCase:
    """Multivariate normal components: means and covariances by type."""

    k, d = 3, 3

    def __init__(self, covariance_type):
        self.covariance_type = covariance_type
        self.family = GaussianFamily(covariance_type, REG)

    def data(self, rng, n):
        means = rng.normal(scale=4.0, size=(self.k, self.d))
        return means[rng.randint(self.k, size=n)] + rng.normal(size=(n, self.d))

    def start(self, rng, X):
        means, covs = random_gaussian_params(rng, self.k, self.d, self.covariance_type)
        factors, covs = self.family.precisions_cholesky(covs)
        return GaussianParams(means, covs, factors), np.log(rng.dirichlet([3.0] * 3))

    def log_prob(self, X, params):
        return gaussian_log_prob(
            X, params.means, params.covariances, self.covariance_type
        )

    def mle(self, X, resp, w, params=None):
        _, means, covs = gaussian_mle(X, resp, w, self.covariance_type, REG)
        return {"means": means, "covariances": covs}

    def fitted(self, params):
        return {"means": params.means, "covariances": params.covariances}

    def n_parameters(self, params):
        k, d = self.k, self.d
        covariance = {
            "full": k * d * (d + 1) // 2,
            "tied": d * (d + 1) // 2,
            "diag": k * d,
            "spherical": k,
        }[self.covariance_type]
        return k * d + covariance

    def moments(self, params):
        covs = gaussian_covariance_stack(
            params.covariances, self.covariance_type, self.k, self.d
        )
        return list(zip(params.means, covs, strict=True))


class NIGCase:
    """Normal-inverse-Gaussian components (gauge m = 1)."""

    k, d = 2, 3

    def __init__(self, covariance_type):
        self.covariance_type = covariance_type
        self.family = NIGFamily(covariance_type, REG)

    def data(self, rng, n):
        labels = rng.randint(self.k, size=n)
        w = rng.wald(1.0, 1.5, size=n)[:, None]
        centres = np.array([[-3.0, 0.0, 1.0], [3.0, 1.0, -1.0]])
        skew = np.array([[1.0, -0.5, 0.3], [-0.4, 0.8, 0.0]])
        noise = rng.normal(size=(n, self.d)) * [1.0, 0.7, 1.3]
        return centres[labels] + w * skew[labels] + np.sqrt(w) * noise

    def start(self, rng, X):
        k, d = self.k, self.d
        dispersion = {
            "full": np.array([random_spd(rng, d) for _ in range(k)]),
            "tied": random_spd(rng, d),
            "diag": rng.uniform(0.5, 2.0, size=(k, d)),
            "spherical": rng.uniform(0.5, 2.0, size=k),
        }[self.covariance_type]
        factors, dispersion = self.family._gaussian.precisions_cholesky(dispersion)
        params = NIGParams(
            rng.normal(scale=3.0, size=(k, d)),
            rng.normal(scale=0.7, size=(k, d)),
            dispersion,
            rng.uniform(0.7, 3.0, size=k),
            factors,
        )
        return params, np.log([0.45, 0.55])

    def _sigmas(self, params):
        return dense_dispersion(
            params.dispersions, self.covariance_type, self.k, self.d
        )

    def log_prob(self, X, params):
        sigmas = self._sigmas(params)
        return np.column_stack(
            [
                ref_log_density(
                    X,
                    params.locations[c],
                    params.skewness[c],
                    sigmas[c],
                    params.tail_shapes[c],
                )
                for c in range(self.k)
            ]
        )

    def mle(self, X, resp, w, params=None):
        """The first M-step: every W = 1, so the moments of each cluster
        (location = weighted mean, no skewness, dispersion = weighted
        covariance plus reg_covar, tail shape 1)."""
        _, means, dispersions = gaussian_mle(X, resp, w, self.covariance_type, REG)
        return {
            "locations": means,
            "skewness": np.zeros((self.k, self.d)),
            "dispersions": dispersions,
            "tail_shapes": np.ones(self.k),
        }

    def fitted(self, params):
        return {name: getattr(params, name) for name in self.mle_names}

    mle_names = ("locations", "skewness", "dispersions", "tail_shapes")

    def n_parameters(self, params):
        k, d = self.k, self.d
        dispersion = {
            "full": k * d * (d + 1) // 2,
            "tied": d * (d + 1) // 2,
            "diag": k * d,
            "spherical": k,
        }[self.covariance_type]
        return dispersion + k * d * 2 + k

    def moments(self, params):
        # E[W] = 1 and Var[W] = 1 / lambda for W ~ IG(1, lambda).
        sigmas = self._sigmas(params)
        return [
            (
                params.locations[c] + params.skewness[c],
                sigmas[c]
                + np.outer(params.skewness[c], params.skewness[c])
                / params.tail_shapes[c],
            )
            for c in range(self.k)
        ]


class MultinomialCase:
    """Multinomial components over count rows of varying totals."""

    k, d = 3, 4

    def __init__(self, alpha):
        self.alpha = alpha
        self.family = MultinomialFamily(alpha, default_n_trials=12)

    def data(self, rng, n):
        probabilities = rng.dirichlet(np.ones(self.d), size=self.k)
        totals = rng.randint(0, 30, size=n)
        labels = rng.randint(self.k, size=n)
        return np.array(
            [rng.multinomial(t, probabilities[c]) for t, c in zip(totals, labels)],
            dtype=float,
        )

    def start(self, rng, X):
        params = MultinomialParams(rng.dirichlet(np.ones(self.d) * 2, size=self.k))
        return params, np.log(rng.dirichlet([3.0] * self.k))

    def log_prob(self, X, params):
        totals = X.sum(axis=1)
        return np.column_stack(
            [
                stats.multinomial.logpmf(X, totals, params.probabilities[c])
                for c in range(self.k)
            ]
        )

    def mle(self, X, resp, w, params=None):
        counts = (resp * w[:, None]).T @ X + self.alpha
        return {"probabilities": counts / counts.sum(axis=1, keepdims=True)}

    def fitted(self, params):
        return {"probabilities": params.probabilities}

    def n_parameters(self, params):
        return self.k * (self.d - 1)

    def moments(self, params):
        n = self.family.default_n_trials
        return [
            (n * p, n * (np.diag(p) - np.outer(p, p))) for p in params.probabilities
        ]


def _column_log_density(kind, x, gp, row, local, conf):
    """log density of the observed values x of one column, from the formulas."""
    if kind in ("gaussian", "lognormal"):
        mean, sd = gp.means[row, local], np.sqrt(gp.variances[row, local])
        if kind == "gaussian":
            return stats.norm.logpdf(x, mean, sd)
        return stats.norm.logpdf(np.log(x), mean, sd) - np.log(x)
    if kind == "poisson":
        return stats.poisson.logpmf(x, gp.rates[row, local])
    if kind == "exponential":
        return stats.expon.logpdf(x, scale=1.0 / gp.rates[row, local])
    if kind == "bernoulli":
        return stats.bernoulli.logpmf(x, gp.probabilities[row, local])
    levels = gp.probabilities[row, conf[local] : conf[local + 1]]
    return np.log(levels[x.astype(int)])


def _column_moments(kind, gp, row, local, conf):
    """Mean and variance of one column's sampled codes in one component."""
    if kind == "gaussian":
        return gp.means[row, local], gp.variances[row, local]
    if kind == "lognormal":
        mu, s2 = gp.means[row, local], gp.variances[row, local]
        return np.exp(mu + s2 / 2), (np.exp(s2) - 1) * np.exp(2 * mu + s2)
    if kind == "poisson":
        return gp.rates[row, local], gp.rates[row, local]
    if kind == "exponential":
        return 1 / gp.rates[row, local], 1 / gp.rates[row, local] ** 2
    if kind == "bernoulli":
        p = gp.probabilities[row, local]
        return p, p * (1 - p)
    p = gp.probabilities[row, conf[local] : conf[local + 1]]
    codes = np.arange(p.shape[0])
    return p @ codes, p @ codes**2 - (p @ codes) ** 2


#: Free parameters per (component, column) of each column family.
COLUMN_PARAMETERS = {"gaussian": 2, "lognormal": 2}


class CompositeCase:
    """A table of column groups (``groups``), with missing entries (NaN) and
    optionally modelled missingness; ``data_kinds`` says how each column's
    values are drawn."""

    def __init__(self, groups, data_kinds, k, missing, hole_share):
        self.k, self.missing = k, missing
        self.data_kinds, self.hole_share = data_kinds, hole_share
        n_columns = len(data_kinds)
        self.family = CompositeFamily(
            groups, k, missing, REG, np.ones(n_columns, dtype=bool)
        )

    def data(self, rng, n):
        labels = rng.randint(self.k, size=n)
        X = np.empty((n, len(self.data_kinds)))
        for j, kind in enumerate(self.data_kinds):
            X[:, j] = {
                "gaussian": lambda: rng.normal(labels * 1.5 - 2.0, 1.0),
                "poisson": lambda: rng.poisson(1.0 + 2.0 * labels),
                "categorical": lambda: (labels + rng.randint(0, 2, size=n)) % 3,
                "bernoulli": lambda: rng.random_sample(n) < 0.3 + 0.2 * (labels % 2),
                "positive": lambda: rng.lognormal(labels * 0.8, 0.5),
            }[kind]()
        holes = rng.random_sample(X.shape) < self.hole_share
        holes[: n // 3] = False  # some chunks without holes (fused E-step)
        X[holes] = np.nan
        return X

    def start(self, rng, X):
        family = self.family
        reference = family.reference(X, self.k)
        stats_ = family.accumulate_responsibilities(
            X, _random_resp(rng, X.shape[0], self.k), None, reference
        )
        params = family.initial_m_step(stats_, reference)
        log_weights = np.log(rng.dirichlet([3.0] * self.k))
        # One EM step, so that the parameters are not those of an M-step of
        # responsibilities alone.
        stats_ = family.accumulate(X, family.prepare(params, log_weights), None)
        return family.m_step(stats_, params), log_weights

    def _blocks(self, params=None):
        """(column, family name, its components, group parameters, column
        within the group, group configuration) of every group's columns."""
        for g, group in enumerate(self.family.groups):
            comps = np.arange(self.k) if group.components is None else group.components
            gp = None if params is None else params.groups[g]
            for local in range(group.stop - group.start):
                yield (
                    group.start + local,
                    group.family.name,
                    comps,
                    gp,
                    local,
                    group.conf,
                )

    def log_prob(self, X, params):
        out = np.zeros((X.shape[0], self.k))
        for j, kind, comps, gp, local, conf in self._blocks(params):
            seen = ~np.isnan(X[:, j])
            x = X[seen, j]
            for row, c in enumerate(comps):
                out[seen, c] += _column_log_density(kind, x, gp, row, local, conf)
        if self.missing == "model":
            holes = np.isnan(X)
            for c in range(self.k):
                q = params.missing[c]
                out[:, c] += np.where(holes, np.log(q), np.log1p(-q)).sum(axis=1)
        return out

    def mle(self, X, resp, w, params=None):
        """Per column and component, the weighted moments of its observed
        entries (normal: mean, variance + reg; log-normal: those of log x;
        Poisson: mean; exponential: 1 / mean; Bernoulli: share of ones;
        categorical: share of each level) and, with missingness modelled,
        each component's share of holes."""
        expected = {}
        for j, kind, comps, _, local, conf in self._blocks():
            seen = ~np.isnan(X[:, j])
            r = resp[seen][:, comps] * w[seen, None]
            x = X[seen, j]
            n_obs = r.sum(axis=0)
            if kind in ("gaussian", "lognormal"):
                y = np.log(x) if kind == "lognormal" else x
                mean = r.T @ y / n_obs
                var = (r * (y[:, None] - mean) ** 2).sum(axis=0) / n_obs + REG
                expected[f"{j} {kind} mean"] = mean
                expected[f"{j} {kind} var"] = var
            elif kind == "categorical":
                one_hot = x[:, None] == np.arange(conf[local + 1] - conf[local])
                expected[f"{j} {kind}"] = r.T @ one_hot / n_obs[:, None]
            else:
                mean = r.T @ x / n_obs
                expected[f"{j} {kind}"] = 1 / mean if kind == "exponential" else mean
        if self.missing == "model":
            rw = resp * w[:, None]
            expected["missing"] = (rw.T @ np.isnan(X)) / rw.sum(axis=0)[:, None]
        return expected

    def fitted(self, params):
        out = {}
        for j, kind, _, gp, local, conf in self._blocks(params):
            if kind in ("gaussian", "lognormal"):
                out[f"{j} {kind} mean"] = gp.means[:, local]
                out[f"{j} {kind} var"] = gp.variances[:, local]
            elif kind == "categorical":
                out[f"{j} {kind}"] = gp.probabilities[:, conf[local] : conf[local + 1]]
            elif kind in ("poisson", "exponential"):
                out[f"{j} {kind}"] = gp.rates[:, local]
            else:
                out[f"{j} {kind}"] = gp.probabilities[:, local]
        if self.missing == "model":
            out["missing"] = params.missing
        return out

    def n_parameters(self, params):
        count = 0
        for _, kind, comps, _, local, conf in self._blocks():
            per = COLUMN_PARAMETERS.get(kind, 1)
            if kind == "categorical":
                per = conf[local + 1] - conf[local] - 1
            count += len(comps) * per
        if self.missing == "model":
            count += self.k * len(self.data_kinds)
        return count

    def moments(self, params):
        """Each component's mean and (diagonal) covariance of the sampled
        codes: columns are independent given the component."""
        means = np.zeros((self.k, len(self.data_kinds)))
        variances = np.zeros_like(means)
        for j, kind, comps, gp, local, conf in self._blocks(params):
            for row, c in enumerate(comps):
                means[c, j], variances[c, j] = _column_moments(
                    kind, gp, row, local, conf
                )
        return [(means[c], np.diag(variances[c])) for c in range(self.k)]


def _mixed_table():
    groups = [
        ColumnGroup(Gaussian(), 0, 2, None, None),
        ColumnGroup(Poisson(), 2, 3, None, None),
        ColumnGroup(Categorical(), 3, 4, None, np.array([0, 3], dtype=np.int64)),
        ColumnGroup(Bernoulli(), 4, 5, None, None),
    ]
    kinds = ["gaussian", "gaussian", "poisson", "categorical", "bernoulli"]
    return CompositeCase(groups, kinds, 3, "model", 0.1)


def _normal_table():
    groups = [ColumnGroup(Gaussian(), 0, 3, None, None)]
    return CompositeCase(groups, ["gaussian"] * 3, 2, "ignore", 0.05)


def _heterogeneous():
    groups = [
        ColumnGroup(Exponential(), 0, 2, np.array([0]), None),
        ColumnGroup(LogNormal(), 0, 2, np.array([1, 2]), None),
    ]
    return CompositeCase(groups, ["positive"] * 2, 3, "ignore", 0.05)


CASES = {
    **{f"gaussian {t}": GaussianCase(t) for t in COVARIANCE_TYPES},
    **{f"nig {t}": NIGCase(t) for t in COVARIANCE_TYPES},
    "multinomial": MultinomialCase(0.0),
    "multinomial alpha": MultinomialCase(0.7),
    "composite mixed": _mixed_table(),
    "composite normal": _normal_table(),
    "composite heterogeneous": _heterogeneous(),
}


# ------------------------------------------------------------------ helpers
def _setup(name, n=1500, seed=0):
    """The case, its rows, sample weights (some 0), parameters, log weights."""
    case = CASES[name]
    rng = np.random.RandomState(seed)
    X = case.data(rng, n)
    w = rng.uniform(0.0, 2.0, size=n)
    w[::11] = 0.0
    params, log_weights = case.start(rng, X)
    return case, X, w, params, log_weights


def _arrays(stats):
    """The arrays of a (nested) statistics tuple, in order."""
    if isinstance(stats, tuple):
        return [a for field in stats for a in _arrays(field)]
    return [np.asarray(stats, dtype=np.float64)]


def _assert_stats_close(got, expected, rtol=1e-10):
    for a, b in zip(_arrays(got), _arrays(expected), strict=True):
        scale = max(np.max(np.abs(b), initial=0.0), 1.0)
        assert_allclose(a, b, rtol=rtol, atol=rtol * scale)


def _assert_stats_equal(got, expected):
    for a, b in zip(_arrays(got), _arrays(expected), strict=True):
        assert_array_equal(a, b)


def _summed(family, X, w, one_chunk, chunk_size=500):
    """The ordered sum of ``one_chunk(rows, weights, start, stop)`` over the
    chunks of X."""
    parts = [
        one_chunk(X[a:b], w[a:b], a, b) for a, b in chunk_bounds(len(X), chunk_size)
    ]
    total = parts[0]
    for part in parts[1:]:
        total = add_stats(total, part)
    return total


def _assert_params_close(got, expected, rtol=1e-9):
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert_allclose(got[name], value, rtol=rtol, atol=rtol, err_msg=name)


def _naive_resp(case, X, params, log_weights):
    return softmax(case.log_prob(X, params) + log_weights, axis=1)


# ------------------------------------------------------------------- checks
# Each check takes the case (its references) and the family to check, so
# that test_the_contract_test_sees_a_breach can hand it a broken family.
def check_additivity(case, family, X, w, params, log_weights, cuts):
    """Statistics of X equal the sum of those of the pieces between cuts."""
    bounds = list(zip(cuts[:-1], cuts[1:]))
    prepared = family.prepare(params, log_weights)
    whole = family.accumulate(X, prepared, w)
    pieces = [family.accumulate(X[a:b], prepared, w[a:b]) for a, b in bounds]
    total = pieces[0]
    for piece in pieces[1:]:
        total = add_stats(total, piece)
    _assert_stats_close(total, whole)
    resp = _random_resp(np.random.RandomState(len(cuts)), len(X), case.k)
    reference = family.reference(X, case.k)
    whole = family.accumulate_responsibilities(X, resp, w, reference)
    pieces = [
        family.accumulate_responsibilities(X[a:b], resp[a:b], w[a:b], reference)
        for a, b in bounds
    ]
    total = pieces[0]
    for piece in pieces[1:]:
        total = add_stats(total, piece)
    _assert_stats_close(total, whole)


def check_chunked(case, family, X, w, params, log_weights):
    """accumulate_chunks is the ordered sum of accumulate over its chunks,
    bit for bit, whatever runs the work."""
    prepared = family.prepare(params, log_weights)
    for chunk_size in (64, 300, len(X)):
        folded = _summed(
            family,
            X,
            w,
            lambda rows, weights, a, b: family.accumulate(rows, prepared, weights),
            chunk_size,
        )
        for run in (_serial, _threaded):
            got = family.accumulate_chunks(X, prepared, w, chunk_size, run)
            if got is not None:
                _assert_stats_equal(got, folded)


def check_initial_m_step(case, family, X, w):
    """The first M-step of given responsibilities is the weighted MLE."""
    resp = _random_resp(np.random.RandomState(1), len(X), case.k)
    reference = family.reference(X, case.k)
    stats_ = _summed(
        family,
        X,
        w,
        lambda rows, weights, a, b: family.accumulate_responsibilities(
            rows, resp[a:b], weights, reference
        ),
    )
    assert_allclose(stats_.resp_sum, (resp * w[:, None]).sum(axis=0), rtol=1e-10)
    params = family.initial_m_step(stats_, reference)
    _assert_params_close(case.fitted(params), case.mle(X, resp, w))


def check_hard_assignments(case, family, X, w):
    """Labels give the statistics of their indicator rows; nearest centres,
    if the family takes them, exactly those of the nearest centre's label."""
    rng = np.random.RandomState(2)
    labels = rng.randint(case.k, size=len(X))
    reference = family.reference(X, case.k)
    indicators = np.eye(case.k)[labels]
    _assert_stats_close(
        family.accumulate_labels(X, labels, case.k, w, reference),
        family.accumulate_responsibilities(X, indicators, w, reference),
    )
    centres = X[rng.choice(len(X), case.k, replace=False)]
    got = family.accumulate_nearest(X, centres, case.k, w, reference)
    if got is not None:
        distances = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2)
        nearest = family.accumulate_labels(
            X, distances.argmin(axis=1), case.k, w, reference
        )
        _assert_stats_equal(got, nearest)


def check_m_step(case, family, X, w, params, log_weights):
    """An EM iteration's M-step is the weighted MLE given the E-step's
    responsibilities (computed here from the naive densities)."""
    prepared = family.prepare(params, log_weights)
    stats_ = _summed(
        family,
        X,
        w,
        lambda rows, weights, a, b: family.accumulate(rows, prepared, weights),
    )
    log_joint = case.log_prob(X, params) + log_weights
    assert_allclose(stats_.log_likelihood, w @ logsumexp(log_joint, axis=1), rtol=1e-10)
    resp = softmax(log_joint, axis=1)
    assert_allclose(stats_.resp_sum, (resp * w[:, None]).sum(axis=0), rtol=1e-9)
    new = family.m_step(stats_, params)
    _assert_params_close(case.fitted(new), case.mle(X, resp, w, params), rtol=1e-8)


def check_inference(case, family, X, params, log_weights):
    """Every mode of infer agrees with the naive weighted log densities."""
    weighted = case.log_prob(X, params) + log_weights
    assert_allclose(family.log_prob(X, params), weighted - log_weights, rtol=1e-10)
    prepared = family.prepare(params, log_weights)
    n, k = weighted.shape
    out = np.empty((n, k))
    assert family.infer(X, prepared, LOG_PROB, out=out) == 0
    assert_allclose(out, weighted, rtol=1e-10, atol=1e-10)
    scores = np.empty(n)
    assert family.infer(X, prepared, SCORES, scores=scores) == 0
    assert_allclose(scores, logsumexp(weighted, axis=1), rtol=1e-10, atol=1e-10)
    out = np.empty((n, k))
    assert family.infer(X, prepared, PROBABILITIES, out=out) == 0
    assert_allclose(out, softmax(weighted, axis=1), rtol=1e-8, atol=1e-12)
    labels = np.empty(n, dtype=np.intp)
    assert family.infer(X, prepared, LABELS, labels=labels) == 0
    top = np.sort(weighted, axis=1)
    clear = top[:, -1] - top[:, -2] > 1e-8
    assert clear.mean() > 0.9
    assert_array_equal(labels[clear], weighted.argmax(axis=1)[clear])


def check_sample(case, family, params, n=40_000):
    """Each component's rows have its mean and covariance, within 5
    standard errors of the sample moments."""
    counts = np.full(case.k, n)
    rows = family.sample(params, counts, np.random.RandomState(3))
    assert rows.shape[0] == n * case.k
    for c, (mean, cov) in enumerate(case.moments(params)):
        Y = rows[c * n : (c + 1) * n]
        centred = Y - Y.mean(axis=0)
        se_mean = Y.std(axis=0) / np.sqrt(n)
        assert np.all(np.abs(Y.mean(axis=0) - mean) <= 5 * se_mean + 1e-12)
        products = centred[:, :, None] * centred[:, None, :]
        se_cov = products.std(axis=0) / np.sqrt(n)
        sample_cov = products.mean(axis=0)
        assert np.all(np.abs(sample_cov - cov) <= 5 * se_cov + 1e-12)


# ------------------------------------------------------------ NIG's ECM step
def _nig_posterior(case, X, w, params, log_weights):
    """Weighted responsibilities and E[W | x], E[1/W | x] (n, k) under
    ``params``, from the closed-form density and the GIG posterior of W."""
    resp = _naive_resp(case, X, params, log_weights) * w[:, None]
    sigmas = case._sigmas(params)
    moments = [
        ref_posterior_w(
            X,
            params.locations[c],
            params.skewness[c],
            sigmas[c],
            params.tail_shapes[c],
        )
        for c in range(case.k)
    ]
    s = np.column_stack([m[0] for m in moments])
    t = np.column_stack([m[1] for m in moments])
    return resp, s, t


def _nig_q(case, X, posterior, params, c, scale):
    """Component c's part of the expected complete-data log-likelihood (terms
    free of the parameters left out) at ``params`` moved along the
    likelihood-preserving orbit (gamma / a, Sigma / a, m = a, lambda a),
    a = ``scale``: for X | W ~ N(mu + W gamma, W Sigma) and W ~ IG(m, lambda),
    E[-log|Sigma| / 2 - (x - mu - W gamma)' (W Sigma)^-1 (...) / 2
    + log(lambda) / 2 - lambda (W - m)^2 / (2 m^2 W)]."""
    resp, s, t = posterior
    sigma = case._sigmas(params)[c] / scale
    gamma = params.skewness[c] / scale
    lam, m = params.tail_shapes[c] * scale, scale
    precision = np.linalg.inv(sigma)
    diff = X - params.locations[c]
    q = np.einsum("ni,ij,nj->n", diff, precision, diff)
    normal = -0.5 * np.linalg.slogdet(sigma)[1] - 0.5 * (
        t[:, c] * q
        - 2 * (diff @ precision @ gamma)
        + s[:, c] * (gamma @ precision @ gamma)
    )
    mixing = 0.5 * np.log(lam) - lam * (s[:, c] - 2 * m + m**2 * t[:, c]) / (2 * m**2)
    return resp[:, c] @ (normal + mixing)


def _nig_q_on_orbit(case, X, posterior, params):
    """The expected complete-data log-likelihood, maximised over the gauge
    orbit of ``params`` (one scale per component; one for all if tied: the
    components share Sigma in the gauge m = 1)."""

    def best(objective):
        return -optimize.minimize_scalar(
            lambda log_a: -objective(np.exp(log_a)),
            bounds=(-6.0, 6.0),
            method="bounded",
            options={"xatol": 1e-11},
        ).fun

    components = range(case.k)
    if case.covariance_type == "tied":
        return best(
            lambda a: sum(_nig_q(case, X, posterior, params, c, a) for c in components)
        )
    return sum(
        best(lambda a, c=c: _nig_q(case, X, posterior, params, c, a))
        for c in components
    )


def _nig_perturbed(case, params, rng, eps):
    """``params`` moved a little in a random direction of the free
    parameters (the dispersions within their structure)."""
    locations = params.locations + eps * rng.normal(size=params.locations.shape)
    skewness = params.skewness + eps * rng.normal(size=params.skewness.shape)
    tails = params.tail_shapes * (1 + eps * rng.normal(size=case.k))
    if case.covariance_type in ("full", "tied"):
        noise = rng.normal(size=params.dispersions.shape)
        dispersions = params.dispersions + eps * (noise + np.swapaxes(noise, -1, -2))
    else:
        dispersions = params.dispersions * (
            1 + eps * rng.normal(size=params.dispersions.shape)
        )
    return params._replace(
        locations=locations,
        skewness=skewness,
        dispersions=dispersions,
        tail_shapes=tails,
    )


def check_nig_m_step(case, family, X, w, params, log_weights):
    """The NIG's ECM step: the closed-form locations (gauge-free), and an
    expected complete-data log-likelihood that does not decrease and is
    maximal: no small move of the new parameters in any of several
    directions (both ways) increases it (on the orbit of the gauge, the
    scale shared by all components for tied dispersions)."""
    prepared = family.prepare(params, log_weights)

    def one_chunk(rows, weights, a, b):
        return family.accumulate(rows, prepared, weights)

    new = family.m_step(_summed(family, X, w, one_chunk), params)
    posterior = _nig_posterior(case, X, w, params, log_weights)
    resp, s, t = posterior
    n = resp.sum(axis=0)
    s_bar, t_bar = (resp * s).sum(0) / n, (resp * t).sum(0) / n
    x_bar = resp.T @ X / n[:, None]
    x_tilde = (resp * t).T @ X / n[:, None]
    locations = (s_bar[:, None] * x_tilde - x_bar) / (s_bar * t_bar - 1)[:, None]
    assert_allclose(new.locations, locations, rtol=1e-8, atol=1e-9)
    q_old = _nig_q_on_orbit(case, X, posterior, params)
    q_new = _nig_q_on_orbit(case, X, posterior, new)
    tolerance = 1e-10 * abs(q_new)
    assert q_new >= q_old - tolerance
    rng = np.random.RandomState(4)
    for _ in range(4):
        direction = np.random.RandomState(rng.randint(2**31))
        for eps in (1e-3, -1e-3):
            state = np.random.RandomState(direction.randint(2**31))
            moved = _nig_perturbed(case, new, state, eps)
            assert _nig_q_on_orbit(case, X, posterior, moved) <= q_new + tolerance


# -------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", list(CASES))
def test_every_family_is_a_mixture_family(name):
    assert isinstance(CASES[name].family, MixtureFamily)


def test_the_contract_is_abstract():
    # A family missing a required method cannot be built.
    class Incomplete(MixtureFamily):
        def accumulate(self, X, prepared, sample_weight):
            return None

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(1, 599), max_size=6))
def test_statistics_are_additive_over_any_chunking(name, cuts):
    case, X, w, params, log_weights = _setup(name, n=600)
    cuts = sorted({0, 600, *cuts})
    check_additivity(case, case.family, X, w, params, log_weights, cuts)


@pytest.mark.parametrize("name", list(CASES))
def test_chunked_statistics_are_the_ordered_sum_of_the_chunks(name):
    case, X, w, params, log_weights = _setup(name)
    check_chunked(case, case.family, X, w, params, log_weights)


@pytest.mark.parametrize("name", list(CASES))
def test_engine_e_step_does_not_depend_on_threads(name):
    # Enough rows for the engine to share the work out among threads.
    case, X, w, params, log_weights = _setup(name, n=40_000)
    prepared = case.family.prepare(params, log_weights)
    one = accumulate(case.family, X, prepared, w, LocalThreads(1))
    for n_threads in (2, 3):
        many = accumulate(case.family, X, prepared, w, LocalThreads(n_threads))
        _assert_stats_equal(many, one)


@pytest.mark.parametrize("name", list(CASES))
def test_initial_m_step_is_the_weighted_maximum_likelihood_estimate(name):
    case, X, w, _, _ = _setup(name)
    check_initial_m_step(case, case.family, X, w)


@pytest.mark.parametrize("name", [n for n in CASES if not n.startswith("nig")])
def test_m_step_is_the_weighted_maximum_likelihood_estimate(name):
    case, X, w, params, log_weights = _setup(name)
    check_m_step(case, case.family, X, w, params, log_weights)


@pytest.mark.parametrize("name", list(CASES))
def test_hard_assignments_give_the_statistics_of_their_indicators(name):
    case, X, w, _, _ = _setup(name)
    check_hard_assignments(case, case.family, X, w)


@pytest.mark.parametrize("name", list(CASES))
def test_inference_agrees_with_log_prob(name):
    case, X, _, params, log_weights = _setup(name)
    check_inference(case, case.family, X, params, log_weights)


@pytest.mark.parametrize("name", list(CASES))
def test_n_parameters_counts_the_free_parameters(name):
    case, _, _, params, _ = _setup(name)
    assert case.family.n_parameters(params) == case.n_parameters(params)


@pytest.mark.parametrize("name", list(CASES))
def test_sample_has_each_components_moments(name):
    case, _, _, params, _ = _setup(name)
    check_sample(case, case.family, params)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_nig_m_step_is_an_ecm_step(covariance_type):
    case, X, w, params, log_weights = _setup(f"nig {covariance_type}")
    check_nig_m_step(case, case.family, X, w, params, log_weights)


# ------------------------------------------------------------------ breaches
class _DropsInitialWeights(GaussianFamily):
    def accumulate_responsibilities(self, X, resp, sample_weight, reference):
        return super().accumulate_responsibilities(X, resp, None, reference)


class _DropsEStepWeights(GaussianFamily):
    def accumulate(self, X, prepared, sample_weight):
        return super().accumulate(X, prepared, None)


class _ForgetsWeightsInScores(GaussianFamily):
    def infer(self, X, prepared, mode, out=None, labels=None, scores=None):
        zero = self.prepare(prepared.params, np.zeros_like(prepared.log_weights))
        return super().infer(
            X, zero if mode == SCORES else prepared, mode, out, labels, scores
        )


class _MissesTheMeans(GaussianFamily):
    def n_parameters(self, params):
        return super().n_parameters(params) - params.means.size


class _SamplesTooWide(GaussianFamily):
    def sample(self, params, n_samples_per_component, rng):
        return 1.01 * super().sample(params, n_samples_per_component, rng)


class _ReordersChunks(GaussianFamily):
    def accumulate_chunks(self, X, prepared, sample_weight, chunk_size, run):
        # The chunks summed right to left: a different rounding.
        chunks = chunk_bounds(X.shape[0], chunk_size)[::-1]
        total = None
        for a, b in chunks:
            part = self.accumulate(X[a:b], prepared, sample_weight[a:b])
            total = part if total is None else add_stats(total, part)
        return total


class _NIGWithoutShift(NIGFamily):
    def m_step(self, stats, params):
        new = super().m_step(stats, params)
        return new._replace(locations=new.locations + 1e-3)


BREACHES = {
    "initial M-step drops the weights": (
        _DropsInitialWeights,
        lambda case, family, X, w, params, lw: check_initial_m_step(case, family, X, w),
    ),
    "E-step drops the weights": (
        _DropsEStepWeights,
        lambda case, family, X, w, params, lw: check_m_step(
            case, family, X, w, params, lw
        ),
    ),
    "scores without the mixing weights": (
        _ForgetsWeightsInScores,
        lambda case, family, X, w, params, lw: check_inference(
            case, family, X, params, lw
        ),
    ),
    "n_parameters misses the means": (
        _MissesTheMeans,
        lambda case, family, X, w, params, lw: np.testing.assert_equal(
            family.n_parameters(params), case.n_parameters(params)
        ),
    ),
    "samples 1% too wide": (
        _SamplesTooWide,
        lambda case, family, X, w, params, lw: check_sample(case, family, params),
    ),
    "chunks summed out of order": (
        _ReordersChunks,
        lambda case, family, X, w, params, lw: check_chunked(
            case, family, X, w, params, lw
        ),
    ),
}


@pytest.mark.parametrize("breach", list(BREACHES))
def test_the_contract_test_sees_a_breach(breach):
    """Each check fails on a family that breaks the contract it checks (and
    passes on the family itself: the other tests)."""
    broken, check = BREACHES[breach]
    case, X, w, params, log_weights = _setup("gaussian full")
    with pytest.raises(AssertionError):
        check(case, broken("full", REG), X, w, params, log_weights)


def test_the_nig_check_sees_a_wrong_location():
    case, X, w, params, log_weights = _setup("nig diag")
    with pytest.raises(AssertionError):
        check_nig_m_step(case, _NIGWithoutShift("diag", REG), X, w, params, log_weights)
