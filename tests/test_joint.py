"""JointMixture against DMLearn's reference numbers and the naive EM of
``tests/_grouped_reference.py`` (../shared/reference/README.md)."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skmix import CompositeMixture, GaussianMixtureEM, JointMixture
from tests._grouped_reference import (
    JOINT_BEST_TRAIN_LOG_LIKELIHOOD,
    JOINT_CATEGORIES,
    TUTORIAL_JOINT,
    Gaussian1D,
    JointParams,
    Sequences,
    joint_e_step,
    joint_em,
    joint_log_likelihood,
    joint_predict_proba_y,
    load_joint_reference,
    sample_joint,
    sample_tutorial_joint,
    tutorial_joint_models,
)

LABELS = np.array(JOINT_CATEGORIES, dtype=object)


def view_x(codes, reals):
    """View 1 as the composite estimator takes it: (category, real)."""
    return np.column_stack([LABELS[codes], reals])


def tutorial_estimator(**options):
    options = (
        dict(
            family_x=CompositeMixture(
                families=["categorical", "gaussian"], reg_covar=0.0
            ),
            family_y=GaussianMixtureEM(reg_covar=0.0),
            random_state=0,
        )
        | options
    )
    return JointMixture(3, 3, **options)


def fit_views(model, X, Y, **kwargs):
    codes, reals = X
    return model.fit(
        view_x(codes, reals), Y.values.reshape(-1, 1), y_groups=Y.owner, **kwargs
    )


def as_reference(model):
    """The fitted model's parameters as the reference holds them."""
    categorical, gaussian = (
        model.components_x_.params_[0],
        model.components_x_.params_[1],
    )
    assert categorical["categories"] == list(JOINT_CATEGORIES)
    y = model.components_y_
    return JointParams(
        model.weights_x_,
        model.transition_,
        (categorical["probabilities"], (gaussian["mean"], gaussian["var"])),
        ((y.means_[:, 0], y.covariances_[:, 0, 0]), model.lengths_y_),
    )


def test_reference_data_reaches_dmlearn_best():
    X, Y, _ = load_joint_reference("train")
    model = tutorial_estimator(
        n_init=8,
        validation_fraction=0.0,
        init_params="random",
        tol=1e-11,
        max_iter=5000,
    )
    fit_views(model, X, Y)
    total = float(
        model.score_samples(view_x(*X), Y.values.reshape(-1, 1), y_groups=Y.owner).sum()
    )
    assert total >= JOINT_BEST_TRAIN_LOG_LIKELIHOOD - 1e-3
    x_model, y_model = tutorial_joint_models()
    naive = joint_log_likelihood(X, Y, as_reference(model), x_model, y_model)
    assert total == pytest.approx(naive, rel=1e-12)


def test_tutorial_sample_recovers_the_truth():
    X, Y, _, _ = sample_tutorial_joint(n_samples=10000, seed=0)
    model = tutorial_estimator(n_init=3, tol=1e-8, max_iter=500)
    fit_views(model, X, Y)
    x_model, y_model = tutorial_joint_models()
    truth = joint_log_likelihood(X, Y, TUTORIAL_JOINT, x_model, y_model)
    fitted = joint_log_likelihood(X, Y, as_reference(model), x_model, y_model)
    assert fitted >= truth
    # X's components matched by their category, Y's by their means.
    params = as_reference(model)
    x_order = np.argmax(params.x_params[0], axis=0)
    y_order = np.argsort(-params.y_params[0][0])  # truth: 2, 0, -2
    np.testing.assert_allclose(
        params.transition[np.ix_(x_order, y_order)],
        TUTORIAL_JOINT.transition,
        atol=0.03,
    )
    np.testing.assert_allclose(
        params.weights[x_order], TUTORIAL_JOINT.weights, atol=0.02
    )
    np.testing.assert_allclose(params.y_params[1][y_order], 3.0, atol=0.1)


def start_and_steps(X, Y, n_steps, **options):
    start = fit_views(tutorial_estimator(max_iter=0, **options), X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = fit_views(
            tutorial_estimator(max_iter=n_steps, tol=0.0, **options), X, Y
        )
    return start, fitted


@pytest.mark.parametrize("init_params", ["kmeans", "random"])
def test_ten_iterations_equal_the_naive_em_from_the_same_start(init_params):
    X, Y, _, _ = sample_tutorial_joint(n_samples=2000, seed=1)
    start, fitted = start_and_steps(X, Y, 10, init_params=init_params)
    x_model, y_model = tutorial_joint_models()
    naive, history, _ = joint_em(
        X, Y, as_reference(start), x_model, y_model, max_iter=10
    )
    ours = as_reference(fitted)
    np.testing.assert_allclose(ours.weights, naive.weights, atol=1e-10)
    np.testing.assert_allclose(ours.transition, naive.transition, atol=1e-10)
    np.testing.assert_allclose(ours.y_params[1], naive.y_params[1], rtol=1e-10)
    np.testing.assert_allclose(ours.x_params[1][0], naive.x_params[1][0], atol=1e-10)
    np.testing.assert_allclose(
        np.array(fitted.lower_bounds_) * 2000, history, rtol=1e-12
    )
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[1:]))


def test_aligned_rows_of_y():
    # One Gaussian row of Y per sample (no sequence): G_m = N(mu_m, s2_m).
    rng = np.random.default_rng(2)
    x_model, y_model = Gaussian1D(), Gaussian1D()
    params = JointParams(
        np.array([0.5, 0.5]),
        np.array([[0.9, 0.1], [0.2, 0.8]]),
        (np.array([-2.0, 2.0]), np.ones(2)),
        (np.array([-3.0, 3.0]), np.array([1.0, 2.0])),
    )
    x, y, _, _ = sample_joint(params, 1500, x_model, y_model, rng)
    options = dict(
        family_x=GaussianMixtureEM(reg_covar=0.0),
        family_y=GaussianMixtureEM(reg_covar=0.0),
        random_state=0,
    )
    start = JointMixture(2, 2, max_iter=0, **options).fit(x[:, None], y[:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = JointMixture(2, 2, max_iter=8, tol=0.0, **options).fit(
            x[:, None], y[:, None]
        )

    def reference(model):
        return JointParams(
            model.weights_x_,
            model.transition_,
            (
                model.components_x_.means_[:, 0],
                model.components_x_.covariances_[:, 0, 0],
            ),
            (
                model.components_y_.means_[:, 0],
                model.components_y_.covariances_[:, 0, 0],
            ),
        )

    naive, _, _ = joint_em(x, y, reference(start), x_model, y_model, max_iter=8)
    ours = reference(fitted)
    np.testing.assert_allclose(ours.transition, naive.transition, atol=1e-10)
    np.testing.assert_allclose(ours.y_params[0], naive.y_params[0], atol=1e-10)
    # Posteriors of Y's component from X alone and from both.
    np.testing.assert_allclose(
        fitted.predict_proba_y(x[:, None]),
        joint_predict_proba_y(x, ours, x_model),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        fitted.predict_proba_y(x[:, None], y[:, None]),
        joint_predict_proba_y(x, ours, x_model, y, y_model),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        fitted.score_samples(x[:, None], y[:, None]),
        joint_e_step(x, y, ours, x_model, y_model).sample_log_prob,
        rtol=1e-12,
    )
    np.testing.assert_allclose(fitted.weights_y_, ours.weights @ ours.transition)


def test_posteriors_of_y_for_sequences():
    X, Y, _, _ = sample_tutorial_joint(n_samples=3000, seed=3)
    model = fit_views(tutorial_estimator(), X, Y)
    params = as_reference(model)
    x_model, y_model = tutorial_joint_models()
    np.testing.assert_allclose(
        model.predict_proba_y(view_x(*X)),
        joint_predict_proba_y(X, params, x_model),
        atol=1e-12,
    )
    both = model.predict_proba_y(view_x(*X), Y.values.reshape(-1, 1), y_groups=Y.owner)
    np.testing.assert_allclose(
        both, joint_predict_proba_y(X, params, x_model, Y, y_model), atol=1e-12
    )
    np.testing.assert_array_equal(
        model.predict_y(view_x(*X), Y.values.reshape(-1, 1), y_groups=Y.owner),
        both.argmax(axis=1),
    )


def test_samples_with_empty_sequences_and_shuffled_rows_of_y():
    X, Y, _, _ = sample_tutorial_joint(n_samples=1500, seed=4)
    assert np.any(Y.lengths == 0)
    model = fit_views(tutorial_estimator(), X, Y)
    order = np.random.default_rng(0).permutation(len(Y.values))
    shuffled = Sequences(Y.values[order], Y.owner[order], Y.n_samples)
    again = fit_views(clone(model), X, shuffled)
    np.testing.assert_allclose(again.transition_, model.transition_, rtol=1e-9)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(Y=np.zeros((5, 1))), "Y has 5 rows"),
        (dict(y_groups=np.full(30, 99)), "y_groups"),
        (dict(y_groups=np.r_[np.zeros(29), np.nan]), "y_groups"),
        (dict(Y=None), "Y is required"),
    ],
)
def test_bad_input_raises_clear_errors(kwargs, message):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 1))
    call = dict(Y=rng.normal(size=(30, 1)), y_groups=rng.integers(20, size=30)) | kwargs
    if "Y" in kwargs and "y_groups" not in kwargs and kwargs["Y"] is not None:
        call["y_groups"] = None
    with pytest.raises(ValueError, match=message):
        JointMixture(2, 2).fit(X, call["Y"], y_groups=call["y_groups"])


def test_pickle_clone_and_sample():
    X, Y, _, _ = sample_tutorial_joint(n_samples=1000, seed=5)
    model = fit_views(tutorial_estimator(), X, Y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict_proba_y(view_x(*X)), model.predict_proba_y(view_x(*X))
    )
    assert not hasattr(clone(model), "transition_")
    x_rows, y_rows, y_groups, h = model.sample(200)
    assert len(x_rows) == 200 and len(y_rows) == len(y_groups) and h.shape == (200,)
