"""Command line: choose and fit a Gaussian mixture by BIC (or ICL), as R's
Mclust.

``python -m skmix`` fits the embedded Old Faithful data; ``python -m skmix
FILE.csv`` fits the numeric columns of a CSV file.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from ._cli_files import write_figures, write_labels
from ._cli_input import (
    add_input_arguments,
    compile_notice,
    one_line,
    positive_float,
    positive_int,
    processes,
    read_input,
    refit_on_all_rows,
)
from .composite import CompositeMixture
from .gaussian import GaussianMixtureEM
from .nig import NIGMixture
from .selection import MCLUST_MODELS, MCLUST_NAMES, select_model

#: Covariance models per block of the printed BIC table (14 side by side
#: would not fit a terminal).
TABLE_BLOCK = 7


def _records(table):
    """The search's table (a DataFrame, or a structured array without
    pandas) as a list of dicts."""
    if hasattr(table, "to_dict"):
        return table.to_dict("records")
    return [dict(zip(table.dtype.names, row, strict=True)) for row in table]


def _cell(row, n):
    """A BIC of the table: 'failed', (in parentheses) if degenerate, or
    plain. A degenerate candidate has no BIC in the search's table (mclust's
    NA); its -2 log L + p log n is shown in parentheses."""
    if row["failed"] or not np.isfinite(row["log_likelihood"]):
        return "failed"
    if row["degenerate"]:
        bic = -2.0 * row["log_likelihood"] + row["n_parameters"] * np.log(n)
        return f"({bic:.3f})"
    return f"{row['bic']:.3f}"


def _header(column):
    """A column of the printed table: a covariance model (mclust's name
    beside scikit-learn's), prefixed by the family if not Gaussian."""
    estimator, covariance_type = column
    if covariance_type is None:
        return ESTIMATOR_NAMES.get(estimator, estimator)
    mclust = MCLUST_NAMES.get(covariance_type)
    text = covariance_type + (f" ({mclust})" if mclust else "")
    if estimator != "GaussianMixtureEM":
        text = f"{ESTIMATOR_NAMES.get(estimator, estimator)} {covariance_type}"
    return text


def _format_table(rows, n):
    columns = list(
        dict.fromkeys((row["estimator"], row["covariance_type"]) for row in rows)
    )
    ks = sorted({int(row["n_components"]) for row in rows})
    cells = {
        (row["n_components"], row["estimator"], row["covariance_type"]): _cell(row, n)
        for row in rows
    }
    lines = []
    for first in range(0, len(columns), TABLE_BLOCK):
        block = columns[first : first + TABLE_BLOCK]
        if first:
            lines.append("")
        lines.append("   G " + "".join(f"{_header(c):>18}" for c in block))
        for k in ks:
            row = "".join(f"{cells.get((k, *c), ''):>18}" for c in block)
            lines.append(f"{k:>4} {row}")
    if any(row["degenerate"] for row in rows):
        lines += [
            "(BIC): degenerate (a component collapsed or rests on too few rows; see",
            "       the estimator's degeneracies_); not chosen: mclust reports NA",
        ]
    return "\n".join(lines)


def _chosen_line(best, chosen, X, n_search):
    """The chosen model's log-likelihood, parameters and criteria: the
    search's, or on every row after a search on a subsample."""
    if n_search == X.shape[0]:
        return (
            f"log-likelihood {chosen['log_likelihood']:.5f}, "
            f"{int(chosen['n_parameters'])} free parameters, "
            f"BIC {chosen['bic']:.5f}, ICL {chosen['icl']:.5f}"
        )
    return (
        f"on all rows: log-likelihood {best.score(X) * X.shape[0]:.5f}, "
        f"{int(chosen['n_parameters'])} free parameters, BIC {best.bic(X):.5f}"
    )


def _summary(result, X, names, source, seconds, n_search):
    best = result.best_estimator_
    rows = _records(result.table)
    chosen = rows[result.best_index_]
    labels = best.predict(X)
    sizes = np.bincount(labels, minlength=best.n_components)
    family = ESTIMATOR_NAMES.get(type(best).__name__, type(best).__name__)
    chosen_model = f"{best.n_components} components"
    if getattr(best, "covariance_type", None) is not None:
        mclust = MCLUST_NAMES.get(best.covariance_type, best.covariance_type)
        chosen_model += f", covariance_type='{best.covariance_type}'"
        if isinstance(best, GaussianMixtureEM):
            chosen_model += f" (mclust {mclust})"
    out = [
        f"skmix: {family} mixture chosen by {result.criterion.upper()} on {source}",
        f"data: {X.shape[0]} rows x {X.shape[1]} columns ({', '.join(names)})",
        "",
        "BIC = -2 log L + p log n for each model (lower is better; "
        "R's mclust reports -BIC):",
        _format_table(rows, n_search),
        "",
        f"chosen model: {chosen_model}",
        _chosen_line(best, chosen, X, n_search),
        "",
    ]
    means = getattr(best, "means_", None)
    out.append("component   weight   size" + ("" if means is None else "   mean"))
    for k in range(best.n_components):
        line = f"{k:>9} {best.weights_[k]:>8.4f} {sizes[k]:>6}"
        if means is not None:
            line += "   (" + ", ".join(f"{v:.4f}" for v in means[k]) + ")"
        out.append(line)
    out += ["", f"time taken: {seconds:.2f} s"]
    return "\n".join(out)


def _models(text, parser):
    """The covariance models of ``--models``: mclust's or scikit-learn's
    names, comma-separated; 'all' for mclust's 14."""
    if text.strip().lower() == "all":
        return list(MCLUST_MODELS)
    sklearn_of = {mclust: name for name, mclust in MCLUST_NAMES.items()}
    models = []
    for name in (t.strip() for t in text.split(",") if t.strip()):
        name = sklearn_of.get(name.upper(), name)
        if name not in MCLUST_MODELS:
            parser.error(
                f"unknown covariance model {name!r}: use mclust's names "
                f"({', '.join(MCLUST_NAMES.get(m, m) for m in MCLUST_MODELS)}) "
                "or scikit-learn's (full, tied, diag, spherical)"
            )
        models.append(name)
    if not models:
        parser.error("--models needs at least one covariance model")
    return models


#: The families of ``--model``: estimators, and how the output names them.
MODELS = {
    "gaussian": (GaussianMixtureEM,),
    "nig": (NIGMixture,),
    "composite": (CompositeMixture,),
    "auto": (GaussianMixtureEM, NIGMixture),
}
ESTIMATOR_NAMES = {
    "GaussianMixtureEM": "Gaussian",
    "NIGMixture": "NIG",
    "CompositeMixture": "composite",
}


def _templates(args):
    """The estimators ``--model`` searches, with the command line's
    tolerance and seed (``--n-jobs`` is the search's processes)."""
    return [
        cls(tol=args.tol, max_iter=1000, random_state=args.random_state)
        for cls in MODELS[args.model]
    ]


def _parser():
    """The command line's options."""
    parser = argparse.ArgumentParser(
        prog="python -m skmix",
        description=(
            "Fit Gaussian mixtures with 1..G components under each of mclust's "
            "14 covariance models, choose the model with the best BIC (as R's "
            "Mclust) and "
            "print a summary. Without FILE, uses the embedded Old Faithful data."
        ),
    )
    parser.add_argument(
        "file",
        nargs="?",
        help=(
            "delimited text file with a header row (',', ';', tab, '|' or "
            "spaces; decimal commas read); numeric columns are used, and rows "
            "with an empty or NA cell in them are dropped"
        ),
    )
    parser.add_argument(
        "--max-components",
        type=positive_int,
        default=9,
        help="largest G tried (default 9)",
    )
    parser.add_argument(
        "--models",
        "--covariance-types",
        dest="models",
        default="all",
        help="comma-separated covariance models, by mclust's names (EII, VII, "
        "EEI, VEI, EVI, VVI, EEE, VEE, EVE, VVE, EEV, VEV, EVV, VVV) or "
        "scikit-learn's (spherical, diag, tied, full); default all 14",
    )
    parser.add_argument(
        "--model",
        choices=tuple(MODELS),
        default="gaussian",
        help="the mixture family: gaussian (default; mclust's covariance "
        "models), nig (normal-inverse Gaussian, skewed and heavy-tailed "
        "clusters; scikit-learn's four covariance types), composite (each "
        "column's family inferred: gaussian, Poisson, ...), or auto (Gaussian "
        "and NIG mixtures compared by the criterion)",
    )
    parser.add_argument(
        "--criterion",
        choices=("bic", "icl"),
        default="bic",
        help="what chooses the model: BIC (default) or mclust's ICL",
    )
    parser.add_argument(
        "--n-init",
        type=positive_int,
        default=None,
        help="k-means starts per model beside the hierarchical-clustering "
        "starts (default 5)",
    )
    parser.add_argument(
        "--tol",
        type=positive_float,
        default=1e-3,
        help="convergence tolerance of each start (default 1e-3); the chosen "
        "start of each model continues to tol / 1000",
    )
    parser.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--n-jobs",
        type=processes,
        default=None,
        help="processes that fit the models in parallel (default 1; -1: all "
        "CPUs); they start in a second or two, which pays on larger data",
    )
    parser.add_argument(
        "--plot",
        metavar="DIR",
        help="write the BIC and classification figures into DIR as PNG files "
        "(needs matplotlib: pip install 'skmix[plot]')",
    )
    parser.add_argument(
        "--output",
        metavar="FILE.csv",
        help="write each row's number in the file (1 = first data row), most "
        "probable component and component probabilities as CSV",
    )
    add_input_arguments(parser)
    return parser


def main(argv=None):
    """Entry point of ``python -m skmix``."""
    parser = _parser()
    args = parser.parse_args(argv)
    models = _models(args.models, parser)
    try:
        data = read_input(args)
        X, names, rows, source = data.X, data.names, data.rows, data.source
        compile_notice()
        start = time.perf_counter()
        result = select_model(
            _templates(args),
            X[data.search],
            n_components=range(1, args.max_components + 1),
            covariance_types=models,
            criterion=args.criterion,
            n_init=args.n_init,
            n_jobs=args.n_jobs,
            verbose=max(args.verbose - 1, 0),
        )
        refit_on_all_rows(result.best_estimator_, data)
        seconds = time.perf_counter() - start
    except (OSError, ValueError) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 1
    print(_summary(result, X, names, source, seconds, data.search.size))
    try:
        if args.plot:
            paths = write_figures(result, X, names, args.plot)
            print(f"figures: {', '.join(paths)}")
        if args.output:
            best = result.best_estimator_
            print(f"components: {write_labels(best, X, rows, args.output)}")
    except (ImportError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
