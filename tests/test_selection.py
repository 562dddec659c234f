"""skmix.select_model and the multi-start rules it relies on, against R
mclust 6.0.0 (``../shared/reference/mclust14.md``: wine at G = 3 for the 14
covariance models, its ``Mclust(X, G = 1:9)`` choice on wine, Old Faithful's
tied G = 3 optimum) and naive NumPy formulas (BIC, AIC, ICL)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmix import FailedStartsWarning, GaussianMixtureEM, select_model
from skmix.__main__ import main
from skmix.datasets import load_faithful

from . import _mclust_reference as ref

DATA = Path(__file__).parent / "data"
ALIASES = {"VII": "spherical", "VVI": "diag", "EEE": "tied", "VVV": "full"}
ALIASES_BACK = {name: model for model, name in ALIASES.items()}

#: mclust14.md, "Each model at G = 3": free parameters, the best
#: log-likelihood over 25 starts, and the log-likelihood from mclust's
#: default start (hc on SVD-scaled data), all run to a relative tolerance of
#: 1e-10 without regularisation.
WINE_G3 = {
    "EII": (42, -11496.28371, -11496.28371),
    "VII": (44, -11179.00993, -11183.51740),
    "EEI": (54, -3422.79009, -3422.79009),
    "VEI": (56, -3387.24802, -3387.24802),
    "EVI": (78, -3309.97875, -3309.97875),
    "VVI": (80, -3294.26188, -3294.26188),
    "EEE": (132, -3171.22928, -3171.22928),
    "VEE": (134, -3134.05255, -3134.05255),
    "EVE": (156, -3032.44003, -3040.56469),
    "VVE": (158, -3010.92418, -3015.44933),
    "EEV": (288, -2910.81164, -2914.13861),
    "VEV": (290, -2873.71133, -2873.71133),
    "EVV": (312, -2830.60578, -2830.60578),
    "VVV": (314, -2788.42850, -2788.42850),
}


@pytest.fixture(scope="module")
def wine():
    return pd.read_csv(DATA / "wine.csv").drop(columns="label").to_numpy(float)


@pytest.mark.parametrize("model", list(WINE_G3))
def test_wine_hc_start_reaches_mclusts_hc_optimum(wine, model):
    # "At least": mclust's VVE M-step is not the maximum-likelihood one (its
    # orientation update leaves out the component volumes), so from the same
    # start our exact VVE M-step ends higher (-3010.53 > -3015.45).
    gm = GaussianMixtureEM(
        3,
        covariance_type=ALIASES.get(model, model),
        reg_covar=0.0,
        tol=1e-10,
        max_iter=10_000,
        init_params="hc",
    ).fit(wine)
    n_parameters, _, from_hc = WINE_G3[model]
    assert gm.score(wine) * len(wine) >= from_hc - 1e-3
    assert gm._n_parameters() == n_parameters


@pytest.fixture(scope="module")
def wine_search(wine):
    # The default starts with a seed drawn anew each run (as a user's
    # template without random_state gets), but known: a failure names it,
    # so that it can be reproduced.
    seed = int(np.random.default_rng().integers(2**31))
    template = GaussianMixtureEM(
        reg_covar=0.0, tol=1e-10, max_iter=10_000, random_state=seed
    )
    search = select_model(template, wine, n_components=[3])
    search.seed = seed
    return search


@pytest.mark.parametrize("model", list(WINE_G3))
def test_wine_search_reaches_mclusts_best_of_25_starts(wine, wine_search, model):
    table = wine_search.table
    row = table[table.covariance_type == ALIASES.get(model, model)].iloc[0]
    n_parameters, best, _ = WINE_G3[model]
    assert row.log_likelihood >= best - 1e-3, (row.reason, wine_search.seed)
    assert row.n_parameters == n_parameters
    assert not (row.failed or row.degenerate) and row.converged
    n = len(wine)
    assert row.bic == pytest.approx(-2 * row.log_likelihood + np.log(n) * n_parameters)
    assert row.aic == pytest.approx(-2 * row.log_likelihood + 2 * n_parameters)


def test_wine_search_table_contract_and_icl(wine, wine_search):
    table = wine_search.table
    assert list(table.columns) == [
        "estimator", "covariance_type", "n_components", "log_likelihood",
        "n_parameters", "bic", "aic", "icl", "converged", "degenerate", "failed",
        "reason",
    ]  # fmt: skip
    assert len(table) == 14 and set(table.estimator) == {"GaussianMixtureEM"}
    assert wine_search.criterion == "bic"
    assert wine_search.best_index_ == int(np.nanargmin(table.bic))
    # mclust's ICL: BIC - 2 sum_i log z_i,MAP, from the reference E-step.
    best = wine_search.best_estimator_
    covariances = np.asarray(best.covariances_)
    if covariances.ndim == 2:  # tied
        covariances = np.repeat(covariances[None], 3, axis=0)
    _, resp = ref.e_step(wine, best.weights_, best.means_, covariances)
    row = table.iloc[wine_search.best_index_]
    icl = row.bic - 2 * np.sum(np.log(resp.max(axis=1)))
    assert row.icl == pytest.approx(icl, rel=1e-10)


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_faithful_tied_three_components_ten_starts_reaches_the_optimum(random_state):
    # scikit-learn (50 starts) and mclust's optimum: BIC 2314.30 (our sign).
    X = load_faithful(return_X_y=True)
    gm = GaussianMixtureEM(3, covariance_type="tied", n_init=10)
    gm.set_params(random_state=random_state).fit(X)
    assert gm.bic(X) == pytest.approx(2314.30, abs=0.01)


def test_command_line_on_wine_chooses_mclusts_model(wine, tmp_path, capsys):
    # mclust: VVE, G = 3, BIC 6849.38739 in our sign (log-likelihood
    # -3015.33280, 158 parameters).
    path = tmp_path / "wine.csv"
    columns = [f"x{j}" for j in range(wine.shape[1])]
    pd.DataFrame(wine, columns=columns).to_csv(path, index=False)
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "chosen model: 3 components, covariance_type='VVE' (mclust VVE)" in out
    line = next(line for line in out.splitlines() if "free parameters" in line)
    bic = float(line.split("BIC ")[1].split(",")[0])
    assert bic <= 6849.387


def _against_mclust(X, reference):
    """mclust's BIC table (``tests/data/mclust_*_bic.csv``, made by R)
    beside the search's: the rows where both have a BIC, and how many
    rows mclust has."""
    reference = pd.read_csv(DATA / reference, comment="#")
    search = select_model(GaussianMixtureEM(random_state=0), X)
    ours = search.table.assign(
        model=[ALIASES_BACK.get(c, c) for c in search.table["covariance_type"]],
        G=search.table["n_components"],
    )
    both = reference.merge(ours[["model", "G", "bic"]], on=["model", "G"])
    both = both.rename(columns={"bic_x": "mclust", "bic_y": "ours"})
    assert len(both) == 126
    return both.dropna(), both["mclust"].notna().sum()


def test_every_wine_candidate_is_at_least_mclusts(wine):
    # mclust's BIC of each of the 126 candidates of Mclust(X, G = 1:9), from
    # its one hc start (tests/data/mclust_wine_bic.csv, made by R). The
    # search's starts include that hc cut; compared at tol alone, a start
    # still crossing a plateau stopped there and lost to one that converged
    # lower (SEARCH_RUNOFF: VEE with 6 components, 5.4 above mclust's).
    compared, n_mclust = _against_mclust(wine, "mclust_wine_bic.csv")
    # Where mclust has a BIC, so do we (nothing degenerate in its table).
    assert len(compared) == n_mclust == 110
    worse = compared[compared["ours"] > compared["mclust"] + 0.01]
    assert worse.empty, worse


def test_every_faithful_candidate_is_at_least_mclusts():
    # The same on Old Faithful (tests/data/mclust_faithful_bic.csv), where
    # mclust's hc start crosses long plateaus: run only as far as the best
    # starts at tol, or within max_iter = 100, it lost VVV 6 (9.0 above
    # mclust's), EEI 8 and EVI 4 (0.2 and 0.1), and VEI 8 ended degenerate
    # (mclust: 2384.74). MCLUST_TRANSFORMATION's start now always runs to
    # convergence (within SEARCH_MAX_ITER).
    X = pd.read_csv(DATA / "faithful.csv").to_numpy(dtype=float)
    compared, n_mclust = _against_mclust(X, "mclust_faithful_bic.csv")
    assert len(compared) == n_mclust == 126
    worse = compared[compared["ours"] > compared["mclust"] + 0.01]
    assert worse.empty, worse


def test_the_runoff_never_ends_a_candidate_lower(monkeypatch):
    # The runoff's contract (fit_multistart's _runoff): another start
    # replaces the selected one only if it ends proper and higher, so no
    # candidate ends lower or degenerate where it was proper without it.
    from skmix import selection

    X = load_faithful(return_X_y=True)
    tables = {}
    mclust_start = selection._Partitions.mclust_start
    for runoff in (1, selection.SEARCH_RUNOFF):
        monkeypatch.setattr(selection, "SEARCH_RUNOFF", runoff)
        if runoff == 1:  # the selected start alone: no start always runs off
            monkeypatch.setattr(
                selection._Partitions, "mclust_start", lambda self, k: ()
            )
        else:
            monkeypatch.setattr(selection._Partitions, "mclust_start", mclust_start)
        search = select_model(GaussianMixtureEM(random_state=0), X)
        tables[runoff] = search.table
    alone, runoff = tables[1], tables[selection.SEARCH_RUNOFF]
    proper = np.isfinite(alone["bic"].to_numpy())
    assert np.isfinite(runoff["bic"].to_numpy()[proper]).all()
    gain = runoff["log_likelihood"].to_numpy() - alone["log_likelihood"].to_numpy()
    assert (gain[proper] >= -1e-9).all()
    assert (gain[proper] > 1e-6).sum() >= 10  # it does find higher optima


def test_a_partition_whose_first_m_step_fails_is_a_failed_start(wine, monkeypatch):
    # With reg_covar=0 a starting partition with a cluster of fewer rows
    # than features has a singular VVV covariance: that start fails, the
    # candidate keeps the others (a random k-means partition can be such a
    # partition).
    from skmix import selection

    rng = np.random.RandomState(0)
    good = rng.randint(3, size=len(wine))
    tiny = good.copy()
    tiny[tiny == 2] = 1
    tiny[:3] = 2  # a cluster of 3 rows in 13 dimensions
    monkeypatch.setattr(selection._Partitions, "of", lambda self, k: [tiny, good])
    template = GaussianMixtureEM(reg_covar=0.0, tol=1e-6, random_state=0)
    search = select_model(template, wine, n_components=[3], covariance_types=["full"])
    row = search.table.iloc[0]
    assert not row.failed and np.isfinite(row.bic)
    # The same fit as from the good partition alone.
    monkeypatch.setattr(selection._Partitions, "of", lambda self, k: [good])
    alone = select_model(template, wine, n_components=[3], covariance_types=["full"])
    assert row.log_likelihood == pytest.approx(alone.table.iloc[0].log_likelihood)
    # Every partition failing fails the candidate, with the reason.
    monkeypatch.setattr(selection._Partitions, "of", lambda self, k: [tiny])
    with pytest.raises(ValueError, match="No model could be fitted.*ill-defined"):
        select_model(template, wine, n_components=[3], covariance_types=["full"])


def test_failing_starts_are_skipped_and_reported_once():
    # Three identical rows: a start that gives a component only them has a
    # singular covariance with reg_covar=0, and fails.
    rng = np.random.RandomState(0)
    X = np.vstack(
        [
            rng.normal(size=(100, 2)),
            rng.normal(5, 1, size=(100, 2)),
            np.tile([[10.0, -3.0]], (3, 1)),
        ]
    )
    gm = GaussianMixtureEM(
        3, reg_covar=0.0, init_params="random_from_data", n_init=8, random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm.fit(X)
    failed = [w for w in caught if issubclass(w.category, FailedStartsWarning)]
    assert len(failed) == 1
    assert f"{len(gm.start_failures_)} of 8 starts failed" in str(failed[0].message)
    assert 0 < len(gm.start_failures_) < 8
    assert all("ill-defined" in reason for reason in gm.start_failures_.values())
    assert np.isfinite(gm.score(X))
    # Every start failing: the fit raises, saying why, and a fitted
    # estimator is left as it was.
    means = gm.means_.copy()
    with pytest.raises(ValueError, match="Every one of the 8 starts failed"):
        gm.set_params(random_state=2).fit(X)
    np.testing.assert_array_equal(gm.means_, means)


def test_spikes_are_not_selected(wine):
    # diag with reg_covar=0 from k-means++ starts, no validation split: some
    # starts end on spikes (a component on rows sharing values, log-likelihood
    # far above the ML optimum); the fit keeps mclust's optimum.
    gm = GaussianMixtureEM(
        3,
        covariance_type="diag",
        reg_covar=0.0,
        init_params="k-means++",
        validation_fraction=0.0,
        n_init=20,
        random_state=0,
    ).fit(wine)
    n = len(wine)
    # (failed starts have NaN lower bounds)
    assert np.nanmax(gm.start_lower_bounds_) * n > 0.0  # thousands above
    assert gm.score(wine) * n == pytest.approx(WINE_G3["VVI"][1], abs=1e-3)
    assert not gm.degeneracies_


def test_search_abandons_degenerate_starts_early(wine, monkeypatch):
    # The spike case above with a search's abandon_degenerate: the spikes
    # stop at a degeneracy check (every ABANDON_CHECK_INTERVAL iterations)
    # instead of running on, and the proper optimum is still the fit.
    import skmix._base as base
    from skmix._config import ABANDON_CHECK_INTERVAL

    results = []

    def recording(*args, **kwargs):
        results.append(fit_multistart(*args, **kwargs))
        return results[-1]

    fit_multistart = base.fit_multistart
    monkeypatch.setattr(base, "fit_multistart", recording)

    def fit(abandon):
        gm = GaussianMixtureEM(
            3,
            covariance_type="diag",
            reg_covar=0.0,
            init_params="k-means++",
            validation_fraction=0.0,
            n_init=20,
            random_state=0,
            max_iter=1000,
            tol=1e-8,
        )
        gm._abandon_degenerate_starts = abandon
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return gm.fit(wine), results[-1]

    (_, plain), (gm, abandoning) = fit(False), fit(True)
    spikes = sorted(plain.start_degeneracies)
    assert spikes and sorted(abandoning.start_degeneracies) == spikes
    for i in spikes:
        assert abandoning.start_n_iter[i] % ABANDON_CHECK_INTERVAL == 0
        assert abandoning.start_n_iter[i] < plain.start_n_iter[i]
        assert not abandoning.start_converged[i]
    n = len(wine)
    assert gm.score(wine) * n == pytest.approx(WINE_G3["VVI"][1], abs=1e-3)
    assert not gm.degeneracies_


def test_searched_estimators_refit_as_fresh_ones(wine):
    # The search's shortcuts (abandoned degenerate starts, capped inner
    # iterations) end with it: refitting a returned estimator gives what a
    # fresh estimator with the same parameters gives (on wine, VVE's
    # orientation needs more sweeps per M-step than the search's cap).
    search = select_model(
        GaussianMixtureEM(random_state=0),
        wine,
        n_components=[2],
        covariance_types="VVE",
    )
    best = search.best_estimator_
    params = dict(best.get_params(), n_init=2)
    refit = best.set_params(**params).fit(wine)
    fresh = GaussianMixtureEM(**params).fit(wine)
    np.testing.assert_array_equal(refit.covariances_, fresh.covariances_)
    assert refit.n_iter_ == fresh.n_iter_


def test_degenerate_and_failed_candidates_are_never_chosen():
    # 60 rows share the value 0.5 of the second column: a diag component on
    # them collapses (reg_covar alone keeps it invertible).
    rng = np.random.RandomState(0)
    X = np.vstack(
        [
            rng.normal(size=(10, 2)),
            np.column_stack([rng.normal(4, 1, size=60), np.full(60, 0.5)]),
        ]
    )
    search = select_model(
        GaussianMixtureEM(random_state=0),
        X,
        n_components=[1, 2, 3],
        covariance_types=["diag", "spherical"],
    )
    table = search.table
    assert table.degenerate.any()
    assert table.bic[table.degenerate | table.failed].isna().all()
    assert (table.reason[table.degenerate] != "").all()
    chosen = table.iloc[search.best_index_]
    assert not (chosen.degenerate or chosen.failed)
    assert chosen.bic == table.bic.min()


def test_bad_arguments_say_what_to_change(wine):
    with pytest.raises(ValueError, match="criterion must be one of"):
        select_model(GaussianMixtureEM(), wine, criterion="mdl")
    with pytest.raises(ValueError, match="n_components must be positive"):
        select_model(GaussianMixtureEM(), wine, n_components=[0, 1])
    with pytest.raises(TypeError, match="skmix estimators"):
        select_model("VVV", wine)


def test_point_mass_of_a_survey_column_is_named():
    # The survey table of issue 22, built synthetically: a gaussian column
    # with 228 of its 944 rows at exactly -2.302585 (log 0.1, a repeated
    # code) beside a count column. A component on those rows has a variance
    # of reg_covar alone: the fit warns, naming the column and the value.
    from skmix import CompositeMixture, DegenerateFitWarning

    rng = np.random.RandomState(0)
    x = rng.normal(0.5, 1.0, size=944)
    x[rng.choice(944, 228, replace=False)] = -2.302585
    X = np.column_stack([x, rng.randint(0, 3, size=944).astype(float)])
    with pytest.warns(DegenerateFitWarning, match=r"-2\.302585 of column 0"):
        cm = CompositeMixture(n_components=3, random_state=0).fit(X)
    assert cm.families_ == ["gaussian", "poisson"]
    assert len(cm.degeneracies_) == 1
    # Without the point mass, the same fit is proper.
    X[X[:, 0] == -2.302585, 0] = rng.normal(0.5, 1.0, size=228)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateFitWarning)
        proper = CompositeMixture(n_components=3, random_state=0).fit(X)
    assert proper.degeneracies_ == []


def test_command_line_models_and_icl(capsys):
    # Old Faithful, EEE and VVV only, G = 1..3, chosen by ICL. R mclust
    # 6.0.0's mclustICL(faithful, G = 1:3, modelNames = c("EEE", "VVV"))
    # chooses VVV with 2 components at ICL -2322.697 (its sign).
    argv = ["--models", "EEE,full", "--criterion", "icl", "--max-components", "3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "chosen by ICL" in out
    assert "tied (EEE)" in out and "full (VVV)" in out and "VEV" not in out
    assert "chosen model: 2 components, covariance_type='full' (mclust VVV)" in out
    line = next(line for line in out.splitlines() if "free parameters" in line)
    assert float(line.split("ICL ")[1]) == pytest.approx(2322.697, abs=0.05)
    with pytest.raises(SystemExit):
        main(["--models", "XYZ"])


def test_shared_values_give_every_fit_what_it_would_compute(monkeypatch):
    # A search computes the rows' scale, the E-steps' rows and the starts'
    # reference once for its fits (SharedValues); a search that computes
    # them in every fit gives the same table, bit for bit.
    import skmix.selection as selection

    X = pd.read_csv(DATA / "faithful.csv").to_numpy(float)  # column-major
    options = dict(n_components=[1, 2, 3], covariance_types=["EII", "VEV", "diag"])
    asked, computed = [], []

    class Counting(selection.SharedValues):
        def get(self, purpose, family, inputs, compute):
            asked.append(purpose)
            return super().get(
                purpose, family, inputs, lambda: computed.append(purpose) or compute()
            )

    class Unshared(selection.SharedValues):
        def get(self, purpose, family, inputs, compute):
            return compute()

    monkeypatch.setattr(selection, "SharedValues", Counting)
    shared = select_model(GaussianMixtureEM(random_state=0), X, **options)
    assert 0 < len(computed) < len(asked) / 3
    monkeypatch.setattr(selection, "SharedValues", Unshared)
    alone = select_model(GaussianMixtureEM(random_state=0), X, **options)
    pd.testing.assert_frame_equal(shared.table, alone.table, check_exact=True)
    assert all(e._search_shared is None for e in shared.estimators_ if e is not None)
