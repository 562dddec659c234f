"""The fuzz corpus's oracle: run a case (``tests._fuzz``) and classify each
call (see ``tests._fuzz`` for the classes)."""

from __future__ import annotations

import copy
import re
import traceback
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._fuzz import ACCEPTED, ESTIMATORS, OUTCOMES, Case, base_data, facts_of

#: Files whose ValueError / TypeError is a deliberate input check.
CHECKING_FILES = re.compile(
    r"(/skmix/|sklearn/utils/validation\.py|sklearn/utils/_param_validation\.py"
    r"|sklearn/base\.py|sklearn/utils/_array_api\.py)"
)
#: Library messages that say nothing about the user's problem.
GENERIC_MESSAGES = re.compile(
    r"zip\(\) argument|could not broadcast|index \d+ is out of bounds|"
    r"math domain error|cannot convert float|object of type|unsupported operand|"
    r"lam value too large|^n < 0|Cannot take a larger sample|f\(a\) and f\(b\)|"
    r"cost matrix is infeasible|setting an array element with a sequence|"
    r"must be real number, not|not supported between instances|"
    r"Matrix is not positive definite|operands could not be|division by zero|"
    r"float division|has no attribute|unhashable type|cannot reshape|"
    r"invalid literal|could not convert",
    re.IGNORECASE,
)
#: Messages that describe a property of the input, and the fact that must
#: hold for them to be true.
DIAGNOSES = [
    (re.compile(r"contains? NaN|NaN values? in", re.I), "has_nan"),
    (re.compile(r"contains? infinit|infinity", re.I), "has_inf"),
]
#: Messages that describe a degenerate data set: wrong for well-posed data.
DEGENERATE = re.compile(
    r"collapsed|singleton|only \d+ distinct rows|ill-defined empirical covariance",
    re.I,
)


@dataclass
class Outcome:
    """How one call of a case ended."""

    estimator: str
    kind: str
    call: str
    outcome: str
    detail: str = ""


def origin(error):
    """The file of the innermost frame of ``error``'s traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    return frames[-1].filename if frames else ""


def classify_error(error, facts):
    """``(outcome, detail)`` of an exception (see the module docstring)."""
    message = str(error)
    detail = f"{type(error).__name__}: {message[:300]} @ {origin(error)}"
    if isinstance(error, np.linalg.LinAlgError) or not isinstance(
        error, (ValueError, TypeError)
    ):
        return "crash", detail
    where = origin(error)
    if not CHECKING_FILES.search(where):
        return "unclear_error", detail
    # scikit-learn's input validation words its own messages (a drop-in
    # replacement raises what scikit-learn raises); skmix must name things.
    if "/skmix/" in where and GENERIC_MESSAGES.search(message):
        return "unclear_error", detail
    if len(message) < 20:
        return "unclear_error", detail
    for pattern, fact in DIAGNOSES:
        if pattern.search(message) and facts.get(fact) is False:
            return "unclear_error", "misdiagnosis: " + detail
    if facts.get("well_posed") and DEGENERATE.search(message):
        return "unclear_error", "misdiagnosis: " + detail
    match = re.search(r"only (\d+) distinct rows", message)
    if match and "distinct_rows" in facts and "positive weight" not in message:
        if int(match.group(1)) != facts["distinct_rows"]:
            return "unclear_error", "misdiagnosis: " + detail
    return "clear_error", detail


def fitted_state(model):
    """A deep copy of the fitted attributes (for the untouched check)."""
    return copy.deepcopy(
        {k: v for k, v in vars(model).items() if k.endswith("_") and k[0] != "_"}
    )


def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same(a[k], b[k]) for k in a)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return bool(a == b)


# ------------------------------------------------------------------ invariants
def check_fitted(model):
    """Why the fitted attributes are wrong, or None."""
    weights = getattr(model, "weights_", None)
    if weights is None or not np.all(np.isfinite(weights)):
        return "weights_ not finite"
    if abs(weights.sum() - 1) > 1e-6 or np.any(weights < 0):
        return f"weights_ off the simplex: {weights}"
    if not np.isfinite(model.lower_bound_) and model.max_iter > 0:
        return f"lower_bound_ = {model.lower_bound_}"
    for name, value in vars(model).items():
        if (
            name.endswith("_")
            and not name.startswith(("start_", "_"))
            and isinstance(value, np.ndarray)
            and value.dtype.kind == "f"
            and not np.all(np.isfinite(value))
        ):
            return f"{name} not finite"
    return None


def check_result(call, result, model, X):
    """Why a method's result is wrong, or None."""
    k = len(model.weights_)
    if call in ("predict_proba", "transform"):
        result = np.asarray(result)
        if not np.all(np.isfinite(result)):
            return "probabilities not finite"
        if np.any(result < 0) or np.any(np.abs(result.sum(axis=1) - 1) > 1e-6):
            return "probabilities off the simplex"
    elif call == "predict":
        result = np.asarray(result)
        if result.dtype.kind not in "iu" or np.any((result < 0) | (result >= k)):
            return f"labels out of range: {result[:5]}"
    elif call == "score_samples":
        result = np.asarray(result)
        if np.any(np.isnan(result)) or np.any(result == np.inf):
            return "NaN or +inf score"
    elif call == "bic":
        if np.isnan(result) or result == -np.inf:
            return f"bic = {result}"
    elif call == "sample":
        drawn, labels = result
        values = drawn.to_numpy() if isinstance(drawn, pd.DataFrame) else drawn
        if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
            return "sample drew non-finite values"
        if np.any((labels < 0) | (labels >= k)):
            return "sample labels out of range"
    elif call == "impute":
        values = result.to_numpy() if isinstance(result, pd.DataFrame) else result
        missing = pd.isna(pd.DataFrame(values)).to_numpy()
        if missing.any():
            return "impute left missing entries"
        numbers = pd.DataFrame(values).apply(pd.to_numeric, errors="coerce")
        if np.isinf(numbers.to_numpy(dtype=float)).any():
            return "impute filled infinite values"
    return None


# ------------------------------------------------------------------ running
def call_and_classify(model, call, args, kwargs, facts):
    """Run ``model.call(*args, **kwargs)``: ``(outcome, detail, result,
    raised)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = getattr(model, call)(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except Exception as error:  # noqa: BLE001 - classified
            outcome, detail = classify_error(error, facts)
            return _noisy(outcome, caught), detail, None, True
    return _noisy("ok", caught), _warnings_detail(caught), result, False


def _numpy_warnings(caught):
    """NumPy's RuntimeWarnings (overflow, invalid value) among ``caught``."""
    return [w for w in caught if issubclass(w.category, RuntimeWarning)]


def _warnings_detail(caught):
    found = _numpy_warnings(caught)
    return f"{found[0].category.__name__}: {found[0].message}" if found else ""


def _noisy(outcome, caught):
    if _numpy_warnings(caught) and outcome in ACCEPTED:
        return "noisy"
    return outcome


def _prefitted(case):
    model = ESTIMATORS[case.estimator]()
    if case.prefit:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(base_data(case.estimator, np.random.RandomState(1)))
    return model


def _check_fit(case, model):
    """Why the fitted model is wrong, or None."""
    problem = check_fitted(model)
    if problem is None and case.expect is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                problem = case.expect(model, case.X)
            except Exception as error:  # noqa: BLE001 - reported
                problem = f"expectation raised {error!r}"
    return problem


def run_case(case: Case) -> list[Outcome]:
    """Run a case; one Outcome per call."""
    outcomes = []

    def record(call, outcome, detail=""):
        outcomes.append(Outcome(case.estimator, case.kind, call, outcome, detail))

    model = _prefitted(case)
    before = fitted_state(model) if case.prefit else None
    model.set_params(**case.params)
    outcome, detail, _, raised = call_and_classify(
        model, "fit", (case.X,), case.fit_kwargs, case.facts
    )
    if raised:
        if before is not None and not same(before, fitted_state(model)):
            outcome = "state_changed"
        record("fit", outcome, detail)
        return outcomes
    problem = _check_fit(case, model)
    record("fit", "wrong" if problem else outcome, problem or detail)
    X = case.X if case.X_predict is None else case.X_predict
    facts = case.facts if case.X_predict is None else facts_of(X)
    calls = [
        ("predict", (X,)),
        ("predict_proba", (X,)),
        ("score_samples", (X,)),
        ("bic", (X,)),
        ("sample", (5,)),
    ]
    if case.estimator.startswith(("composite", "heterogeneous")):
        calls += [("impute", (X,)), ("transform", (X,))]
    for call, args in calls + list(case.calls):
        outcome, detail, result, raised = call_and_classify(
            model, call, args, {}, facts
        )
        if not raised:
            problem = check_result(call, result, model, X)
            if problem:
                outcome, detail = "wrong", problem
        record(call, outcome, detail)
    return outcomes


def tally(outcomes):
    """Counts of each outcome class."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for outcome in outcomes:
        counts[outcome.outcome] += 1
    return counts
