"""README.rst stays true: its commands and its code example."""

import pathlib
import textwrap

README = pathlib.Path(__file__).resolve().parents[1] / "README.rst"


def test_readme_opens_with_the_two_commands():
    lines = [line.strip() for line in README.read_text().splitlines()]
    commands = [line for line in lines if line.startswith("python -m pip install")]
    assert commands[:2] == [
        "python -m pip install . && python -m skmix",
        'python -m pip install ".[test,plot,doc,dask]" && python -m pytest',
    ]


def test_readme_code_example_runs():
    text = README.read_text()
    start = text.index(".. code-block:: python")
    block = text[start:].split("\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line.strip() and not line.startswith("    "):
            break
        lines.append(line)
    namespace = {}
    exec(compile(textwrap.dedent("\n".join(lines)), str(README), "exec"), namespace)
    assert namespace["cm"].families_ == ["gaussian", "poisson"]
    assert namespace["gm"].n_components == 3
