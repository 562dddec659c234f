"""Table encoding of the composite mixtures (``skmix._table``): what
``families='auto'`` infers and refuses, the dtypes that ``impute`` keeps, and
values outside a family's support (density 0).

References: NumPy's variance over mean for one group, an exhaustive search
over splits into consecutive groups, the cultivars of the wine data, and
scipy.stats densities.
"""

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import adjusted_rand_score

from skmix import CompositeMixture, HeterogeneousMixture
from skmix._auto_families import within_group_dispersion
from skmix.families.columns import Binomial

DATA = Path(__file__).parent / "data"


# ------------------------------------------------------------ counts
def best_split_dispersion(values, counts, n_groups):
    """Smallest within-group sum of squares over every split of sorted
    values into ``n_groups`` runs, over the sum of the values (exhaustive)."""
    x = np.repeat(values, counts).astype(float)
    distinct = len(values)
    best = np.inf
    for cuts in itertools.combinations(range(1, distinct), n_groups - 1):
        edges = [0, *cuts, distinct]
        within = 0.0
        for lo, hi in zip(edges[:-1], edges[1:]):
            group = x[(x >= values[lo]) & (x <= values[hi - 1])]
            within += ((group - group.mean()) ** 2).sum()
        best = min(best, within)
    return best / x.sum()


def test_dispersion_of_one_group_is_variance_over_mean():
    x = np.random.RandomState(0).poisson(7, 500)
    values, counts = np.unique(x, return_counts=True)
    got = within_group_dispersion(values, counts, 1)
    np.testing.assert_allclose(got, x.var() / x.mean(), rtol=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_groups", [2, 3])
def test_dispersion_splits_as_well_as_an_exhaustive_search(seed, n_groups):
    rng = np.random.RandomState(seed)
    rates = rng.choice([1.0, 4.0, 15.0, 40.0], n_groups, replace=False)
    x = rng.poisson(np.repeat(rates, 40))
    values, counts = np.unique(x, return_counts=True)
    got = within_group_dispersion(values, counts, n_groups)
    best = best_split_dispersion(values, counts, n_groups)
    np.testing.assert_allclose(got, best, rtol=1e-9)


def test_dispersion_over_binned_values_is_near_the_best_split():
    # More distinct values than the exact split takes: bins, then k-means.
    rng = np.random.RandomState(0)
    x = np.r_[rng.poisson(3000, 2000), rng.poisson(9000, 1000)]
    values, counts = np.unique(x, return_counts=True)
    assert values.shape[0] > 512
    got = within_group_dispersion(values, counts, 2)
    best = best_split_dispersion(values, counts, 2)
    assert best <= got <= best * (1 + 1e-3)


def wine():
    table = pd.read_csv(DATA / "wine.csv")
    return table.drop(columns="label"), table["label"]


def test_wine_proline_is_not_poisson():
    # Proline (mean 747, variance 99,167): three Poissons cannot spread that
    # wide; as a gaussian column the cultivars are found.
    X, cultivar = wine()
    model = CompositeMixture(3, random_state=0).fit(X)
    families = dict(zip(X.columns, model.families_))
    assert families["proline"] == "gaussian"
    assert adjusted_rand_score(cultivar, model.predict(X)) > 0.8


def test_poisson_mixture_counts_stay_poisson():
    rng = np.random.RandomState(0)
    counts = rng.poisson(np.repeat([2.0, 20.0, 60.0], 300))
    X = pd.DataFrame({"n": counts, "x": rng.normal(np.repeat([0, 3, 6], 300))})
    assert CompositeMixture(3, random_state=0).fit(X).families_[0] == "poisson"
    # One Poisson cannot: the single-component model takes a gaussian.
    assert CompositeMixture(1).fit(X).families_[0] == "gaussian"


def test_verbose_reports_every_family_and_why(capsys):
    X, _ = wine()
    CompositeMixture(3, families={"alcohol": "lognormal"}, verbose=1).fit(X)
    line = next(
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("Column families:")
    )
    assert "'alcohol': lognormal;" in line  # declared: no reason
    assert "'proline': gaussian (counts too dispersed" in line
    assert "'magnesium': poisson (counts" in line
    assert line.count(": gaussian (real values)") == 10


# ------------------------------------------------------------ refused columns
def test_a_stray_string_in_a_numeric_column_is_named():
    rng = np.random.RandomState(0)
    values = rng.normal(size=300).astype(object)
    values[17] = "n/a"
    X = pd.DataFrame({"x": values, "y": rng.normal(size=300)})
    with pytest.raises(ValueError, match=r"'x' holds numbers .* 'n/a' \(row 17\)"):
        CompositeMixture(2).fit(X)
    # Declared or cleaned, the column is fine.
    with pytest.raises(ValueError, match="'x' is declared 'gaussian'.*'n/a'"):
        CompositeMixture(2, families={"x": "gaussian"}).fit(X)
    cleaned = X.assign(x=pd.to_numeric(X["x"], errors="coerce"))
    assert CompositeMixture(2).fit(cleaned).families_ == ["gaussian", "gaussian"]


def test_numbers_written_partly_as_text_are_refused():
    X = pd.DataFrame({"x": [1.5, "2.5", 3.0, 4.5] * 10, "y": np.arange(40.0)})
    with pytest.raises(ValueError, match="'x' holds numbers.*as text such as '2.5'"):
        CompositeMixture(2).fit(X)


def test_near_unique_labels_are_refused_unless_declared():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {"name": [f"id{i:03d}" for i in range(300)], "x": rng.normal(size=300)}
    )
    with pytest.raises(ValueError, match="'name' has 300 distinct labels in 300"):
        CompositeMixture(2).fit(X)
    declared = CompositeMixture(2, families={"name": "categorical"}).fit(X)
    assert declared.families_ == ["categorical", "gaussian"]
    # Few levels, or a small table: labels as before.
    X["name"] = rng.choice(["a", "b", "c"], 300)
    assert CompositeMixture(2).fit(X).families_[0] == "categorical"
    small = pd.DataFrame({"c": list("abcdefgh"), "x": np.arange(8.0)})
    assert CompositeMixture(2).fit(small).families_[0] == "categorical"


def test_booleans_mixed_with_equal_numbers_are_refused():
    X = pd.DataFrame({"c": [True, 1, "a", False] * 5, "x": np.arange(20.0)})
    with pytest.raises(ValueError, match="'c' mixes booleans and numbers"):
        CompositeMixture(2).fit(X)


def test_complex_columns_are_refused():
    X = pd.DataFrame({"z": np.arange(10) + 1j, "x": np.arange(10.0)})
    with pytest.raises(TypeError, match="'z' is complex"):
        CompositeMixture(2).fit(X)
    as_objects = X.astype(object)
    with pytest.raises(TypeError, match="'z' holds the complex number"):
        CompositeMixture(2, families=["gaussian", "gaussian"]).fit(as_objects)
    with pytest.raises(TypeError, match="'z' holds the complex number"):
        CompositeMixture(2).fit(as_objects)


# ------------------------------------------------------------ outputs
def test_tuple_labels_decode_one_per_cell():
    rng = np.random.RandomState(0)
    table = np.empty((60, 2), dtype=object)
    table[:, 0] = rng.normal(size=60)
    labels = [(1, 2), (3, 4), (5, 6)]
    for i in range(60):
        table[i, 1] = labels[i % 3]
    model = CompositeMixture(2, random_state=0).fit(table)
    drawn, _ = model.sample(20)
    assert drawn.shape == (20, 2)
    assert all(label in labels for label in drawn[:, 1])
    holed = table[:5].copy()
    holed[0, 1] = None
    filled = model.impute(holed)
    assert filled.shape == (5, 2) and filled[0, 1] in labels
    assert filled[1, 1] == table[1, 1]


def test_impute_keeps_the_columns_dtypes():
    rng = np.random.RandomState(0)
    n = 80
    X = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "count": pd.array(rng.poisson(3, n), dtype="Int64"),
            "int": rng.poisson(5, n),
            "kind": pd.Categorical(
                rng.choice(["a", "b", "c"], n), categories=["c", "b", "a", "z"]
            ),
            "text": pd.array(rng.choice(["u", "v"], n), dtype="string"),
            "flag": pd.array(rng.uniform(size=n) < 0.5, dtype="boolean"),
            "single": rng.normal(size=n).astype(np.float32),
        }
    )
    model = CompositeMixture(2, random_state=0).fit(X)
    holed = X.copy()
    holed.loc[[0, 3], ["x", "count", "kind", "text", "flag", "single"]] = pd.NA
    filled = model.impute(holed)
    assert filled.dtypes.to_dict() == X.dtypes.to_dict()
    assert not filled.isna().any().any()
    # Observed entries unchanged; imputed counts are whole numbers.
    observed = ~holed.isna()
    for name in X.columns:
        pd.testing.assert_series_equal(
            filled[name][observed[name]], X[name][observed[name]]
        )
    assert set(filled["kind"]) <= {"a", "b", "c"}
    # The imputed count is the rounded posterior mean of the float output.
    as_float = model.impute(holed.astype({"count": "float64"}))
    assert filled.loc[0, "count"] == round(as_float.loc[0, "count"])


# ------------------------------------------------------------ support
def test_heterogeneous_scores_minus_inf_only_outside_every_support():
    rng = np.random.RandomState(0)
    X = np.r_[rng.exponential(0.5, 300), rng.lognormal(2, 0.3, 500)]
    X = np.r_[X, rng.normal(-2, 1, 200)][:, None]
    model = HeterogeneousMixture(
        ["exponential", "lognormal", "gaussian"], random_state=0
    ).fit(X[X[:, 0] > 0])
    w, p = model.weights_, model.params_
    new = np.array([[-1.0], [0.0], [3.0]])

    def densities(x):  # scipy.stats, 0 outside each support
        return np.array(
            [
                w[0] * stats.expon.pdf(x, scale=1 / p[0]["rate"][0]),
                w[1]
                * stats.lognorm.pdf(
                    x, np.sqrt(p[1]["varlog"][0]), scale=np.exp(p[1]["meanlog"][0])
                ),
                w[2] * stats.norm.pdf(x, p[2]["mean"][0], np.sqrt(p[2]["var"][0])),
            ]
        )

    expected = np.log([densities(x).sum() for x in new[:, 0]])
    np.testing.assert_allclose(model.score_samples(new), expected, rtol=1e-10)
    resp = model.predict_proba(new)
    np.testing.assert_allclose(resp[0], [0, 0, 1], atol=0)  # only the gaussian
    two = HeterogeneousMixture(["exponential", "lognormal"], random_state=0)
    two.fit(X[X[:, 0] > 0])
    assert two.score_samples(new)[0] == -np.inf
    assert np.all(np.isfinite(two.score_samples(new[1:])))
    message = r"Row 1 of X .* column 0 = -1.0 is outside the support of expo"
    with pytest.raises(ValueError, match=message):
        two.predict(new[[1, 0]])


@pytest.mark.parametrize(
    "row, column",
    [([-1.0, 2.0, 1.0], 0), ([1.5, 2.0, 1.0], 0), ([1, 11, 1.0], 1), ([1, 2, 0.0], 2)],
)
def test_composite_scores_minus_inf_outside_the_support(row, column):
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {
            "n": rng.poisson(3, 100),
            "k": rng.binomial(10, 0.3, 100),
            "t": rng.gamma(2.0, 1.0, 100),
        }
    )
    model = CompositeMixture(
        2, families=["poisson", Binomial(n_trials=10), "gamma"], random_state=0
    ).fit(X)
    bad = pd.DataFrame([row], columns=X.columns)
    assert model.score_samples(bad)[0] == -np.inf
    name = X.columns[column]
    message = f"column '{name}' = {float(row[column])!r} is outside the support"
    for method in (model.predict, model.predict_proba, model.transform):
        with pytest.raises(ValueError, match=message):
            method(bad)
    holed = bad.astype(float)
    holed.iloc[0, (column + 1) % 3] = np.nan
    with pytest.raises(ValueError, match=message):
        model.impute(holed)
    # The same entry missing: integrated out, a finite score.
    bad.iloc[0, column] = np.nan
    assert np.isfinite(model.score_samples(bad)[0])


def test_a_far_row_is_not_re_encoded_as_labels():
    # Density 0 everywhere for a finite far value: the generic error, not an
    # "unseen label" from encoding the encoded rows a second time.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(["a", "b"], 100)})
    model = CompositeMixture(2, random_state=0).fit(X)
    far = pd.DataFrame({"x": [1e200], "c": ["b"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="density 0 to double precision"):
            model.predict(far)
        assert model.score_samples(far)[0] == -np.inf


@pytest.mark.parametrize("estimator", [CompositeMixture, HeterogeneousMixture])
def test_warm_start_with_other_columns_says_so(estimator):
    rng = np.random.RandomState(0)
    model = estimator(warm_start=True, random_state=0).fit(rng.normal(size=(50, 2)))
    with pytest.raises(ValueError, match="warm_start=True .* 2 columns \\(now 3\\)"):
        model.fit(rng.normal(size=(50, 3)))
    assert model.n_features_in_ == 2  # untouched


@pytest.mark.parametrize("n_trials", ["x", 0, 2.5, np.inf, True, 2.0**60])
def test_binomial_trials_are_named_when_invalid(n_trials):
    X = np.random.RandomState(0).binomial(5, 0.5, (20, 1))
    with pytest.raises(ValueError, match=r"Column 0 \(binomial\): n_trials must be"):
        CompositeMixture(families=[Binomial(n_trials=n_trials)]).fit(X)
    with pytest.raises(ValueError, match="every count is 0"):
        CompositeMixture(families=["binomial"]).fit(np.zeros((5, 1)))


def test_frames_must_keep_their_columns_and_names():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({0: rng.normal(size=30), 1: rng.choice(["u", "v"], 30)})
    model = CompositeMixture(2, random_state=0).fit(X)
    # Integer names: scikit-learn checks string names only; the order was
    # not checked, and the columns were read shifted.
    with pytest.raises(ValueError, match=r"columns \[1, 0\] differ .* \[0, 1\]"):
        model.predict(X[[1, 0]])
    with pytest.raises(ValueError, match="repeated column names \\('x'\\)"):
        CompositeMixture(2).fit(X.set_axis(["x", "x"], axis=1))


def test_dates_are_refused_with_the_way_out():
    X = pd.DataFrame({"x": np.arange(30.0), "when": pd.date_range("2020", periods=30)})
    with pytest.raises(ValueError, match="'when' holds dates .* days since"):
        CompositeMixture(2).fit(X)
