"""What the command line reads (``skmix._cli_input``): separators, decimal
commas, column choices, and a one-line error for every malformed file and
option. References: the numbers written into each file."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmix._cli_input import (
    InputError,
    add_input_arguments,
    check_arguments,
    column_list,
    kernels_need_compiling,
    non_negative_int,
    positive_float,
    positive_int,
    read_table,
    search_subsample,
    separator,
    sniff,
    standardize,
)


def values(n=30, seed=0):
    rng = np.random.RandomState(seed)
    return np.round(rng.normal(size=(n, 3)) * 100, 4)


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def table_text(X, sep=",", decimal=".", header=("a", "b", "c")):
    def cell(v):
        return repr(float(v)).replace(".", decimal)

    lines = [sep.join(header)] + [sep.join(cell(v) for v in row) for row in X]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------ separators
@pytest.mark.parametrize(
    "sep, decimal",
    [
        (",", "."),
        (";", ","),
        (";", "."),
        ("\t", ","),
        ("\t", "."),
        ("|", "."),
        (" ", "."),
    ],
)
def test_separator_and_decimal_mark_are_found(tmp_path, sep, decimal):
    X = values()
    path = write(tmp_path, table_text(X, sep, decimal))
    table = read_table(path)
    assert (table.separator, table.decimal) == (sep, decimal)
    np.testing.assert_array_equal(table.X, X)
    assert table.names == ["a", "b", "c"]


def test_a_semicolon_file_with_decimal_commas_is_not_read_as_integers(tmp_path):
    # Read as comma-separated, "1,5;2,25" gave one column of integer parts.
    path = write(tmp_path, "x;y\n1,5;2,25\n-3,75;4,0\n0,125;7,5\n")
    table = read_table(path)
    np.testing.assert_array_equal(table.X, [[1.5, 2.25], [-3.75, 4.0], [0.125, 7.5]])
    forced = read_table(path, sep=";")
    np.testing.assert_array_equal(forced.X, table.X)


def test_sniff_keeps_a_given_separator():
    assert sniff("a;b\n1,5;2\n", ";") == (";", ",")
    assert sniff("a,b\n1,2\n3,4\n") == (",", ".")
    assert sniff("a\tb\n1\t2\n") == ("\t", ".")


# ------------------------------------------------------------ columns
def test_columns_and_drop_choose_and_order(tmp_path):
    X = values()
    path = write(tmp_path, table_text(X))
    table = read_table(path, columns=["c", "1"])
    np.testing.assert_array_equal(table.X, X[:, [2, 0]])
    assert table.names == ["c", "a"]
    dropped = read_table(path, drop=["b"])
    np.testing.assert_array_equal(dropped.X, X[:, [0, 2]])
    with pytest.raises(InputError, match="--columns names 'z', which is not a col"):
        read_table(path, columns=["z"])
    with pytest.raises(InputError, match="--drop leaves no column"):
        read_table(path, drop=["a", "b", "c"])


def test_text_columns_are_skipped_unless_chosen(tmp_path):
    lines = ["id,x,label,y"] + [f"r{i},{i}.5,cat,{2 * i}" for i in range(10)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    table = read_table(path)
    assert table.names == ["x", "y"] and table.skipped == ["id", "label"]
    with pytest.raises(InputError, match="line 2: column 'label' holds 'cat'"):
        read_table(path, columns=["x", "label"])


def test_missing_cells_drop_their_rows(tmp_path):
    X = values(20)
    lines = table_text(X).splitlines()
    lines[3] = "NA,1,2"
    lines[7] = "1,,2"
    table = read_table(write(tmp_path, "\n".join(lines) + "\n"))
    assert table.dropped == 2
    assert table.rows.tolist() == [r for r in range(20) if r not in (2, 6)]
    every = "\n".join(["a,b"] + ["1,NA", "NA,2", "3,"]) + "\n"
    with pytest.raises(InputError, match="0 of 3 rows have a number in every"):
        read_table(write(tmp_path, every, "holes.csv"))


# ------------------------------------------------------------ bad files
BAD_FILES = [
    ("", "empty file"),
    ("a,b\n", "0 data row"),
    ("a,b\n1,2\n", "1 data row"),
    ("a,b,c\n1,2,3\n4,5\n6,7,8\n", "line 3: 2 fields where the header has 3"),
    ("a,b\n1,2,3\n4,5\n", "line 2: 3 fields where the header has 2"),
    ("a,a\n1,2\n3,4\n", "repeats the column name"),
    ("a,b\nx,y\nz,w\n", "no numeric column"),
    ('a,b\n"1,2\n3,4\n', "data row|line"),
]


@pytest.mark.parametrize("text, message", BAD_FILES)
def test_malformed_files_are_one_line_errors(tmp_path, text, message):
    with pytest.raises(InputError, match=message) as info:
        read_table(write(tmp_path, text))
    assert "\n" not in str(info.value) and str(tmp_path) in str(info.value)


def test_binary_missing_and_huge_fields(tmp_path):
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00" * 100)
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        read_table(binary)
    with pytest.raises(InputError, match="No such file"):
        read_table(tmp_path / "absent.csv")
    # A field beyond csv's own limit (131,072 characters) is text, not a crash.
    long = "a,b\n1," + "9" * 200_000 + "x\n2,3\n4,5\n"
    table = read_table(write(tmp_path, long, "long.csv"))
    assert table.names == ["a"] and table.skipped == ["b"]
    huge = "a,b\n1," + "9" * (1 << 21) + "\n2,3\n"
    with pytest.raises(InputError, match="line 2: field larger than field limit"):
        read_table(write(tmp_path, huge, "huge.csv"))


# ------------------------------------------------------------ options
def parser():
    result = argparse.ArgumentParser(prog="skmix", exit_on_error=False)
    result.add_argument("--n-init", type=positive_int, default=1)
    result.add_argument("--tol", type=positive_float, default=1e-3)
    add_input_arguments(result)
    return result


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n-init", "0"], "below 1"),
        (["--n-init", "two"], "not an integer"),
        (["--tol", "nan"], "not a finite number above 0"),
        (["--tol", "-1"], "not a finite number above 0"),
        (["--sep", "ab"], "not a separator"),
        (["--sep", "x"], "not a separator"),
        (["--columns", "a,,b"], "empty column name"),
        (["--search-rows", "0"], "below 1"),
    ],
)
def test_bad_option_values_are_one_line_errors(argv, message):
    with pytest.raises(argparse.ArgumentError, match=message) as info:
        parser().parse_args(argv)
    assert "\n" not in str(info.value)


def test_option_types_accept_good_values():
    args = parser().parse_args(["--sep", "tab", "--columns", "a, b", "-vv"])
    assert args.sep == "\t" and args.columns == ["a", "b"]
    assert args.verbose == 2
    assert non_negative_int("0") == 0 and separator("semicolon") == ";"
    assert column_list("x") == ["x"]
    both = parser().parse_args(["--columns", "a,b", "--drop", "b"])
    with pytest.raises(InputError, match="--columns and --drop both name b"):
        check_arguments(both)


# ------------------------------------------------------------ data
def test_standardize_and_subsample():
    X = values(50)
    Z, mean, scale = standardize(X)
    np.testing.assert_allclose(Z, (X - X.mean(axis=0)) / X.std(axis=0))
    np.testing.assert_allclose(Z * scale + mean, X)
    with pytest.raises(InputError, match="column 2 is constant"):
        standardize(np.c_[X[:, :1], np.ones(50)])
    rows = search_subsample(1000, 100, 0)
    assert rows.shape == (100,) and np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows, search_subsample(1000, 100, 0))
    np.testing.assert_array_equal(search_subsample(50, 100, 0), np.arange(50))


KERNEL_SOURCE = """
import numba


@numba.njit(cache=True)
def kernel(x):
    return x + 1
"""


def compile_kernel_of(source, name):
    """Import ``source`` as module ``name`` and compile its kernel: numba
    writes its cache as for skmix's kernels."""
    spec = importlib.util.spec_from_file_location(name, source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.kernel(1.0) == 2.0


@pytest.mark.parametrize("cache_dir", [False, True])
def test_compile_notice_sees_stale_and_missing_caches(tmp_path, monkeypatch, cache_dir):
    # numba's own index files, beside the source or under NUMBA_CACHE_DIR.
    import numba

    root = tmp_path / "numba_cache"
    if cache_dir:
        monkeypatch.setenv("NUMBA_CACHE_DIR", str(root))
    else:
        monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(root) if cache_dir else "")
    kernels = tmp_path / "package" / "_kernels"
    kernels.mkdir(parents=True)
    (kernels / "__init__.py").write_text("")
    (kernels / "rows.py").write_text("x = 1\n")  # not used by the command line
    source = kernels / "hc.py"
    source.write_text(KERNEL_SOURCE)
    assert kernels_need_compiling(tmp_path / "package")  # no cache
    compile_kernel_of(source, f"notice_kernel_{cache_dir}_1")
    assert list(root.rglob("*.nbi") if cache_dir else kernels.rglob("*.nbi"))
    assert not kernels_need_compiling(tmp_path / "package")
    # Same text, another time (as a reinstall leaves it): numba still loads it.
    later = time.time() + 100
    os.utime(source, (later, later))
    assert not kernels_need_compiling(tmp_path / "package")
    source.write_text(KERNEL_SOURCE + "# changed\n")  # numba would compile again
    assert kernels_need_compiling(tmp_path / "package")
    compile_kernel_of(source, f"notice_kernel_{cache_dir}_2")
    assert not kernels_need_compiling(tmp_path / "package")
    (kernels / "gaussian").mkdir()
    (kernels / "gaussian" / "estep.py").write_text("x = 1\n")  # never compiled
    assert kernels_need_compiling(tmp_path / "package")


# ------------------------------------------------------------ python -m skmix
def two_blobs(n, seed=0, scale=1.0):
    rng = np.random.RandomState(seed)
    half = n // 2
    X = np.vstack([rng.normal(size=(half, 2)), rng.normal(8, 1, size=(n - half, 2))])
    return X * scale


def run_main(argv, capsys):
    from skmix.__main__ import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


FAST = ["--max-components", "2", "--n-init", "1", "--covariance-types", "full"]


def test_command_line_reads_semicolons_decimal_commas_and_columns(tmp_path, capsys):
    X = two_blobs(200)
    text = "id;a;label;b\n" + "".join(
        f"{i};{x:.6f};r{i};{y:.6f}\n".replace(".", ",") for i, (x, y) in enumerate(X)
    )
    path = write(tmp_path, text)
    code, out, _ = run_main([str(path), "--drop", "id", "-v", *FAST], capsys)
    assert code == 0
    assert "read " in out and "separator ';', decimal ','" in out
    assert "200 rows x 2 columns (a, b)" in out
    assert "note: non-numeric columns skipped: label" in out
    assert "chosen model: 2 components" in out
    code, out, _ = run_main([str(path), "--columns", "b,2", *FAST], capsys)
    assert code == 0 and "200 rows x 2 columns (b, a)" in out


def test_command_line_searches_a_subsample_then_refits_on_every_row(tmp_path, capsys):
    from skmix import GaussianMixtureEM

    X = two_blobs(1200, seed=3)
    path = write(tmp_path, table_text(np.c_[X, X[:, 0]], header=("a", "b", "c")))
    argv = [str(path), "--columns", "a,b", "--search-rows", "300", *FAST]
    code, out, _ = run_main(argv, capsys)
    assert code == 0
    assert "random subsample of 300 of the 1200 rows" in out
    assert "refitting the chosen model on all 1200 rows" in out
    assert "1200 rows x 2 columns (a, b)" in out
    log_lik = float(out.split("log-likelihood ")[1].split(",")[0])
    # The refit reaches the maximum likelihood on all rows (an independent
    # fit with several starts); the subsample's own fit falls short of it.
    best = GaussianMixtureEM(2, n_init=5, tol=1e-8, random_state=1).fit(X)
    assert log_lik == pytest.approx(best.score(X) * len(X), abs=1e-2)
    rows = search_subsample(1200, 300, 0)
    sub = GaussianMixtureEM(2, tol=1e-8, random_state=0).fit(X[rows])
    assert sub.score(X) * len(X) < log_lik - 0.1


def test_command_line_standardize(tmp_path, capsys):
    X = two_blobs(200, scale=1000.0)
    path = write(tmp_path, table_text(X, header=("a", "b")))
    code, out, _ = run_main([str(path), "--standardize", *FAST], capsys)
    assert code == 0 and "columns standardised" in out
    means = re.findall(r"^\s+\d+\s+[\d.]+\s+\d+\s+\((.*)\)$", out, re.MULTILINE)
    centres = np.array([[float(v) for v in m.split(",")] for m in means])
    assert centres.shape == (2, 2)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    expected = np.array([Z[:100].mean(axis=0), Z[100:].mean(axis=0)])
    assert_allclose(np.sort(centres, axis=0), np.sort(expected, axis=0), atol=1e-3)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n-init", "0"], "below 1"),
        (["--tol", "nan"], "not a finite number above 0"),
        (["--max-components", "0"], "below 1"),
        (["--sep", "xy"], "not a separator"),
        (["--n-jobs", "0"], "0 processes"),
        (["--n-jobs", "two"], "not an integer"),
    ],
)
def test_command_line_bad_options_are_one_line_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        run_main(argv, capsys)
    assert info.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # after argparse's usage lines
    assert last.startswith("python -m skmix: error:") and message in last


def test_command_line_file_errors_are_one_line(tmp_path, capsys):
    path = write(tmp_path, "a,b\n1,\n,2\nNA,3\n")
    code, out, err = run_main([str(path)], capsys)
    assert code == 1 and "0 of 3 rows have a number" in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = run_main(["--columns", "a"], capsys)
    assert code == 1 and "--columns need a FILE" in err


def test_command_line_compile_notice(monkeypatch, capsys):
    import skmix._cli_input as cli_input

    monkeypatch.setattr(cli_input, "kernels_need_compiling", lambda: True)
    code, out, err = run_main(FAST, capsys)
    assert code == 0
    assert "compiling kernels on first use (once per installation)..." in err
    monkeypatch.setattr(cli_input, "kernels_need_compiling", lambda: False)
    code, out, err = run_main(FAST, capsys)
    assert code == 0 and "compiling" not in err


@pytest.mark.parametrize("text", ["", "a,b\n"])
def test_command_line_empty_file_is_one_line_without_a_warning(tmp_path, text):
    """The compiled reader's warning on an empty body (NumPy's) no longer
    precedes the error; run as a user would, in a new process."""
    path = write(tmp_path, text)
    done = subprocess.run(
        [sys.executable, "-m", "skmix", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error:")
    assert "Warning" not in done.stderr and "loadtxt" not in done.stderr
