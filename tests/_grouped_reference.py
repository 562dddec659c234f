"""Slow, obviously-correct NumPy/SciPy EM for grouped and linked data.

Two models of DMLearn (LLNL), written here from their formulas so that the
tests can compare skmix's ``HierarchicalMixture`` and ``JointMixture`` with
code that shares nothing with them.

Hierarchical mixture (groups of rows)
    K shared components ("topics") F_k, M outer mixtures tau_m over the
    topics, outer weights w. Group i (rows x_i1..x_in_i) has likelihood

        p(x_i) = L(n_i) * sum_m w_m prod_j sum_k tau_mk F_k(x_ij)

    with an optional length model L shared by every outer mixture (Poisson
    or categorical over group sizes; 1 without it). EM is exact for groups
    of any sizes: the M-step of w averages the group posteriors over groups,
    unweighted by their length (DMLearn weights them by length, which is
    the exact update only for equal sizes; ``length_weighted_w=True``
    reproduces it).

Joint mixture (two linked views)
    View X with K components F_k and weights w, view Y with M components
    G_m, linked by tau[k, m] = P(H = m | Z = k):

        p(x, y) = sum_k w_k F_k(x) sum_m tau[k, m] G_m(y)

    Y is either one row per sample, or a sequence of rows per sample whose
    component is a product of i.i.d. rows times a Poisson length model.

Components are small classes with ``log_prob(data, params)`` (one column
per component) and ``m_step(data, resp)`` (weighted maximum likelihood);
each holds no state but its options.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import gammaln, logsumexp
from scipy.stats import multivariate_normal, norm

# --------------------------------------------------------------------------
# Component models


class Gaussian1D:
    """F_k(x) = N(x; mean_k, variance_k) on a 1-D array (or an (n, 1) one).

    Parameters are ``(means, variances)``, each of shape (K,). ``reg_covar``
    is added to every variance after the M-step (0 is plain ML).
    """

    def __init__(self, reg_covar=0.0):
        self.reg_covar = reg_covar

    def log_prob(self, x, params):
        means, variances = params
        x = np.asarray(x, dtype=float).reshape(-1, 1)
        return norm.logpdf(x, loc=means[None, :], scale=np.sqrt(variances)[None, :])

    def m_step(self, x, resp):
        x = np.asarray(x, dtype=float).reshape(-1)
        nk = resp.sum(axis=0)
        means = resp.T @ x / nk
        variances = (resp * (x[:, None] - means[None, :]) ** 2).sum(axis=0) / nk
        return means, variances + self.reg_covar

    def sample(self, params, labels, rng):
        means, variances = params
        return rng.normal(means[labels], np.sqrt(variances[labels]))


class GaussianFull:
    """F_k(x) = N(x; mean_k, Sigma_k) on (n, d) rows, with scipy.stats.

    Parameters are ``(means (K, d), covariances (K, d, d))``; ``reg_covar``
    is added to the diagonal of every covariance.
    """

    def __init__(self, reg_covar=0.0):
        self.reg_covar = reg_covar

    def log_prob(self, X, params):
        means, covariances = params
        X = np.asarray(X, dtype=float)
        return np.column_stack(
            [
                multivariate_normal(m, c).logpdf(X).reshape(len(X))
                for m, c in zip(means, covariances)
            ]
        )

    def m_step(self, X, resp):
        X = np.asarray(X, dtype=float)
        nk = resp.sum(axis=0)
        means = resp.T @ X / nk[:, None]
        covariances = []
        for k in range(resp.shape[1]):
            centred = X - means[k]
            scatter = (resp[:, k, None] * centred).T @ centred / nk[k]
            covariances.append(scatter + self.reg_covar * np.eye(X.shape[1]))
        return means, np.array(covariances)


class Categorical:
    """F_k(c) = p_k[c] on integer codes 0..C-1; parameters (K, C) probs."""

    def __init__(self, n_categories):
        self.n_categories = n_categories

    def log_prob(self, codes, probs):
        with np.errstate(divide="ignore"):
            return np.log(probs[:, np.asarray(codes)].T)

    def m_step(self, codes, resp):
        counts = np.zeros((resp.shape[1], self.n_categories))
        for c in range(self.n_categories):
            counts[:, c] = resp[np.asarray(codes) == c].sum(axis=0)
        return counts / counts.sum(axis=1, keepdims=True)

    def sample(self, probs, labels, rng):
        return np.array([rng.choice(self.n_categories, p=probs[k]) for k in labels])


class Product:
    """A component as a product of column models over a tuple of columns.

    ``data`` is a tuple with one entry per model; parameters are a tuple of
    the models' parameters (conditional independence given the component).
    """

    def __init__(self, *models):
        self.models = models

    def log_prob(self, data, params):
        return sum(m.log_prob(d, p) for m, d, p in zip(self.models, data, params))

    def m_step(self, data, resp):
        return tuple(m.m_step(d, resp) for m, d in zip(self.models, data))

    def sample(self, params, labels, rng):
        return tuple(m.sample(p, labels, rng) for m, p in zip(self.models, params))


class Sequences(NamedTuple):
    """A sequence of rows per sample: ``values[t]`` belongs to sample
    ``owner[t]``; ``n_samples`` counts samples (some may own no row)."""

    values: np.ndarray
    owner: np.ndarray
    n_samples: int

    @property
    def lengths(self):
        return np.bincount(self.owner, minlength=self.n_samples)


class PoissonSequence:
    """G_m(y_1..y_n) = Poisson(n; lambda_m) * prod_t B_m(y_t).

    ``base`` is the row model B (e.g. :class:`Gaussian1D`); parameters are
    ``(base_params, lambdas (M,))``. A sample's responsibility is given to
    each of its rows for the base model's M-step.
    """

    def __init__(self, base):
        self.base = base

    def log_prob(self, seq: Sequences, params):
        base_params, lambdas = params
        rows = self.base.log_prob(seq.values, base_params)
        per_sample = sum_by_owner(rows, seq.owner, seq.n_samples)
        return per_sample + poisson_log_pmf(seq.lengths, lambdas)

    def m_step(self, seq: Sequences, resp):
        base_params = self.base.m_step(seq.values, resp[seq.owner])
        lambdas = resp.T @ seq.lengths / resp.sum(axis=0)
        return base_params, lambdas

    def sample(self, params, labels, rng):
        base_params, lambdas = params
        lengths = rng.poisson(lambdas[labels])
        owner = np.repeat(np.arange(len(labels)), lengths)
        values = self.base.sample(base_params, np.asarray(labels)[owner], rng)
        return Sequences(values, owner, len(labels))


def sum_by_owner(rows, owner, n_owners):
    """Sums of the rows of ``rows`` (n, c) by ``owner`` (n,), (n_owners, c)."""
    return np.column_stack(
        [np.bincount(owner, weights=column, minlength=n_owners) for column in rows.T]
    )


def poisson_log_pmf(counts, lambdas):
    """log Poisson(counts[i]; lambdas[m]), shape (len(counts), len(lambdas))."""
    counts = np.asarray(counts, dtype=float)[:, None]
    lambdas = np.asarray(lambdas, dtype=float)[None, :]
    return counts * np.log(lambdas) - lambdas - gammaln(counts + 1)


# --------------------------------------------------------------------------
# Length models of the hierarchical mixture (shared by the outer mixtures)


def length_log_prob(lengths, length_model, length_params):
    """log L(n_i) per group: 0 without a model, Poisson(lambda) or a
    categorical ``{size: probability}`` (0 for a size it does not hold)."""
    lengths = np.asarray(lengths)
    if length_model is None:
        return np.zeros(len(lengths))
    if length_model == "poisson":
        return poisson_log_pmf(lengths, [length_params])[:, 0]
    probs = np.array([length_params.get(int(n), 0.0) for n in lengths])
    with np.errstate(divide="ignore"):
        return np.log(probs)


def length_m_step(lengths, group_weight, length_model):
    """Weighted ML of the length model (the length alone determines it)."""
    if length_model is None:
        return None
    if length_model == "poisson":
        return float(group_weight @ lengths / group_weight.sum())
    sizes = np.unique(lengths)
    total = group_weight.sum()
    return {int(s): float(group_weight[lengths == s].sum() / total) for s in sizes}


# --------------------------------------------------------------------------
# Hierarchical mixture


class HierarchicalParams(NamedTuple):
    weights: np.ndarray  # (M,) outer weights w
    taus: np.ndarray  # (M, K) topic weights of each outer mixture
    topics: object  # the topic model's parameters
    length: object = None  # the length model's parameters (or None)


def group_index(groups):
    """(index of each row's group in sorted group ids, group sizes)."""
    _, index, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    return index.reshape(-1), sizes


class HierarchicalEStep(NamedTuple):
    log_likelihood: float  # sum over groups of log p(x_i) (weighted)
    group_log_prob: np.ndarray  # (G,) log p(x_i), length term included
    group_resp: np.ndarray  # (G, M) P(Z_i = m | x_i)
    pair_resp: np.ndarray  # (n, M, K) P(Z_i = m, H_ij = k | x_i)


def hierarchical_e_step(
    X, groups, params, topic_model, length_model=None, group_weight=None
):
    """Posteriors of a hierarchical mixture, by brute force.

    ``log F[j, k]`` from the topic model; a row's log density under outer
    mixture m is ``log sum_k tau_mk F_k(x_j)``; a group's under m is the sum
    of its rows'; the group posterior is the softmax over m of that plus
    ``log w_m``. Groups are indexed in sorted order of their ids.
    """
    index, sizes = group_index(groups)
    n_groups = len(sizes)
    weights = np.ones(n_groups) if group_weight is None else group_weight
    log_f = topic_model.log_prob(X, params.topics)  # (n, K)
    with np.errstate(divide="ignore"):
        log_taus = np.log(params.taus)
        log_w = np.log(params.weights)
    row_mk = log_f[:, None, :] + log_taus[None, :, :]  # (n, M, K)
    row_m = logsumexp(row_mk, axis=2)  # (n, M)
    group_m = sum_by_owner(row_m, index, n_groups)
    joint = group_m + log_w
    group_log = logsumexp(joint, axis=1)
    group_resp = np.exp(joint - group_log[:, None])
    # P(m, k | group) = P(m | group) * tau_mk F_k(x_j) / sum_k' tau_mk' F_k'(x_j)
    pair = group_resp[index][:, :, None] * np.exp(row_mk - row_m[:, :, None])
    group_log = group_log + length_log_prob(sizes, length_model, params.length)
    return HierarchicalEStep(
        float(weights @ group_log),
        group_log,
        group_resp,
        pair * weights[index, None, None],
    )


def hierarchical_m_step(
    X,
    groups,
    e_step,
    topic_model,
    length_model=None,
    group_weight=None,
    length_weighted_w=False,
):
    """Exact M-step (or DMLearn's with ``length_weighted_w``)."""
    index, sizes = group_index(groups)
    weights = np.ones(len(sizes)) if group_weight is None else group_weight
    pair_counts = e_step.pair_resp.sum(axis=0)  # (M, K)
    taus = pair_counts / pair_counts.sum(axis=1, keepdims=True)
    if length_weighted_w:
        outer = pair_counts.sum(axis=1)  # sum_i n_i P(m | x_i)
    else:
        outer = weights @ e_step.group_resp  # sum_i P(m | x_i)
    topics = topic_model.m_step(X, e_step.pair_resp.sum(axis=1))
    length = length_m_step(sizes, weights, length_model)
    return HierarchicalParams(outer / outer.sum(), taus, topics, length)


def hierarchical_log_likelihood(X, groups, params, topic_model, length_model=None):
    """Total log-likelihood sum_i log p(x_i)."""
    return hierarchical_e_step(X, groups, params, topic_model, length_model)[0]


def hierarchical_em(
    X,
    groups,
    params,
    topic_model,
    *,
    length_model=None,
    group_weight=None,
    max_iter=100,
    tol=0.0,
    length_weighted_w=False,
):
    """EM from ``params``: (final params, log-likelihoods before each M-step,
    and the log-likelihood of the final params).

    Stops after ``max_iter`` iterations or when the total log-likelihood
    changes by less than ``tol``.
    """
    if length_model is not None and params.length is None:
        # The length model's ML depends on the lengths alone: fit it first.
        _, sizes = group_index(groups)
        weights = np.ones(len(sizes)) if group_weight is None else group_weight
        params = params._replace(length=length_m_step(sizes, weights, length_model))
    history = []
    for _ in range(max_iter):
        e_step = hierarchical_e_step(
            X, groups, params, topic_model, length_model, group_weight
        )
        history.append(e_step.log_likelihood)
        params = hierarchical_m_step(
            X,
            groups,
            e_step,
            topic_model,
            length_model,
            group_weight,
            length_weighted_w,
        )
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            break
    final = hierarchical_e_step(
        X, groups, params, topic_model, length_model, group_weight
    )
    return params, np.array(history), final.log_likelihood


def hierarchical_random_start(X, groups, topic_model, n_mixtures, n_topics, rng):
    """DMLearn's kind of start: every group to a random outer mixture, every
    row to a random topic, then the M-step of those hard assignments."""
    index, sizes = group_index(groups)
    group_outer = rng.integers(n_mixtures, size=len(sizes))
    outer = group_outer[index]
    topic = rng.integers(n_topics, size=len(index))
    pair = np.zeros((len(index), n_mixtures, n_topics))
    pair[np.arange(len(index)), outer, topic] = 1.0
    counts = pair.sum(axis=0) + 1e-12
    taus = counts / counts.sum(axis=1, keepdims=True)
    group_counts = np.bincount(group_outer, minlength=n_mixtures)
    weights = (group_counts + 1e-12) / (group_counts.sum() + n_mixtures * 1e-12)
    topics = topic_model.m_step(X, pair.sum(axis=1))
    return HierarchicalParams(weights, taus, topics)


def sample_hierarchical(params, group_sizes, topic_model, rng):
    """Rows of groups drawn from a hierarchical mixture.

    ``group_sizes[i]`` rows for group i. Returns ``(X, groups, outer, topic)``
    with group ids 0..G-1, each group's outer mixture and each row's topic.
    """
    group_sizes = np.asarray(group_sizes)
    n_groups = len(group_sizes)
    outer = rng.choice(len(params.weights), size=n_groups, p=params.weights)
    groups = np.repeat(np.arange(n_groups), group_sizes)
    topic = np.array(
        [rng.choice(params.taus.shape[1], p=params.taus[outer[g]]) for g in groups],
        dtype=int,
    )
    X = topic_model.sample(params.topics, topic, rng)
    return X, groups, outer, topic


#: The DMLearn tutorial's hierarchical model (3 Gaussian topics at -5, 0, 5
#: with variance 1; 4 outer mixtures; every group has 5 rows).
TUTORIAL_HIERARCHICAL = HierarchicalParams(
    weights=np.array([0.4, 0.2, 0.2, 0.2]),
    taus=np.array(
        [[0.34, 0.33, 0.33], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
    ),
    topics=(np.array([-5.0, 0.0, 5.0]), np.ones(3)),
)


def sample_tutorial_hierarchical(n_groups=1000, group_size=5, seed=0):
    """The tutorial's model sampled with NumPy: ``(x, groups, outer, topic)``."""
    rng = np.random.default_rng(seed)
    return sample_hierarchical(
        TUTORIAL_HIERARCHICAL, np.full(n_groups, group_size), Gaussian1D(), rng
    )


# --------------------------------------------------------------------------
# Joint mixture


class JointParams(NamedTuple):
    weights: np.ndarray  # (K,) weights of view X's components
    transition: np.ndarray  # (K, M) tau[k, m] = P(H = m | Z = k)
    x_params: object
    y_params: object

    @property
    def weights_y(self):
        """Marginal weights of Y's components: sum_k w_k tau[k, m]."""
        return self.weights @ self.transition


class JointEStep(NamedTuple):
    log_likelihood: float
    sample_log_prob: np.ndarray  # (n,) log p(x_i, y_i)
    resp: np.ndarray  # (n, K, M) P(Z = k, H = m | x_i, y_i)


def joint_e_step(X, Y, params, x_model, y_model, sample_weight=None):
    """log w_k + log F_k(x) + log tau[k, m] + log G_m(y), normalised over
    (k, m)."""
    log_f = x_model.log_prob(X, params.x_params)  # (n, K)
    log_g = y_model.log_prob(Y, params.y_params)  # (n, M)
    with np.errstate(divide="ignore"):
        log_w = np.log(params.weights)
        log_tau = np.log(params.transition)
    joint = (log_f + log_w)[:, :, None] + log_tau[None] + log_g[:, None, :]
    log_p = logsumexp(joint, axis=(1, 2))
    resp = np.exp(joint - log_p[:, None, None])
    weights = np.ones(len(log_p)) if sample_weight is None else sample_weight
    return JointEStep(float(weights @ log_p), log_p, resp * weights[:, None, None])


def joint_m_step(X, Y, e_step, x_model, y_model):
    """w, tau from the (k, m) posteriors; F_k from sum_m, G_m from sum_k."""
    counts = e_step.resp.sum(axis=0)  # (K, M)
    weights = counts.sum(axis=1) / counts.sum()
    transition = counts / counts.sum(axis=1, keepdims=True)
    x_params = x_model.m_step(X, e_step.resp.sum(axis=2))
    y_params = y_model.m_step(Y, e_step.resp.sum(axis=1))
    return JointParams(weights, transition, x_params, y_params)


def joint_em(
    X, Y, params, x_model, y_model, *, max_iter=100, tol=0.0, sample_weight=None
):
    """EM from ``params``: (final params, log-likelihood history, final
    log-likelihood), as :func:`hierarchical_em`."""
    history = []
    for _ in range(max_iter):
        e_step = joint_e_step(X, Y, params, x_model, y_model, sample_weight)
        history.append(e_step.log_likelihood)
        params = joint_m_step(X, Y, e_step, x_model, y_model)
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            break
    final = joint_e_step(X, Y, params, x_model, y_model, sample_weight)
    return params, np.array(history), final.log_likelihood


def joint_log_likelihood(X, Y, params, x_model, y_model):
    """Total log-likelihood sum_i log p(x_i, y_i)."""
    return joint_e_step(X, Y, params, x_model, y_model).log_likelihood


def joint_predict_proba_y(X, params, x_model, Y=None, y_model=None):
    """P(H = m | x) = sum_k P(Z = k | x) tau[k, m]; with Y, P(H = m | x, y)
    proportional to G_m(y) sum_k w_k F_k(x) tau[k, m]."""
    log_f = x_model.log_prob(X, params.x_params) + np.log(params.weights)
    post_x = np.exp(log_f - logsumexp(log_f, axis=1, keepdims=True))
    prior_y = post_x @ params.transition
    if Y is None:
        return prior_y
    with np.errstate(divide="ignore"):
        log_joint = np.log(prior_y) + y_model.log_prob(Y, params.y_params)
    return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))


def joint_random_start(X, Y, x_model, y_model, n_x, n_y, rng):
    """DMLearn's kind of start: every sample to a random pair (k, m), then
    the M-step of those hard assignments."""
    n = len(joint_sample_count(X))
    pair = rng.integers(n_x * n_y, size=n)
    resp = np.zeros((n, n_x, n_y))
    resp[np.arange(n), pair // n_y, pair % n_y] = 1.0
    return joint_m_step(X, Y, JointEStep(0.0, None, resp), x_model, y_model)


def joint_sample_count(X):
    """The rows of view X (a tuple of columns or an array)."""
    return X[0] if isinstance(X, tuple) else X


def sample_joint(params, n_samples, x_model, y_model, rng):
    """Pairs drawn from a joint mixture: ``(X, Y, z, h)``."""
    z = rng.choice(len(params.weights), size=n_samples, p=params.weights)
    h = np.array(
        [rng.choice(params.transition.shape[1], p=params.transition[k]) for k in z]
    )
    X = x_model.sample(params.x_params, z, rng)
    Y = y_model.sample(params.y_params, h, rng)
    return X, Y, z, h


#: The DMLearn tutorial's joint model. View X: a categorical column over
#: {a, b, c} (codes 0, 1, 2) and a Gaussian column; view Y: a sequence of
#: Gaussian rows with a Poisson(3) length.
TUTORIAL_JOINT = JointParams(
    weights=np.array([0.6, 0.3, 0.1]),
    transition=np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]),
    x_params=(np.eye(3), (np.array([-2.0, 0.0, 2.0]), np.ones(3))),
    y_params=((np.array([2.0, 0.0, -2.0]), np.ones(3)), np.full(3, 3.0)),
)


def tutorial_joint_models():
    """The component models of the tutorial's joint mixture: (X's, Y's)."""
    return Product(Categorical(3), Gaussian1D()), PoissonSequence(Gaussian1D())


def sample_tutorial_joint(n_samples=10000, seed=0):
    """The tutorial's joint model sampled with NumPy: ``(X, Y, z, h)`` with
    ``X = (codes, reals)`` and ``Y`` a :class:`Sequences`."""
    x_model, y_model = tutorial_joint_models()
    rng = np.random.default_rng(seed)
    return sample_joint(TUTORIAL_JOINT, n_samples, x_model, y_model, rng)


# --------------------------------------------------------------------------
# The reference data (tests/data, from ../shared/reference; see its README)

DATA = Path(__file__).resolve().parent / "data"

#: DMLearn's numbers on hierarchical_seq.csv (README of the reference data).
HIERARCHICAL_TRUE_LOG_LIKELIHOOD = -11917.048029
HIERARCHICAL_BEST_LOG_LIKELIHOOD = -11909.416979
HIERARCHICAL_BEST_TOPICS = (
    np.array([-5.03682, -0.00453, 5.00927]),  # means
    np.array([0.95637, 1.09296, 0.96886]),  # variances
)

#: DMLearn's numbers on joint.csv + joint_seq.csv (plain ML, Poisson length).
JOINT_TRUE_LOG_LIKELIHOOD = {"train": -80989.344607, "valid": -9161.340122}
JOINT_BEST_TRAIN_LOG_LIKELIHOOD = -80982.623004
JOINT_CATEGORIES = ("a", "b", "c")


def load_hierarchical_reference():
    """``(x, groups)`` of hierarchical_seq.csv (1,000 groups of 5 rows)."""
    table = pd.read_csv(DATA / "hierarchical_seq.csv")
    return table["x"].to_numpy(), table["group"].to_numpy()


def load_joint_reference(split=None):
    """``(X, Y, ids)`` of joint.csv + joint_seq.csv, the rows of ``split``
    ("train", "valid" or None for all) in file order.

    ``X = (codes, reals)`` (codes 0, 1, 2 for a, b, c); ``Y`` a
    :class:`Sequences` whose owners index the returned samples.
    """
    table = pd.read_csv(DATA / "joint.csv")
    sequences = pd.read_csv(DATA / "joint_seq.csv")
    if split is not None:
        table = table[table["split"] == split]
    ids = table["id"].to_numpy()
    position = pd.Series(np.arange(len(ids)), index=ids)
    rows = sequences[sequences["id"].isin(ids)]
    codes = table["x_cat"].map({c: i for i, c in enumerate(JOINT_CATEGORIES)})
    X = (codes.to_numpy(), table["x_real"].to_numpy())
    Y = Sequences(rows["y"].to_numpy(), position[rows["id"]].to_numpy(), len(ids))
    return X, Y, ids
