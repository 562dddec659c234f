"""The command line ``python -m skmix``."""

import subprocess
import sys

import numpy as np
import pytest

from skmix.__main__ import main


def test_main_job_on_faithful_selects_mclust_model(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "chosen model: 3 components, covariance_type='tied' (mclust EEE)" in out
    assert "time taken" in out and "BIC" in out
    for G in range(1, 10):
        assert f"\n{G:>4} " in out


def test_csv_file_uses_numeric_columns(tmp_path, capsys):
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(100, 2)), rng.normal(8, 1, size=(100, 2))])
    path = tmp_path / "data.csv"
    lines = ["a,label,b"] + [f"{x:.6f},row{i},{y:.6f}" for i, (x, y) in enumerate(X)]
    path.write_text("\n".join(lines) + "\n")
    assert main([str(path), "--max-components", "3", "--n-init", "2"]) == 0
    out = capsys.readouterr().out
    assert "200 rows x 2 columns (a, b)" in out
    assert "note: non-numeric columns skipped: label" in out
    assert "chosen model: 2 components" in out


def test_csv_missing_cells_drop_their_rows_not_their_column(tmp_path, capsys):
    rng = np.random.RandomState(1)
    X = np.vstack([rng.normal(size=(60, 2)), rng.normal(8, 1, size=(60, 2))])
    cells = [[f"{x:.6f}", f"{y:.6f}"] for x, y in X]
    for row, marker in [(3, ""), (10, "NA"), (20, " nan "), (30, "?")]:
        cells[row][1] = marker
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(["a,b"] + [",".join(c) for c in cells]) + "\n")
    assert main([str(path), "--max-components", "2", "--n-init", "1"]) == 0
    out = capsys.readouterr().out
    assert "note: 4 rows with missing or non-finite values were dropped" in out
    assert "116 rows x 2 columns (a, b)" in out
    assert "skipped" not in out


def test_errors_are_reported_not_raised(tmp_path, capsys):
    path = tmp_path / "text.csv"
    path.write_text("a,b\nx,y\nz,w\n")
    assert main([str(path)]) == 1
    assert "no numeric column" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.csv")]) == 1
    with pytest.raises(SystemExit):
        main(["--covariance-types", "banana"])


def test_help_runs_as_module():
    result = subprocess.run(
        [sys.executable, "-m", "skmix", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "BIC" in result.stdout and "--max-components" in result.stdout


def _printed_bics(out):
    """The BIC cells of the printed table (degenerate ones excluded)."""
    table = out.split("R's mclust reports -BIC):")[1].split("chosen model")[0]
    cells = []
    for line in table.splitlines():
        parts = line.split()
        if parts and parts[0].isdigit():
            cells += [float(p) for p in parts[1:] if not p.startswith("(")]
    return cells


@pytest.mark.parametrize(
    "model, family, headers",
    [
        ("nig", "NIG", ["NIG spherical", "NIG diag", "NIG tied", "NIG full"]),
        ("auto", "", ["full (VVV)", "NIG full"]),
        ("composite", "composite", ["composite"]),
    ],
)
def test_model_option_searches_that_family(model, family, headers, capsys):
    assert main(["--model", model, "--max-components", "3"]) == 0
    out = capsys.readouterr().out
    assert f"{family} mixture chosen by BIC" in out
    for header in headers:
        assert header in out
    chosen = out.split("chosen model:")[1].split("\n")[1]
    log_lik = float(chosen.split("log-likelihood ")[1].split(",")[0])
    p = int(chosen.split(", ")[1].split(" free")[0])
    bic = float(chosen.split("BIC ")[1].split(",")[0])
    # BIC as its formula, and the smallest of the table.
    assert bic == pytest.approx(-2 * log_lik + p * np.log(272), abs=2e-5)
    assert bic == pytest.approx(min(_printed_bics(out)), abs=1e-3)
