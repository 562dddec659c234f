"""The estimators' shortcuts past scikit-learn's generic checks give what
those checks give: the same arrays, attributes and errors."""

import inspect
import warnings

import numpy as np
import pytest
import sklearn
import sklearn.base
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import validate_data

import skmix
import skmix._base
from skmix import CoinMixture, GaussianMixtureEM, NIGMixture


def _outcome(call):
    """What ``call()`` returns or raises, and the warnings it gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("returned", call())
        except Exception as error:  # noqa: BLE001 - the error is the outcome
            result = ("raised", type(error), str(error))
    return result, [(w.category, str(w.message)) for w in caught]


def _compare(X, reset, fitted_on=None):
    """Our ``_validate_X`` against ``validate_data`` on a twin estimator."""
    ours, theirs = GaussianMixtureEM(), GaussianMixtureEM()
    if fitted_on is not None:
        for model in (ours, theirs):
            validate_data(model, fitted_on, reset=True)
    outcome_ours = _outcome(lambda: ours._validate_X(X, reset=reset))
    outcome_theirs = _outcome(
        lambda: validate_data(
            theirs,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_min_samples=2 if reset else 1,
        )
    )
    (kind, *rest), ours_warnings = outcome_ours
    (kind_theirs, *rest_theirs), theirs_warnings = outcome_theirs
    assert kind == kind_theirs
    assert ours_warnings == theirs_warnings
    if kind == "raised":
        assert rest == rest_theirs
    else:
        got, expected = rest[0], rest_theirs[0]
        assert got.dtype == expected.dtype
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        # A copy where validate_data copies, the input itself where it does not.
        assert np.shares_memory(got, X) == np.shares_memory(expected, X)
    for name in ("n_features_in_", "feature_names_in_"):
        assert hasattr(ours, name) == hasattr(theirs, name)
        if hasattr(ours, name):
            np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))


rng = np.random.RandomState(0)
PLAIN = rng.randn(40, 3)
INPUTS = {
    "float64": PLAIN,
    "fortran": np.asfortranarray(PLAIN),
    "float32": PLAIN.astype(np.float32),
    "strided": PLAIN[::2, ::2],
    "read-only": np.frombuffer(PLAIN.tobytes()).reshape(40, 3),
    "one row": PLAIN[:1],
    "no column": PLAIN[:, :0],
    "nan": np.where(np.arange(3) == 1, np.nan, PLAIN),
    "inf": np.where(np.arange(3) == 2, -np.inf, PLAIN),
    # The sum overflows, but every value is finite.
    "huge": np.full((5, 2), 1e308),
    "float32 huge": np.full((5, 2), 3e38, dtype=np.float32),
    "int": np.arange(12).reshape(6, 2),
    "float16": PLAIN.astype(np.float16),
    "big-endian": PLAIN.astype(">f8"),
    "list": PLAIN.tolist(),
    "1-D": PLAIN[:, 0],
    "3-D": PLAIN.reshape(40, 3, 1),
    "matrix": np.asmatrix(PLAIN),
    "complex": PLAIN + 1j,
}


@pytest.mark.parametrize("name", list(INPUTS))
def test_fit_input_check_equals_validate_data(name):
    _compare(INPUTS[name], reset=True)


@pytest.mark.parametrize("name", ["float64", "float32", "one row", "nan", "int"])
def test_predict_input_check_equals_validate_data(name):
    _compare(INPUTS[name], reset=False, fitted_on=PLAIN)
    _compare(INPUTS[name][:, :2], reset=False, fitted_on=PLAIN)


def test_input_checks_with_feature_names_equal_validate_data():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(PLAIN, columns=["a", "b", "c"])
    # Names learnt from a frame are dropped by a fit on an array...
    _compare(PLAIN, reset=True, fitted_on=frame)
    # ... and an array given to a model fitted on a frame is warned about.
    _compare(PLAIN, reset=False, fitted_on=frame)
    _compare(frame, reset=False, fitted_on=PLAIN)


def test_input_checks_honour_assume_finite():
    with sklearn.config_context(assume_finite=True):
        _compare(INPUTS["nan"], reset=True)
        _compare(INPUTS["float64"], reset=True)


def test_plain_arrays_skip_validate_data(monkeypatch):
    """The comparisons above do exercise the shortcut."""

    def fail(*args, **kwargs):
        raise AssertionError("validate_data called")

    monkeypatch.setattr(skmix._base, "validate_data", fail)
    model = GaussianMixtureEM(2, random_state=0)
    for X in (PLAIN, INPUTS["float32"], INPUTS["fortran"]):
        assert model._validate_X(X, reset=True) is X
        assert model._validate_X(X, reset=False) is X
    with pytest.raises(AssertionError, match="validate_data"):
        model._validate_X(INPUTS["nan"], reset=True)


@pytest.mark.parametrize("estimator", [GaussianMixtureEM, CoinMixture, NIGMixture])
def test_param_names_are_the_signature(estimator):
    expected = sklearn.base.BaseEstimator._get_param_names.__func__(estimator)
    assert estimator._get_param_names() == expected
    assert estimator._get_param_names() == expected  # read again, unchanged

    class Extended(estimator):
        def __init__(self, extra=1, **kwargs):
            super().__init__(**kwargs)
            self.extra = extra

    # A subclass introspects its own constructor, not its parent's list.
    assert Extended._get_param_names() == ["extra"]


def test_parameters_are_validated_again_when_they_change(monkeypatch):
    calls = []
    original = sklearn.base.validate_parameter_constraints

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(sklearn.base, "validate_parameter_constraints", counting)
    X = np.random.RandomState(1).randn(50, 2)
    model = GaussianMixtureEM(2, random_state=0)
    model.fit(X)
    model.fit(X)
    assert len(calls) == 1  # the same objects: validated once
    model.set_params(tol=1e-4)
    model.fit(X)
    assert len(calls) == 2
    for name, bad in [("n_components", 0), ("tol", -1.0), ("init_params", "x")]:
        good = getattr(model, name)
        setattr(model, name, bad)  # as a user may, without set_params
        with pytest.raises(InvalidParameterError, match=name):
            model.fit(X)
        setattr(model, name, good)
    model.fit(X)
    # A rejected value is never taken for validated.
    model.n_init = 0
    with pytest.raises(InvalidParameterError, match="n_init"):
        model.fit(X)
    with pytest.raises(InvalidParameterError, match="n_init"):
        model.fit(X)


@pytest.mark.parametrize(
    "estimator",
    [
        GaussianMixtureEM,
        NIGMixture,
        CoinMixture,
        skmix.CompositeMixture,
        skmix.HeterogeneousMixture,
        skmix.HierarchicalMixture,
        skmix.JointMixture,
    ],
)
def test_constructors_store_their_arguments_and_refuse_unknown_ones(estimator):
    # scikit-learn's contract: every parameter of the signature is stored
    # under its name, unchanged; clone rebuilds the estimator from them.
    names = list(inspect.signature(estimator).parameters)
    values = {name: object() for name in names}
    made = estimator(**values)
    assert all(getattr(made, name) is value for name, value in values.items())
    assert sklearn.base.clone(estimator()).get_params() == estimator().get_params()
    with pytest.raises(TypeError, match=rf"{estimator.__name__}\(\).*'colour'"):
        estimator(colour=1)
    with pytest.raises(TypeError, match=estimator.__name__):
        estimator(*range(len(names) + 1))
