"""mclust's 14 covariance models: M-steps and parameter counts.

References: the slow implementations of ``tests/_mclust_reference.py``
(Celeux & Govaert's formulas; other algorithms where there is no closed
form), R mclust 6.0.0's parameter counts and its fitted wine models
(``tests/data/mclust14_wine_params.json``, ``../shared/reference/
mclust14.md``), its hc starting partition (``tests/data/wine_hc_svd_G3.md``)
and scikit-learn's counts for its four covariance types.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from skmix.families import covariance_models as cm

from . import _mclust_reference as ref

DATA = Path(__file__).parent / "data"
MODELS = ref.MODELS


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """The references' many tiny matrix operations run on one BLAS thread:
    on several, OpenBLAS's idle workers spin and cost far more than the
    operations (as in fits, see ``skmix._threads.one_blas_thread``)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def wine():
    table = pd.read_csv(DATA / "wine.csv")
    return table.drop(columns="label").to_numpy(dtype=float)


@pytest.fixture(scope="module")
def mclust_fits():
    return json.loads((DATA / "mclust14_wine_params.json").read_text())["models"]


@pytest.fixture(scope="module")
def hc_responsibilities():
    labels = pd.read_csv(DATA / "wine_hc_svd_G3.csv")["hc_class"].to_numpy()
    return np.eye(3)[labels - 1]


def fitted(fit):
    return tuple(
        np.array(fit[key], dtype=float) for key in ("weights", "means", "covariances")
    )


def relative(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(b).max()


# ------------------------------------------------------------- counts


def test_module_lists_mclusts_models():
    assert cm.MODELS == MODELS


@pytest.mark.parametrize("model", MODELS)
def test_n_parameters_equal_mclusts(model):
    """nMclustParams for d = 1..5 and G = 1..4, printed by R."""
    expected = [int(v) for v in ref.MCLUST_N_PARAMETERS[model].split()]
    ours = [cm.n_parameters(model, G, d) for d in range(1, 6) for G in range(1, 5)]
    assert ours == expected


@pytest.mark.parametrize("model", MODELS)
def test_covariance_count_is_the_size_of_the_models_chart(model):
    for k, d in itertools.product((1, 2, 4), (1, 2, 3, 6)):
        assert cm.n_covariance_parameters(model, k, d) == ref.chart_size(model, k, d)


#: The "free parameters" column of ``../shared/reference/mclust14.md``
#: (wine, G = 3, d = 13; mclust's nMclustParams).
MCLUST14_TABLE = {
    "EII": 42, "VII": 44, "EEI": 54, "VEI": 56, "EVI": 78, "VVI": 80, "EEE": 132,
    "VEE": 134, "EVE": 156, "VVE": 158, "EEV": 288, "VEV": 290, "EVV": 312,
    "VVV": 314,
}  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_n_parameters_equal_the_wine_references(mclust_fits, model):
    assert cm.n_parameters(model, 3, 13) == mclust_fits[model]["df"]
    assert cm.n_parameters(model, 3, 13) == MCLUST14_TABLE[model]


@pytest.mark.parametrize(
    "name, model",
    [("spherical", "VII"), ("diag", "VVI"), ("tied", "EEE"), ("full", "VVV")],
)
def test_scikit_learn_names_are_their_mclust_models(name, model):
    assert cm.SKLEARN_MODELS[name] == model
    assert cm.check_model(name) == model
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    for k in (1, 2, 3):
        gm = GaussianMixture(k, covariance_type=name, random_state=0).fit(X)
        assert cm.n_parameters(name, k, 3) == gm._n_parameters()


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown covariance model 'XYZ'.*VVE"):
        cm.covariance_m_step("XYZ", np.ones(1), np.eye(2)[None])
    with pytest.raises(ValueError, match="Unknown covariance model"):
        cm.n_parameters("vvv", 2, 2)


# ------------------------------------------- M-steps against references


CASES = [(d, k) for d in (1, 2, 5) for k in (1, 3)]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("d, k", CASES)
def test_m_step_equals_the_reference(model, d, k):
    """Random scatter matrices, generic and drawn from the model itself."""
    rng = np.random.default_rng(100 * d + k)
    for structure, reg_covar in itertools.product((None, model), (0.0, 0.1)):
        n, scatter = ref.random_problem(rng, k, d, model=structure)
        ours = cm.covariance_m_step(model, n, scatter, reg_covar)
        expected = ref.reference_m_step(model, n, scatter, reg_covar)
        assert relative(ours.covariances, expected) < 1e-8
        assert ours.converged


@pytest.mark.parametrize("model", MODELS)
def test_m_step_stays_in_its_model(model):
    rng = np.random.default_rng(1)
    for d, k in ((2, 3), (5, 3), (4, 2)):
        n, scatter = ref.random_problem(rng, k, d)
        covariances = cm.covariance_m_step(model, n, scatter).covariances
        errors = ref.membership_errors(model, covariances)
        assert max(errors.values()) < 1e-10, errors


@pytest.mark.parametrize("model", MODELS)
def test_m_step_is_a_maximum_of_its_model(model):
    """No admissible covariance of the model near (or far from) the M-step's
    raises the expected complete-data log-likelihood, and its gradient along
    the model's parametrisation vanishes."""
    rng = np.random.default_rng(2)
    for d, k in ((3, 3), (5, 2)):
        n, scatter = ref.random_problem(rng, k, d)
        covariances = cm.covariance_m_step(model, n, scatter).covariances
        best = ref.expected_loglik(n, scatter, covariances)
        base = ref.decompose(model, covariances)
        size = ref.chart_size(model, k, d)
        assert ref.expected_loglik(
            n, scatter, ref.chart(model, base, np.zeros(size))
        ) == (pytest.approx(best, rel=1e-12))
        for scale in (1.0, 1e-1, 1e-2, 1e-3):
            for _ in range(10):
                x = rng.normal(scale=scale, size=size)
                other = ref.expected_loglik(n, scatter, ref.chart(model, base, x))
                assert other <= best + 1e-10 * abs(best)
        h = 1e-5
        for i in range(size):
            e = np.zeros(size)
            e[i] = h
            up = ref.expected_loglik(n, scatter, ref.chart(model, base, e))
            down = ref.expected_loglik(n, scatter, ref.chart(model, base, -e))
            assert abs(up - down) / (2 * h) < 1e-5 * n.sum()


def _nested(inner, outer):
    order = {"E": 0, "V": 1}
    shape_order = {"I": 0, "E": 1, "V": 2}
    return (
        order[inner[0]] <= order[outer[0]]
        and shape_order[inner[1]] <= shape_order[outer[1]]
        and shape_order[inner[2]] <= shape_order[outer[2]]
    )


@pytest.mark.parametrize("reg_covar", [0.0, 0.05])
def test_a_larger_model_never_does_worse_than_a_model_inside_it(reg_covar):
    """EII sits inside every model, EEI inside VEI, EEE, ...: the M-step of
    the larger model reaches at least the smaller one's maximum."""
    rng = np.random.default_rng(3)
    for d, k in ((2, 3), (4, 3), (5, 2)):
        n, scatter = ref.random_problem(rng, k, d)
        regularised = scatter + reg_covar * n[:, None, None] * np.eye(d)
        values = {
            model: ref.expected_loglik(
                n, regularised, cm.covariance_m_step(model, n, scatter, reg_covar)[0]
            )
            for model in MODELS
        }
        for inner, outer in itertools.permutations(MODELS, 2):
            if _nested(inner, outer):
                assert values[outer] >= values[inner] - 1e-10 * abs(values[inner])


# ------------------------------------------------- conventions, errors


@pytest.mark.parametrize("model", MODELS)
def test_precision_factors_are_scikit_learns(model):
    rng = np.random.default_rng(4)
    n, scatter = ref.random_problem(rng, 3, 4)
    result = cm.covariance_m_step(model, n, scatter)
    U = result.precisions_cholesky
    assert result.covariances.shape == U.shape == (3, 4, 4)
    assert np.allclose(np.tril(U, -1), 0.0)
    for factor, covariance in zip(U, result.covariances):
        np.testing.assert_allclose(
            factor @ factor.T @ covariance, np.eye(4), atol=1e-10
        )


@pytest.mark.parametrize("model", ["EII", "VII", "EEI", "VVI", "EEE", "VVV"])
def test_reg_covar_is_added_to_the_diagonal_as_scikit_learn_does(model):
    rng = np.random.default_rng(5)
    n, scatter = ref.random_problem(rng, 3, 4)
    plain = cm.covariance_m_step(model, n, scatter).covariances
    regularised = cm.covariance_m_step(model, n, scatter, 0.3).covariances
    np.testing.assert_allclose(regularised, plain + 0.3 * np.eye(4), rtol=1e-13)


@pytest.mark.parametrize("model", MODELS)
def test_reg_covar_regularises_the_scatter_matrices(model):
    rng = np.random.default_rng(6)
    n, scatter = ref.random_problem(rng, 3, 4)
    regularised = scatter + 0.3 * n[:, None, None] * np.eye(4)
    np.testing.assert_allclose(
        cm.covariance_m_step(model, n, scatter, 0.3).covariances,
        cm.covariance_m_step(model, n, regularised).covariances,
        rtol=1e-10,
    )


@pytest.mark.parametrize("model", MODELS)
def test_singular_scatter_raises_without_reg_covar(model):
    """Every component a point (spherical models), or a feature constant in
    every component (the others): singular under the model."""
    rng = np.random.default_rng(7)
    n, scatter = ref.random_problem(rng, 3, 4)
    if model in ("EII", "VII"):
        scatter[:] = 0.0
    else:
        scatter[:, 0, :] = scatter[:, :, 0] = 0.0
    with pytest.raises(
        ValueError, match=f"Fitting the {model} covariance model failed"
    ):
        cm.covariance_m_step(model, n, scatter)
    result = cm.covariance_m_step(model, n, scatter, reg_covar=1e-3)
    assert np.all(np.linalg.eigvalsh(result.covariances) > 0)


@pytest.mark.parametrize("model", ["VVV", "EVV", "EVE", "VVE"])
def test_one_singular_component_raises_where_the_model_needs_it_regular(model):
    rng = np.random.default_rng(8)
    n, scatter = ref.random_problem(rng, 3, 4)
    rows = rng.normal(size=(3, 4))  # three rows in four dimensions
    scatter[0] = (rows - rows.mean(0)).T @ (rows - rows.mean(0))
    n[0] = 3.0
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        cm.covariance_m_step(model, n, scatter)


@pytest.mark.parametrize(
    "resp_sum, scatter, message",
    [
        (np.ones(2), np.ones((3, 2, 2)), "must have shape"),
        (np.ones(2), np.ones((2, 2, 3)), "must have shape"),
        (np.array([1.0, 0.0]), np.repeat(np.eye(2)[None], 2, 0), "positive, finite"),
        (np.array([1.0, np.nan]), np.repeat(np.eye(2)[None], 2, 0), "positive, finite"),
        (np.ones(2), np.full((2, 2, 2), np.inf), "must be finite"),
    ],
)
def test_malformed_statistics_are_clear_errors(resp_sum, scatter, message):
    with pytest.raises(ValueError, match=message):
        cm.covariance_m_step("VVV", resp_sum, scatter)


def test_negative_reg_covar_is_an_error():
    with pytest.raises(ValueError, match="reg_covar must be non-negative"):
        cm.covariance_m_step("VEE", np.ones(1), np.eye(2)[None], reg_covar=-1.0)


@pytest.mark.parametrize("model", cm.ITERATIVE_MODELS)
def test_warm_start_from_the_solution_stays_there(model):
    rng = np.random.default_rng(9)
    n, scatter = ref.random_problem(rng, 3, 5, model=model)
    cold = cm.covariance_m_step(model, n, scatter)
    warm = cm.covariance_m_step(model, n, scatter, previous=cold.covariances)
    assert relative(warm.covariances, cold.covariances) < 1e-10
    assert warm.n_iter < cold.n_iter
    # An unusable previous (wrong shape, not positive definite) is ignored.
    for previous in (cold.covariances[:2], -cold.covariances):
        again = cm.covariance_m_step(model, n, scatter, previous=previous)
        np.testing.assert_array_equal(again.covariances, cold.covariances)


@pytest.mark.parametrize("model", cm.ITERATIVE_MODELS)
def test_capped_m_step_is_a_generalised_em_step(model):
    """With ``max_inner``, the iterative M-step from ``previous`` stops
    after that many inner iterations, stays in its model, never lowers the
    expected complete-data log-likelihood of ``previous`` and never
    exceeds the exact M-step's (the reference's formulas)."""
    rng = np.random.default_rng(11)
    n, scatter = ref.random_problem(rng, 3, 5)
    _, start = ref.random_problem(rng, 3, 5, model=model)
    previous = cm.covariance_m_step(model, n, start).covariances
    exact = ref.reference_m_step(model, n, scatter, 0.0)
    before = ref.expected_loglik(n, scatter, previous)
    best = ref.expected_loglik(n, scatter, exact)
    for cap in (1, 3):
        step = cm.covariance_m_step(model, n, scatter, previous=previous, max_inner=cap)
        assert step.n_iter <= cap
        errors = ref.membership_errors(model, step.covariances)
        assert max(errors.values()) < 1e-10, errors
        value = ref.expected_loglik(n, scatter, step.covariances)
        assert before - 1e-10 * abs(before) <= value <= best + 1e-10 * abs(best)
        assert not step.converged  # the cap binds: the exact step needs more
    uncapped = cm.covariance_m_step(model, n, scatter, previous=previous)
    assert relative(uncapped.covariances, exact) < 1e-8
    assert uncapped.n_iter > 3


# ------------------------------------------------------- mclust on wine


def _our_m_step(model):
    def m_step(n, scatter, previous):
        return cm.covariance_m_step(model, n, scatter, previous=previous).covariances

    return m_step


def _reference_m_step(model):
    def m_step(n, scatter, previous):
        if previous is None or model not in ("EVE", "VVE"):
            return ref.reference_m_step(model, n, scatter)
        start = ref.decompose(model, previous)[2][0]
        D = ref.common_orientation(model, n, scatter, start, mm_iterations=10)
        deltas = ref.orientation_deltas(model, n, scatter, D)
        return np.array([D @ np.diag(delta) @ D.T for delta in deltas])

    return m_step


#: How far one EM iteration from mclust's fitted parameters may move the
#: log-likelihood. mclust stops its EVE orientation iterations (Browne &
#: McNicholas's MM) at a relative change of 1e-10 in their target, short of
#: the M-step's maximum: R's own ``mstep(X, "EVE", z, control =
#: emControl(tol = c(1e-10, 1e-15)))`` from the E-step at these parameters
#: then ``estep`` gives -3040.56466870, 1.85e-5 above the file's
#: -3040.56468716. The exact M-step moves it by as much.
FIXED_POINT_LOGLIK = {"EVE": 5e-5}


@pytest.mark.parametrize("model", [m for m in MODELS if m != "VVE"])
def test_mclusts_wine_fits_are_fixed_points_of_the_m_step(wine, mclust_fits, model):
    weights, means, covariances = fitted(mclust_fits[model])
    loglik, resp = ref.e_step(wine, weights, means, covariances)
    assert loglik == pytest.approx(mclust_fits[model]["loglik"], abs=1e-6)
    n, new_means, scatter = ref.statistics(wine, resp)
    step = cm.covariance_m_step(model, n, scatter, previous=covariances)
    new_loglik, _ = ref.e_step(wine, n / n.sum(), new_means, step.covariances)
    assert -1e-9 <= new_loglik - loglik < FIXED_POINT_LOGLIK.get(model, 1e-6)
    assert relative(n / n.sum(), weights) < 1e-4
    assert relative(new_means, means) < 1e-4
    assert relative(step.covariances, covariances) < 1e-4


def test_mclusts_vve_is_the_fixed_point_of_another_m_step(wine, mclust_fits):
    """mclust 6's VVE M-step (``msvve``) updates the orientation with the
    shapes A_k but without the volumes lambda_k: the same iterations as its
    EVE, so its D maximises EVE's criterion, not VVE's likelihood. Its wine
    fit is a fixed point of that variant (written in the reference module
    from mclust's Fortran), while the exact VVE M-step, from the same
    responsibilities, raises the expected complete-data log-likelihood by
    ~4.7 and the log-likelihood by ~4.8."""
    weights, means, covariances = fitted(mclust_fits["VVE"])
    loglik, resp = ref.e_step(wine, weights, means, covariances)
    n, new_means, scatter = ref.statistics(wine, resp)
    start = ref.decompose("VVE", covariances)[2][0]
    variant = ref.mclust_vve_m_step(n, scatter, start)
    variant_loglik, _ = ref.e_step(wine, n / n.sum(), new_means, variant)
    assert abs(variant_loglik - loglik) < 5e-5
    assert relative(variant, covariances) < 1e-4
    exact = cm.covariance_m_step("VVE", n, scatter, previous=covariances)
    exact_loglik, _ = ref.e_step(wine, n / n.sum(), new_means, exact.covariances)
    assert exact_loglik > loglik + 4.0
    gain = ref.expected_loglik(n, scatter, exact.covariances) - ref.expected_loglik(
        n, scatter, variant
    )
    assert gain > 4.0
    expected = ref.reference_m_step("VVE", n, scatter, start=start)
    assert relative(exact.covariances, expected) < 1e-8


@pytest.mark.parametrize("model", MODELS)
def test_em_from_mclusts_hc_start_reaches_mclusts_fit(
    wine, mclust_fits, hc_responsibilities, model
):
    """EM with these M-steps from mclust's default start, to mclust's
    relative tolerance 1e-10, ends at mclust's log-likelihood; for VVE
    above it (see the test above), and above mclust's best of 25 starts
    (-3010.92418, ``mclust14.md``)."""
    loglik, _, history = ref.run_em(wine, hc_responsibilities, _our_m_step(model))
    expected = mclust_fits[model]["loglik"]
    if model == "VVE":
        assert loglik > -3010.92418 > expected
    else:
        assert loglik == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("model", MODELS)
def test_em_iterations_equal_the_reference_em(wine, hc_responsibilities, model):
    """From the same responsibilities, the parameters after 1, 2 and 50
    iterations with skmix's M-step and with the reference's agree."""
    _, _, ours = ref.run_em(wine, hc_responsibilities, _our_m_step(model), n_iter=50)
    _, _, expected = ref.run_em(
        wine, hc_responsibilities, _reference_m_step(model), n_iter=50
    )
    for iteration in (0, 1, 49):
        for mine, theirs in zip(ours[iteration], expected[iteration]):
            assert relative(mine, theirs) < 1e-8
