"""Habits of the codebase, checked: short files, short functions outside
numba kernels, and comments that state contracts rather than measurements.

Measurements (timings, hosts, "min of N calls") go stale in code comments;
they belong in ``doc/performance.rst``, benchmark output and commit
messages. Numba kernels may be long where the loop is the point.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "skmix"
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 100

#: Words that describe a measurement or the machine it was made on.
MEASUREMENT = re.compile(
    r"\d\s?(ms|us|µs|ns)\b|\bmin of\b|\bmedians? of\b|\bhost\b|\bVM\b|"
    r"\d-core\b|processes alternated|this machine|\bvCPU",
    re.IGNORECASE,
)


def sources():
    return sorted(PACKAGE.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def is_numba_kernel(node) -> bool:
    """Whether a function is decorated by numba (``njit``, ``jit``, ...)."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else target
        name = getattr(name, "id", name)
        if name in {"njit", "jit", "generated_jit", "intrinsic", "overload"}:
            return True
    return False


def long_functions(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not is_numba_kernel(node):
                yield f"{relative(path)}:{node.name} ({length} lines)"


def measurement_lines(path: Path, text: str | None = None):
    """Comments and docstrings of ``path`` that read like measurements."""
    text = path.read_text() if text is None else text
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    for token in tokens:
        prose = token.type == tokenize.COMMENT or (
            token.type == tokenize.STRING
            and token.string.lstrip("rbuRBU").startswith(('"""', "'''"))
        )
        if not prose:
            continue
        for offset, line in enumerate(token.string.splitlines()):
            if MEASUREMENT.search(line):
                yield f"{relative(path)}:{token.start[0] + offset}: {line.strip()}"


def test_no_file_is_longer_than_the_limit():
    long_files = [
        f"{relative(path)} ({n} lines)"
        for path in sources()
        if (n := len(path.read_text().splitlines())) > MAX_FILE_LINES
    ]
    assert not long_files, long_files


def test_no_function_outside_kernels_is_longer_than_the_limit():
    found = [entry for path in sources() for entry in long_functions(path)]
    assert not found, found


def test_comments_state_contracts_not_measurements():
    found = [entry for path in sources() for entry in measurement_lines(path)]
    assert not found, "\n".join(found)


def test_the_measurement_check_sees_a_timing():
    """A comment with a timing is reported; one with a contract is not."""
    text = (
        "# two threads ran 1.9 ms against 3.1 ms (min of 40 calls)\n"
        "x = 1  # rows per chunk: results never depend on n_jobs\n"
    )
    found = list(measurement_lines(PACKAGE / "probe.py", text))
    assert len(found) == 1 and "1.9 ms" in found[0]


def test_no_merge_conflict_markers_are_left():
    """No source, test, documentation or example file holds a conflict marker."""
    root = PACKAGE.parent
    folders = ["skmix", "tests", "doc", "examples", "benchmarks", "tools"]
    marker = re.compile(r"^(<{7}|>{7}) ", re.MULTILINE)
    found = [
        path.relative_to(root).as_posix()
        for folder in folders
        if (root / folder).is_dir()
        for path in (root / folder).rglob("*")
        if path.suffix in {".py", ".rst", ".md", ".txt", ".toml", ".cfg"}
        and "_build" not in path.parts
        and marker.search(path.read_text(errors="replace"))
    ]
    found += [
        name
        for name in ["README.rst", "pyproject.toml"]
        if marker.search((root / name).read_text())
    ]
    assert not found, found
