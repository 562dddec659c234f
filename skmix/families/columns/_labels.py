"""Label handling shared by the label families (bernoulli, categorical)."""

from __future__ import annotations

import numbers

import numpy as np

from ..._config import INDICATOR_SCALE
from ._base import ColumnFamily


class LabelFamily(ColumnFamily):
    """A family over labels (any hashable values) coded 0, 1, ... by their
    index in the column's ``categories``, learned at fit unless given."""

    label_input = True
    impute_kind = "mode"
    embed_scale = INDICATOR_SCALE
    option_names = ("categories",)

    def __init__(self, categories=None):
        self.categories = categories

    def encode(self, values, column, state, handle_unknown="error"):
        return label_codes(values, state["categories"], column, handle_unknown)

    def decode(self, codes, state):
        return decode_labels(codes, state["categories"])


def distinct_labels(values, column=None):
    """Distinct labels, sorted when they can be compared, else in order seen.

    Labels that compare equal are one label to Python (``True == 1 ==
    1.0``): booleans mixed with the numbers 0 or 1 are refused, naming the
    column (they would merge silently).
    """
    values = np.asarray(values)
    if values.dtype.kind in "biufUS":
        return np.unique(values).tolist()
    listed = values.tolist()
    _check_bool_and_number(listed, column)
    seen = dict.fromkeys(listed)
    try:
        return sorted(seen)
    except TypeError:
        return list(seen)


def _check_bool_and_number(labels, column):
    booleans = {v for v in labels if isinstance(v, (bool, np.bool_))}
    if not booleans:
        return
    clash = [
        v
        for v in labels
        if isinstance(v, numbers.Number)
        and not isinstance(v, (bool, np.bool_))
        and v in booleans
    ]
    if clash:
        raise ValueError(
            f"Column {column!r} mixes booleans and numbers that equal them "
            f"({next(iter(booleans))!r} and {clash[0]!r}), which would be one "
            "label. Give the column one kind of value (e.g. .astype(str))."
        )


def label_codes(values, categories, column, handle_unknown):
    """Float codes (index in ``categories``) of observed labels.

    An unseen label raises ``ValueError`` naming the column and the value
    (``handle_unknown='error'``) or becomes NaN, i.e. missing ('ignore').
    """
    values = np.asarray(values)
    lookup = {label: code for code, label in enumerate(categories)}
    codes = np.fromiter(
        (lookup.get(v, -1) for v in values.tolist()),
        dtype=np.float64,
        count=values.shape[0],
    )
    unknown = codes < 0
    if np.any(unknown):
        if handle_unknown == "error":
            value = values[np.flatnonzero(unknown)[0]]
            raise ValueError(
                f"Column {column!r} contains the value {value!r}, which was not "
                f"seen during fit (known: {list(categories)[:10]!r}). Set "
                "handle_unknown='ignore' to treat unseen values as missing."
            )
        codes[unknown] = np.nan
    return codes


def decode_labels(codes, categories):
    """Labels from codes; NaN codes give NaN (numeric labels) or None.

    Labels of any kind (tuples included) come back one per code: an array
    of numbers where every label is a number, else an object array.
    """
    codes = np.asarray(codes, dtype=np.float64)
    missing = np.isnan(codes)
    index = np.where(missing, len(categories), codes).astype(np.int64)
    table = np.empty(len(categories), dtype=object)
    for code, label in enumerate(categories):
        table[code] = label
    if table.size and all(
        isinstance(label, (numbers.Real, np.bool_)) for label in categories
    ):
        table = np.asarray(categories)
        if not np.any(missing):
            return table[index]
        if table.dtype.kind in "iuf":
            return np.append(table.astype(np.float64), np.nan)[index]
    labels = np.empty(len(categories) + 1, dtype=object)
    labels[:-1] = table
    labels[-1] = None
    return labels[index]
