"""Accelerated EM (``accelerate='squarem'``) of the grouped and joint
estimators against plain EM.

References: plain EM from the same start (itself checked against the naive
EM of ``tests/_grouped_reference.py`` and DMLearn's results in
``tests/test_hierarchical.py`` and ``tests/test_joint.py``), on the data
sets of those tests. The unconstrained parametrisations of the hierarchical,
sequence and joint families are checked by their round trip and by the
validity of the parameters of any coordinates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skmix import (
    CoinMixture,
    CompositeMixture,
    GaussianMixtureEM,
    HierarchicalMixture,
    JointMixture,
)
from skmix._engine import run_em
from skmix.families.gaussian import GaussianFamily
from skmix.families.grouped import HierarchicalFamily, SequenceFamily
from skmix.families.joint import JointFamily, PairedRows
from tests._grouped_reference import (
    Gaussian1D,
    JointParams,
    load_hierarchical_reference,
    sample_joint,
    sample_tutorial_joint,
)
from tests.test_acceleration import ROUNDING
from tests.test_hierarchical import count_groups, mixed_groups, unequal_groups
from tests.test_joint import tutorial_estimator, view_x

GAUSSIAN = GaussianMixtureEM(reg_covar=0.0)


def _flat(value):
    """Every array of (nested) tuples and lists of parameters, flat."""
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        return [part for item in value for part in _flat(item)]
    return [np.ravel(np.asarray(value, dtype=np.float64))]


def _params_vector(model):
    """Every fitted parameter of ``model`` and its weights, flat."""
    return np.concatenate(_flat(model._get_fitted_params()) + [model.weights_])


# ------------------------------------------------------------------ data
def _reference_groups():
    """DMLearn's reference groups (1000 groups of 5 rows, 1-D)."""
    x, groups = load_hierarchical_reference()
    return x.reshape(-1, 1), groups


def _mixed_groups():
    """``tests/test_hierarchical.py``'s groups of (category, real) rows."""
    X, groups, _ = mixed_groups()
    return X, groups


def _sequences():
    """``tests/test_joint.py``'s tutorial sample: (X, Y, y_groups)."""
    X, Y, _, _ = sample_tutorial_joint(n_samples=2000, seed=1)
    return view_x(*X), Y.values.reshape(-1, 1), Y.owner


def _aligned():
    """``tests/test_joint.py``'s aligned Gaussian views: (X, Y, None)."""
    rng = np.random.default_rng(2)
    params = JointParams(
        np.array([0.5, 0.5]),
        np.array([[0.9, 0.1], [0.2, 0.8]]),
        (np.array([-2.0, 2.0]), np.ones(2)),
        (np.array([-3.0, 3.0]), np.array([1.0, 2.0])),
    )
    x, y, _, _ = sample_joint(params, 1500, Gaussian1D(), Gaussian1D(), rng)
    return x[:, None], y[:, None], None


# ----------------------------------------------------------------- cases
def _hierarchical(data, n_components, n_mixtures, family, **options):
    def make(**fit_options):
        return HierarchicalMixture(
            n_components, n_mixtures, family=family, random_state=1, **options
        ).set_params(**fit_options)

    def fit(model):
        X, groups = data()
        return model.fit(X, groups=groups)

    return make, fit


def _joint(data, make_model):
    def fit(model):
        X, Y, y_groups = data()
        return model.fit(X, Y, y_groups=y_groups)

    return lambda **fit_options: make_model().set_params(**fit_options), fit


def _aligned_estimator():
    return JointMixture(3, 2, family_x=GAUSSIAN, family_y=GAUSSIAN, random_state=0)


#: name -> ((make, fit), plain E-steps, accelerated E-steps): plain EM runs
#: to its fixed point (to round-off); SQUAREM gets a small share of them.
CASES = {
    "hierarchical reference, poisson length": (
        _hierarchical(_reference_groups, 3, 4, GAUSSIAN, length_model="poisson"),
        1000,
        100,
    ),
    "hierarchical unequal groups, categorical length": (
        _hierarchical(unequal_groups, 4, 4, GAUSSIAN, length_model="categorical"),
        2000,
        150,
    ),
    "hierarchical coins": (
        _hierarchical(count_groups, 3, 2, CoinMixture()),
        500,
        80,
    ),
    "hierarchical composite": (
        _hierarchical(
            _mixed_groups,
            2,
            2,
            CompositeMixture(families=["categorical", "gaussian"], reg_covar=0.0),
        ),
        500,
        80,
    ),
    "joint sequences": (_joint(_sequences, tutorial_estimator), 2000, 300),
    "joint aligned": (_joint(_aligned, _aligned_estimator), 3000, 400),
}
#: Absolute tolerance of the parameters besides their relative one (1e-6):
#: where the optimum is on the boundary (a transition or a categorical
#: probability of 0) EM approaches 0 geometrically, plain EM and SQUAREM at
#: different rates (to 1e-46 and 1e-13 after their E-steps, or the
#: composite's floor of 1e-12), so the relative difference of those
#: entries measures nothing.
BOUNDARY = 1e-10


def _fit(case, accelerate, max_iter, tol=0.0):
    (make, fit), _, _ = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0
        return fit(make(accelerate=accelerate, max_iter=max_iter, tol=tol))


@pytest.mark.parametrize("case", CASES)
def test_accelerated_em_reaches_plain_em_optimum(case, extrapolations):
    _, plain_steps, fast_steps = CASES[case]
    plain = _fit(case, None, plain_steps)
    fast = _fit(case, "squarem", fast_steps)
    assert extrapolations, "no extrapolation was accepted"
    assert fast.n_iter_ == fast_steps == len(fast.lower_bounds_)
    assert_allclose(
        _params_vector(fast), _params_vector(plain), rtol=1e-6, atol=BOUNDARY
    )
    assert abs(fast.lower_bound_ - plain.lower_bound_) <= 1e-8
    # The accepted log-likelihoods never decrease (beyond round-off).
    assert np.all(np.diff(fast.lower_bounds_) >= -ROUNDING)


@pytest.mark.parametrize("case", CASES)
def test_squarem_takes_fewer_e_steps_to_the_same_optimum(case):
    plain = _fit(case, None, 5000, tol=1e-10)
    fast = _fit(case, "squarem", 5000, tol=1e-10)
    assert plain.converged_ and fast.converged_
    assert 2 * fast.n_iter_ < plain.n_iter_
    # Each stops within tol of the optimum as its own steps see it.
    assert abs(fast.lower_bound_ - plain.lower_bound_) <= 1e-7
    assert np.all(np.diff(fast.lower_bounds_) >= -ROUNDING)


# ------------------------------------------------------- parametrisations
def _fitted_and_start(case):
    """A fit (20 E-steps) and its start (no E-step)."""
    return _fit(case, None, 20), _fit(case, None, 0)


@pytest.mark.parametrize("case", CASES)
def test_parametrisation_round_trips(case):
    fitted, start = _fitted_and_start(case)
    family, params = fitted._family, fitted._get_fitted_params()
    vector = family.to_unconstrained(params)
    assert vector.ndim == 1 and np.all(np.isfinite(vector))
    scales = family.unconstrained_scales(params)
    assert scales.shape == vector.shape and np.all(scales > 0)
    expected = np.concatenate(_flat(params))
    # Whatever parameters give the shapes: the coordinates carry the values
    # (only the references, and a categorical length model, come from
    # ``like``; they are the data's, the same for both).
    for like in (params, start._get_fitted_params()):
        back = np.concatenate(_flat(family.from_unconstrained(vector.copy(), like)))
        assert_allclose(back, expected, rtol=1e-12, atol=1e-300)
    assert not np.allclose(
        np.concatenate(_flat(start._get_fitted_params())), expected
    ), "the start should differ from the fit"


@pytest.mark.parametrize("case", CASES)
def test_any_coordinates_map_to_valid_parameters(case):
    fitted, _ = _fitted_and_start(case)
    family, params = fitted._family, fitted._get_fitted_params()
    vector = family.to_unconstrained(params)
    rng = np.random.default_rng(0)
    for _ in range(3):
        point = family.from_unconstrained(
            vector + rng.normal(scale=5.0, size=vector.shape), params
        )
        if isinstance(family, HierarchicalFamily):
            probabilities = point.taus
            lengths = point.length if family.length_model == "poisson" else 1.0
        else:
            probabilities = point.transition
            sequences = isinstance(family.family_y, SequenceFamily)
            lengths = point.y.lengths if sequences else 1.0
        assert np.all(probabilities > 0)
        assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-14)
        assert np.all(np.asarray(lengths) > 0) and np.all(np.isfinite(lengths))


class _NoHooks(GaussianFamily):
    def to_unconstrained(self, params):
        return None


def test_families_without_hooks_inside_run_plain_em():
    hierarchical, _ = _fitted_and_start("hierarchical reference, poisson length")
    family = HierarchicalFamily(_NoHooks("full", 0.0), 3, "poisson")
    assert family.to_unconstrained(hierarchical._get_fitted_params()) is None
    joint, _ = _fitted_and_start("joint sequences")
    params = joint._get_fitted_params()
    sequences = SequenceFamily(_NoHooks("full", 0.0))
    assert sequences.to_unconstrained(params.y) is None
    family = JointFamily(joint._family.family_x, sequences, 3)
    assert family.to_unconstrained(params) is None
    # Through the engine: the iterations of plain EM, accelerated or not.
    aligned, _ = _fitted_and_start("joint aligned")
    X, Y, _ = _aligned()
    family = JointFamily(_NoHooks("full", 0.0), aligned._family.family_y, 2)
    start = (aligned._get_fitted_params(), np.log(aligned.weights_))
    runs = [
        run_em(family, PairedRows(X, Y), None, *start, tol=0, max_iter=50, accelerate=a)
        for a in (None, "squarem")
    ]
    assert runs[0].lower_bounds == runs[1].lower_bounds
    assert_allclose(runs[0].params.transition, runs[1].params.transition, rtol=0)


# ------------------------------------------------- with the other options
def test_multistart_validation_and_sample_weight_of_groups():
    X, groups = unequal_groups()
    _, group = np.unique(groups, return_inverse=True)
    sample_weight = np.random.default_rng(0).integers(1, 4, size=group.max() + 1)
    sample_weight = sample_weight[group].astype(float)
    # tol=1e-12: plain EM creeps along a flat direction of the mixture
    # weights here (thousands of E-steps), and stopped at tol=1e-10 it is
    # still far from the optimum in its parameters.
    options = dict(n_init=3, validation_fraction=0.3, tol=1e-12, max_iter=10_000)
    options.update(random_state=1, family=GAUSSIAN, length_model="categorical")
    plain = HierarchicalMixture(4, 4, **options)
    fast = HierarchicalMixture(4, 4, accelerate="squarem", **options)
    for model in (plain, fast):
        model.fit(X, groups=groups, sample_weight=sample_weight)
    # Every start reaches the same training optimum. Two of them reach the
    # same one with the components relabelled, which rounding then chooses
    # between: the kept start's optimum is the same, its labels may not be.
    assert_allclose(fast.start_lower_bounds_, plain.start_lower_bounds_, atol=1e-7)
    kept = [m.start_lower_bounds_[m.best_start_] for m in (plain, fast)]
    assert kept[0] == pytest.approx(kept[1], abs=1e-7)
    assert fast.lower_bound_ == pytest.approx(plain.lower_bound_, abs=1e-7)
    # The same mixture whatever its labels: each group's log-likelihood.
    assert_allclose(
        fast.score_samples(X, groups), plain.score_samples(X, groups), rtol=1e-5
    )
    assert len(fast.lower_bounds_) == fast.n_iter_ < plain.n_iter_
    assert np.all(np.diff(fast.lower_bounds_) >= -ROUNDING)


def test_warm_start_continues_accelerated():
    (make, fit), plain_steps, fast_steps = CASES["joint aligned"]
    reference = _fit("joint aligned", None, plain_steps)
    model = fit(make(tol=1e-2))
    model.set_params(warm_start=True, tol=0.0, max_iter=fast_steps)
    model.set_params(accelerate="squarem")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit(model)
    assert_allclose(
        _params_vector(model), _params_vector(reference), rtol=1e-6, atol=BOUNDARY
    )
    assert model.lower_bound_ == pytest.approx(reference.lower_bound_, abs=1e-8)
