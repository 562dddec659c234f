"""``python -m skmix --plot DIR --output FILE.csv``: the PNG figures and the
per-row components and probabilities."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from skmix.__main__ import main

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_and_output_on_faithful(tmp_path, capsys):
    figures, labels = tmp_path / "figures", tmp_path / "labels.csv"
    args = ["--max-components", "4", "--n-init", "3", "--plot", str(figures)]
    assert main([*args, "--output", str(labels)]) == 0
    out = capsys.readouterr().out
    for name in ("bic.png", "classification.png"):
        path = figures / name
        assert path.read_bytes()[:8] == PNG
        assert str(path) in out
    assert str(labels) in out
    with open(labels, newline="") as handle:
        rows = list(csv.reader(handle))
    k = len(rows[0]) - 2
    assert rows[0] == ["row", "component"] + [f"probability_{c}" for c in range(k)]
    assert len(rows) == 1 + 272
    table = np.array(rows[1:], dtype=float)
    assert table[:, 0].tolist() == list(range(1, 273))
    probabilities = table[:, 2:]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    assert np.array_equal(table[:, 1], probabilities.argmax(axis=1))
    assert f"chosen model: {k} components" in out


def test_output_numbers_the_rows_of_the_file(tmp_path, capsys):
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(40, 3)), rng.normal(6, 1, size=(40, 3))])
    lines = ["a,b,c"] + [",".join(f"{v:.6f}" for v in row) for row in X]
    lines[5] = "NA,1,2"  # data row 5 is dropped
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    labels = tmp_path / "out" / "labels.csv"
    labels.parent.mkdir()
    figures = tmp_path / "figs"
    argv = [str(path), "--max-components", "2", "--n-init", "1"]
    assert main([*argv, "--output", str(labels), "--plot", str(figures)]) == 0
    with open(labels, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    numbers = [int(r[0]) for r in rows]
    assert numbers == [n for n in range(1, 81) if n != 5]
    assert len({r[1] for r in rows}) == 2
    assert (figures / "classification.png").exists()
    capsys.readouterr()


def test_unwritable_output_is_an_error(tmp_path, capsys):
    target = tmp_path / "missing-folder" / "labels.csv"
    assert (
        main(["--max-components", "1", "--n-init", "1", "--output", str(target)]) == 1
    )
    assert "error:" in capsys.readouterr().err
