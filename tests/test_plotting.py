"""skmix.plotting: every display on every estimator it applies to (Agg).

The figures are checked by what they hold: the number of lines, ellipses
and points, and the drawn values against independent NumPy / SciPy
computations (ellipse boundaries at the stated Mahalanobis distance,
mixture densities from the fitted parameters, quantile thresholds).
"""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmix import (
    CoinMixture,
    CompositeMixture,
    GaussianMixtureEM,
    HeterogeneousMixture,
    NIGMixture,
)
from skmix.datasets import load_faithful

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skmix.plotting import (  # noqa: E402
    AnomalyScoreDisplay,
    BICDisplay,
    ClassificationDisplay,
    CompositeProfileDisplay,
    ConvergenceDisplay,
    DensityDisplay,
)

pd = pytest.importorskip("pandas")
X_FAITHFUL = load_faithful(return_X_y=True)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def three_blobs(n=60, d=3, seed=0):
    rng = np.random.RandomState(seed)
    centers = np.array([[0.0] * d, [6.0] * d, [0.0, 8.0] + [3.0] * (d - 2)])
    return np.vstack([c + rng.normal(size=(n, d)) for c in centers])


def n_points(collections):
    return sum(len(c.get_offsets()) for c in collections)


def ellipse_mahalanobis(ellipse, mean, covariance):
    """Squared Mahalanobis distances of points on an ellipse's boundary (the
    end points of its Bezier segments, which lie on the curve)."""
    path = ellipse.get_path()
    on_curve = path.vertices[:-1:3]  # MOVETO, then every CURVE4's end point
    assert path.codes[0] == path.MOVETO and len(on_curve) >= 8
    offsets = ellipse.get_patch_transform().transform(on_curve) - mean
    return np.einsum("ij,jk,ik->i", offsets, np.linalg.inv(covariance), offsets)


def full_covariance_of(model, c):
    """Component c's covariance as a d x d matrix, from scikit-learn's shapes."""
    cov, d = model.covariances_, model.means_.shape[1]
    return {
        "full": lambda: cov[c],
        "tied": lambda: cov,
        "diag": lambda: np.diag(cov[c]),
        "spherical": lambda: cov[c] * np.eye(d),
    }[model.covariance_type]()


# ------------------------------------------------------------------ imports
def test_importing_skmix_and_plotting_does_not_import_matplotlib():
    code = "import sys, skmix, skmix.plotting;print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------ classification
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_classification_two_features_each_covariance_type(covariance_type):
    model = GaussianMixtureEM(3, covariance_type=covariance_type, random_state=0).fit(
        X_FAITHFUL
    )
    display = ClassificationDisplay.from_estimator(model, X_FAITHFUL)
    assert len(display.scatters_) == 3
    assert n_points(display.scatters_) == len(X_FAITHFUL)
    assert len(display.ellipses_) == 3 * 2
    assert len(display.centers_) == 1
    labels = model.predict(X_FAITHFUL)
    for c in range(3):
        assert len(display.scatters_[c].get_offsets()) == np.sum(labels == c)
        covariance = full_covariance_of(model, c)
        for e, n_std in enumerate((1.0, 2.0)):
            distances = ellipse_mahalanobis(
                display.ellipses_[2 * c + e], model.means_[c], covariance
            )
            np.testing.assert_allclose(distances, n_std**2, rtol=1e-9)


def test_classification_point_size_grows_with_uncertainty():
    model = GaussianMixtureEM(3, covariance_type="tied", random_state=0).fit(X_FAITHFUL)
    display = ClassificationDisplay.from_estimator(
        model, X_FAITHFUL, point_size=10.0, max_point_size=90.0
    )
    uncertainty = 1 - model.predict_proba(X_FAITHFUL).max(axis=1)
    labels = model.predict(X_FAITHFUL)
    for c, scatter in enumerate(display.scatters_):
        expected = 10.0 + 80.0 * np.clip(uncertainty[labels == c] / (2 / 3), 0, 1)
        np.testing.assert_allclose(scatter.get_sizes(), expected)


def test_classification_scatter_matrix_and_pairs():
    X = three_blobs(d=4)
    model = GaussianMixtureEM(3, random_state=0).fit(X)
    display = ClassificationDisplay.from_estimator(model, X, features=[0, 1, 3])
    assert display.axes_.shape == (3, 3)
    panels = 3 * 2  # off-diagonal cells
    assert len(display.scatters_) == panels * 3
    assert len(display.ellipses_) == panels * 3 * 2
    assert n_points(display.scatters_) == panels * len(X)
    # Panel (row 2, col 0): x = feature 0, y = feature 3.
    panel = display.axes_[2, 0]
    ellipse = next(p for p in panel.patches)
    sub = model.covariances_[0][np.ix_([0, 3], [0, 3])]
    distances = ellipse_mahalanobis(ellipse, model.means_[0, [0, 3]], sub)
    np.testing.assert_allclose(distances, 1.0, rtol=1e-9)

    display = ClassificationDisplay.from_estimator(
        model, X, pairs=[(0, 2), (1, 3)], n_std=(1.5,)
    )
    assert len(display.scatters_) == 2 * 3
    assert len(display.ellipses_) == 2 * 3 * 1
    with pytest.raises(ValueError, match="at least 2"):
        ClassificationDisplay.from_estimator(model, X, features=[1])
    with pytest.raises(ValueError, match="distinct column"):
        ClassificationDisplay.from_estimator(model, X, features=[0, 7])


def test_classification_reads_k_d_d_covariances_of_other_models():
    """mclust's models (and NIG's moments) keep covariances_ (k, d, d)."""
    model = GaussianMixtureEM(2, random_state=0).fit(X_FAITHFUL)
    model.covariance_type = "VVE"  # what an mclust model will report
    display = ClassificationDisplay.from_estimator(model, X_FAITHFUL, n_std=(1,))
    for c in range(2):
        distances = ellipse_mahalanobis(
            display.ellipses_[c], model.means_[c], model.covariances_[c]
        )
        np.testing.assert_allclose(distances, 1.0, rtol=1e-9)

    nig = NIGMixture(2, covariance_type="tied", random_state=0).fit(X_FAITHFUL)
    display = ClassificationDisplay.from_estimator(nig, X_FAITHFUL)
    assert len(display.ellipses_) == 4
    distances = ellipse_mahalanobis(
        display.ellipses_[2], nig.means_[1], nig.covariances_[1]
    )
    np.testing.assert_allclose(distances, 1.0, rtol=1e-9)


def test_classification_without_means_draws_no_ellipse():
    rng = np.random.RandomState(0)
    counts = np.vstack(
        [rng.multinomial(20, [0.8, 0.2], 50), rng.multinomial(20, [0.3, 0.7], 50)]
    )
    coins = CoinMixture(2, random_state=0).fit(counts)
    display = ClassificationDisplay.from_estimator(coins, counts)
    assert display.ellipses_ == [] and display.centers_ == []
    assert n_points(display.scatters_) == 100

    table = three_blobs(d=2)
    composite = CompositeMixture(3, random_state=0).fit(table)
    display = ClassificationDisplay.from_estimator(composite, table)
    assert n_points(display.scatters_) == len(table)

    hetero = HeterogeneousMixture(["gaussian", "gaussian", "gaussian"]).fit(table)
    display = ClassificationDisplay.from_estimator(hetero, table)
    assert n_points(display.scatters_) == len(table)


def test_classification_draws_on_given_axes():
    model = GaussianMixtureEM(2, random_state=0).fit(X_FAITHFUL)
    figure, ax = plt.subplots()
    display = ClassificationDisplay.from_estimator(model, X_FAITHFUL, ax=ax)
    assert display.ax_ is ax and display.figure_ is figure
    with pytest.raises(ValueError, match="Axes"):
        ClassificationDisplay.from_estimator(
            GaussianMixtureEM(2, random_state=0).fit(three_blobs()),
            three_blobs(),
            ax=ax,
        )


# ------------------------------------------------------------------ density
def test_density_1d_against_the_fitted_normals():
    x = X_FAITHFUL[:, :1]
    model = GaussianMixtureEM(2, random_state=0).fit(x)
    display = DensityDisplay.from_estimator(model, x)
    grid = display.density_line_.get_xdata()
    expected = [
        w * norm(m[0], np.sqrt(c[0, 0])).pdf(grid)
        for w, m, c in zip(model.weights_, model.means_, model.covariances_)
    ]
    np.testing.assert_allclose(display.density_line_.get_ydata(), sum(expected))
    assert len(display.component_lines_) == 2
    for line, values in zip(display.component_lines_, expected, strict=True):
        np.testing.assert_allclose(line.get_ydata(), values, rtol=1e-10, atol=1e-300)
    heights = np.array([p.get_height() for p in display.hist_])
    widths = np.array([p.get_width() for p in display.hist_])
    assert np.isclose(np.sum(heights * widths), 1.0)


def test_density_marginal_of_a_gaussian_with_more_features():
    model = GaussianMixtureEM(2, covariance_type="diag", random_state=0).fit(X_FAITHFUL)
    display = DensityDisplay.from_estimator(model, X_FAITHFUL, features=[1])
    grid = display.density_line_.get_xdata()
    expected = sum(
        w * norm(m[1], np.sqrt(v[1])).pdf(grid)
        for w, m, v in zip(model.weights_, model.means_, model.covariances_)
    )
    np.testing.assert_allclose(display.density_line_.get_ydata(), expected)


def test_density_2d_contours_of_score_samples():
    model = GaussianMixtureEM(3, random_state=0).fit(X_FAITHFUL)
    display = DensityDisplay.from_estimator(model, X_FAITHFUL, levels=8)
    assert display.contour_ is not None and len(display.contour_.levels) == 8
    assert len(display.scatter_.get_offsets()) == len(X_FAITHFUL)
    x, y = display.grid
    xx, yy = np.meshgrid(x, y)
    expected = model.score_samples(np.column_stack([xx.ravel(), yy.ravel()]))
    np.testing.assert_allclose(display.density, expected.reshape(xx.shape))
    assert display.density.max() <= display.contour_.levels.max() + 1e-12


@pytest.mark.parametrize("make", ["nig", "hetero", "composite"])
def test_density_on_other_estimators(make):
    rng = np.random.RandomState(0)
    if make == "nig":
        model = NIGMixture(2, random_state=0).fit(X_FAITHFUL)
        display = DensityDisplay.from_estimator(model, X_FAITHFUL)
        assert display.contour_ is not None
        return
    x = np.r_[rng.exponential(0.5, 150), rng.lognormal(1.5, 0.3, 150)][:, None]
    if make == "hetero":
        model = HeterogeneousMixture(["exponential", "lognormal"], random_state=0)
    else:
        model = CompositeMixture(2, families=["lognormal"], random_state=0)
    model.fit(x)
    display = DensityDisplay.from_estimator(model, x)
    grid = display.density_line_.get_xdata()
    np.testing.assert_allclose(
        display.density_line_.get_ydata(), np.exp(model.score_samples(grid[:, None]))
    )
    assert len(display.component_lines_) == 2


def test_density_refuses_what_it_cannot_draw():
    X = three_blobs()
    nig = NIGMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="choose one or two"):
        DensityDisplay.from_estimator(nig, X)
    with pytest.raises(ValueError, match="GaussianMixtureEM"):
        DensityDisplay.from_estimator(nig, X, features=[0, 1])
    gm = GaussianMixtureEM(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="one or two"):
        DensityDisplay.from_estimator(gm, X, features=[0, 1, 2])


# -------------------------------------------------------------- convergence
def fitted_models():
    rng = np.random.RandomState(0)
    counts = np.vstack(
        [rng.multinomial(10, [0.8, 0.2], 40), rng.multinomial(10, [0.3, 0.7], 40)]
    )
    table = X_FAITHFUL.copy()
    table[::9, 0] = np.nan
    options = dict(n_init=4, random_state=0)
    return {
        "gaussian": (GaussianMixtureEM(2, **options).fit(X_FAITHFUL), X_FAITHFUL),
        "coin": (CoinMixture(2, **options).fit(counts), counts),
        "nig": (NIGMixture(2, **options).fit(X_FAITHFUL), X_FAITHFUL),
        "composite": (CompositeMixture(2, **options).fit(table), table),
        "hetero": (
            HeterogeneousMixture(["gaussian", "gaussian"], **options).fit(X_FAITHFUL),
            X_FAITHFUL,
        ),
    }


@pytest.fixture(scope="module")
def models():
    return fitted_models()


@pytest.mark.parametrize("name", ["gaussian", "coin", "nig", "composite", "hetero"])
def test_convergence_from_final_values(models, name):
    model, _ = models[name]
    # An estimator without per-start traces (skmix kept none before issue
    # 23): the fallback draws each start's final values.
    untraced = types.SimpleNamespace(
        **{k: v for k, v in vars(model).items() if k != "start_traces_"}
    )
    display = ConvergenceDisplay.from_estimator(untraced)
    np.testing.assert_array_equal(
        display.fit_line_.get_ydata(), np.asarray(model.lower_bounds_)
    )
    train, validation = display.final_markers_
    np.testing.assert_array_equal(train.get_offsets()[:, 1], model.start_lower_bounds_)
    np.testing.assert_array_equal(
        validation.get_offsets()[:, 1], model.start_validation_scores_
    )
    chosen = display.chosen_marker_.get_offsets()
    assert chosen[0, 1] == model.start_lower_bounds_[model.best_start_]
    assert chosen[1, 1] == model.start_validation_scores_[model.best_start_]


@pytest.mark.parametrize("name", ["gaussian", "coin", "nig", "composite", "hetero"])
def test_convergence_draws_a_fitted_estimators_traces(models, name):
    model, _ = models[name]
    display = ConvergenceDisplay.from_estimator(model)
    n_starts = len(model.start_lower_bounds_)
    assert len(display.train_lines_) == len(model.start_traces_) == n_starts
    split = np.isfinite(model.start_validation_scores_).all()
    assert len(display.validation_lines_) == (n_starts if split else 0)
    for line, trace, final in zip(
        display.train_lines_, model.start_traces_, model.start_lower_bounds_
    ):
        np.testing.assert_array_equal(line.get_ydata(), trace["train"])
        assert trace["train"][-1] == final


def test_convergence_draws_per_start_traces_when_kept(models):
    model, _ = models["gaussian"]
    traced = types.SimpleNamespace(
        lower_bounds_=model.lower_bounds_,
        best_start_=2,
        start_lower_bounds_=model.start_lower_bounds_,
        start_validation_scores_=model.start_validation_scores_,
        start_traces_=[
            dict(train=np.linspace(-5, -4.2, 6), validation=np.linspace(-5, -4.3, 6)),
            dict(train=np.linspace(-5, -4.1, 9), validation=None),
            dict(train=np.linspace(-6, -4.0, 4), validation=np.linspace(-6, -4, 4)),
        ],
    )
    display = ConvergenceDisplay.from_estimator(traced)
    assert len(display.train_lines_) == 3
    assert len(display.validation_lines_) == 2
    np.testing.assert_array_equal(
        display.train_lines_[1].get_ydata(), np.linspace(-5, -4.1, 9)
    )
    chosen = display.train_lines_[2]
    assert chosen.get_linewidth() > display.train_lines_[0].get_linewidth()
    assert display.chosen_marker_.get_xydata().tolist() == [[4.0, -4.0]]
    assert display.final_markers_ == []


def test_convergence_needs_a_fitted_estimator():
    with pytest.raises(ValueError, match="not fitted"):
        ConvergenceDisplay.from_estimator(GaussianMixtureEM())


# ------------------------------------------------------------------ profile
def test_composite_profile_every_family_and_missing():
    rng = np.random.RandomState(0)
    n = 300
    z = rng.randint(2, size=n)
    frame = pd.DataFrame(
        {
            "g": rng.normal(3 * z, 1.0),
            "ln": rng.lognormal(z, 0.3),
            "ex": rng.exponential(1 + z),
            "ga": rng.gamma(2 + z, 1.0),
            "po": rng.poisson(2 + 4 * z),
            "ge": rng.geometric(0.5 - 0.3 * z),
            "bi": rng.binomial(10, 0.2 + 0.5 * z),
            "be": rng.uniform(size=n) < 0.2 + 0.6 * z,
            "ca": np.where(z, rng.choice(["a", "b", "c"], n), "a"),
        }
    )
    frame.loc[::7, "g"] = np.nan
    families = [
        "gaussian",
        "lognormal",
        "exponential",
        "gamma",
        "poisson",
        "geometric",
        "binomial",
        "bernoulli",
        "categorical",
    ]
    model = CompositeMixture(2, families=families, missing="model", random_state=0).fit(
        frame
    )
    display = CompositeProfileDisplay.from_estimator(model)
    assert len([a for a in display.axes_.ravel() if a.get_visible()]) == 9
    assert len(display.errorbars_) == 7 * 2
    assert len(display.bars_) == 2 + 3  # bernoulli and categorical levels
    assert all(len(bars.patches) == 2 for bars in display.bars_)
    # Gaussian column: the mean and the standard deviation of each component.
    for c in range(2):
        line = display.errorbars_[c].lines[0]
        assert line.get_xdata()[0] == model.params_["g"]["mean"][c]
    # Poisson: mean = rate; exponential: 1 / rate; lognormal: exp(m + v / 2).
    assert (
        display.errorbars_[8].lines[0].get_xdata()[0] == model.params_["po"]["rate"][0]
    )
    np.testing.assert_allclose(
        display.errorbars_[4].lines[0].get_xdata()[0],
        1 / model.params_["ex"]["rate"][0],
    )
    m, v = model.params_["ln"]["meanlog"][1], model.params_["ln"]["varlog"][1]
    np.testing.assert_allclose(
        display.errorbars_[3].lines[0].get_xdata()[0], np.exp(m + v / 2)
    )
    # Categorical bars: widths are the level probabilities.
    widths = [[p.get_width() for p in bars.patches] for bars in display.bars_[2:]]
    np.testing.assert_allclose(
        np.array(widths).T, model.params_["ca"]["probabilities"], atol=1e-15
    )
    labels = [t.get_text() for t in display.axes_.ravel()[0].get_yticklabels()]
    assert all("missing" in label for label in labels)


def test_composite_profile_refuses_other_estimators(models):
    for name in ("gaussian", "hetero"):
        with pytest.raises(ValueError, match="CompositeMixture"):
            CompositeProfileDisplay.from_estimator(models[name][0])


# ------------------------------------------------------------------ anomaly
@pytest.mark.parametrize("name", ["gaussian", "coin", "nig", "composite", "hetero"])
def test_anomaly_scores_on_every_estimator(models, name):
    model, X = models[name]
    display = AnomalyScoreDisplay.from_estimator(model, X, quantile=0.05, bins=20)
    scores = model.score_samples(X)
    threshold = np.quantile(scores, 0.05)
    assert display.threshold == threshold
    assert display.threshold_line_.get_xdata()[0] == threshold
    assert len(display.hist_) == 20
    assert sum(p.get_height() for p in display.hist_) == len(X)
    flagged = scores < threshold
    np.testing.assert_array_equal(display.flagged, flagged)
    assert len(display.rug_.get_xdata()) == flagged.sum()


def test_anomaly_scores_in_a_pipeline_and_given_threshold():
    pipe = make_pipeline(StandardScaler(), GaussianMixtureEM(2, random_state=0))
    pipe.fit(X_FAITHFUL)
    display = AnomalyScoreDisplay.from_estimator(pipe, X_FAITHFUL, threshold=-2.5)
    expected = pipe.score_samples(X_FAITHFUL) < -2.5
    np.testing.assert_array_equal(display.flagged, expected)
    assert str(expected.sum()) in display.ax_.get_title()
    display = AnomalyScoreDisplay.from_scores([0.0, -1.0, -np.inf], threshold=-0.5)
    assert display.flagged.tolist() == [False, True, True]
    assert "1 with density 0" in display.ax_.get_title()
    with pytest.raises(ValueError, match="NaN"):
        AnomalyScoreDisplay.from_scores([0.0, np.nan])
    with pytest.raises(ValueError, match="quantile"):
        AnomalyScoreDisplay.from_scores([0.0, 1.0], quantile=1.5)


# ---------------------------------------------------------------------- BIC
MCLUST_MODELS = [
    "EII",
    "VII",
    "EEI",
    "VEI",
    "EVI",
    "VVI",
    "EEE",
    "VEE",
    "EVE",
    "VVE",
    "EEV",
    "VEV",
    "EVV",
    "VVV",
]


def selection_table(models=("full", "tied", "diag", "spherical"), g_max=4):
    """A hand-made table in the model-selection contract."""
    rows = []
    for m, model in enumerate(models):
        for g in range(1, g_max + 1):
            bic = 1000.0 + 10 * m + (g - 3) ** 2
            rows.append(
                dict(
                    estimator="GaussianMixtureEM",
                    covariance_type=model,
                    n_components=g,
                    log_likelihood=-bic / 2,
                    n_parameters=g * 3,
                    bic=bic,
                    aic=bic - 5,
                    icl=bic + g,
                    converged=True,
                    degenerate=False,
                    failed=False,
                    reason="",
                )
            )
    return pd.DataFrame(rows)


def result_of(table, best_index, criterion="bic"):
    return types.SimpleNamespace(
        table=table, best_index_=best_index, criterion=criterion
    )


def test_bic_one_line_per_model_failed_gaps_degenerate_hollow_best_ringed():
    table = selection_table()
    table.loc[
        (table.covariance_type == "diag") & (table.n_components == 4), "failed"
    ] = True
    table.loc[(table.covariance_type == "diag") & (table.n_components == 4), "bic"] = (
        np.nan
    )
    table.loc[
        (table.covariance_type == "full") & (table.n_components == 2), "degenerate"
    ] = True
    table.loc[(table.covariance_type == "full") & (table.n_components == 2), "bic"] = (
        900.0
    )
    best = int(
        table[(table.covariance_type == "full") & (table.n_components == 3)].index[0]
    )
    display = BICDisplay.from_selection(result_of(table, best))
    assert len(display.lines_) == 4
    full = display.lines_[("full (VVV)", "bic")]
    np.testing.assert_array_equal(full.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(full.get_ydata(), [1004.0, np.nan, 1000.0, 1001.0])
    diag = display.lines_[("diag (VVI)", "bic")]
    assert np.isnan(diag.get_ydata()[3])
    assert len(display.degenerate_markers_) == 1
    assert display.degenerate_markers_[0].get_ydata().tolist() == [900.0]
    assert display.best_marker_.get_xydata().tolist() == [[3.0, 1000.0]]
    assert "lower is better" in display.ax_.get_ylabel()


def test_bic_and_icl_lines_mclust_sign_and_fourteen_models():
    table = selection_table(MCLUST_MODELS, g_max=3)
    display = BICDisplay.from_selection(
        result_of(table, 2), criteria=("bic", "icl"), sign="mclust"
    )
    assert len(display.lines_) == 14 * 2
    line = display.lines_[("EII", "icl")]
    np.testing.assert_array_equal(line.get_ydata(), -table.icl[:3].to_numpy())
    assert line.get_linestyle() == "--"
    assert display.best_marker_.get_xydata().tolist() == [[3.0, -1000.0]]
    assert "higher is better" in display.ax_.get_ylabel()
    assert len({display.lines_[(m, "bic")].get_marker() for m in MCLUST_MODELS}) == 14


def test_bic_names_estimators_and_checks_the_table():
    table = pd.concat(
        [
            selection_table(("full",), 3),
            selection_table(("full",), 3).assign(estimator="NIGMixture"),
            selection_table((None,), 3).assign(estimator="CompositeMixture"),
        ],
        ignore_index=True,
    )
    display = BICDisplay.from_selection(result_of(table, 0, "icl"))
    assert set(display.lines_) == {
        ("GaussianMixtureEM full (VVV)", "icl"),
        ("NIGMixture full (VVV)", "icl"),
        ("CompositeMixture", "icl"),
    }
    with pytest.raises(ValueError, match="lacks the columns"):
        BICDisplay.from_table(table.drop(columns="failed"))
    with pytest.raises(ValueError, match="criteria"):
        BICDisplay.from_table(table, criteria=("loglik",))
    with pytest.raises(ValueError, match="empty"):
        BICDisplay.from_table(table.iloc[:0])


def test_saved_figures_are_png(tmp_path, models):
    model, X = models["gaussian"]
    display = ClassificationDisplay.from_estimator(model, X)
    display.figure_.savefig(tmp_path / "classification.png")
    assert (tmp_path / "classification.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_classification_feature_names():
    model = GaussianMixtureEM(2, random_state=0).fit(X_FAITHFUL)
    display = ClassificationDisplay.from_estimator(
        model, X_FAITHFUL, feature_names=["eruptions", "waiting"]
    )
    assert display.ax_.get_xlabel() == "eruptions"
    assert display.ax_.get_ylabel() == "waiting"
    frame = pd.DataFrame(X_FAITHFUL, columns=["a", "b"])
    fitted = GaussianMixtureEM(2, random_state=0).fit(frame)
    display = ClassificationDisplay.from_estimator(fitted, frame)
    assert (display.ax_.get_xlabel(), display.ax_.get_ylabel()) == ("a", "b")
    with pytest.raises(ValueError, match="feature_names has 1 names for 2"):
        ClassificationDisplay.from_estimator(model, X_FAITHFUL, feature_names=["a"])


@pytest.mark.parametrize(
    "display, method",
    [
        (DensityDisplay, "score_samples"),
        (ClassificationDisplay, "predict_proba"),
        (AnomalyScoreDisplay, "score_samples"),
    ],
)
def test_not_an_estimator_is_a_clear_type_error(display, method):
    with pytest.raises(TypeError, match=f"needs a fitted estimator with {method}"):
        display.from_estimator("not a model", X_FAITHFUL)


def test_density_of_no_rows_is_a_clear_error(models):
    model, _ = models["gaussian"]
    with pytest.raises(ValueError, match="X has no rows"):
        DensityDisplay.from_estimator(model, np.empty((0, 2)))


def test_bic_display_of_something_else_is_a_clear_type_error():
    with pytest.raises(TypeError, match="needs what select_model returns"):
        BICDisplay.from_selection("not a search")
