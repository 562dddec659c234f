"""Command line: choose and fit a Gaussian mixture by BIC (or ICL), as R's
Mclust.

``python -m skmix`` fits the embedded Old Faithful data; ``python -m skmix
FILE.csv`` fits the numeric columns of a CSV file.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time

import numpy as np

from ._cli_files import write_figures, write_labels
from .datasets import load_faithful
from .gaussian import GaussianMixtureEM
from .selection import MCLUST_MODELS, MCLUST_NAMES, select_model

#: Cells read as missing values (their rows are dropped, not their column).
MISSING_MARKERS = {"", "na", "n/a", "nan", "null", "none", "?", "."}


def _cell_value(text):
    """A cell as a float: NaN for a missing marker; ValueError otherwise."""
    text = text.strip()
    if text.lower() in MISSING_MARKERS:
        return np.nan
    return float(text)


def _read_numeric_csv(path):
    """Numeric columns of a CSV file with a header row.

    Returns ``(X, names, dropped_rows, skipped_columns, kept_rows)``: a
    column is numeric when every cell is a number or a missing marker
    (empty, NA, NaN, ...); rows with a missing or non-finite value in a
    numeric column are dropped; ``kept_rows`` indexes the data rows kept.
    """
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 3:
        raise ValueError(f"{path}: expected a header row and at least two data rows.")
    header, body = rows[0], rows[1:]
    columns, names, skipped = [], [], []
    for j, name in enumerate(header):
        name = name.strip() or f"column {j + 1}"
        try:
            values = [_cell_value(row[j]) for row in body]
        except (ValueError, IndexError):
            skipped.append(name)
            continue
        if np.isnan(values).all():
            skipped.append(name)
            continue
        columns.append(values)
        names.append(name)
    if not columns:
        raise ValueError(f"{path}: no numeric column found.")
    X = np.array(columns).T
    finite = np.all(np.isfinite(X), axis=1)
    return X[finite], names, int((~finite).sum()), skipped, np.flatnonzero(finite)


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


def _header(covariance_type):
    mclust = MCLUST_NAMES.get(covariance_type)
    return covariance_type + (f" ({mclust})" if mclust else "")


def _format_table(rows, n):
    types = list(dict.fromkeys(row["covariance_type"] for row in rows))
    ks = sorted({int(row["n_components"]) for row in rows})
    cells = {
        (row["n_components"], row["covariance_type"]): _cell(row, n) for row in rows
    }
    lines = []
    for first in range(0, len(types), TABLE_BLOCK):
        block = types[first : first + TABLE_BLOCK]
        if first:
            lines.append("")
        lines.append("   G " + "".join(f"{_header(t):>18}" for t in block))
        for k in ks:
            row = "".join(f"{cells.get((k, t), ''):>18}" for t in block)
            lines.append(f"{k:>4} {row}")
    if any(row["degenerate"] for row in rows):
        lines += [
            "(BIC): degenerate (a component collapsed or rests on too few rows; see",
            "       the estimator's degeneracies_); not chosen: mclust reports NA",
        ]
    return "\n".join(lines)


def _summary(result, X, names, source, seconds):
    best = result.best_estimator_
    rows = _records(result.table)
    chosen = rows[result.best_index_]
    labels = best.predict(X)
    sizes = np.bincount(labels, minlength=best.n_components)
    mclust = MCLUST_NAMES.get(best.covariance_type, best.covariance_type)
    out = [
        f"skmix: Gaussian mixture chosen by {result.criterion.upper()} on {source}",
        f"data: {X.shape[0]} rows x {X.shape[1]} columns ({', '.join(names)})",
        "",
        "BIC = -2 log L + p log n for each model (lower is better; "
        "R's mclust reports -BIC):",
        _format_table(rows, X.shape[0]),
        "",
        f"chosen model: {best.n_components} components, covariance_type="
        f"'{best.covariance_type}' (mclust {mclust})",
        f"log-likelihood {chosen['log_likelihood']:.5f}, "
        f"{int(chosen['n_parameters'])} free parameters, "
        f"BIC {chosen['bic']:.5f}, ICL {chosen['icl']:.5f}",
        "",
        "component   weight   size   mean",
    ]
    for k in range(best.n_components):
        mean = ", ".join(f"{v:.4f}" for v in best.means_[k])
        out.append(f"{k:>9} {best.weights_[k]:>8.4f} {sizes[k]:>6}   ({mean})")
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
            "CSV file with a header row; numeric columns are used, and rows "
            "with an empty or NA cell in them are dropped"
        ),
    )
    parser.add_argument(
        "--max-components", type=int, default=9, help="largest G tried (default 9)"
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
        "--criterion",
        choices=("bic", "icl"),
        default="bic",
        help="what chooses the model: BIC (default) or mclust's ICL",
    )
    parser.add_argument(
        "--n-init",
        type=int,
        default=None,
        help="k-means starts per model beside the hierarchical-clustering "
        "start (default 5)",
    )
    parser.add_argument(
        "--tol",
        type=float,
        default=1e-3,
        help="convergence tolerance of each start (default 1e-3); the chosen "
        "start of each model continues to tol / 1000",
    )
    parser.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="threads for the starts (default 1)"
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
    return parser


def main(argv=None):
    """Entry point of ``python -m skmix``."""
    parser = _parser()
    args = parser.parse_args(argv)
    models = _models(args.models, parser)
    if args.max_components < 1:
        parser.error("--max-components must be at least 1")
    try:
        if args.file is None:
            X, names, source = (
                load_faithful(return_X_y=True),
                ["eruptions", "waiting"],
                "the Old Faithful data (embedded)",
            )
            dropped, skipped, rows = 0, [], np.arange(len(X))
        else:
            X, names, dropped, skipped, rows = _read_numeric_csv(args.file)
            source = args.file
        start = time.perf_counter()
        template = GaussianMixtureEM(
            tol=args.tol,
            max_iter=1000,
            random_state=args.random_state,
            n_jobs=args.n_jobs,
        )
        result = select_model(
            template,
            X,
            n_components=range(1, args.max_components + 1),
            covariance_types=models,
            criterion=args.criterion,
            n_init=args.n_init,
        )
        seconds = time.perf_counter() - start
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if skipped:
        print(f"note: non-numeric columns skipped: {', '.join(skipped)}")
    if dropped:
        print(f"note: {dropped} rows with missing or non-finite values were dropped")
    print(_summary(result, X, names, source, seconds))
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
