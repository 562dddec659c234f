"""skmix.io: exact round trips for every estimator, and every malformed file
refused with a clear ValueError.

Malformed files are made by ``rewrite`` below, which edits a saved file and
re-signs it with the checksum as the module docstring specifies it (an
independent implementation of the documented format: an unedited rewrite
must load).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import pickle

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skmix import (
    CoinMixture,
    CompositeMixture,
    GaussianMixtureEM,
    HeterogeneousMixture,
    NIGMixture,
)
from skmix import io as skio
from skmix.datasets import load_faithful
from skmix.families.columns import Binomial, Gaussian

pd = pytest.importorskip("pandas")
X = load_faithful(return_X_y=True)


# ------------------------------------------------------------------ helpers
def round_trip(model, path):
    skio.save(model, path)
    return skio.load(path)


def assert_same_value(a, b, where):
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        if a.dtype.kind == "O":
            assert a.tolist() == b.tolist(), where
        else:
            # Bit-identical (NaN where NaN).
            assert a.tobytes() == b.tobytes(), where
    elif isinstance(a, dict):
        assert sorted(a, key=repr) == sorted(b, key=repr), where
        for key in a:
            assert_same_value(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_same_value(u, v, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    elif isinstance(a, np.random.RandomState):
        sa, sb = a.get_state(), b.get_state()
        assert sa[0] == sb[0] and np.array_equal(sa[1], sb[1]) and sa[2:] == sb[2:]
    else:
        assert a == b, where


def public_fitted(model):
    return {
        k: v
        for k, v in vars(model).items()
        if k.endswith("_") and not k.startswith("_")
    }


def assert_same_model(original, loaded, X_check):
    assert type(loaded) is type(original)
    assert_same_value(
        original.get_params(deep=False), loaded.get_params(deep=False), "params"
    )
    assert_same_value(public_fitted(original), public_fitted(loaded), "fitted")
    for method in ("predict", "predict_proba", "score_samples"):
        assert_same_value(
            getattr(original, method)(X_check),
            getattr(loaded, method)(X_check),
            method,
        )
    assert original.bic(X_check) == loaded.bic(X_check)
    # Sampling from the same random state draws the same rows.
    reference = copy.deepcopy(original)
    drawn, labels = reference.sample(7)
    drawn_loaded, labels_loaded = loaded.sample(7)
    assert np.array_equal(labels, labels_loaded)
    if isinstance(drawn, np.ndarray):
        assert_same_value(drawn, drawn_loaded, "sample")
    else:
        pd.testing.assert_frame_equal(drawn, drawn_loaded)


def signed_digest(body, arrays):
    """The documented checksum, written from the module docstring."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    sha = hashlib.sha256(text.encode("utf-8"))
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        sha.update(name.encode() + b"\0")
        sha.update(array.dtype.str.encode() + b"\0")
        sha.update(str(array.shape).encode() + b"\0")
        sha.update(array.tobytes())
    return sha.hexdigest()


def rewrite(path, edit=None, resign=True):
    """Edit a model file (``edit(header, arrays)``) and sign it again."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    header = json.loads(arrays.pop("skmix_header").tobytes().decode())
    if edit is not None:
        edit(header, arrays)
    if resign:
        header["sha256"] = signed_digest(header["body"], arrays)
    text = json.dumps(header).encode()
    with open(path, "wb") as stream:
        np.savez(stream, skmix_header=np.frombuffer(text, np.uint8), **arrays)


def fitted_entry(header, name):
    """The JSON node of a fitted attribute."""
    for key, value in header["body"]["fitted"]["dict"]:
        if key == name:
            return value
    raise KeyError(name)


# -------------------------------------------------------------- round trips
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_round_trip_is_exact(tmp_path, covariance_type):
    model = GaussianMixtureEM(
        3, covariance_type=covariance_type, n_init=3, random_state=0
    ).fit(X)
    loaded = round_trip(model, tmp_path / "model.skmix")
    assert_same_model(model, loaded, X)
    # The loaded model continues as the original does.
    model.set_params(warm_start=True, max_iter=5).fit(X)
    loaded.set_params(warm_start=True, max_iter=5).fit(X)
    assert_same_value(public_fitted(model), public_fitted(loaded), "warm start")


def test_gaussian_with_arrays_frames_and_a_random_state_instance(tmp_path):
    frame = pd.DataFrame(X, columns=["eruptions", "waiting"])
    model = GaussianMixtureEM(
        2,
        weights_init=np.array([0.4, 0.6]),
        means_init=[[2.0, 55.0], [4.5, 80.0]],
        random_state=np.random.RandomState(3),
        tol=1e-8,
    ).fit(frame)
    loaded = round_trip(model, tmp_path / "model.skmix")
    assert list(loaded.feature_names_in_) == ["eruptions", "waiting"]
    assert isinstance(loaded.get_params()["means_init"], list)
    assert_same_model(model, loaded, frame)
    pickle.loads(pickle.dumps(loaded))  # a loaded model pickles as any other


def test_file_objects_and_no_partial_file(tmp_path):
    model = GaussianMixtureEM(2, random_state=0).fit(X)
    buffer = io.BytesIO()
    skio.save(model, buffer)
    buffer.seek(0)
    assert_same_model(model, skio.load(buffer), X)
    # A save that fails leaves no file behind.
    target = tmp_path / "never.skmix"
    model.means_init = object()
    with pytest.raises(TypeError, match="means_init"):
        skio.save(model, target)
    assert list(tmp_path.iterdir()) == []


def coin_counts():
    rng = np.random.RandomState(0)
    return np.vstack(
        [
            rng.multinomial(12, [0.7, 0.2, 0.1], 60),
            rng.multinomial(8, [0.1, 0.3, 0.6], 40),
        ]
    )


@pytest.mark.parametrize(
    "options", [dict(), dict(fit_weights=False, alpha=0.5, n_init=3)]
)
def test_coin_round_trip_is_exact(tmp_path, options):
    counts = coin_counts()
    model = CoinMixture(2, random_state=0, **options).fit(counts)
    loaded = round_trip(model, tmp_path / "coins.skmix")
    assert_same_model(model, loaded, counts)
    # The default number of trials (training mean row total) is kept.
    assert loaded.sample(3)[0].sum(axis=1).tolist() == [10.0] * 3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_nig_round_trip_is_exact(tmp_path, covariance_type):
    model = NIGMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    assert_same_model(model, round_trip(model, tmp_path / "nig.skmix"), X)


def mixed_frame(n=240, seed=0):
    rng = np.random.RandomState(seed)
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
            "codes": rng.choice([3, 7, 11], n),
        }
    )
    frame = frame.astype({"ca": object, "be": object})
    frame.loc[::7, "g"] = np.nan
    frame.loc[::11, "ca"] = None
    frame.loc[::13, "be"] = None
    return frame


@pytest.mark.parametrize("missing", ["ignore", "model"])
def test_composite_round_trip_every_family(tmp_path, missing):
    frame = mixed_frame()
    families = [
        "gaussian",
        "lognormal",
        "exponential",
        "gamma",
        "poisson",
        "geometric",
        Binomial(n_trials=10),
        "bernoulli",
        "categorical",
        "categorical",
    ]
    model = CompositeMixture(
        2, families=families, missing=missing, n_init=2, random_state=0
    ).fit(frame)
    loaded = round_trip(model, tmp_path / "table.skmix")
    assert loaded.families_ == model.families_
    assert loaded.params_["ca"]["categories"] == ["a", "b", "c"]
    assert loaded.params_["codes"]["categories"] == [3, 7, 11]
    assert loaded.get_params()["families"][6] == Binomial(n_trials=10)
    assert_same_model(model, loaded, frame)
    pd.testing.assert_frame_equal(model.impute(frame), loaded.impute(frame))
    assert np.array_equal(model.transform(frame), loaded.transform(frame))
    assert_same_value(model.params_, loaded.params_, "params_")


def test_composite_on_arrays_with_labels_and_unknowns(tmp_path):
    rng = np.random.RandomState(1)
    table = np.empty((150, 3), dtype=object)
    table[:, 0] = rng.normal(size=150)
    table[:, 1] = rng.choice(["red", "green", "blue"], 150)
    table[:, 2] = rng.choice([True, False], 150)
    table[::9, 1] = None
    model = CompositeMixture(
        2, handle_unknown="ignore", families={0: Gaussian()}, random_state=0
    ).fit(table)
    loaded = round_trip(model, tmp_path / "labels.skmix")
    assert_same_model(model, loaded, table)
    unseen = table[:3].copy()
    unseen[0, 1] = "purple"
    assert np.array_equal(model.predict_proba(unseen), loaded.predict_proba(unseen))
    assert_same_value(model.impute(unseen), loaded.impute(unseen), "impute")


def test_heterogeneous_round_trip(tmp_path):
    rng = np.random.RandomState(0)
    x = np.r_[rng.exponential(0.2, 150), rng.lognormal(2, 0.3, 250)]
    x2 = np.column_stack([x, x * rng.uniform(0.5, 1.5, x.size)])
    x2[::10, 1] = np.nan
    model = HeterogeneousMixture(
        ["exponential", "lognormal", "lognormal"], n_init=2, random_state=0
    ).fit(x2)
    loaded = round_trip(model, tmp_path / "hetero.skmix")
    assert_same_model(model, loaded, x2)
    assert np.array_equal(model.impute(x2), loaded.impute(x2))


# --------------------------------------------------------- malformed files
@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.skmix"
    skio.save(GaussianMixtureEM(2, random_state=0).fit(X), path)
    return path


def test_the_documented_checksum_signs_a_valid_file(saved):
    rewrite(saved)  # re-signed by the test's own implementation
    assert isinstance(skio.load(saved), GaussianMixtureEM)


def test_newer_format_version(saved):
    rewrite(saved, lambda h, a: h.update(format_version=skio.FORMAT_VERSION + 1))
    newer = f"newer than the format {skio.FORMAT_VERSION}.*Upgrade"
    with pytest.raises(ValueError, match=newer):
        skio.load(saved)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="Cannot load"):
        skio.load(saved)


def test_hand_edited_numbers_break_the_checksum(saved):
    def edit_array(header, arrays):
        arrays[fitted_entry(header, "means_")["ndarray"]][0, 0] += 1e-9

    rewrite(saved, edit_array, resign=False)
    with pytest.raises(ValueError, match="checksum does not match"):
        skio.load(saved)


def test_hand_edited_json_breaks_the_checksum(tmp_path):
    path = tmp_path / "model.skmix"
    skio.save(GaussianMixtureEM(2, random_state=0).fit(X), path)

    def edit_json(header, arrays):
        for pair in header["body"]["fitted"]["dict"]:
            if pair[0] == "n_iter_":
                pair[1] += 1

    rewrite(path, edit_json, resign=False)
    with pytest.raises(ValueError, match="checksum"):
        skio.load(path)


@pytest.mark.parametrize(
    "name, bad, message",
    [
        ("means_", lambda a: a[:, :1], r"means_ has shape \(2, 1\), expected \(2, 2\)"),
        ("covariances_", lambda a: a[:1], "covariances_ has shape"),
        ("weights_", lambda a: np.r_[a, 0.0], "shape"),
        ("means_", lambda a: np.where(a > 0, np.nan, a), "NaN"),
        ("precisions_cholesky_", lambda a: np.full_like(a, np.inf), "NaN or infinite"),
        ("weights_", lambda a: a * 2, "sum to 1"),
        ("covariances_", lambda a: -a, "positive"),
        ("means_", lambda a: a.astype(np.int64), "float array"),
    ],
)
def test_wrong_shapes_and_values(saved, name, bad, message):
    def edit(header, arrays):
        key = fitted_entry(header, name)["ndarray"]
        arrays[key] = bad(arrays[key])

    rewrite(saved, edit)
    with pytest.raises(ValueError, match=message):
        skio.load(saved)


def test_unknown_estimator_and_tags(saved, tmp_path):
    rewrite(saved, lambda h, a: h["body"].update(estimator="EvilMixture"))
    with pytest.raises(ValueError, match="unknown estimator 'EvilMixture'"):
        skio.load(saved)

    path = tmp_path / "other.skmix"
    skio.save(GaussianMixtureEM(2, random_state=0).fit(X), path)
    rewrite(path, lambda h, a: h["body"]["params"]["dict"].append(["x", {"eval": 1}]))
    with pytest.raises(ValueError, match="unknown or malformed tag 'eval'"):
        skio.load(path)

    skio.save(GaussianMixtureEM(2, random_state=0).fit(X), path)
    rewrite(
        path,
        lambda h, a: h["body"]["state"]["dict"].append(
            ["p", {"named_tuple": "os.system", "fields": {"dict": []}}]
        ),
    )
    with pytest.raises(ValueError, match="unknown parameter tuple 'os.system'"):
        skio.load(path)


def test_unknown_constructor_parameter(saved):
    rewrite(saved, lambda h, a: h["body"]["params"]["dict"].append(["evil", 1]))
    with pytest.raises(ValueError, match="invalid parameters"):
        skio.load(saved)


def test_nan_tokens_and_not_a_model(tmp_path, saved):
    def nan_header(header, arrays):
        header["body"]["fitted"]["dict"].append(["extra_", float("nan")])

    rewrite(saved, nan_header, resign=False)
    with pytest.raises(ValueError, match="non-JSON number NaN"):
        skio.load(saved)
    junk = tmp_path / "junk.skmix"
    junk.write_bytes(b"not a model at all" * 10)
    with pytest.raises(ValueError, match="not a skmix model file"):
        skio.load(junk)
    plain = tmp_path / "plain.npy"
    np.save(plain, np.arange(3.0))
    with pytest.raises(ValueError, match="single NumPy array"):
        skio.load(plain)
    archive = tmp_path / "archive.npz"
    np.savez(archive, values=np.arange(3.0))
    with pytest.raises(ValueError, match="no skmix header"):
        skio.load(archive)


class _Trap:
    """Unpickling this object would create a file: it must never happen."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_inside_the_archive_is_never_run(tmp_path, saved):
    trap = tmp_path / "trap_was_run"

    def add_pickle(header, arrays):
        arrays["evil"] = np.array([_Trap(trap)], dtype=object)

    with np.load(saved, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["evil"] = np.array([_Trap(trap)], dtype=object)
    with open(saved, "wb") as stream:
        np.savez(stream, **arrays)  # pickles the object array
    with pytest.raises(ValueError, match="Cannot load"):
        skio.load(saved)
    assert not trap.exists()
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(_Trap(trap)))
    with pytest.raises(ValueError, match="Cannot load"):
        skio.load(pickled)
    assert not trap.exists()


def test_composite_parameters_of_the_wrong_shape(tmp_path):
    frame = mixed_frame()[["g", "ca"]]
    path = tmp_path / "table.skmix"
    skio.save(CompositeMixture(2, random_state=0).fit(frame), path)

    def drop_a_level(header, arrays):
        for name in arrays:
            if name.startswith("state") and arrays[name].shape == (2, 3):
                arrays[name] = arrays[name][:, :2]  # categorical levels

    rewrite(path, drop_a_level)
    with pytest.raises(ValueError, match=r"categorical parameters .* shape \(2, 3\)"):
        skio.load(path)


def test_what_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        skio.save(GaussianMixtureEM(), tmp_path / "a.skmix")

    class MyMixture(GaussianMixtureEM):
        pass

    with pytest.raises(TypeError, match="not subclasses"):
        skio.save(MyMixture(2).fit(X), tmp_path / "b.skmix")
    with pytest.raises(TypeError, match="Cannot save a KMeans"):
        from sklearn.cluster import KMeans

        skio.save(KMeans(2, n_init=1).fit(X), tmp_path / "c.skmix")


def test_save_into_a_missing_folder_or_onto_a_folder_says_so(tmp_path):
    model = GaussianMixtureEM(2, random_state=0).fit(load_faithful(return_X_y=True))
    missing = tmp_path / "no such folder" / "model.skmix"
    with pytest.raises(FileNotFoundError, match="the folder .* does not exist"):
        skio.save(model, missing)
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        skio.save(model, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written
