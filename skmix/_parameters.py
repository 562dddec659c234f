"""The constructor of every skmix estimator, written once.

scikit-learn asks an estimator's ``__init__`` to store each parameter under
its own name and do nothing else, and reads the parameters' names from its
signature. Every skmix estimator shares the EM parameters of
:data:`SHARED_PARAMETERS`; an estimator declares only its own, and
:func:`estimator_init` makes the ``__init__`` that takes both. Its signature
(``__signature__``) is the real one, so that ``get_params``, ``help()``,
editors, Sphinx and :func:`skmix._docstrings.fill_docstring` (which writes
the defaults into the docs) all read the same parameters and defaults.
"""

from __future__ import annotations

import inspect

#: The keyword-only parameters every estimator takes, after its own, with
#: their defaults (scikit-learn's GaussianMixture's where it has them).
SHARED_PARAMETERS = {
    "tol": 1e-3,
    "max_iter": 100,
    "n_init": 1,
    "init_params": "kmeans",
    "random_state": None,
    "warm_start": False,
    "verbose": 0,
    "verbose_interval": 10,
    "n_jobs": None,
    "validation_fraction": 0.1,
    "accelerate": None,
}


def estimator_init(positional=None, keyword=None):
    """An estimator's ``__init__``: store every parameter, as given or at its
    default, under its name.

    Parameters
    ----------
    positional : dict, optional
        The estimator's parameters that may also be given by position
        (``n_components``), name -> default, in order.
    keyword : dict, optional
        The estimator's own keyword-only parameters, name -> default, in
        order; the shared ones (:data:`SHARED_PARAMETERS`) follow them.

    Returns
    -------
    function
        ``__init__(self, <positional>, *, <keyword>, <shared>)``. An unknown
        or repeated argument is a ``TypeError``, as for a written-out
        signature. A subclass may define its own ``__init__`` that calls it
        through ``super().__init__(**kwargs)``.
    """
    own = {**(keyword or {})}
    shared = {
        name: value for name, value in SHARED_PARAMETERS.items() if name not in own
    }
    Parameter = inspect.Parameter
    signature = inspect.Signature(
        [Parameter("self", Parameter.POSITIONAL_ONLY)]
        + [
            Parameter(name, Parameter.POSITIONAL_OR_KEYWORD, default=default)
            for name, default in (positional or {}).items()
        ]
        + [
            Parameter(name, Parameter.KEYWORD_ONLY, default=default)
            for name, default in {**own, **shared}.items()
        ]
    )

    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as error:  # the message would not name the class
            raise TypeError(f"{type(self).__name__}(): {error}") from None
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__doc__ = "Store the parameters (described in the class docstring)."
    return __init__
