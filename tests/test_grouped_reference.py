"""The naive references for grouped and linked data, checked against
DMLearn's published numbers (../shared/reference/README.md), so that the
estimator tests may trust them."""

import numpy as np
import pytest

from tests._grouped_reference import (
    HIERARCHICAL_BEST_LOG_LIKELIHOOD,
    HIERARCHICAL_BEST_TOPICS,
    HIERARCHICAL_TRUE_LOG_LIKELIHOOD,
    JOINT_BEST_TRAIN_LOG_LIKELIHOOD,
    JOINT_TRUE_LOG_LIKELIHOOD,
    TUTORIAL_HIERARCHICAL,
    TUTORIAL_JOINT,
    Gaussian1D,
    group_index,
    hierarchical_em,
    hierarchical_log_likelihood,
    joint_em,
    joint_log_likelihood,
    joint_predict_proba_y,
    load_hierarchical_reference,
    load_joint_reference,
    sample_hierarchical,
    sample_tutorial_hierarchical,
    sample_tutorial_joint,
    tutorial_joint_models,
)


def test_hierarchical_log_likelihood_at_the_true_parameters():
    x, groups = load_hierarchical_reference()
    total = hierarchical_log_likelihood(x, groups, TUTORIAL_HIERARCHICAL, Gaussian1D())
    assert total == pytest.approx(HIERARCHICAL_TRUE_LOG_LIKELIHOOD, abs=1e-6)


@pytest.mark.parametrize("split", ["train", "valid"])
def test_joint_log_likelihood_at_the_true_parameters(split):
    X, Y, _ = load_joint_reference(split)
    x_model, y_model = tutorial_joint_models()
    total = joint_log_likelihood(X, Y, TUTORIAL_JOINT, x_model, y_model)
    assert total == pytest.approx(JOINT_TRUE_LOG_LIKELIHOOD[split], abs=1e-6)


def test_naive_hierarchical_em_reaches_dmlearn_best():
    # From the true parameters; DMLearn's best of 20 random starts.
    x, groups = load_hierarchical_reference()
    params, history, total = hierarchical_em(
        x, groups, TUTORIAL_HIERARCHICAL, Gaussian1D(), max_iter=100
    )
    assert np.all(np.diff(history) >= -1e-9)
    assert total >= HIERARCHICAL_BEST_LOG_LIKELIHOOD - 1e-3
    order = np.argsort(params.topics[0])
    np.testing.assert_allclose(
        params.topics[0][order], HIERARCHICAL_BEST_TOPICS[0], atol=1e-4
    )
    np.testing.assert_allclose(
        params.topics[1][order], HIERARCHICAL_BEST_TOPICS[1], atol=1e-4
    )


def test_naive_joint_em_reaches_dmlearn_best():
    # EM keeps a category probability of exactly 0 at 0, and the best
    # optimum gives category c a small probability in the component of b:
    # start from the truth with every category possible.
    X, Y, _ = load_joint_reference("train")
    x_model, y_model = tutorial_joint_models()
    probs = np.full((3, 3), 1e-4)
    np.fill_diagonal(probs, 0.9998)
    start = TUTORIAL_JOINT._replace(x_params=(probs, TUTORIAL_JOINT.x_params[1]))
    _, history, total = joint_em(X, Y, start, x_model, y_model, max_iter=80)
    assert np.all(np.diff(history) >= -1e-8)
    assert total >= JOINT_BEST_TRAIN_LOG_LIKELIHOOD - 1e-3


def unequal_groups(seed=3, n_groups=200):
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 30], size=n_groups)
    x, groups, _, _ = sample_hierarchical(
        TUTORIAL_HIERARCHICAL, sizes, Gaussian1D(), rng
    )
    return x, groups


@pytest.mark.parametrize("length_model", [None, "poisson", "categorical"])
def test_exact_hierarchical_em_never_decreases_with_unequal_groups(length_model):
    x, groups = unequal_groups()
    params, history, total = hierarchical_em(
        x,
        groups,
        TUTORIAL_HIERARCHICAL,
        Gaussian1D(),
        length_model=length_model,
        max_iter=40,
    )
    assert np.all(np.diff(history) >= -1e-9 * abs(history[-1]))
    assert total >= history[-1] - 1e-9 * abs(total)
    if length_model == "poisson":
        _, sizes = group_index(groups)
        assert params.length == pytest.approx(sizes.mean())


def test_length_weighted_outer_weights_stop_below_the_maximum():
    # DMLearn's update of w (each group weighted by its length) has a fixed
    # point that exact EM, continued from it, still improves.
    x, groups = unequal_groups()
    model = Gaussian1D()
    params, _, dmlearn = hierarchical_em(
        x,
        groups,
        TUTORIAL_HIERARCHICAL,
        model,
        max_iter=3000,
        tol=1e-11,
        length_weighted_w=True,
    )
    _, _, exact = hierarchical_em(x, groups, params, model, max_iter=3000, tol=1e-11)
    assert exact > dmlearn + 0.01


def test_tutorial_samplers():
    x, groups, outer, topic = sample_tutorial_hierarchical(n_groups=4000, seed=1)
    assert x.shape == (20000,) and np.array_equal(np.bincount(groups), np.full(4000, 5))
    np.testing.assert_allclose(
        np.bincount(outer) / 4000, TUTORIAL_HIERARCHICAL.weights, atol=0.03
    )
    np.testing.assert_allclose(
        [x[topic == k].mean() for k in range(3)],
        TUTORIAL_HIERARCHICAL.topics[0],
        atol=0.05,
    )
    (codes, reals), Y, z, h = sample_tutorial_joint(n_samples=10000, seed=1)
    assert np.array_equal(codes, z)  # the tutorial's categories are certain
    np.testing.assert_allclose(
        np.bincount(z) / 10000, TUTORIAL_JOINT.weights, atol=0.02
    )
    np.testing.assert_allclose(Y.lengths.mean(), 3.0, atol=0.05)
    pairs = np.zeros((3, 3))
    np.add.at(pairs, (z, h), 1.0)
    np.testing.assert_allclose(
        pairs / pairs.sum(axis=1, keepdims=True), TUTORIAL_JOINT.transition, atol=0.03
    )


def test_joint_posterior_of_y_by_bayes():
    # P(H | x) and P(H | x, y) against brute-force sums over (k, m).
    (codes, reals), Y, _, _ = sample_tutorial_joint(n_samples=50, seed=2)
    x_model, y_model = tutorial_joint_models()
    params = TUTORIAL_JOINT._replace(
        x_params=(np.full((3, 3), 1 / 3), TUTORIAL_JOINT.x_params[1])
    )
    f = np.exp(x_model.log_prob((codes, reals), params.x_params))
    g = np.exp(y_model.log_prob(Y, params.y_params))
    joint = (
        params.weights[None, :, None]
        * f[:, :, None]
        * params.transition
        * g[:, None, :]
    )
    both = joint.sum(axis=1) / joint.sum(axis=(1, 2))[:, None]
    x_only = (params.weights * f) @ params.transition
    x_only /= x_only.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        joint_predict_proba_y((codes, reals), params, x_model), x_only
    )
    np.testing.assert_allclose(
        joint_predict_proba_y((codes, reals), params, x_model, Y, y_model), both
    )
