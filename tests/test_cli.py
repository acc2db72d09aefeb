"""The ``heartsease analyze`` contract of DESIGN.md."""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from heartsease.cli import app
from heartsease.cli.entry import BLAS_THREAD_VARIABLES
from heartsease.signal.lapack import blas_threads

CONTRACT_KEYS = {
    "n_beats", "duration_s", "mean_rr_ms", "mean_hr_bpm", "sdnn_ms", "rmssd_ms", "pnn50_pct",
    "lf_ms2", "hf_ms2", "lf_hf", "peak_hz", "coherence_ratio", "breathing_rate_bpm",
    "artifacts_corrected", "artifact_pct", "hrv_interpretable", "quality_notes",
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
    # The Kubios report's figures are in the table too (issue 27), with the verdict.
    for words in ("Min / max heart rate", "TINN", "LF power (FFT / AR)", "ApEn / SampEn",
                  "DFA alpha 1 / 2", "Stress index", "PNS / SNS index", "HRV can be read"):
        assert words in result.output, words
    assert not re.search(r"\bnan\b|\binf\b", result.output.lower())


def test_a_breathing_rate_not_told_is_said_in_words_without_a_unit(refdata: Path) -> None:
    # NeuroKit's 5-minute rest breathes irregularly (belt 8-43/min breath to breath): no rate.
    path = refdata / "ecg_resp/neurokit/bio_resting_5min_100hz_rpeaks_rr.csv"
    result = runner.invoke(app, ["analyze", str(path)])
    line = next(row for row in result.output.splitlines() if "Breathing rate" in row)
    assert "cannot be told from the heartbeat" in line and "breaths/min" not in line


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


def test_kubios_options_and_figures(refdata: Path) -> None:
    path = str(refdata / "rr_reference/kubios/SampleSeries_rr_ms.txt")
    plain = json.loads(runner.invoke(app, ["analyze", "--json", "--correction", "none",
                                           path]).output)
    # --correction none is --no-correction: the Kubios report's settings, its figures.
    assert plain["sampen"] == pytest.approx(0.7436, abs=1e-4)
    assert plain["ar_hf_ms2"] > 0 and plain["lf_nu"] == pytest.approx(75.12, abs=0.1)
    tuned = runner.invoke(app, ["analyze", "--json", "--correction", "medium", "--detrend",
                                "smoothness-priors", "--lambda", "256", "--window-s", "256",
                                "--overlap", "50", "--ar-order", "12", path])
    assert tuned.exit_code == 0, tuned.output
    out = json.loads(tuned.output)
    assert out["sdnn_ms"] < plain["sdnn_ms"] and out["vlf_ms2"] < plain["vlf_ms2"]
    bad = runner.invoke(app, ["analyze", "--correction", "extreme", path])
    assert bad.exit_code == 2 and "Unknown --correction" in bad.output


def test_holter_with_a_dropout_is_analysed_around_it(refdata: Path, tmp_path: Path) -> None:
    # nsr004's one 3,023-ms interval (the recorder lost the beat), in 20 minutes around it.
    df = pd.read_csv(refdata / "rr_holter/nsr2db/nsr004_rr_from_ecg.csv", usecols=["rr_ms"])
    path = tmp_path / "nsr004.csv"
    df.iloc[2500:4000].to_csv(path, index=False)
    result = runner.invoke(app, ["analyze", "--json", str(path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["hrv_interpretable"] is True
    assert any("gap" in note for note in out["notes"])
    assert any("1 gap(s) in the signal, 3.0 s" in note for note in out["quality_notes"])
    assert out["n_beats"] == 1499


def test_three_intervals_get_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    # Issue 26 item 6: "tiny files get one clear line and exit 2", as two intervals always did.
    path = tmp_path / "rr.txt"
    path.write_text("800\n810\n790\n")
    result = runner.invoke(app, ["analyze", "--json", str(path)])
    assert result.exit_code == 2
    assert "Cannot analyse this recording" in result.output and "only 3 RR" in result.output
    assert "Traceback" not in result.output


def test_beats_csv_has_every_raw_interval_its_label_and_corrected_value(
    refdata: Path, tmp_path: Path
) -> None:
    # MIT-BIH 105 (noisy, with ectopy) and a dropout spliced in: every kind of row.
    df = pd.read_csv(refdata / "annotated/mitdb_105/105_rr_from_atr.csv").dropna(subset=["rr_ms"])
    rr = df.rr_ms.to_numpy()[:1500].copy()
    rr[700] = 6000.0  # not a whole number of beats: a gap
    path = tmp_path / "105.txt"
    path.write_text("\n".join(f"{v:.3f}" for v in rr))
    out_csv = tmp_path / "beats.csv"
    result = runner.invoke(app, ["analyze", "--json", "--beats", str(out_csv), str(path)])
    assert result.exit_code == 0, result.output
    analysis = json.loads(result.output)
    beats = pd.read_csv(out_csv)
    assert list(beats.columns[:4]) == ["t_s", "rr_ms", "label", "corrected_rr_ms"]
    assert len(beats) == rr.size
    np.testing.assert_allclose(beats.rr_ms, rr, atol=5e-4)
    assert set(beats.label) <= {"normal", "ectopic", "long", "short", "missed", "extra"}
    gap = beats[beats.gap == 1]
    assert gap.index.tolist() == [700] and gap.label.iloc[0] == "long"
    assert gap.corrected_rr_ms.isna().all()
    kept = beats[beats.gap == 0]
    counts = kept.label.value_counts()
    for kind, n in analysis["artifacts_by_kind"].items():
        assert counts.get(kind, 0) == n, kind
    assert (kept.label != "normal").sum() == analysis["artifacts_corrected"] > 0
    normal = kept[kept.label == "normal"]
    np.testing.assert_array_equal(normal.corrected_rr_ms, normal.rr_ms)
    # The corrected series' time, rebuilt from the table (a split missed beat's parts given
    # as their mean), is the one the figures came from: its mean equals the reported mean RR
    # (printed to 3 decimals, hence the tolerance).
    series = np.repeat(kept.corrected_rr_ms.fillna(0.0), kept.corrected_parts)
    assert series.mean() == pytest.approx(analysis["mean_rr_ms"], abs=1e-3)


def test_the_fast_entry_reads_analyze_options_as_the_typer_command_does() -> None:
    """``heartsease analyze`` with plain arguments is read without typer
    (:mod:`heartsease.cli.entry`); its options are the typer command's, same names, ranges
    and defaults, so neither can drift from the other."""
    import inspect

    import typer.main

    from heartsease.cli.analyze_core import run_analyze
    from heartsease.cli.entry import ANALYZE_FLAGS, ANALYZE_OPTIONS, parse_analyze

    command = typer.main.get_command(app).commands["analyze"]  # type: ignore[attr-defined]
    defaults = {name: p.default for name, p in inspect.signature(run_analyze).parameters.items()}
    typer_options = {}
    for param in command.params:
        if param.param_type_name == "option":
            assert param.default == defaults[param.name], param.name
            kind = None if param.is_flag else param.type_descriptor.annotation
            typer_options[param.opts[0]] = (param.name, kind, param.min, param.max)
    ours = {**{flag: (dest, None, None, None) for flag, dest in ANALYZE_FLAGS.items()},
            **{opt: (dest, kind, low, high)
               for opt, (dest, kind, low, high) in ANALYZE_OPTIONS.items()}}
    assert ours == typer_options
    assert parse_analyze(["--lambda", "256", "--detrend", "smoothness-priors", "x.txt"]) == {
        "lambda_": 256.0, "detrend": "smoothness-priors", "path": Path("x.txt")}
    # Anything but plain is left to typer, which says what is wrong.
    for args in (["--help"], [], ["a", "b"], ["--ar-order", "65", "a"], ["--lambda", "1e", "a"],
                 ["--json", "--json", "a"], ["--correction=none", "a"], ["--beats", "-", "a"],
                 ["--window-s"], ["-", "--json"]):
        assert parse_analyze(args) is None, args


@pytest.mark.parametrize("recording", [
    "rr_reference/kubios/SampleSeries_rr_ms.txt",
    # An hour: its 4 Hz tachogram's dot products are long enough for OpenBLAS to split them
    # between threads, were it given more than one.
    "rr_reference/pyhrv/SampleNNISeriesLong_ms.txt",
])
def test_the_fast_entry_prints_what_the_typer_command_prints(
    refdata: Path, recording: str
) -> None:
    """Same JSON to the last digit, and neither typer, click, pydantic nor rich imported;
    OpenBLAS on one thread (unless a thread count was set), and the typer command's process
    given back the threads it had."""
    args = ["analyze", "--json", "--correction", "none", "--ar-order", "16",
            str(refdata / recording)]
    report = ("import sys\nfrom heartsease.signal.lapack import blas_threads\n"
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'click', "
              "'pydantic', 'rich', 'asyncio', 'scipy'}), blas_threads(), file=sys.stderr)")
    code = f"import sys\nfrom heartsease.cli.entry import main\nmain()\n{report}"
    fast = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=True)
    before = blas_threads()
    assert fast.stdout == runner.invoke(app, args).stdout
    assert blas_threads() == before
    modules, threads = fast.stderr.strip().rsplit(" ", 1)
    assert modules == "[]"
    if not set(BLAS_THREAD_VARIABLES) & set(os.environ) and threads != "None":
        assert threads == "1"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_the_fast_entry_keeps_freed_memory_for_reuse() -> None:
    """glibc takes the settings that spare a day's analysis its page faults (in a process of
    its own: they are not for the test run's)."""
    kept = subprocess.run(
        [sys.executable, "-c", "from heartsease.cli.entry import keep_freed_memory\n"
         "print(keep_freed_memory())"], capture_output=True, text=True, check=True)
    assert kept.stdout.strip() == str(platform.libc_ver()[0] == "glibc")


def test_the_fast_entry_refuses_as_the_typer_command_does(tmp_path: Path) -> None:
    tiny = tmp_path / "rr.txt"
    tiny.write_text("800\n810\n790\n")
    refused = subprocess.run([sys.executable, "-m", "heartsease.cli", "analyze", str(tiny)],
                             capture_output=True, text=True)
    typer_refused = runner.invoke(app, ["analyze", str(tiny)])
    assert refused.returncode == typer_refused.exit_code == 2
    assert refused.stderr == typer_refused.output


def test_a_long_recordings_forked_part_gives_the_same_json(
        refdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long recording's long-term measures and segment table run in a forked process
    (issue 27: wall time); the printed figures are those of one process, to the bit."""
    rr = pd.read_csv(refdata / "rr_reference/pyhrv/SampleNNISeriesLong_ms.txt",
                     header=None)[0].to_numpy(float)
    path = tmp_path / "long.txt"
    path.write_text("\n".join(f"{v:g}" for v in np.tile(rr, 2)) + "\n")
    outputs = {}
    for fork in ("1", "0"):
        monkeypatch.setenv("HEARTSEASE_ANALYZE_FORK", fork)
        result = runner.invoke(app, ["analyze", "--json", str(path)])
        assert result.exit_code == 0, result.output
        outputs[fork] = result.output
    assert json.loads(outputs["1"])["segments"]  # long enough for the forked part
    assert outputs["1"] == outputs["0"]


def test_work_shared_with_forked_processes_comes_back_whole_and_in_order() -> None:
    """Every core's process takes pieces (a day's work is shared between the cores), every
    piece's result comes back in its place, what a child could not do is done here, and a
    piece that fails anywhere fails here, with its own error, leaving no child behind."""
    from heartsease.cli.analyze_core import MAX_ANALYSIS_PROCESSES, _cores
    from heartsease.cli.analyze_core import _shared_with_forked_processes as shared

    here = os.getpid()

    def piece(k: int, child_fails: bool = False) -> tuple[int, int]:
        if child_fails and os.getpid() != here:
            raise RuntimeError("the child fails")
        time.sleep(0.005)
        return k * k, os.getpid()

    before = _children()
    done = shared([functools.partial(piece, k) for k in range(60)])
    assert [square for square, _ in done] == [k * k for k in range(60)]
    assert len({pid for _, pid in done}) == min(_cores(), MAX_ANALYSIS_PROCESSES)
    done = shared([functools.partial(piece, k, True) for k in range(60)])
    assert done == [(k * k, here) for k in range(60)]
    for failing in (0, 59):  # taken first by one process, last by either
        work = [functools.partial(piece, k) for k in range(60)]
        work[failing] = lambda: 1 / 0
        with pytest.raises(ZeroDivisionError):
            shared(work)
    assert _children() <= before  # every child it forked reaped


def test_a_child_whose_parent_is_killed_takes_no_more_pieces(tmp_path: Path) -> None:
    """A killed analysis leaves no process working on for nobody: its child finishes the
    piece in hand and takes no other (it would have done the rest of the day's work)."""
    code = ("import os, sys, time, pathlib\n"
            "from heartsease.cli.analyze_core import _shared_with_forked_processes\n"
            "def piece(k):\n"
            "    time.sleep(0.05)\n"
            "    (pathlib.Path(sys.argv[1]) / f'{k}-{os.getpid()}').touch()\n"
            "_shared_with_forked_processes([lambda k=k: piece(k) for k in range(200)])\n")
    process = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)])
    time.sleep(1.0)
    process.kill()
    process.wait()
    time.sleep(0.5)  # the child may finish the piece in hand
    settled = len(list(tmp_path.iterdir()))
    time.sleep(0.5)
    assert len(list(tmp_path.iterdir())) == settled < 200


def _children() -> set[str]:
    """This process's children, zombies included (Linux)."""
    return {pid for task in Path("/proc/self/task").iterdir()
            for pid in (task / "children").read_text().split()}


def test_a_reader_that_stops_early_gets_no_traceback(refdata: Path) -> None:
    """``heartsease analyze --json FILE | head`` ended in a BrokenPipeError traceback."""
    analyze = subprocess.Popen(
        [sys.executable, "-c", "from heartsease.cli.entry import main\nmain()", "analyze",
         "--json", str(refdata / "rr_strap/polar_h10/sample_data_ibi.csv")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert analyze.stdout is not None and analyze.stderr is not None
    analyze.stdout.close()  # the reader has gone before a line is written
    assert analyze.wait(60) == 0
    assert analyze.stderr.read() == b""
