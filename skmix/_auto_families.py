"""What ``families='auto'`` infers for a column of a mixed-type table.

:func:`infer_family_why` reads a column (``skmix._table``'s column object:
values, kind and missing mask) and returns the family name and why. Counts
are Poisson only when ``n_components`` Poissons can account for their spread
(:func:`within_group_dispersion`); columns that cannot be read safely
(numbers with stray text, near-unique labels) are refused with an error that
names the column, the values and their rows.
"""

from __future__ import annotations

import datetime
import numbers

import numpy as np

from ._config import (
    LABELS_MAX_UNIQUE_FRACTION,
    LABELS_MAX_UNIQUE_MIN,
    POISSON_MAX_DISPERSION,
)


def check_observed(observed, name):
    """A column must have an observed value to be fitted."""
    if observed.shape[0] == 0:
        raise ValueError(
            f"Column {name!r} has no observed value (entirely missing); drop it "
            "before fitting."
        )


def is_number_type(kind):
    return issubclass(kind, (numbers.Number, np.bool_))


def infer_family(column, name, n_components=1):
    """Family name for ``families='auto'`` (see :func:`infer_family_why`)."""
    return infer_family_why(column, name, n_components)[0]


def infer_family_why(column, name, n_components=1):
    """Family name for ``families='auto'``, and why (a short phrase).

    bool -> bernoulli; numeric with exactly two distinct values ->
    bernoulli; non-negative integers -> poisson if ``n_components``
    Poissons can account for their spread (``POISSON_MAX_DISPERSION``),
    else gaussian; other numbers -> gaussian; strings, categories and other
    labels -> categorical. Refused (ValueError): numbers with a few stray
    text values, and labels that are nearly all distinct
    (``LABELS_MAX_UNIQUE_FRACTION``).
    """
    if column.kind == "bool":
        return "bernoulli", "bool"
    observed = column.observed()
    check_observed(observed, name)
    if column.kind == "object":
        values = observed.tolist()
        types = set(map(type, values))
        if all(issubclass(t, (bool, np.bool_)) for t in types):
            return "bernoulli", "bool"
        numeric = all(
            is_number_type(t) and not issubclass(t, (bool, np.bool_)) for t in types
        )
        if not numeric:
            _check_not_dates(values, name)
            _check_label_types(types, name)
            _check_not_stray_text(column, values, name)
            _check_not_near_unique(values, name)
            return "categorical", "labels"
        observed = real_values(values, name)
    observed = np.asarray(observed, dtype=np.float64)
    if not np.all(np.isfinite(observed)):
        raise ValueError(
            f"Column {name!r} contains infinite values; replace them by finite "
            "values or NaN (missing)."
        )
    distinct, counts = np.unique(observed, return_counts=True)
    if distinct.shape[0] == 2:
        return "bernoulli", "two distinct values"
    if not (
        distinct[0] >= 0
        and distinct[-1] <= _EXACT_INTEGERS
        and np.all(distinct == np.round(distinct))
    ):
        return "gaussian", "real values"
    dispersion = within_group_dispersion(distinct, counts, n_components)
    groups = f"{min(n_components, distinct.shape[0])} group(s)"
    if dispersion <= POISSON_MAX_DISPERSION:
        return "poisson", f"counts, variance/mean {dispersion:.3g} within {groups}"
    return "gaussian", (
        f"counts too dispersed for {n_components} Poisson component(s): "
        f"variance/mean {dispersion:.3g} within {groups}"
    )


#: Integers above 2**53 are not all representable: every such double is an
#: integer, so integrality says nothing there.
_EXACT_INTEGERS = 2.0**53


#: The exact split of :func:`within_group_dispersion` runs over at most this
#: many runs of consecutive values (the distinct values, or bins of them).
_SPLIT_MAX_ATOMS = 512


def within_group_dispersion(values, counts, n_groups, max_iter=100):
    """Variance within groups over their mean, for the best split found of
    sorted distinct non-negative ``values`` (with multiplicities ``counts``)
    into ``n_groups`` groups of consecutive values.

    The split minimises the variance within groups: exactly (dynamic
    programming over the distinct values, or over ``_SPLIT_MAX_ATOMS`` bins
    of them), then refined by 1-D k-means (Lloyd's iterations). The result
    is ``sum_g sum_{i in g} (x_i - mean_g)^2 / sum_i x_i`` (0 for a column of
    zeros). A mixture of ``n_groups`` Poissons gives about 1 or less, as its
    components' variances equal their means.
    """
    values = np.asarray(values, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    total = counts @ values
    if values.shape[0] <= n_groups or total == 0:
        return 0.0
    # Variances are shift-invariant: centring keeps the sums of squares exact.
    x = values - (counts @ values) / counts.sum()
    labels = _best_split(x, counts, n_groups)
    for _ in range(max_iter):
        weight = np.bincount(labels, counts)
        kept = weight > 0
        centres = np.bincount(labels, counts * x)[kept] / weight[kept]
        new = np.searchsorted((centres[1:] + centres[:-1]) / 2, x)
        if np.array_equal(new, labels):
            break
        labels = new
    weight = np.bincount(labels, counts)
    centres = np.bincount(labels, counts * x) / np.maximum(weight, 1.0)
    within = counts @ (x - centres[labels]) ** 2
    return float(within / total)


def _best_split(x, counts, n_groups):
    """Group labels (0, 1, ...) of sorted ``x`` for the split into
    ``n_groups`` runs of least within-group sum of squares (over bins of
    consecutive values when there are more than ``_SPLIT_MAX_ATOMS``)."""
    m = x.shape[0]
    if m > _SPLIT_MAX_ATOMS:
        cumulative = np.cumsum(counts)
        edges = cumulative[-1] * np.arange(1, _SPLIT_MAX_ATOMS) / _SPLIT_MAX_ATOMS
        atom = np.searchsorted(edges, cumulative - counts, side="right")
    else:
        atom = np.arange(m)
    n_atoms = atom[-1] + 1
    w = np.r_[0.0, np.cumsum(np.bincount(atom, counts, n_atoms))]
    s = np.r_[0.0, np.cumsum(np.bincount(atom, counts * x, n_atoms))]
    q = np.r_[0.0, np.cumsum(np.bincount(atom, counts * x * x, n_atoms))]
    # cost[i, j]: sum of squares of atoms i..j-1 about their mean (i < j).
    width = w[None, :] - w[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = (q[None, :] - q[:, None]) - (s[None, :] - s[:, None]) ** 2 / width
    cost = np.where(width > 0, np.maximum(cost, 0.0), np.inf)
    best = cost[0].copy()  # best[j]: atoms 0..j-1 in one group
    starts = []
    for _ in range(1, n_groups):
        candidates = best[:, None] + cost
        start = np.argmin(candidates, axis=0)
        best = candidates[start, np.arange(n_atoms + 1)]
        starts.append(start)
    # Walk back the group starts from the last atom.
    bounds, end = [n_atoms], n_atoms
    for start in reversed(starts):
        end = int(start[end])
        bounds.append(end)
    group_starts = np.array(bounds[::-1][:-1])
    return np.searchsorted(group_starts, np.arange(n_atoms), side="right")[atom]


def real_values(values, name):
    """Numbers of an object column as floats; complex ones are an error."""
    for value in values:
        if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
            raise TypeError(
                f"Column {name!r} holds the complex number {value!r}; skmix models "
                "real numbers. Split it into real and imaginary columns."
            )
    return np.asarray(values, dtype=np.float64)


def _check_not_dates(values, name):
    """Dates and durations are not labels (nor numbers skmix reads)."""
    for value in values[:1]:
        if isinstance(
            value, (datetime.date, datetime.timedelta, np.datetime64, np.timedelta64)
        ):
            raise ValueError(
                f"Column {name!r} holds dates or durations ({value!r}); convert "
                "it to numbers (e.g. days since the first date) or drop it."
            )


def _check_label_types(types, name):
    for t in types:
        if not issubclass(t, (str, bytes, numbers.Number)) and t.__hash__ is None:
            raise TypeError(
                f"Column {name!r}: argument must be a string or a number, "
                f"got {t.__name__}."
            )


def _number_like(value):
    """Whether a label is a number, or text that reads as one."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Number):
        return True
    if isinstance(value, (str, bytes)):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _check_not_stray_text(column, values, name):
    """Numbers with a few non-numbers (an 'n/a', a typo) are refused, naming
    them: as labels, every number would become a level of its own."""
    number_like = np.fromiter(map(_number_like, values), bool, len(values))
    if number_like.all() and not all(isinstance(v, (str, bytes)) for v in values):
        text = next(v for v in values if isinstance(v, (str, bytes)))
        raise ValueError(
            f"Column {name!r} holds numbers, some of them written as text such "
            f"as {text!r}. Convert the column to numbers (pandas.to_numeric), or "
            "declare its family."
        )
    # Booleans among numbers are refused by the label families themselves.
    text = np.fromiter((isinstance(v, (str, bytes)) for v in values), bool)
    if not (text & ~number_like).any() or number_like.mean() < 0.5:
        return
    stray = np.flatnonzero(~number_like & text)
    rows = np.flatnonzero(~column.missing)[stray]
    shown = ", ".join(f"{values[i]!r} (row {r})" for i, r in zip(stray[:3], rows))
    more = f" and {stray.shape[0] - 3} more" if stray.shape[0] > 3 else ""
    raise ValueError(
        f"Column {name!r} holds numbers but also {stray.shape[0]} non-numeric "
        f"value(s): {shown}{more}. As labels, every number would be a level of "
        "its own. Replace those values by NaN if they mark missing entries "
        "(pandas.to_numeric(errors='coerce')), or declare the column's family."
    )


def _check_not_near_unique(values, name):
    levels = len(set(values))
    n = len(values)
    if levels > max(LABELS_MAX_UNIQUE_FRACTION * n, LABELS_MAX_UNIQUE_MIN):
        examples = ", ".join(repr(v) for v in list(dict.fromkeys(values))[:3])
        hint = ""
        if all(map(_number_like, values)):
            hint = " They read as numbers: convert them (pandas.to_numeric)."
        raise ValueError(
            f"Column {name!r} has {levels} distinct labels in {n} observed rows "
            f"({examples}, ...): an identifier or free text rather than a "
            "category, each level resting on a row or two. Drop the column, or "
            f"declare it 'categorical' to model it anyway.{hint}"
        )
