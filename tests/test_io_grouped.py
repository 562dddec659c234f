"""skmix.io for the grouped estimators (HierarchicalMixture, JointMixture):
exact round trips for every kind of component family and length model, and
malformed files refused with a clear ValueError; and files of format
version 1 (written before nested estimators) still load.

Files are edited and re-signed by ``rewrite`` of ``tests/test_io.py``, an
independent implementation of the documented checksum.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning

from skmix import (
    CoinMixture,
    CompositeMixture,
    GaussianMixtureEM,
    HierarchicalMixture,
    JointMixture,
    NIGMixture,
)
from skmix import io as skio
from skmix.datasets import load_faithful
from tests.test_io import assert_same_value, public_fitted, rewrite

pd = pytest.importorskip("pandas")
DATA = Path(__file__).parent / "data"


# ------------------------------------------------------------------ data
def hierarchical_rows(n_groups=60, seed=0):
    """Groups of 2-D rows from 3 topics shared by 2 outer mixtures, rows
    shuffled (a group's rows are not contiguous), with each row's topic."""
    rng = np.random.RandomState(seed)
    centres = np.array([[-4.0, 0.0], [4.0, 1.0], [0.0, 5.0]])
    taus = np.array([[0.8, 0.2, 0.0], [0.1, 0.2, 0.7]])
    sizes = rng.randint(1, 9, n_groups)
    outer = rng.randint(2, size=n_groups)
    topic = np.concatenate(
        [rng.choice(3, size=s, p=taus[o]) for s, o in zip(sizes, outer, strict=True)]
    )
    X = centres[topic] + rng.normal(size=(len(topic), 2)) * [1.0, 0.7]
    groups = np.repeat(np.arange(n_groups), sizes)
    order = rng.permutation(len(groups))
    return X[order], groups[order], topic[order]


def hierarchical_counts():
    X, groups, topic = hierarchical_rows(seed=1)
    rng = np.random.RandomState(2)
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]])
    counts = np.array([rng.multinomial(10, probs[k]) for k in topic], dtype=float)
    return counts, groups


def hierarchical_frame():
    X, groups, topic = hierarchical_rows(seed=3)
    rng = np.random.RandomState(4)
    labels = np.array(["a", "b", "c"], dtype=object)[
        (topic + rng.randint(2, size=topic.size)) % 3
    ]
    frame = pd.DataFrame({"level": labels, "value": X[:, 0]})
    frame = frame.astype({"level": object})
    ids = np.array([f"user{g:02d}" for g in groups], dtype=object)
    return frame, ids


def joint_views(seed=0, n=200):
    rng = np.random.RandomState(seed)
    z = rng.randint(2, size=n)
    h = np.where(rng.uniform(size=n) < 0.85, z, 1 - z)
    X = np.column_stack([4.0 * z, -2.0 * z]) + rng.normal(size=(n, 2))
    Y = (-4.0 * h + rng.normal(size=n)).reshape(-1, 1)
    return X, Y, h


def joint_sequences(seed=0, n=150):
    X, _, h = joint_views(seed, n)
    rng = np.random.RandomState(seed + 1)
    sizes = rng.poisson(np.where(h == 1, 4.0, 1.5))
    y_groups = np.repeat(np.arange(n), sizes)
    Y = (3.0 * h[y_groups] + rng.normal(size=y_groups.size)).reshape(-1, 1)
    order = rng.permutation(y_groups.size)
    return X, Y[order], y_groups[order]


# --------------------------------------------------------------- helpers
def fit_quietly(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def round_trip(model, path):
    skio.save(model, path)
    return skio.load(path)


def assert_same_estimator(a, b, where):
    """Same class, parameters and public fitted attributes, nested
    estimators compared the same way; arrays bit for bit."""
    assert type(a) is type(b), where
    params_a, params_b = a.get_params(deep=False), b.get_params(deep=False)
    assert params_a.keys() == params_b.keys(), where
    for name in params_a:
        assert_same(params_a[name], params_b[name], f"{where}.{name}")
    fitted_a, fitted_b = public_fitted(a), public_fitted(b)
    assert fitted_a.keys() == fitted_b.keys(), where
    for name in fitted_a:
        assert_same(fitted_a[name], fitted_b[name], f"{where}.{name}")


def assert_same(a, b, where):
    if hasattr(a, "get_params"):
        assert_same_estimator(a, b, where)
    else:
        assert_same_value(a, b, where)


def assert_same_outputs(original, loaded, methods, args, score_kwargs):
    for method in methods:
        assert_same_value(
            getattr(original, method)(*args), getattr(loaded, method)(*args), method
        )
    assert original.bic(*args) == loaded.bic(*args)
    assert original.score(**score_kwargs) == loaded.score(**score_kwargs)


HIERARCHICAL_METHODS = (
    "predict",
    "predict_proba",
    "transform",
    "score_samples",
    "predict_topic_proba",
    "predict_topics",
)
JOINT_METHODS = ("predict", "predict_proba", "score_samples", "predict_proba_y")


def assert_same_hierarchical(original, loaded, X, groups):
    assert_same_estimator(original, loaded, "model")
    assert_same_outputs(
        original, loaded, HIERARCHICAL_METHODS, (X, groups), dict(X=X, groups=groups)
    )
    # The topics alone, as a flat mixture of the rows.
    assert_same_value(
        original.topics_.score_samples(X), loaded.topics_.score_samples(X), "topics"
    )
    sizes = None if original.length_model else np.arange(1, 6)
    drawn = copy.deepcopy(original).sample(5, group_sizes=sizes)
    drawn_loaded = loaded.sample(5, group_sizes=sizes)
    for i, (u, v) in enumerate(zip(drawn, drawn_loaded, strict=True)):
        assert_same_value(u, v, f"sample[{i}]")


def assert_same_joint(original, loaded, X, Y, y_groups=None):
    assert_same_estimator(original, loaded, "model")
    assert_same_outputs(
        original,
        loaded,
        JOINT_METHODS,
        (X, Y, y_groups),
        dict(X=X, Y=Y, y_groups=y_groups),
    )
    assert_same_value(original.predict_proba_y(X), loaded.predict_proba_y(X), "y|x")
    if y_groups is not None and original.lengths_y_ is None:
        return  # sequences without a length model cannot be sampled
    drawn = copy.deepcopy(original).sample(6)
    for i, (u, v) in enumerate(zip(drawn, loaded.sample(6), strict=True)):
        assert_same_value(u, v, f"sample[{i}]")


def continue_both(original, loaded, *args, **kwargs):
    """A warm start of a few iterations continues the loaded model exactly
    as the original."""
    for model in (original, loaded):
        model.set_params(warm_start=True, max_iter=3, tol=0.0)
        fit_quietly(model, *args, **kwargs)
    assert_same_estimator(original, loaded, "warm start")


# ----------------------------------------------------- hierarchical trips
@pytest.mark.parametrize(
    "covariance_type, length_model",
    [
        ("full", None),
        ("tied", "poisson"),
        ("diag", "categorical"),
        ("spherical", "poisson"),
        ("VEI", None),
    ],
)
def test_hierarchical_gaussian_round_trip_is_exact(
    tmp_path, covariance_type, length_model
):
    X, groups, _ = hierarchical_rows()
    family = GaussianMixtureEM(covariance_type=covariance_type, reg_covar=1e-6)
    model = fit_quietly(
        HierarchicalMixture(
            3, 2, family=family, length_model=length_model, n_init=2, random_state=0
        ),
        X,
        groups=groups,
    )
    loaded = round_trip(model, tmp_path / "hier.skmix")
    assert_same_hierarchical(model, loaded, X, groups)
    continue_both(model, loaded, X, groups=groups)


def test_hierarchical_counts_round_trip_is_exact(tmp_path):
    counts, groups = hierarchical_counts()
    model = fit_quietly(
        HierarchicalMixture(
            3, 2, family=CoinMixture(alpha=0.5), length_model="categorical"
        ).set_params(random_state=np.random.RandomState(5)),
        counts,
        groups=groups,
    )
    loaded = round_trip(model, tmp_path / "counts.skmix")
    assert_same_hierarchical(model, loaded, counts, groups)


def test_hierarchical_mixed_columns_round_trip_is_exact(tmp_path):
    frame, ids = hierarchical_frame()
    family = CompositeMixture(families=["categorical", "gaussian"])
    model = fit_quietly(
        HierarchicalMixture(2, 2, family=family, n_init=2, random_state=0),
        frame,
        groups=ids,
    )
    loaded = round_trip(model, tmp_path / "mixed.skmix")
    assert list(loaded.feature_names_in_) == ["level", "value"]
    assert loaded.topics_.params_["level"]["categories"] == ["a", "b", "c"]
    assert_same_value(model.topics_.params_, loaded.topics_.params_, "params_")
    assert_same_hierarchical(model, loaded, frame, ids)
    continue_both(model, loaded, frame, groups=ids)


def test_hierarchical_nig_topics_round_trip_is_exact(tmp_path):
    X, groups, _ = hierarchical_rows(seed=6)
    family = NIGMixture(covariance_type="diag")
    model = fit_quietly(
        HierarchicalMixture(3, 2, family=family, max_iter=20, random_state=0),
        X,
        groups=groups,
    )
    assert_same_hierarchical(model, round_trip(model, tmp_path / "nig"), X, groups)


# ------------------------------------------------------------ joint trips
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_joint_rows_round_trip_is_exact(tmp_path, covariance_type):
    X, Y, _ = joint_views()
    model = fit_quietly(
        JointMixture(
            2,
            2,
            family_x=GaussianMixtureEM(covariance_type=covariance_type),
            n_init=2,
            random_state=0,
        ),
        X,
        Y,
    )
    loaded = round_trip(model, tmp_path / "joint.skmix")
    assert_same_joint(model, loaded, X, Y)
    continue_both(model, loaded, X, Y)


@pytest.mark.parametrize("length_model_y", ["poisson", None])
def test_joint_sequences_round_trip_is_exact(tmp_path, length_model_y):
    X, Y, y_groups = joint_sequences()
    model = fit_quietly(
        JointMixture(2, 2, length_model_y=length_model_y, random_state=0),
        X,
        Y,
        y_groups=y_groups,
    )
    loaded = round_trip(model, tmp_path / "sequences.skmix")
    assert_same_joint(model, loaded, X, Y, y_groups)
    continue_both(model, loaded, X, Y, y_groups=y_groups)


def test_joint_sequences_without_a_length_model_refuse_to_sample():
    X, Y, y_groups = joint_sequences()
    model = fit_quietly(
        JointMixture(2, 2, length_model_y=None, random_state=0), X, Y, y_groups=y_groups
    )
    with pytest.raises(ValueError, match="length_model_y=None.*cannot draw"):
        model.sample(3)


def test_joint_mixed_and_count_views_round_trip_is_exact(tmp_path):
    frame, _ = hierarchical_frame()
    counts, _ = hierarchical_counts()
    n = min(len(frame), len(counts))
    frame, counts = frame.iloc[:n], counts[:n]
    model = fit_quietly(
        JointMixture(
            2,
            3,
            family_x=CompositeMixture(families=["categorical", "gaussian"]),
            family_y=CoinMixture(),
            random_state=0,
        ),
        frame,
        counts,
    )
    loaded = round_trip(model, tmp_path / "views.skmix")
    assert_same_joint(model, loaded, frame, counts)


# --------------------------------------------------------- file versions
def header_of(path):
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(archive["skmix_header"].tobytes().decode())


def test_files_hold_the_lowest_format_version_they_need(tmp_path):
    X, groups, _ = hierarchical_rows()
    grouped = HierarchicalMixture(3, 2, random_state=0).fit(X, groups=groups)
    skio.save(grouped, tmp_path / "grouped.skmix")
    skio.save(grouped.topics_, tmp_path / "flat.skmix")
    assert header_of(tmp_path / "grouped.skmix")["format_version"] == 2
    assert header_of(tmp_path / "flat.skmix")["format_version"] == 1
    assert skio.FORMAT_VERSION == 2


def test_a_format_1_file_still_loads():
    # Written by skmix.io before format version 2 (GaussianMixtureEM(2,
    # random_state=0) fitted on Old Faithful).
    path = DATA / "faithful_format1.skmix"
    assert header_of(path)["format_version"] == 1
    model = skio.load(path)
    with np.load(path, allow_pickle=False) as archive:
        means, covariances = archive["fitted.means_"], archive["fitted.covariances_"]
        weights = archive["fitted.weights_"]
    assert_same_value(model.means_, means, "means_")
    assert_same_value(model.covariances_, covariances, "covariances_")
    # Its predictions are those of its parameters (scipy's densities).
    X = load_faithful(return_X_y=True)
    joint = np.column_stack(
        [
            w * multivariate_normal(m, c).pdf(X)
            for w, m, c in zip(weights, means, covariances, strict=True)
        ]
    )
    expected = joint / joint.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-12)


def test_a_nested_estimator_needs_format_2(tmp_path):
    X, groups, _ = hierarchical_rows()
    path = tmp_path / "model.skmix"
    skio.save(HierarchicalMixture(3, 2, random_state=0).fit(X, groups=groups), path)
    rewrite(path, lambda h, a: h.update(format_version=1))
    with pytest.raises(ValueError, match="nested estimator needs format version 2"):
        skio.load(path)


# -------------------------------------------------------- malformed files
@pytest.fixture(scope="module")
def hierarchical_file(tmp_path_factory):
    X, groups, _ = hierarchical_rows()
    model = HierarchicalMixture(
        3,
        2,
        family=GaussianMixtureEM(covariance_type="diag"),
        length_model="categorical",
        random_state=0,
    ).fit(X, groups=groups)
    path = tmp_path_factory.mktemp("grouped") / "hierarchical.skmix"
    skio.save(model, path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def joint_file(tmp_path_factory):
    X, Y, y_groups = joint_sequences()
    model = JointMixture(2, 2, random_state=0).fit(X, Y, y_groups=y_groups)
    path = tmp_path_factory.mktemp("grouped") / "joint.skmix"
    skio.save(model, path)
    return path.read_bytes()


def copy_of(data, tmp_path):
    path = tmp_path / "model.skmix"
    path.write_bytes(data)
    return path


def pairs(node):
    """The [key, value] pairs of an encoded dict."""
    return node["dict"]


def entry(node, name):
    for key, value in pairs(node):
        if key == name:
            return value
    raise KeyError(name)


def nested(header, name):
    """The body of the nested fitted estimator ``name``."""
    return entry(header["body"]["fitted"], name)["estimator"]


def edit_array(name, change):
    def edit(header, arrays):
        arrays[name] = change(arrays[name])

    return edit


@pytest.mark.parametrize("which", ["hierarchical", "joint"])
def test_grouped_newer_version_and_truncated_files(tmp_path, request, which):
    data = request.getfixturevalue(f"{which}_file")
    path = copy_of(data, tmp_path)
    assert skio.load(path) is not None
    rewrite(path, lambda h, a: h.update(format_version=skio.FORMAT_VERSION + 1))
    newer = f"newer than the format {skio.FORMAT_VERSION}.*Upgrade"
    with pytest.raises(ValueError, match=newer):
        skio.load(path)
    for keep in (0.2, 0.6, 0.95):
        path.write_bytes(data[: int(len(data) * keep)])
        with pytest.raises(ValueError, match="Cannot load"):
            skio.load(path)


def test_grouped_hand_edits_break_the_checksum(tmp_path, hierarchical_file):
    path = copy_of(hierarchical_file, tmp_path)
    name = "fitted.topics_.fitted.means_"
    rewrite(path, edit_array(name, lambda a: a + 1e-12), resign=False)
    with pytest.raises(ValueError, match="checksum does not match"):
        skio.load(path)


HIERARCHICAL_EDITS = [
    (
        "fitted.mixture_weights_",
        lambda a: a[:, :2],
        r"mixture_weights_ has shape \(2, 2\), expected \(2, 3\)",
    ),
    ("fitted.mixture_weights_", lambda a: a[:1], r"has shape \(1, 3\)"),
    ("fitted.mixture_weights_", lambda a: a * 1.5, "sum to 1"),
    ("fitted.mixture_weights_", lambda a: np.full_like(a, np.nan), "NaN"),
    ("fitted.length_", lambda a: a[:-1], r"length_ has shape"),
    ("fitted.length_", lambda a: np.where(a > 0, -a, a), "sum to 1"),
    ("fitted.topics_.fitted.means_", lambda a: a[:, :1], r"means_ has shape"),
    ("fitted.topics_.fitted.means_", lambda a: a[:2], r"means_ has shape"),
    ("fitted.topics_.fitted.covariances_", lambda a: a * np.nan, "NaN"),
    ("fitted.topics_.fitted.covariances_", lambda a: -a, "positive"),
    ("fitted.topics_.fitted.weights_", lambda a: a[::-1], "topics_.weights_"),
    ("state.reference.means", lambda a: a[:, :1], "reference"),
    ("state.reference.means", lambda a: a * np.inf, "reference.* infinite"),
]


@pytest.mark.parametrize("name, bad, message", HIERARCHICAL_EDITS)
def test_hierarchical_wrong_shapes_and_values(
    tmp_path, hierarchical_file, name, bad, message
):
    path = copy_of(hierarchical_file, tmp_path)
    with np.load(path, allow_pickle=False) as archive:
        assert name in archive.files  # the edit reaches the file
    rewrite(path, edit_array(name, bad))
    with pytest.raises(ValueError, match=message):
        skio.load(path)


JOINT_EDITS = [
    ("fitted.transition_", lambda a: a[:, :1], r"transition_ has shape"),
    ("fitted.transition_", lambda a: a + 0.5, "transition_ must be .* sum to 1"),
    ("fitted.transition_", lambda a: a[::-1], "weights_y_ must equal"),
    ("fitted.weights_x_", lambda a: a[::-1], "weights_x_ must equal"),
    ("fitted.lengths_y_", lambda a: -a, "non-negative"),
    ("fitted.lengths_y_", lambda a: a[:1], "lengths_y_ has shape"),
    ("fitted.components_y_.fitted.means_", lambda a: a * np.nan, "NaN"),
    ("fitted.components_x_.fitted.means_", lambda a: a[:1], "means_ has shape"),
    ("fitted.components_y_.fitted.weights_", lambda a: a[::-1], "components_y_"),
    ("state.y_rows_reference.means", lambda a: a[:1], "reference of Y"),
    ("state.references.0.means", lambda a: a[:, :1], "X reference"),
]


@pytest.mark.parametrize("name, bad, message", JOINT_EDITS)
def test_joint_wrong_shapes_and_values(tmp_path, joint_file, name, bad, message):
    path = copy_of(joint_file, tmp_path)
    with np.load(path, allow_pickle=False) as archive:
        assert name in archive.files
    rewrite(path, edit_array(name, bad))
    with pytest.raises(ValueError, match=message):
        skio.load(path)


def set_state(key, value):
    def edit(header, arrays):
        for pair in pairs(header["body"]["state"]):
            if pair[0] == key:
                pair[1] = value

    return edit


def rename_nested(name, new_name):
    def edit(header, arrays):
        nested(header, name)["estimator"] = new_name

    return edit


def unfit_nested(name):
    def edit(header, arrays):
        body = nested(header, name)
        for key in ("fitted", "state"):
            for array in list(arrays):
                if array.startswith(f"fitted.{name}.{key}."):
                    del arrays[array]
            del body[key]

    return edit


JSON_EDITS = [
    ("hierarchical", set_state("n_topics", 4), r"mixture_weights_ has shape"),
    ("hierarchical", set_state("n_topics", 0), "n_topics must be an int"),
    ("hierarchical", set_state("length_model", "zipf"), "unknown length model"),
    ("hierarchical", set_state("length_model", None), "None without a length"),
    ("hierarchical", set_state("max_length", 3), r"length_ has shape"),
    ("hierarchical", rename_nested("topics_", "EvilMixture"), "unknown estimator"),
    ("hierarchical", rename_nested("topics_", "KMeans"), "unknown estimator"),
    ("hierarchical", unfit_nested("topics_"), "topics_ must be a fitted"),
    ("joint", set_state("n_components_y", 3), "transition_ has shape"),
    ("joint", set_state("sequences", False), "lengths_y_ must be None"),
    ("joint", set_state("length_model_y", "geometric"), "how Y's sequences"),
    ("joint", rename_nested("components_y_", "CoinMixture"), "probabilities_ is"),
    ("joint", unfit_nested("components_x_"), "components_x_ must be a fitted"),
]


@pytest.mark.parametrize("which, edit, message", JSON_EDITS)
def test_grouped_edited_settings_and_nested_estimators(
    tmp_path, request, which, edit, message
):
    path = copy_of(request.getfixturevalue(f"{which}_file"), tmp_path)
    rewrite(path, edit)
    with pytest.raises(ValueError, match=message):
        skio.load(path)


def test_a_grouped_estimator_is_not_a_component(tmp_path, hierarchical_file):
    # A file whose topics_ is itself a (fitted) HierarchicalMixture.
    path = copy_of(hierarchical_file, tmp_path)

    def nest_itself(header, arrays):
        inner = copy.deepcopy(header["body"])
        for key, value in pairs(header["body"]["fitted"]):
            if key == "topics_":
                value["estimator"] = inner
        # The inner body names the same arrays: they stay used.

    rewrite(path, nest_itself)
    with pytest.raises(ValueError, match="topics_ must be a fitted GaussianMixtureEM"):
        skio.load(path)


def test_a_header_nested_too_deeply(tmp_path):
    depth = 100_000
    text = '{"format": "skmix-model", "body": ' + "[" * depth + "]" * depth + "}"
    path = tmp_path / "deep.skmix"
    with open(path, "wb") as stream:
        np.savez(stream, skmix_header=np.frombuffer(text.encode(), np.uint8))
    with pytest.raises(ValueError, match="nested too deeply"):
        skio.load(path)
