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
import hashlib
import math
import os
import pickle
import sys
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._config import SEARCH_MAX_ROWS, numba_cache_subpath

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
    value = _integer(text)
    if value < low:
        raise argparse.ArgumentTypeError(f"{text!r} is below {low}")
    return value


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def processes(text):
    """argparse type: a nonzero integer (joblib's: -1 every CPU)."""
    value = _integer(text)
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 processes; give 1 or more, or -1 for all CPUs"
        )
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
        help="print what was read (-vv: also every EM start's progress)",
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
            header, plain = _read_plain(handle, found, decimal)
            if plain is None:
                handle.seek(0)
                header, body = _read_rows(handle, found, path)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None
    names = _names(header, path)
    chosen = _chosen_columns(names, columns, drop, path)
    if plain is None:
        values, numeric, bad = _convert(body, chosen, decimal)
    else:
        values = {j: plain[:, j] for j in chosen}
        numeric, bad = dict.fromkeys(chosen, True), {}
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


def _read_plain(handle, sep, decimal):
    """``(header, values)`` of a file of plain numbers (a long file's usual
    case) by NumPy's compiled reader; ``(None, None)`` for anything else
    (decimal commas, missing, non-finite or text cells, ragged rows), which
    :func:`_read_rows` reads and diagnoses cell by cell."""
    if decimal != ".":
        return None, None
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        header = next(csv.reader(handle, **_dialect(sep)), None)
        with warnings.catch_warnings():
            # An empty body: its warning would precede _read_rows' error.
            warnings.filterwarnings("ignore", "loadtxt: input contained no data")
            values = np.loadtxt(
                handle,
                dtype=np.float64,
                delimiter=None if sep == " " else sep,
                comments=None,
                quotechar='"',
                ndmin=2,
            )
    except (ValueError, csv.Error):
        return None, None
    if (
        not header
        or values.shape[0] < 2
        or values.shape[1] != len(header)
        or not np.isfinite(values).all()
    ):
        return None, None
    return header, values


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
        column = _fast_column(body, j, decimal)
        numeric[j] = True
        if column is not None:
            values[j] = column
            continue
        column = np.empty(len(body))
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


def _fast_column(body, j, decimal):
    """Column ``j`` as floats by NumPy's string conversion when every cell
    is a plain number (a long file's usual case); None otherwise, for the
    cell-by-cell reading that knows missing markers and names a bad cell."""
    cells = [row[j] for row in body]
    if decimal == ",":
        cells = [cell.replace(",", ".") for cell in cells]
    try:
        column = np.array(cells).astype(np.float64)
    except ValueError:
        return None
    return None if np.isnan(column).all() else column


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


class Input(NamedTuple):
    """What the command line fits, from :func:`read_input`.

    ``X`` the rows fitted (standardised with ``--standardize``), ``names``
    their columns, ``rows`` each row's index among the file's data rows,
    ``source`` a description for the summary, ``search`` the rows the
    model search uses (all, or a random subsample of a long file).
    """

    X: np.ndarray
    names: list
    rows: np.ndarray
    source: str
    search: np.ndarray


def read_input(args, stream=None) -> Input:
    """The data of ``python -m skmix``: FILE read by :func:`read_table` with
    the input options (or the embedded Old Faithful data), its notes
    (columns skipped, rows dropped, standardising, the search's subsample)
    printed to ``stream`` (stdout), and what ``-v`` adds."""
    from .datasets import load_faithful

    stream = stream or sys.stdout
    check_arguments(args)
    if args.file is None:
        given = [f"--{o}" for o in ("columns", "drop", "sep") if getattr(args, o)]
        if given:
            raise InputError(f"{', '.join(given)} need a FILE")
        X, names = load_faithful(return_X_y=True), ["eruptions", "waiting"]
        source, rows = "the Old Faithful data (embedded)", np.arange(len(X))
    else:
        table = read_table(args.file, args.sep, args.columns, args.drop)
        X, names, rows, source = table.X, table.names, table.rows, str(args.file)
        if args.verbose:
            print(
                f"read {source}: separator {_shown(table.separator)}, decimal "
                f"{table.decimal!r}, columns {', '.join(names)}",
                file=stream,
            )
        if table.skipped:
            skipped = ", ".join(table.skipped)
            print(f"note: non-numeric columns skipped: {skipped}", file=stream)
        if table.dropped:
            print(
                f"note: {table.dropped} rows with missing or non-finite values "
                "were dropped",
                file=stream,
            )
    if args.standardize:
        X = standardize(X)[0]
        print("note: columns standardised (mean 0, standard deviation 1)", file=stream)
    search = search_subsample(X.shape[0], args.search_rows, args.random_state)
    if search.size < X.shape[0]:
        print(
            f"note: the models are searched on a random subsample of {search.size} "
            f"of the {X.shape[0]} rows (--search-rows), then the chosen model "
            "is refitted on every row",
            file=stream,
            flush=True,
        )
    return Input(X, names, rows, source, search)


def refit_on_all_rows(model, data, stream=None):
    """The chosen model refitted on every row of ``data.X``, starting from
    its fit on the search's subsample (a warm start: one start, EM to
    convergence); ``model`` itself when the search used every row."""
    if data.search.size == data.X.shape[0]:
        return model
    stream = stream or sys.stdout
    print(
        f"refitting the chosen model on all {data.X.shape[0]} rows...",
        end="",
        file=stream,
        flush=True,
    )
    start = time.perf_counter()
    warm_start = model.warm_start
    model.set_params(warm_start=True).fit(data.X)
    seconds = time.perf_counter() - start
    print(f" {model.n_iter_} iterations, {seconds:.1f} s", file=stream)
    return model.set_params(warm_start=warm_start)


# ---------------------------------------------------------------- first run
#: The kernel modules (globs under ``skmix/_kernels``) that the command
#: line's Gaussian search compiles on its first run (its k-means starts are
#: scikit-learn's; the hierarchical clustering and the covariance models'
#: orientation have kernels of their own).
COMMAND_LINE_KERNELS = ("gaussian/*.py", "hc.py", "orientation.py")


def kernels_need_compiling(package_dir=None, patterns=COMMAND_LINE_KERNELS):
    """Whether a kernel module the command line uses (``patterns``) has no
    compiled code numba would load (the first run then compiles for a
    while).

    numba keeps a module's compiled kernels in files named after it, under
    ``NUMBA_CACHE_DIR`` when that is set, else beside the source
    (``__pycache__``) or in the user's cache directory; it loads them only if
    their index records this numba's version and the source's stamp (a hash
    of its text; its modification time and size in older numba). A module
    with no such index is compiled again.
    """
    kernels_dir = Path(package_dir or Path(__file__).parent) / "_kernels"
    for pattern in patterns:
        for source in kernels_dir.glob(pattern):
            if source.name == "__init__.py":
                continue
            stamps = _source_stamps(source)
            indexes = (
                index
                for directory in _cache_dirs(source)
                for index in directory.glob(f"{source.stem}.*.nbi")
            )
            if not any(_index_is_current(index, stamps) for index in indexes):
                return True
    return False


def _cache_dirs(source: Path) -> list:
    """The directories where numba's locators keep the compiled code of
    ``source``'s kernels, in the order numba tries them."""
    folder = os.path.dirname(os.path.abspath(source))
    subpath = numba_cache_subpath(folder)
    root = os.environ.get("NUMBA_CACHE_DIR")
    if root:
        return [Path(root) / subpath]
    directories = [Path(folder) / "__pycache__"]
    try:
        from numba.misc.appdirs import AppDirs
    except ImportError:  # a numba without it: its user directory is not known
        return directories
    user = AppDirs(appname="numba", appauthor=False).user_cache_dir
    return directories + [Path(user) / subpath]


def _source_stamps(source: Path) -> tuple:
    """The stamps numba may have recorded for ``source``: the SHA-256 of its
    text, and (for older numba) its modification time and size."""
    status = source.stat()
    return (
        hashlib.sha256(source.read_bytes()).digest(),
        (status.st_mtime, status.st_size),
    )


def _index_is_current(index: Path, stamps) -> bool:
    """Whether numba's index file ``index`` was written by this numba for a
    source with one of ``stamps``."""
    try:
        import numba

        with open(index, "rb") as file:
            if pickle.load(file) != numba.__version__:
                return False
            stamp = pickle.loads(file.read())[0]
    except Exception:  # noqa: BLE001 - an unreadable index is not current
        return False
    return any(stamp == known for known in stamps)


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
