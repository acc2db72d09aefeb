"""The ``heartsease analyze`` contract of DESIGN.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heartsease.cli import app

CONTRACT_KEYS = {
    "n_beats", "duration_s", "mean_rr_ms", "mean_hr_bpm", "sdnn_ms", "rmssd_ms", "pnn50_pct",
    "lf_ms2", "hf_ms2", "lf_hf", "peak_hz", "coherence_ratio", "breathing_rate_bpm",
    "artifacts_corrected", "artifact_pct",
}
runner = CliRunner()


def test_json_has_the_contract_keys(refdata: Path) -> None:
    result = runner.invoke(app, ["analyze", "--json",
                                 str(refdata / "rr_strap/polar_h10/sample_data_ibi.csv")])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out.keys() >= CONTRACT_KEYS
    assert out["n_beats"] == 620
    assert out["lf_ms2"] > 0 and out["hf_ms2"] > 0  # absolute ms^2


def test_uncorrected_analysis_reproduces_kubios(refdata: Path) -> None:
    path = refdata / "rr_reference/kubios/SampleSeries_rr_ms.txt"
    out = json.loads(runner.invoke(app, ["analyze", "--json", "--no-correction",
                                         str(path)]).output)
    assert out["rmssd_ms"] == pytest.approx(56.8586, abs=0.01)
    assert out["lf_ms2"] == pytest.approx(5673.0207, rel=0.02)
    assert out["artifacts_corrected"] == 0


def test_table_output(refdata: Path) -> None:
    result = runner.invoke(app, ["analyze",
                                 str(refdata / "rr_reference/kubios/SampleSeries_rr_ms.txt")])
    assert result.exit_code == 0
    assert "RMSSD" in result.output and "Coherence" in result.output


@pytest.mark.parametrize("content", ["", "800\n810\nabc\n", "800\n810\n90000\n800\n"])
def test_bad_files_get_a_clear_error_and_exit_2(tmp_path: Path, content: str) -> None:
    path = tmp_path / "rr.txt"
    path.write_text(content)
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 2
    assert "Cannot analyse this recording" in result.output
    assert "Traceback" not in result.output


def test_help_loads_neither_the_analysis_nor_the_store() -> None:
    """``heartsease --help`` is printed without scipy, numpy, SQLAlchemy, Alembic or bleak
    (``bench/bench_cli_help.py`` times it)."""
    heavy = ("numpy", "scipy", "sqlalchemy", "alembic", "bleak")
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom heartsease.cli import app\n"
            "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
