"""Values that the fits of one model search compute alike, computed once.

A model search (``skmix.select_model``) fits many candidates to the same
rows, and each fit computes from them the same few values: the data's
scale (the family's ``data_scale``), the rows as the E-steps read them
(``rows_for_e_steps``) and the reference its starts are centred on (the
family's ``reference``). :class:`SharedValues` keeps each value for the
very input objects it was computed from (identity, not equality: the
search holds them, unchanged, while it runs) and for families of the same
``sharing_key()`` (the family contract: equal keys, equal values from the
same rows; a family whose key is None shares nothing). A value is reused
only for those, so every fit gets the value it would have computed itself.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable


class SharedValues:
    """Values computed once for the fits of one search (module docstring)."""

    def __init__(self):
        self._values = {}

    def get(self, purpose: Hashable, family, inputs: tuple, compute: Callable):
        """``compute()``, or the value it gave for the same ``purpose``,
        family key (``family`` None: a value of the rows alone) and input
        objects."""
        family_key = None
        if family is not None:
            family_key = family.sharing_key()
            if family_key is None:
                return compute()
        key = (purpose, family_key) + tuple(id(value) for value in inputs)
        found = self._values.get(key)
        if found is not None and all(a is b for a, b in zip(found[0], inputs)):
            return found[1]
        value = compute()
        # The inputs are kept with the value: their ids stay theirs.
        self._values[key] = (inputs, value)
        return value


def shared_value(shared, purpose, family, inputs: tuple, compute: Callable):
    """``shared.get(...)``, or ``compute()`` when ``shared`` is None (a fit
    outside a search)."""
    if shared is None:
        return compute()
    return shared.get(purpose, family, inputs, compute)


def shared_data_scale(shared, family, X, sample_weight):
    """``family.data_scale(X, sample_weight)``, once per search for the same
    rows and weights (``shared_value``)."""
    return shared_value(
        shared,
        "data_scale",
        family,
        (X, sample_weight),
        lambda: family.data_scale(X, sample_weight),
    )
