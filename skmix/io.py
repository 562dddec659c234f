"""Safe model files: save a fitted skmix estimator, load it back exactly.

``save(estimator, path)`` writes one file; ``load(path)`` returns a new
fitted estimator whose parameters are bit-identical to the saved ones, so
that its predictions are too. Loading executes nothing from the file: no
pickle (arrays are read with ``numpy.load(..., allow_pickle=False)``), JSON
only, and the only classes a file can name are skmix's estimators, its
column families and the named tuples of its families' parameters, each
looked up in a fixed table. A file that is not a valid model (truncated,
edited, from a newer format, with wrong shapes or NaN parameters, naming an
unknown estimator) raises a ``ValueError`` that says why; no model is
returned half loaded.

File format (version 2)
-----------------------
The file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays; it can be
inspected with ``numpy.load(path, allow_pickle=False)``). Its entry
``skmix_header`` is a uint8 array holding UTF-8 JSON::

    {"format": "skmix-model", "format_version": 1, "skmix_version": "0.1.0",
     "sha256": "<hex digest>", "body": {...}}

``body`` holds ``estimator`` (the class name), ``params`` (the constructor
parameters, ``get_params(deep=False)``), ``fitted`` (the public fitted
attributes, names ending in ``_``) and ``state`` (what the estimator's
``__skmix_getstate__`` returns: the private pieces, such as the fitted
family's settings, that rebuild it with ``__skmix_setstate__``). Every other
entry of the archive is an array that the body names. Values are encoded as:

- JSON null, booleans, integers, strings and arrays (Python lists); finite
  floats as JSON numbers (Python's shortest repr, which reads back exactly);
- and otherwise as an object with one tag key: ``{"float": "nan" | "inf" |
  "-inf"}``, ``{"tuple": [...]}``, ``{"dict": [[key, value], ...]}``,
  ``{"ndarray": "<entry name>"}`` (a bool / int / uint / float array of the
  archive), ``{"object_array": [...]}`` (a 1-D array of labels, e.g.
  ``feature_names_in_``), ``{"numpy": "<dtype>", "value": v}`` (a NumPy
  scalar), ``{"bytes": "<base64>"}``, ``{"column_family": "<name>",
  "options": {...}}`` (``skmix.families.columns``), ``{"random_state":
  {...}}`` (a ``numpy.random.RandomState`` and its state) and
  ``{"named_tuple": "<module>.<class>", "fields": {...}}`` (the parameter
  tuples of skmix's families);
- ``{"estimator": {"estimator": "<class name>", "params": {...}}}``, an
  unfitted skmix estimator inside the parameters (the component families
  of ``HierarchicalMixture`` and ``JointMixture``), and with ``"fitted"``
  and ``"state"`` as in ``body`` a fitted one (their ``topics_``,
  ``components_x_`` and ``components_y_``). A nested estimator is checked
  and rebuilt as the saved one is, before the estimator that holds it.

``sha256`` is the SHA-256 digest of the body as canonical JSON
(``json.dumps(body, sort_keys=True, separators=(",", ":"),
allow_nan=False)``, UTF-8) followed, for every array entry in sorted name
order, by its name, its dtype string (``dtype.str``), its shape (as
``str(tuple)``), each followed by a NUL byte, and its bytes in C order. It
makes any change after writing (an edited number, a lost array) an error on
load rather than a silently different model.

A reader of format version N reads files of versions 1..N and refuses newer
ones, asking to upgrade skmix. A file holds the lowest version that has
everything it uses, so that older skmix reads what it can:

- version 1: the estimators without nested estimators (every one but the
  two below);
- version 2 adds the ``estimator`` tag (``HierarchicalMixture``,
  ``JointMixture``). A version 1 file is a version 2 file without it.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import io
import json
import os
import sys
import tempfile
import zipfile

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._persisted import ESTIMATORS, PersistError, check_fitted
from .families.columns import COLUMN_FAMILIES, ColumnFamily

#: Name of the format and the version this module writes (and the newest
#: it reads).
FORMAT = "skmix-model"
FORMAT_VERSION = 2

#: The first format version with nested estimators (the ``estimator`` tag).
NESTED_VERSION = 2

#: Archive entry that holds the JSON header.
HEADER_KEY = "skmix_header"

#: dtype kinds an array entry may have: bool, signed, unsigned, float.
ARRAY_KINDS = "biuf"

__all__ = ["FORMAT", "FORMAT_VERSION", "load", "save"]


class ModelFileError(ValueError):
    """A file that is not a valid skmix model (a ``ValueError``)."""


# --------------------------------------------------------------- encoding
class _Encoder:
    """Turns values into JSON nodes, collecting arrays under unique names."""

    def __init__(self):
        self.arrays = {}
        self.version = 1

    def array_name(self, path):
        name = ".".join(path) or "value"
        name = name.replace("/", "_")
        while name in self.arrays or name == HEADER_KEY:
            name += "_"
        return name

    def __call__(self, value, path=()):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.generic):
            return self.numpy_scalar(value, path)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return value if np.isfinite(value) else {"float": repr(value)}
        if isinstance(value, bytes):
            return {"bytes": base64.b64encode(value).decode("ascii")}
        if isinstance(value, np.ndarray):
            return self.ndarray(value, path)
        if isinstance(value, ColumnFamily):
            return self.column_family(value, path)
        if isinstance(value, np.random.RandomState):
            return self.random_state(value, path)
        if isinstance(value, BaseEstimator):
            self.version = max(self.version, NESTED_VERSION)
            fitted = bool(public_fitted(value))
            return {"estimator": estimator_body(self, value, path, fitted)}
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return self.named_tuple(value, path)
        if isinstance(value, tuple):
            return {"tuple": [self(v, (*path, str(i))) for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self(v, (*path, str(i))) for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {
                "dict": [
                    [self(k, (*path, "key")), self(v, (*path, str(k)))]
                    for k, v in value.items()
                ]
            }
        raise TypeError(
            f"Cannot save {'.'.join(path) or 'a value'} of type "
            f"{type(value).__name__}: a skmix model file holds numbers, strings, "
            "arrays, lists, dicts and skmix's own families and estimators only."
        )

    def numpy_scalar(self, value, path):
        if value.dtype.kind not in ARRAY_KINDS + "U":
            raise TypeError(f"Cannot save the NumPy scalar {value!r} at {path}.")
        item = value.item()
        return {"numpy": value.dtype.str, "value": self(item, path)}

    def ndarray(self, value, path):
        if value.dtype.kind == "O" and value.ndim == 1:
            return {"object_array": [self(v, path) for v in value.tolist()]}
        if value.dtype.kind not in ARRAY_KINDS:
            raise TypeError(
                f"Cannot save the array {'.'.join(path)} of dtype {value.dtype}."
            )
        name = self.array_name(path)
        self.arrays[name] = np.ascontiguousarray(value)
        return {"ndarray": name}

    def column_family(self, family, path):
        if COLUMN_FAMILIES.get(family.name) is not type(family):
            raise TypeError(
                f"Cannot save the column family {family!r}: only skmix's own "
                f"families ({sorted(COLUMN_FAMILIES)}) can be saved."
            )
        parameters = inspect.signature(type(family)).parameters.values()
        options = {
            p.name: getattr(family, p.name)
            for p in parameters
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }
        return {"column_family": family.name, "options": self(options, path)}

    def random_state(self, state, path):
        _, keys, pos, has_gauss, cached = state.get_state(legacy=True)
        return {
            "random_state": {
                "keys": self.ndarray(np.asarray(keys), (*path, "keys")),
                "pos": int(pos),
                "has_gauss": int(has_gauss),
                "cached_gaussian": float(cached),
            }
        }

    def named_tuple(self, value, path):
        kind = type(value)
        qualified = f"{kind.__module__}.{kind.__qualname__}"
        if named_tuple_classes().get(qualified) is not kind:
            raise TypeError(f"Cannot save the named tuple {qualified}.")
        fields = {f: getattr(value, f) for f in kind._fields}
        return {"named_tuple": qualified, "fields": self(fields, path)}


def named_tuple_classes():
    """The parameter tuples of skmix's families, by qualified name: the only
    named tuples a file may hold."""
    found = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("skmix.families") or module is None:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, tuple)
                and hasattr(value, "_fields")
                and value.__module__ == module_name
            ):
                found[f"{module_name}.{value.__qualname__}"] = value
    return found


class _Decoder:
    """Turns JSON nodes back into values; every malformed node raises."""

    def __init__(self, arrays, version):
        self.arrays = arrays
        self.version = version
        self.used = set()

    def __call__(self, node, where="body"):
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if isinstance(node, list):
            return [self(v, where) for v in node]
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise ModelFileError(f"{where}: unexpected JSON value {node!r:.80}.")
        tag = next(iter(node))
        value = node[tag]
        if tag == "tuple" and isinstance(value, list):
            return tuple(self(v, where) for v in value)
        if tag == "dict" and isinstance(value, list):
            return {self._key(k, where): self(v, where) for k, v in self._pairs(value)}
        if tag == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "ndarray" and isinstance(value, str):
            return self.ndarray(value, where)
        if tag == "object_array" and isinstance(value, list):
            out = np.empty(len(value), dtype=object)
            out[:] = [self(v, where) for v in value] if value else []
            return out
        if tag == "numpy" and "value" in node:
            return self.numpy_scalar(value, node["value"], where)
        if tag == "bytes" and isinstance(value, str):
            return base64.b64decode(value.encode("ascii"), validate=True)
        if tag == "column_family" and "options" in node:
            return self.column_family(value, node["options"], where)
        if tag == "random_state" and isinstance(value, dict):
            return self.random_state(value, where)
        if tag == "named_tuple" and "fields" in node:
            return self.named_tuple(value, node["fields"], where)
        if tag == "estimator" and isinstance(value, dict):
            return self.estimator(value, where)
        raise ModelFileError(f"{where}: unknown or malformed tag {tag!r}.")

    @staticmethod
    def _pairs(value):
        if not all(isinstance(p, list) and len(p) == 2 for p in value):
            raise ModelFileError("a dict must be a list of [key, value] pairs.")
        return value

    def _key(self, node, where):
        key = self(node, where)
        try:
            hash(key)
        except TypeError:
            raise ModelFileError(f"{where}: a dict key is not hashable.") from None
        return key

    def ndarray(self, name, where):
        if name not in self.arrays:
            raise ModelFileError(f"{where}: the array {name!r} is missing.")
        self.used.add(name)
        return self.arrays[name]

    def numpy_scalar(self, dtype, value, where):
        try:
            kind = np.dtype(dtype)
        except TypeError:
            raise ModelFileError(f"{where}: unknown dtype {dtype!r}.") from None
        if kind.kind not in ARRAY_KINDS + "U":
            raise ModelFileError(f"{where}: dtype {dtype!r} is not allowed.")
        return kind.type(self(value, where))

    def column_family(self, name, options, where):
        if name not in COLUMN_FAMILIES:
            raise ModelFileError(f"{where}: unknown column family {name!r}.")
        options = self(options, where)
        if not isinstance(options, dict):
            raise ModelFileError(f"{where}: column family options must be a dict.")
        return COLUMN_FAMILIES[name](**options)

    def random_state(self, value, where):
        keys = self(value.get("keys"), where)
        state = np.random.RandomState()
        state.set_state(
            (
                "MT19937",
                np.asarray(keys, dtype=np.uint32),
                int(value["pos"]),
                int(value["has_gauss"]),
                float(value["cached_gaussian"]),
            )
        )
        return state

    def estimator(self, body, where):
        if self.version < NESTED_VERSION:
            raise ModelFileError(
                f"{where}: a nested estimator needs format version "
                f"{NESTED_VERSION}, but the file says {self.version}."
            )
        return build_estimator(self, body, where)

    def named_tuple(self, qualified, fields, where):
        kind = named_tuple_classes().get(qualified)
        if kind is None:
            raise ModelFileError(f"{where}: unknown parameter tuple {qualified!r}.")
        fields = self(fields, where)
        if not isinstance(fields, dict) or list(fields) != list(kind._fields):
            raise ModelFileError(
                f"{where}: {qualified} needs the fields {list(kind._fields)}."
            )
        return kind(**fields)


# ------------------------------------------------------------- checksums
def canonical_json(body):
    """The body as the canonical JSON text its digest is taken over."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)


def digest(body, arrays):
    """SHA-256 of the body and the arrays (see the module docstring)."""
    sha = hashlib.sha256(canonical_json(body).encode("utf-8"))
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        for part in (name, array.dtype.str, str(array.shape)):
            sha.update(part.encode("utf-8") + b"\0")
        sha.update(array.tobytes(order="C"))
    return sha.hexdigest()


# ------------------------------------------------------------------- save
def save(estimator, path):
    """Write a fitted skmix estimator to a model file.

    Parameters
    ----------
    estimator : fitted skmix estimator
        ``GaussianMixtureEM``, ``CoinMixture``, ``NIGMixture``,
        ``CompositeMixture``, ``HeterogeneousMixture``,
        ``HierarchicalMixture`` or ``JointMixture``.
    path : str, path-like or binary file object
        Where to write (a path is replaced atomically: a failure leaves no
        partial file). The suffix is up to you (``.skmix`` reads well).

    Raises
    ------
    TypeError
        If the estimator is not a skmix estimator, or a parameter holds a
        value the format cannot store (see the module docstring).
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    """
    check_saveable(estimator)
    check_is_fitted(estimator)
    encode = _Encoder()
    body = estimator_body(encode, estimator, (), fitted=True)
    from . import __version__

    header = {
        "format": FORMAT,
        "format_version": encode.version,
        "skmix_version": __version__,
        "sha256": digest(body, encode.arrays),
        "body": body,
    }
    text = json.dumps(header, allow_nan=False).encode("utf-8")
    buffer = io.BytesIO()
    np.savez(
        buffer, **{HEADER_KEY: np.frombuffer(text, dtype=np.uint8)}, **encode.arrays
    )
    _write(buffer.getvalue(), path)


def check_saveable(estimator):
    """A TypeError unless ``estimator`` is one of skmix's estimators."""
    name = type(estimator).__name__
    if name not in ESTIMATORS or type(estimator) is not ESTIMATORS[name].cls:
        raise TypeError(
            f"Cannot save a {name}: skmix.io saves {sorted(ESTIMATORS)} "
            "(not subclasses: their code would not be in the file)."
        )


def public_fitted(estimator):
    """The public fitted attributes (names ending in ``_``)."""
    return {
        key: value
        for key, value in vars(estimator).items()
        if key.endswith("_") and not key.startswith("_")
    }


def estimator_body(encode, estimator, path, fitted):
    """The JSON body of an estimator: its name and parameters and, if
    ``fitted``, its fitted attributes and state (see the module docstring)."""
    check_saveable(estimator)
    name = type(estimator).__name__
    body = {
        "estimator": name,
        "params": encode(estimator.get_params(deep=False), (*path, "params")),
    }
    if fitted:
        derived = ESTIMATORS[name].derived
        attributes = {
            key: value
            for key, value in public_fitted(estimator).items()
            if key not in derived
        }
        body["fitted"] = encode(attributes, (*path, "fitted"))
        body["state"] = encode(estimator.__skmix_getstate__(), (*path, "state"))
    return body


def _write(data, path):
    if hasattr(path, "write"):
        path.write(data)
        return
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Cannot save to {path}: the folder {directory} does not exist "
            "(create it first, or choose another path)."
        )
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Cannot save to {path}: it is a folder; give a file name."
        )
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


# ------------------------------------------------------------------- load
def load(path):
    """Read a model file written by :func:`save`.

    Parameters
    ----------
    path : str, path-like or binary file object
        The file.

    Returns
    -------
    estimator : fitted skmix estimator
        A new estimator with the saved parameters and fitted attributes.

    Raises
    ------
    ValueError
        If the file is not a skmix model file, is truncated or was changed
        after it was written, comes from a newer format version, names an
        unknown estimator, or holds parameters of the wrong shape or with
        NaN values. Nothing is returned then.
    """
    source = getattr(path, "name", path)
    try:
        header, arrays = _read_archive(path)
        body, version = _check_header(header, arrays)
        return _build(body, arrays, version)
    except (ModelFileError, PersistError) as error:
        raise ValueError(f"Cannot load {source!s}: {error}") from None
    except RecursionError:
        raise ValueError(
            f"Cannot load {source!s}: its header is nested too deeply to be a "
            "skmix model."
        ) from None


def _read_archive(path):
    """The JSON header and the arrays of a model file."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ModelFileError(
            f"not a skmix model file, or truncated ({error})."
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ModelFileError("not a skmix model file (a single NumPy array).")
    with archive:
        try:
            arrays = {key: archive[key] for key in archive.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise ModelFileError(
                f"the file is truncated or damaged ({error})."
            ) from None
    raw = arrays.pop(HEADER_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError("not a skmix model file (no skmix header).")
    try:
        header = json.loads(
            raw.tobytes().decode("utf-8"), parse_constant=_refuse_constant
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"its header is not valid JSON ({error}).") from None
    for name, array in arrays.items():
        if array.dtype.kind not in ARRAY_KINDS:
            raise ModelFileError(f"the array {name!r} has dtype {array.dtype}.")
    return header, arrays


def _refuse_constant(name):
    raise ModelFileError(f"its header holds the non-JSON number {name}.")


def _check_header(header, arrays):
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError("not a skmix model file (no 'skmix-model' format).")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"invalid format version {version!r}.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"it was written in model file format {version} (by skmix "
            f"{header.get('skmix_version')}), newer than the format "
            f"{FORMAT_VERSION} this skmix reads. Upgrade skmix to load it."
        )
    body = header.get("body")
    if not isinstance(body, dict):
        raise ModelFileError("its header has no body.")
    if digest(body, arrays) != header.get("sha256"):
        raise ModelFileError(
            "its checksum does not match: the file was changed or damaged after "
            "it was written."
        )
    missing = {"estimator", "params", "fitted", "state"} - set(body)
    if missing:
        raise ModelFileError(f"its body lacks {sorted(missing)}.")
    return body, version


def _build(body, arrays, version):
    """A new estimator from a checked body; raises before returning anything
    if a piece is malformed."""
    decode = _Decoder(arrays, version)
    estimator = build_estimator(decode, body)
    unused = set(arrays) - decode.used
    if unused:
        raise ModelFileError(f"the arrays {sorted(unused)} are not used.")
    return estimator


#: The keys of an estimator's body: always, and those of a fitted one.
BODY_KEYS = ("estimator", "params")
FITTED_KEYS = ("fitted", "state")


def build_estimator(decode, body, where=None):
    """The estimator of a body (the file's, or a nested one at ``where``):
    unfitted from its parameters, or fitted, its attributes checked before
    it is built."""
    prefix = "" if where is None else f"{where}: "
    keys = set(body)
    if not (set(BODY_KEYS) <= keys <= set(BODY_KEYS + FITTED_KEYS)):
        raise ModelFileError(f"{prefix}an estimator's body has the keys {keys}.")
    name = body["estimator"]
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise ModelFileError(
            f"{prefix}unknown estimator {name!r}; this skmix loads "
            f"{sorted(ESTIMATORS)}."
        )
    params = decode(body["params"], where or "params")
    if not isinstance(params, dict):
        raise ModelFileError(f"{prefix}params must be a dict.")
    if keys == set(BODY_KEYS):
        if where is None:
            raise ModelFileError("the file holds no fitted estimator.")
        return construct(name, params, prefix)
    if not keys >= set(FITTED_KEYS):
        raise ModelFileError(f"{prefix}a fitted estimator needs {FITTED_KEYS}.")
    fitted = decode(body["fitted"], where or "fitted")
    state = decode(body["state"], where or "state")
    if not isinstance(fitted, dict):
        raise ModelFileError(f"{prefix}fitted attributes must be a dict.")
    if not isinstance(state, dict):
        raise ModelFileError(f"{prefix}the estimator's state must be a dict.")
    check_fitted(name, fitted, state)
    estimator = construct(name, params, prefix)
    for key, value in fitted.items():
        if not (key.endswith("_") and key.isidentifier() and not key.startswith("_")):
            raise ModelFileError(f"{prefix}{key!r} is not a fitted attribute's name.")
        setattr(estimator, key, value)
    try:
        estimator.__skmix_setstate__(state)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        raise ModelFileError(f"{prefix}invalid {name} state: {error!r}") from None
    return estimator


def construct(name, params, prefix=""):
    """``name(**params)``, a ModelFileError if the parameters do not fit."""
    try:
        return ESTIMATORS[name].cls(**params)
    except TypeError as error:
        raise ModelFileError(
            f"{prefix}invalid parameters for {name}: {error}"
        ) from None
