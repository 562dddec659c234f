"""What the command line reads: a delimited text file of numbers, and the
options that say which of its columns to use and how.

:func:`read_table` reads a file with a header row: it finds the separator
(``,``, ``;``, tab, ``|`` or spaces) unless given, reads decimal commas
(``3,14``) when the separator is not a comma, keeps the numeric columns (or
those named by ``--columns``, less those of ``--drop``) and drops the rows
with a missing cell in them. Every malformed file (no header, ragged rows,
text in a chosen column, an over-long field, a binary file) is a
:class:`InputError` whose message is one line naming the file, the line and
what to change. :func:`add_input_arguments` declares the options and
:func:`check_arguments` checks their values, so that every bad option is a
one-line error too.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._config import SEARCH_MAX_ROWS

#: Cells read as missing values (their rows are dropped, not their column).
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "."})

#: Separators tried when ``--sep`` is not given, most usual first.
SEPARATORS = (",", ";", "\t", "|", " ")

#: Names accepted by ``--sep`` besides the character itself.
SEPARATOR_NAMES = {
    "comma": ",",
    "semicolon": ";",
    "tab": "\t",
    "\\t": "\t",
    "pipe": "|",
    "space": " ",
    "whitespace": " ",
}

#: Bytes read to find the separator and the decimal mark.
SNIFF_BYTES = 65536

#: The longest field read (csv's own limit is 131,072 characters; a field
#: beyond this one is not a number anyway).
MAX_FIELD_CHARS = 1 << 20

#: The models of ``--model``.
MODELS = ("gaussian", "composite", "nig", "auto")


class InputError(ValueError):
    """A file or an option the command line cannot use; its message is one
    line."""


class Table(NamedTuple):
    """What :func:`read_table` read.

    ``X`` holds the kept rows of the used columns (float64); ``rows`` the
    index of each kept row among the data rows (0 = the first row after
    the header); ``dropped`` how many rows had a missing cell;
    ``skipped`` the columns left out as not numeric; ``separator`` and
    ``decimal`` what the file used.
    """

    X: np.ndarray
    names: list
    rows: np.ndarray
    dropped: int
    skipped: list
    separator: str
    decimal: str


# ---------------------------------------------------------------- options
def positive_int(text):
    """argparse type: an integer >= 1."""
    return _bounded_int(text, 1)


def non_negative_int(text):
    """argparse type: an integer >= 0."""
    return _bounded_int(text, 0)


def _bounded_int(text, low):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{text!r} is below {low}")
    return value


def positive_float(text):
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number above 0")
    return value


def separator(text):
    """argparse type: a one-character separator, or its name."""
    value = SEPARATOR_NAMES.get(text.lower(), text)
    if len(value) != 1 or value in "\"'\r\n" or value.isalnum() or value == ".":
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a separator; give one character such as ';' or "
            f"a name ({', '.join(sorted(SEPARATOR_NAMES))})"
        )
    return value


def column_list(text):
    """argparse type: comma-separated column names or 1-based numbers."""
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty column name")
    return names


def add_input_arguments(parser):
    """Declare the options of what to read and how to fit it."""
    group = parser.add_argument_group("input")
    group.add_argument(
        "--columns",
        type=column_list,
        metavar="A,B,...",
        help="use these columns (names, or numbers from 1), in this order",
    )
    group.add_argument(
        "--drop",
        type=column_list,
        metavar="A,B,...",
        help="leave these columns out (an index, a label, an identifier)",
    )
    group.add_argument(
        "--sep",
        type=separator,
        metavar="CHAR",
        help="the separator (',', ';', tab, '|', space; default: found from the "
        "file); with another separator than ',', decimal commas are read",
    )
    group.add_argument(
        "--standardize",
        action="store_true",
        help="centre each column and divide it by its standard deviation "
        "before fitting (results are reported on that scale)",
    )
    group.add_argument(
        "--model",
        choices=MODELS,
        default="gaussian",
        help="the mixture fitted: gaussian (default; every covariance model), "
        "composite (one distribution per column), nig (skewed, heavy tails) "
        "or auto (the best BIC of gaussian and nig)",
    )
    group.add_argument(
        "--search-rows",
        type=positive_int,
        default=SEARCH_MAX_ROWS,
        metavar="N",
        help="search the models on a random subsample of at most N rows, then "
        f"refit the chosen one on all rows (default {SEARCH_MAX_ROWS})",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="print progress: each model as it is fitted (-vv: each start)",
    )


def check_arguments(args):
    """Raise InputError (one line) for option values that parse but cannot
    be used together."""
    columns, drop = getattr(args, "columns", None), getattr(args, "drop", None)
    if columns and drop:
        both = sorted(set(columns) & set(drop))
        if both:
            raise InputError(f"--columns and --drop both name {', '.join(both)}")


# ---------------------------------------------------------------- files
def read_table(path, sep=None, columns=None, drop=None) -> Table:
    """Read the numeric columns of a delimited text file with a header row.

    Parameters
    ----------
    path : str or Path
        The file.
    sep : str, default=None
        The separator; None finds it (see :func:`sniff`).
    columns : list of str, default=None
        The columns to use (names, or numbers from 1); None: every numeric
        column. A chosen column must be numeric.
    drop : list of str, default=None
        Columns to leave out.

    Returns
    -------
    table : Table

    Raises
    ------
    InputError
        With a one-line message for any file it cannot use.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(SNIFF_BYTES)
            found, decimal = sniff(sample, sep)
            handle.seek(0)
            header, body = _read_rows(handle, found, path)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None
    names = _names(header, path)
    chosen = _chosen_columns(names, columns, drop, path)
    values, numeric, bad = _convert(body, chosen, decimal)
    for j in chosen:
        if not numeric[j] and columns is not None:
            line, cell = bad[j]
            raise InputError(
                f"{path} line {line}: column {names[j]!r} holds {cell!r}, not a number"
            )
    used = [j for j in chosen if numeric[j]]
    skipped = [names[j] for j in chosen if not numeric[j]]
    if not used:
        raise InputError(
            f"{path}: no numeric column (separator {_shown(found)}, decimal "
            f"{decimal!r}); choose the separator with --sep"
        )
    X = np.column_stack([values[j] for j in used])
    finite = np.all(np.isfinite(X), axis=1)
    if finite.sum() < 2:
        raise InputError(
            f"{path}: {int(finite.sum())} of {X.shape[0]} rows have a number in "
            f"every used column ({', '.join(names[j] for j in used)}); choose "
            "other columns with --columns or --drop"
        )
    return Table(
        X[finite],
        [names[j] for j in used],
        np.flatnonzero(finite),
        int((~finite).sum()),
        skipped,
        found,
        decimal,
    )


def sniff(sample, sep=None):
    """``(separator, decimal)`` of a file from its first bytes.

    The separator (unless given) is the candidate that splits the first
    lines into the same number of fields, more than one, most often; the
    decimal mark is ',' when the separator is not a comma and numbers
    written with a comma appear, else '.'.
    """
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if sep is None:
        sep = _best_separator(lines)
    decimal = "."
    if sep != "," and lines:
        cells = [
            cell.strip()
            for line in lines[1:]
            for cell in next(csv.reader([line], **_dialect(sep)))
        ]
        if any(_is_decimal_comma(cell) for cell in cells):
            decimal = ","
    return sep, decimal


def _best_separator(lines):
    best, best_score = ",", -1
    for candidate in SEPARATORS:
        counts = [
            len(next(csv.reader([line], **_dialect(candidate)))) for line in lines
        ]
        if not counts or counts[0] < 2:
            continue
        agreeing = sum(count == counts[0] for count in counts)
        if agreeing > best_score:
            best, best_score = candidate, agreeing
    return best


def _dialect(sep):
    if sep == " ":
        return {"delimiter": " ", "skipinitialspace": True}
    return {"delimiter": sep}


def _is_decimal_comma(cell):
    head, comma, tail = cell.partition(",")
    return bool(comma) and head.lstrip("+-").isdigit() and tail.isdigit()


def _shown(sep):
    return {"\t": "tab", " ": "space"}.get(sep, repr(sep))


def _read_rows(handle, sep, path):
    """The header and the data rows; ragged rows are an error."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(handle, **_dialect(sep))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise InputError(f"{path}: empty file; expected a header row and data")
        body = []
        for row in reader:
            if not row or (sep == " " and not any(row)):
                continue  # blank line
            if len(row) != len(header):
                if sep == " ":
                    row = [cell for cell in row if cell]
                if len(row) != len(header):
                    raise InputError(
                        f"{path} line {reader.line_num}: {len(row)} fields where "
                        f"the header has {len(header)} (separator {_shown(sep)}); "
                        "fix the row, or give the separator with --sep"
                    )
            body.append(row)
    except csv.Error as error:
        raise InputError(f"{path} line {reader.line_num}: {error}") from None
    if len(body) < 2:
        raise InputError(
            f"{path}: {len(body)} data row(s); expected a header row and at least "
            "two data rows"
        )
    return header, body


def _names(header, path):
    names = [cell.strip() or f"column {j + 1}" for j, cell in enumerate(header)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(
            f"{path}: the header repeats the column name(s) {', '.join(repeated)}"
        )
    return names


def _resolve(requested, names, option, path):
    """Column indices of names or 1-based numbers given to an option."""
    indices = []
    for item in requested:
        if item in names:
            indices.append(names.index(item))
        elif item.isdigit() and 1 <= int(item) <= len(names):
            indices.append(int(item) - 1)
        else:
            raise InputError(
                f"{path}: {option} names {item!r}, which is not a column; the "
                f"columns are {', '.join(names)}"
            )
    return indices


def _chosen_columns(names, columns, drop, path):
    chosen = (
        list(range(len(names)))
        if columns is None
        else _resolve(columns, names, "--columns", path)
    )
    if drop:
        dropped = set(_resolve(drop, names, "--drop", path))
        chosen = [j for j in chosen if j not in dropped]
    if not chosen:
        raise InputError(f"{path}: --drop leaves no column")
    return chosen


def _convert(body, chosen, decimal):
    """Per chosen column: float values (NaN missing), whether every cell is a
    number or missing, and the first other cell (line, text)."""
    values, numeric, bad = {}, {}, {}
    for j in chosen:
        column = np.empty(len(body))
        numeric[j] = True
        for i, row in enumerate(body):
            cell = row[j].strip()
            if cell.lower() in MISSING_MARKERS:
                column[i] = np.nan
                continue
            if decimal == ",":
                cell = cell.replace(",", ".")
            try:
                column[i] = float(cell)
            except ValueError:
                numeric[j] = False
                bad[j] = (i + 2, row[j])
                break
        if numeric[j] and np.isnan(column).all():
            numeric[j] = False
            bad[j] = (2, body[0][j])
        values[j] = column
    return values, numeric, bad


# ---------------------------------------------------------------- data
def standardize(X):
    """``(Z, mean, scale)``: each column centred and divided by its standard
    deviation. A constant column is an InputError (nothing to scale by)."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    flat = np.flatnonzero(~(scale > 0))
    if flat.size:
        raise InputError(
            f"--standardize: column {int(flat[0]) + 1} is constant; drop it with --drop"
        )
    return (X - mean) / scale, mean, scale


def search_subsample(n_rows, max_rows, random_state):
    """Sorted indices of the rows the model search uses: all of them, or a
    uniformly random ``max_rows`` of them."""
    if n_rows <= max_rows:
        return np.arange(n_rows)
    rng = np.random.RandomState(random_state)
    return np.sort(rng.choice(n_rows, max_rows, replace=False))


# ---------------------------------------------------------------- first run
def kernels_need_compiling(package_dir=None):
    """Whether some numba kernel of skmix has no cache newer than its source
    (the first run then compiles for a while).

    numba stores a kernel's compiled code beside its source in
    ``__pycache__`` (or under ``NUMBA_CACHE_DIR``) in files named after the
    module; a source newer than every such file is compiled again.
    """
    package_dir = Path(package_dir or Path(__file__).parent) / "_kernels"
    sources = [p for p in package_dir.glob("*.py") if p.name != "__init__.py"]
    cache_dirs = [package_dir / "__pycache__"]
    root = os.environ.get("NUMBA_CACHE_DIR")
    if root:
        cache_dirs += [p for p in Path(root).rglob("_kernels") if p.is_dir()]
    for source in sources:
        stamp = source.stat().st_mtime
        caches = [
            cache
            for directory in cache_dirs
            for cache in directory.glob(f"{source.stem}.*.nbi")
        ]
        if not any(cache.stat().st_mtime >= stamp for cache in caches):
            return True
    return False


def compile_notice(stream=None):
    """Print the first-run notice when the kernels are not cached."""
    if kernels_need_compiling():
        print(
            "compiling kernels on first use (once per installation)...",
            file=stream or sys.stderr,
            flush=True,
        )


def one_line(error: BaseException | str) -> str:
    """An error as one line (the command line's messages never span lines)."""
    return " ".join(str(error).split())
