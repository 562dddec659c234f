"""CompositeMixture and HeterogeneousMixture.

References: the exact maximum likelihood of tests/data/composite.csv (see
shared/reference/README.md), scipy.stats densities with numerical
integration / summation for marginal likelihoods, scikit-learn's
GaussianMixture(diag) from the same start, and scikit-learn's estimator
checks.
"""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd  # a test extra: fails loudly if missing
import pytest
from numpy.testing import assert_array_equal
from scipy import integrate, stats
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmix.composite import CompositeMixture, HeterogeneousMixture
from skmix.families.columns import Binomial
from skmix.families.columns.gaussian import Gaussian
from skmix.families.columns.gaussian import GaussianParams as GaussianColumnParams
from skmix.families.columns.lognormal import LogNormal

DATA = Path(__file__).parent / "data" / "composite.csv"
EXACT_ML = -4887.42743


@pytest.fixture(scope="module")
def composite_frame():
    return pd.read_csv(DATA)


@pytest.fixture(scope="module")
def composite_fit(composite_frame):
    X = composite_frame[["x", "count", "b"]]
    model = CompositeMixture(3, n_init=5, tol=1e-10, max_iter=1000, random_state=0).fit(
        X
    )
    return model, X


# ------------------------------------------------------------ reference data
def test_composite_csv_reaches_exact_ml_and_recovers_labels(
    composite_frame, composite_fit
):
    model, X = composite_fit
    assert model.families_ == ["gaussian", "poisson", "bernoulli"]
    total = model.score(X) * len(X)
    assert total >= -4887.4284
    assert total <= EXACT_ML + 1e-3  # not above the true maximum
    ari = adjusted_rand_score(composite_frame["label"], model.predict(X))
    assert ari >= 0.89
    # Same likelihood by a slow scipy.stats evaluation of the fitted params.
    p = model.params_
    dens = np.column_stack(
        [
            np.log(model.weights_[c])
            + stats.norm.logpdf(X["x"], p["x"]["mean"][c], np.sqrt(p["x"]["var"][c]))
            + stats.poisson.logpmf(X["count"], p["count"]["rate"][c])
            + stats.bernoulli.logpmf(X["b"], p["b"]["p"][c])
            for c in range(3)
        ]
    )
    np.testing.assert_allclose(logsumexp(dens, axis=1).sum(), total, rtol=1e-10)


def test_auto_families_from_numpy_match_dataframe(composite_frame, composite_fit):
    model, X = composite_fit
    values = np.loadtxt(DATA, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    from_array = CompositeMixture(
        3, n_init=5, tol=1e-10, max_iter=1000, random_state=0
    ).fit(values)
    assert from_array.families_ == ["gaussian", "poisson", "bernoulli"]
    assert not hasattr(from_array, "feature_names_in_")
    assert list(model.feature_names_in_) == ["x", "count", "b"]
    np.testing.assert_allclose(from_array.score(values), model.score(X), rtol=1e-9)


def test_log_likelihood_never_decreases(composite_fit):
    model, _ = composite_fit
    assert np.all(np.diff(model.lower_bounds_) >= -1e-10)


def test_params_frame_is_tidy(composite_fit):
    model, _ = composite_fit
    frame = model.params_frame()
    assert set(frame.columns) == {
        "column",
        "family",
        "component",
        "parameter",
        "level",
        "value",
    }
    # x: mean + var, count: rate, b: p  -> 4 parameters x 3 components
    assert len(frame) == 12
    rate = frame.query("column == 'count' and component == 1")["value"].item()
    assert rate == model.params_["count"]["rate"][1]


# ------------------------------------------------------------ missing values
def simulate_table(n=1500, seed=0):
    """3 components, 5 mixed columns: gaussian, lognormal, poisson, bool, cat."""
    rng = np.random.RandomState(seed)
    z = rng.choice(3, n, p=[0.4, 0.35, 0.25])
    means = np.array([-3.0, 0.0, 3.0])
    levels = np.array(["red", "green", "blue", "grey"])
    level_probs = np.array(
        [[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.4, 0.4]]
    )
    frame = pd.DataFrame(
        {
            "real": rng.normal(means[z], 1.0),
            "amount": rng.lognormal(np.array([0.0, 1.2, 2.4])[z], 0.5),
            "count": rng.poisson(np.array([1.0, 5.0, 12.0])[z]),
            "flag": rng.uniform(size=n) < np.array([0.2, 0.5, 0.8])[z],
            "colour": [rng.choice(levels, p=level_probs[c]) for c in z],
        }
    )
    return frame, z


FAMILIES_5 = ["gaussian", "lognormal", "poisson", "bernoulli", "categorical"]


def remove_at_random(frame, fraction, seed):
    rng = np.random.RandomState(seed)
    holes = rng.uniform(size=frame.shape) < fraction
    holed = frame.astype(object).mask(holes)
    holed["real"] = holed["real"].astype(float)
    holed["amount"] = holed["amount"].astype(float)
    return holed, holes


@pytest.fixture(scope="module")
def missing_setup():
    frame, z = simulate_table()
    complete = CompositeMixture(3, families=FAMILIES_5, n_init=3, random_state=0)
    complete.fit(frame)
    holed, holes = remove_at_random(frame, 0.2, seed=1)
    model = CompositeMixture(3, families=FAMILIES_5, n_init=3, random_state=0)
    model.fit(holed)
    return frame, z, complete, holed, holes, model


def test_missing_entries_still_recover_components(missing_setup):
    frame, z, complete, holed, holes, model = missing_setup
    assert adjusted_rand_score(z, complete.predict(frame)) >= 0.9
    assert adjusted_rand_score(z, model.predict(holed)) >= 0.85
    assert model.families_ == FAMILIES_5


def _row_density(model, values, skip=None):
    """Mixture density of one row by scipy.stats (slow reference)."""
    p = model.params_
    total = 0.0
    for c in range(model.n_components):
        log_f = np.log(model.weights_[c])
        for name, value in values.items():
            if name == skip or value is None or value != value:
                continue
            q = p[name]
            if q["family"] == "gaussian":
                log_f += stats.norm.logpdf(value, q["mean"][c], np.sqrt(q["var"][c]))
            elif q["family"] == "lognormal":
                log_f += stats.lognorm.logpdf(
                    value, np.sqrt(q["varlog"][c]), scale=np.exp(q["meanlog"][c])
                )
            elif q["family"] == "poisson":
                log_f += stats.poisson.logpmf(value, q["rate"][c])
            elif q["family"] == "bernoulli":
                k = q["categories"].index(value)
                log_f += np.log(q["p"][c] if k == 1 else 1 - q["p"][c])
            else:
                k = q["categories"].index(value)
                log_f += np.log(q["probabilities"][c][k])
        total += np.exp(log_f)
    return total


def test_row_with_missing_entry_scores_its_marginal_density(missing_setup):
    frame, _, _, _, _, model = missing_setup
    row = frame.iloc[[3]].astype(object)
    values = row.iloc[0].to_dict()
    # gaussian missing: integrate the full density over the real line
    holed = row.copy()
    holed["real"] = np.nan
    marginal, _ = integrate.quad(
        lambda x: _row_density(model, {**values, "real": x}), -40, 40, limit=200
    )
    np.testing.assert_allclose(
        model.score_samples(holed)[0], np.log(marginal), rtol=1e-7
    )
    # poisson missing: sum over counts
    holed = row.copy()
    holed["count"] = None
    marginal = sum(_row_density(model, {**values, "count": k}) for k in range(200))
    np.testing.assert_allclose(
        model.score_samples(holed)[0], np.log(marginal), rtol=1e-9
    )
    # categorical missing: sum over levels
    holed = row.copy()
    holed["colour"] = pd.NA
    marginal = sum(
        _row_density(model, {**values, "colour": level})
        for level in model.params_["colour"]["categories"]
    )
    np.testing.assert_allclose(
        model.score_samples(holed)[0], np.log(marginal), rtol=1e-9
    )
    # nothing missing: the plain density
    np.testing.assert_allclose(
        model.score_samples(row)[0], np.log(_row_density(model, values)), rtol=1e-9
    )


def test_impute_beats_column_means(missing_setup):
    frame, _, _, holed, holes, model = missing_setup
    filled = model.impute(holed)
    assert isinstance(filled, pd.DataFrame)
    assert not filled.isna().any().any()
    for j, name in enumerate(["real", "amount", "count"]):
        removed = holes[:, j]
        truth = frame[name].to_numpy(float)[removed]
        ours = filled[name].to_numpy(float)[removed]
        baseline = holed[name].astype(float).mean()
        rmse = np.sqrt(np.mean((ours - truth) ** 2))
        rmse_mean = np.sqrt(np.mean((baseline - truth) ** 2))
        assert rmse < rmse_mean, name
        # observed entries are untouched
        np.testing.assert_allclose(
            filled[name].to_numpy(float)[~removed],
            frame[name].to_numpy(float)[~removed],
        )
    observed = ~holes[:, 4]
    assert (filled["colour"][observed] == frame["colour"][observed]).all()
    assert set(filled["colour"]) <= {"red", "green", "blue", "grey"}


def test_impute_categorical_is_posterior_predictive_mode(missing_setup):
    _, _, _, holed, holes, model = missing_setup
    rows = np.flatnonzero(holes[:, 4])[:20]
    subset = holed.iloc[rows]
    filled = model.impute(subset)
    resp = model.predict_proba(subset)
    probs = resp @ np.asarray(model.params_["colour"]["probabilities"])
    expected = np.asarray(model.params_["colour"]["categories"])[probs.argmax(axis=1)]
    np.testing.assert_array_equal(filled["colour"].to_numpy(), expected)


def test_missing_model_scores_missingness():
    frame, z = simulate_table(n=900, seed=3)
    rng = np.random.RandomState(0)
    # Component 2 loses its 'amount' far more often: missingness informs.
    lose = rng.uniform(size=len(z)) < np.array([0.05, 0.05, 0.6])[z]
    holed = frame.copy()
    holed.loc[lose, "amount"] = np.nan
    model = CompositeMixture(
        3, families=FAMILIES_5, missing="model", n_init=2, random_state=0
    ).fit(holed)
    q = model.params_["amount"]["missing"]
    assert q.max() > 0.4 and q.min() < 0.15
    ignore = CompositeMixture(3, families=FAMILIES_5, n_init=2, random_state=0)
    ignore.fit(holed)
    # 5 columns, one with missing values: k extra parameters.
    assert model._n_parameters() == ignore._n_parameters() + 3
    # Row likelihood: sum_k w_k prod_j (q or (1 - q) f) by a slow reference.
    row = holed.iloc[[int(np.flatnonzero(lose)[0])]]
    values = row.astype(object).iloc[0].to_dict()
    total = 0.0
    for c in range(3):
        weight_c = np.zeros(3)
        weight_c[c] = 1.0
        density = _row_density(_OneComponent(model, c), values)
        for name in model.params_:
            qc = model.params_[name]["missing"][c]
            missing = values[name] is None or values[name] != values[name]
            density *= qc if missing else 1 - qc
        total += model.weights_[c] * density
    np.testing.assert_allclose(model.score_samples(row)[0], np.log(total), rtol=1e-9)


class _OneComponent:
    """A view of one component with weight 1 (for _row_density)."""

    def __init__(self, model, c):
        self.n_components = 1
        self.weights_ = np.array([1.0])
        self.params_ = {
            name: {
                key: (value[c : c + 1] if isinstance(value, np.ndarray) else value)
                for key, value in entry.items()
            }
            for name, entry in model.params_.items()
        }


# ------------------------------------------------------------ gaussian only
@pytest.mark.parametrize("path", ["fused", "general"])
def test_gaussian_only_equals_diag_gaussian_mixture_from_same_start(monkeypatch, path):
    # Both E-step paths of a gaussian-only table: the fused one-pass kernel
    # and the general column kernels + normalisation.
    if path == "general":
        monkeypatch.setattr(Gaussian, "fused_e_step", lambda self, *a: None)
    rng = np.random.RandomState(0)
    X = np.concatenate(
        [rng.normal(m, s, size=(200, 3)) for m, s in [(-3, 1), (0, 0.5), (4, 2)]]
    )
    # Columns of variance 1: the composite's floor, reg_covar times each
    # column's variance, is then scikit-learn's absolute reg_covar.
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    start = CompositeMixture(
        3, families=["gaussian"] * 3, max_iter=0, random_state=0
    ).fit(X)
    means = np.column_stack([start.params_[j]["mean"] for j in range(3)])
    variances = np.column_stack([start.params_[j]["var"] for j in range(3)])
    assert len({tuple(m) for m in means}) == 3  # no two identical components
    common = dict(
        weights_init=start.weights_,
        means_init=means,
        precisions_init=1.0 / variances,
        covariance_type="diag",
        reg_covar=1e-6,
        tol=0.0,
        max_iter=25,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = start.set_params(warm_start=True, max_iter=25, tol=0.0).fit(X)
        references = [GaussianMixture(3, **common).fit(X)]
        try:
            from skmix.gaussian import GaussianMixtureEM
        except ImportError:  # pragma: no cover - the lead's estimator
            pass
        else:
            references.append(GaussianMixtureEM(3, **common).fit(X))
    ours_means = np.column_stack([ours.params_[j]["mean"] for j in range(3)])
    ours_vars = np.column_stack([ours.params_[j]["var"] for j in range(3)])
    for ref in references:
        np.testing.assert_allclose(ours.weights_, ref.weights_, rtol=1e-8)
        np.testing.assert_allclose(ours_means, ref.means_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(ours_vars, ref.covariances_, rtol=1e-8)
        np.testing.assert_allclose(ours.score(X), ref.score(X), rtol=1e-10)


# ------------------------------------------------------------ heterogeneous
def test_heterogeneous_dmlearn_example_reaches_generating_likelihood():
    rng = np.random.RandomState(0)
    n = 10_000
    z = rng.choice(3, n, p=[0.1, 0.3, 0.6])
    # DMLearn: Exponential(5) + Exponential(10) + LogNormal(0.5, 1), as rates.
    x = np.where(
        z == 0,
        rng.exponential(1 / 5, n),
        np.where(z == 1, rng.exponential(1 / 10, n), rng.lognormal(0.5, 1.0, n)),
    )
    generating = np.log(
        0.1 * stats.expon.pdf(x, scale=1 / 5)
        + 0.3 * stats.expon.pdf(x, scale=1 / 10)
        + 0.6 * stats.lognorm.pdf(x, 1.0, scale=np.exp(0.5))
    ).sum()
    model = HeterogeneousMixture(
        ["exponential", "exponential", "lognormal"],
        n_init=5,
        tol=1e-8,
        max_iter=3000,
        random_state=0,
    ).fit(x[:, None])
    assert model.score(x[:, None]) * n >= generating
    assert [entry["family"] for entry in model.params_] == [
        "exponential",
        "exponential",
        "lognormal",
    ]
    assert abs(model.weights_[2] - 0.6) < 0.06
    assert abs(model.params_[2]["meanlog"][0] - 0.5) < 0.15
    X_new, y_new = model.sample(50)
    assert X_new.shape == (50, 1) and np.all(X_new > 0)
    # nothing observed: the posterior is the prior, the mean the mixture mean
    means = [
        1 / model.params_[0]["rate"][0],
        1 / model.params_[1]["rate"][0],
        np.exp(model.params_[2]["meanlog"][0] + model.params_[2]["varlog"][0] / 2),
    ]
    np.testing.assert_allclose(
        model.impute(np.array([[np.nan], [2.0]])),
        [[model.weights_ @ means], [2.0]],
        rtol=1e-12,
    )
    # -1 lies outside every component's support: density 0 (issue 23 asks
    # for -inf scores, where the estimator raised), and no probabilities.
    assert model.score_samples(np.array([[-1.0]]))[0] == -np.inf
    with pytest.raises(ValueError, match=r"column 0 = -1.0 is outside the support"):
        model.predict(np.array([[-1.0]]))


def test_heterogeneous_rejects_label_families():
    with pytest.raises(ValueError, match="CompositeMixture"):
        HeterogeneousMixture(["gaussian", "categorical"]).fit(np.ones((5, 1)))


# ------------------------------------------------------------ scikit-learn
@parametrize_with_checks(
    [
        CompositeMixture(random_state=0),
        CompositeMixture(missing="model", random_state=0),
        HeterogeneousMixture(random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_pipeline_gridsearch_pickle(composite_frame):
    X = composite_frame[["x", "count", "b"]]
    y = composite_frame["label"]
    pipe = make_pipeline(
        CompositeMixture(3, n_init=3, random_state=0), LogisticRegression()
    )
    assert pipe.fit(X, y).score(X, y) > 0.85
    search = GridSearchCV(
        CompositeMixture(n_init=2, random_state=0), {"n_components": [1, 3]}, cv=3
    ).fit(X)
    assert search.best_params_ == {"n_components": 3}
    model = search.best_estimator_
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert model.get_feature_names_out().tolist() == [
        "compositemixture0",
        "compositemixture1",
        "compositemixture2",
    ]


def test_sample_returns_frame_with_labels():
    frame, _ = simulate_table(n=600, seed=5)
    model = CompositeMixture(3, families=FAMILIES_5, random_state=0).fit(frame)
    X_new, y_new = model.sample(400)
    assert isinstance(X_new, pd.DataFrame)
    assert list(X_new.columns) == list(frame.columns)
    assert set(X_new["colour"]) <= {"red", "green", "blue", "grey"}
    assert set(X_new["flag"]) <= {False, True}
    assert np.all(X_new["amount"] > 0)
    assert np.all(X_new["count"] == np.round(X_new["count"]))
    assert np.bincount(y_new, minlength=3).sum() == 400
    # fitted on an array: sample is an array
    values = frame[["real", "count"]].to_numpy(float)
    X_arr, _ = CompositeMixture(2, random_state=0).fit(values).sample(5)
    assert isinstance(X_arr, np.ndarray) and X_arr.dtype == np.float64


def test_object_array_and_list_input_without_dataframe():
    frame, z = simulate_table(n=600, seed=6)
    frame = frame.astype(object)
    frame.loc[::11, "colour"] = None
    rows = frame.to_numpy()
    model = CompositeMixture(3, families=FAMILIES_5, n_init=3, random_state=0)
    model.fit(rows)
    assert adjusted_rand_score(z, model.predict(rows)) > 0.85
    same = CompositeMixture(3, families=FAMILIES_5, n_init=3, random_state=0)
    np.testing.assert_allclose(same.fit(frame).score(frame), model.score(rows))
    as_list = CompositeMixture(3, random_state=0).fit(rows.tolist())
    assert as_list.families_ == [
        "gaussian",
        "gaussian",
        "poisson",
        "bernoulli",
        "categorical",
    ]


def test_families_as_dict_list_and_objects():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "hits": rng.binomial(10, np.r_[np.full(200, 0.2), np.full(200, 0.8)]),
            "wait": rng.gamma(np.r_[np.full(200, 2.0), np.full(200, 9.0)], 1.0),
            "tries": rng.geometric(np.r_[np.full(200, 0.7), np.full(200, 0.2)]),
            "size": rng.exponential(np.r_[np.full(200, 1.0), np.full(200, 5.0)]),
        }
    )
    model = CompositeMixture(
        2,
        families={
            "hits": Binomial(n_trials=10),
            "wait": "gamma",
            "tries": "geometric",
            "size": "exponential",
        },
        random_state=0,
    ).fit(frame)
    assert model.families_ == ["binomial", "gamma", "geometric", "exponential"]
    assert model.params_["hits"]["n_trials"] == 10
    truth = np.r_[np.zeros(200), np.ones(200)]
    assert adjusted_rand_score(truth, model.predict(frame)) > 0.9
    listed = CompositeMixture(
        2, families=[Binomial(10), "gamma", "geometric", "exponential"], random_state=0
    ).fit(frame)
    np.testing.assert_allclose(listed.score(frame), model.score(frame))
    # 2 + 2*2 (gamma) + 2 + 2 free parameters + 1 weight
    assert model._n_parameters() == 11
    with pytest.raises(ValueError, match="one family per column"):
        CompositeMixture(families=["gaussian"]).fit(frame)
    with pytest.raises(ValueError, match="'wiat'"):
        CompositeMixture(families={"wiat": "gamma"}).fit(frame)


def test_sample_weight_equals_repeated_rows():
    frame, _ = simulate_table(n=300, seed=7)
    weights = np.random.RandomState(0).randint(0, 3, size=len(frame))
    repeated = frame.loc[frame.index.repeat(weights)].reset_index(drop=True)
    a = CompositeMixture(3, families=FAMILIES_5, random_state=0, tol=1e-8)
    b = CompositeMixture(3, families=FAMILIES_5, random_state=0, tol=1e-8)
    a.fit(frame, sample_weight=weights)
    b.fit(repeated)
    np.testing.assert_allclose(
        a.predict_proba(frame), b.predict_proba(frame), atol=1e-7
    )


# ------------------------------------------------------------ bad input
def _frame():
    return pd.DataFrame(
        {"x": [0.1, 2.0, -1.0, 3.0], "n": [1, 2, 3, 0], "c": ["a", "b", "a", "b"]}
    )


@pytest.mark.parametrize(
    "change, families, message",
    [
        (("x", 1, "oops"), ["gaussian", "poisson", "categorical"], "'x'.*non-numeric"),
        (("n", 1, -2), ["gaussian", "poisson", "categorical"], "'n'.*>= 0"),
        (("n", 1, 1.5), ["gaussian", "poisson", "categorical"], "'n'.*integer"),
        (("x", 1, -2.0), ["lognormal", "poisson", "categorical"], "'x'.*> 0"),
        (("x", 1, -2.0), ["exponential", "poisson", "categorical"], "'x'.*>= 0"),
        (("x", 1, np.inf), ["gaussian", "poisson", "categorical"], "'x'.*infinite"),
    ],
)
def test_bad_values_name_column_and_problem(change, families, message):
    frame = _frame().astype(object)
    name, row, value = change
    frame.loc[row, name] = value
    with pytest.raises(ValueError, match=message):
        CompositeMixture(2, families=families).fit(frame)


def test_entirely_missing_column_is_an_error():
    frame = _frame()
    frame["x"] = np.nan
    with pytest.raises(ValueError, match="'x' has no observed value"):
        CompositeMixture(2).fit(frame)


def test_constant_column_is_allowed_and_changes_nothing(composite_frame):
    X = composite_frame[["x", "count", "b"]]
    with_constant = X.assign(k=3.5)
    a = CompositeMixture(3, random_state=0).fit(X)
    b = CompositeMixture(3, random_state=0).fit(with_constant)
    assert b.families_[-1] == "gaussian"
    np.testing.assert_allclose(
        a.predict_proba(X), b.predict_proba(with_constant), atol=1e-9
    )


def test_unknown_category_error_or_missing():
    frame = _frame()
    model = CompositeMixture(2, random_state=0).fit(frame)
    new = frame.copy()
    new.loc[0, "c"] = "zzz"
    with pytest.raises(ValueError, match="'c'.*'zzz'.*handle_unknown"):
        model.predict(new)
    model.set_params(handle_unknown="ignore")
    as_missing = frame.copy()
    as_missing.loc[0, "c"] = None
    np.testing.assert_allclose(
        model.predict_proba(new), model.predict_proba(as_missing)
    )


def test_parallel_starts_match_serial(composite_frame):
    X = composite_frame[["x", "count", "b"]]
    serial = CompositeMixture(3, n_init=3, random_state=0, n_jobs=1).fit(X)
    parallel = CompositeMixture(3, n_init=3, random_state=0, n_jobs=2).fit(X)
    np.testing.assert_allclose(serial.score(X), parallel.score(X), rtol=1e-12)
    np.testing.assert_allclose(serial.start_lower_bounds_, parallel.start_lower_bounds_)


def test_parallel_starts_over_many_chunks_match_serial_bit_for_bit(composite_frame):
    # Long enough for several chunks: a worker without a start left joins the
    # other starts' E-steps (the engine's help desk), chunk by chunk.
    X = composite_frame[["x", "count", "b"]]
    X = pd.concat([X] * (40_000 // len(X) + 1), ignore_index=True)
    fits = [
        CompositeMixture(3, n_init=3, max_iter=15, random_state=0, n_jobs=n_jobs).fit(X)
        for n_jobs in (1, 2)
    ]
    np.testing.assert_array_equal(*(fit.start_lower_bounds_ for fit in fits))
    np.testing.assert_array_equal(*(fit.start_validation_scores_ for fit in fits))
    assert fits[0].lower_bounds_ == fits[1].lower_bounds_
    np.testing.assert_array_equal(*(fit.predict_proba(X[:500]) for fit in fits))


def test_float32_and_warm_start(composite_frame):
    X = composite_frame[["x", "count", "b"]].to_numpy(np.float64)
    a = CompositeMixture(3, random_state=0).fit(X)
    b = CompositeMixture(3, random_state=0).fit(X.astype(np.float32))
    np.testing.assert_allclose(a.score(X), b.score(X), rtol=1e-5)
    a.set_params(warm_start=True, tol=1e-10, max_iter=500).fit(X)
    assert a.lower_bounds_[0] >= b.lower_bound_ - 1e-6


# ------------------------------------------------------------ random starts
@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random", "random_from_data"]
)
def test_starts_never_copy_a_component(init_params):
    rng = np.random.RandomState(0)
    # Heavily duplicated rows: a start must still pick distinct seeds.
    X = np.repeat(rng.normal(size=(6, 2)), 50, axis=0)
    X[:, 1] = np.round(np.abs(X[:, 1]) * 3)
    for seed in range(5):
        model = CompositeMixture(
            4, init_params=init_params, max_iter=0, random_state=seed
        ).fit(X)
        rows = {
            (round(a, 12), round(b, 12))
            for a, b in zip(
                model.params_[0]["mean"], model.params_[1]["rate"], strict=True
            )
        }
        assert len(rows) == 4


def test_too_few_distinct_rows_is_an_error():
    X = np.repeat([[0.0, 1.0], [1.0, 3.0]], 10, axis=0)
    with pytest.raises(ValueError, match="only 2 distinct rows"):
        CompositeMixture(3).fit(X)


def test_heterogeneous_seeds_clusters_to_the_best_family():
    rng = np.random.RandomState(0)
    X = np.r_[rng.exponential(0.2, 300), rng.lognormal(2, 0.3, 700)][:, None]
    for components in (["exponential", "lognormal"], ["lognormal", "exponential"]):
        model = HeterogeneousMixture(components, random_state=0).fit(X)
        weights = dict(zip(components, model.weights_, strict=True))
        assert abs(weights["lognormal"] - 0.7) < 0.03


# ---------------------------------------------------------------- internals
def test_encoded_table_blocks_share_chunks_and_copy_other_selections():
    from skmix._engine import CHUNK_SIZE, chunk_bounds
    from skmix.families.composite import EncodedTable

    rng = np.random.RandomState(0)
    n = 2 * CHUNK_SIZE + 123
    XT = rng.normal(size=(3, n))
    table = EncodedTable(XT)
    assert table.shape == (n, 3) and len(table) == n
    assert_array_equal(np.asarray(table), XT.T)
    for start, stop in chunk_bounds(n):
        chunk = table[start:stop]
        (block,) = chunk.blocks
        assert block.flags.c_contiguous
        assert np.shares_memory(block, table.blocks[start // CHUNK_SIZE])
        assert_array_equal(chunk.XT, XT[:, start:stop])
    for rows in [slice(5, 40_000), slice(CHUNK_SIZE, None), np.array([7, 3, n - 1])]:
        part = table[rows]
        assert_array_equal(part.XT, XT[:, rows])
        assert all(block.flags.c_contiguous for block in part.blocks)


def test_distinct_rows_match_numpy_unique(monkeypatch):
    from skmix._engine import seeding

    rng = np.random.RandomState(0)
    cases = [
        rng.normal(size=(3000, 3)),
        rng.randint(3, size=(3000, 4)).astype(float),
        np.r_[rng.normal(size=(50, 2)), -np.zeros((3, 2)), np.zeros((2, 2))],
    ]
    for Z in cases:
        distinct, inverse = seeding._unique_rows(Z)
        expected, expected_inverse = np.unique(Z + 0.0, axis=0, return_inverse=True)
        assert_array_equal(distinct, expected)
        assert_array_equal(inverse, expected_inverse.ravel())
    # Every row hashing alike (a collision) falls back to np.unique.
    monkeypatch.setattr(
        seeding, "_row_hashes", lambda Z: np.zeros(Z.shape[0], np.uint64)
    )
    distinct, inverse = seeding._unique_rows(cases[1])
    expected, expected_inverse = np.unique(cases[1], axis=0, return_inverse=True)
    assert_array_equal(distinct, expected)
    assert_array_equal(inverse, expected_inverse.ravel())


@pytest.mark.parametrize("weighted", [False, True])
def test_fused_gaussian_e_step_equals_the_general_path(monkeypatch, weighted):
    from skmix.families.composite import EncodedTable

    rng = np.random.RandomState(1)
    X = np.concatenate(
        [rng.normal(m, s, size=(700, 4)) for m, s in [(-3, 1), (0, 0.5), (4, 2)]]
    )
    w = rng.uniform(0.1, 3.0, size=len(X)) if weighted else None
    model = CompositeMixture(3, families=["gaussian"] * 4, max_iter=2, random_state=0)
    model.fit(X)
    family, params = model._family, model._params
    log_weights = np.log(model.weights_)
    table = EncodedTable(X.T)
    fused = family.accumulate(table, family.prepare(params, log_weights), w)
    monkeypatch.setattr(Gaussian, "fused_e_step", lambda self, *a: None)
    general = family.accumulate(table, family.prepare(params, log_weights), w)
    np.testing.assert_allclose(fused.resp_sum, general.resp_sum, rtol=1e-12)
    np.testing.assert_allclose(fused.log_likelihood, general.log_likelihood, rtol=1e-12)
    for a, b in zip(fused.groups[0], general.groups[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-9)


def test_fused_gaussian_e_step_leaves_holes_and_log_scale_to_the_general_path():
    gaussian, lognormal = Gaussian(), LogNormal()
    XT = np.abs(np.random.RandomState(0).normal(size=(2, 50))) + 0.1
    params = GaussianColumnParams(np.zeros((2, 2)), np.ones((2, 2)))
    log_weights = np.log([0.5, 0.5])
    fused = gaussian.prepare_fused(params, None, log_weights)
    assert gaussian.fused_e_step(XT, fused, None, None) is not None
    assert lognormal.prepare_fused(params, None, log_weights) is None
    XT[1, 7] = np.nan
    assert gaussian.fused_e_step(XT, fused, None, None) is None


def test_encoded_table_row_selection_equals_the_whole_table_selection():
    from skmix._config import CHUNK_SIZE
    from skmix.families.composite import EncodedTable

    rng = np.random.RandomState(0)
    n = 2 * CHUNK_SIZE + 123
    XT = rng.normal(size=(3, n))
    table = EncodedTable(XT)
    sorted_rows = np.sort(rng.choice(n, 500, replace=False))
    in_last_block = np.arange(2 * CHUNK_SIZE + 5, n, 7)  # other blocks empty
    unsorted = rng.permutation(n)[:50]
    for rows in (sorted_rows, in_last_block, unsorted, np.array([0, n - 1])):
        assert_array_equal(table[rows].XT, XT[:, rows])


def test_large_tables_seed_starts_on_a_subsample_of_positive_weight_rows():
    from skmix._config import SEED_MAX_ROWS
    from skmix._engine.seeding import seeding_rows

    n = 2 * SEED_MAX_ROWS  # two thirds of them with positive weight
    X = np.arange(n, dtype=float)[:, None]
    w = np.ones(n)
    w[::3] = 0.0
    X_seed, w_seed = seeding_rows(X, w, np.random.RandomState(0))
    assert X_seed.shape == (SEED_MAX_ROWS, 1) and w_seed.shape == (SEED_MAX_ROWS,)
    assert np.all(w_seed > 0)
    assert np.all(X_seed[:, 0] % 3 != 0)  # the zero-weight rows are left out
    assert len(np.unique(X_seed[:, 0])) == SEED_MAX_ROWS
    small = X[:100]
    assert seeding_rows(small, None, np.random.RandomState(0))[0] is small
