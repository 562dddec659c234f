"""Command line: choose and fit a Gaussian mixture by BIC, as R's Mclust.

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
    read_input,
    refit_on_all_rows,
)
from ._selection import MCLUST_NAMES, select_by_bic


def _cell(bic, singular):
    """A BIC of the table: 'failed', (in parentheses) if singular, or plain."""
    if not np.isfinite(bic):
        return "failed"
    return f"({bic:.3f})" if singular else f"{bic:.3f}"


def _format_table(result):
    types = result.covariance_types
    head = "   G " + "".join(f"{t + ' (' + MCLUST_NAMES[t] + ')':>18}" for t in types)
    lines = [head]
    for i, k in enumerate(result.components):
        cells = "".join(
            f"{_cell(v, singular):>18}"
            for v, singular in zip(result.table[i], result.singular[i])
        )
        lines.append(f"{k:>4} {cells}")
    if result.singular.any():
        lines += [
            "(BIC): a component is singular without reg_covar (its rows have no",
            "       spread in some direction); not chosen: mclust reports NA",
        ]
    return "\n".join(lines)


def _summary(result, X, names, source, seconds):
    best = result.best
    labels = best.predict(X)
    sizes = np.bincount(labels, minlength=best.n_components)
    log_lik = best.score(X) * X.shape[0]
    out = [
        f"skmix: Gaussian mixture chosen by BIC on {source}",
        f"data: {X.shape[0]} rows x {X.shape[1]} columns ({', '.join(names)})",
        "",
        "BIC = -2 log L + p log n for each model (lower is better; "
        "R's mclust reports -BIC):",
        _format_table(result),
        "",
        f"chosen model: {best.n_components} components, covariance_type="
        f"'{best.covariance_type}' (mclust {MCLUST_NAMES[best.covariance_type]})",
        f"log-likelihood {log_lik:.5f}, {best._n_parameters()} free parameters, "
        f"BIC {best.bic(X):.5f}",
        "",
        "component   weight   size   mean",
    ]
    for k in range(best.n_components):
        mean = ", ".join(f"{v:.4f}" for v in best.means_[k])
        out.append(f"{k:>9} {best.weights_[k]:>8.4f} {sizes[k]:>6}   ({mean})")
    out += ["", f"time taken: {seconds:.2f} s"]
    return "\n".join(out)


def main(argv=None):
    """Entry point of ``python -m skmix``."""
    parser = argparse.ArgumentParser(
        prog="python -m skmix",
        description=(
            "Fit Gaussian mixtures with 1..G components and every covariance "
            "type, choose the model with the best BIC (as R's Mclust) and "
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
        "--covariance-types",
        default="full,tied,diag,spherical",
        help="comma-separated subset of full,tied,diag,spherical",
    )
    parser.add_argument(
        "--n-init",
        type=positive_int,
        default=10,
        help="EM starts per model (default 10)",
    )
    parser.add_argument(
        "--tol",
        type=positive_float,
        default=1e-6,
        help="convergence tolerance (default 1e-6)",
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
    add_input_arguments(parser)
    args = parser.parse_args(argv)
    types = tuple(t.strip() for t in args.covariance_types.split(",") if t.strip())
    unknown = set(types) - set(MCLUST_NAMES)
    if unknown or not types:
        parser.error(f"unknown covariance types: {sorted(unknown)}")
    try:
        data = read_input(args)
        X, names, rows, source = data.X, data.names, data.rows, data.source
        compile_notice()
        start = time.perf_counter()
        result = select_by_bic(
            X[data.search],
            components=range(1, args.max_components + 1),
            covariance_types=types,
            n_init=args.n_init,
            random_state=args.random_state,
            n_jobs=args.n_jobs,
            tol=args.tol,
            max_iter=1000,
            verbose=max(args.verbose - 1, 0),
        )
        refit_on_all_rows(result.best, data)
        seconds = time.perf_counter() - start
    except (OSError, ValueError) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 1
    print(_summary(result, X, names, source, seconds))
    try:
        if args.plot:
            paths = write_figures(result, X, names, args.plot)
            print(f"figures: {', '.join(paths)}")
        if args.output:
            print(f"components: {write_labels(result.best, X, rows, args.output)}")
    except (ImportError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
