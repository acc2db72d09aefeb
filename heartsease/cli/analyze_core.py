"""What ``heartsease analyze`` does once its arguments are read, imported without typer.

The typer command (:func:`heartsease.cli.analysis.analyze`) and the fast entry point
(:mod:`heartsease.cli.entry`) both call :func:`run_analyze`. Nothing here imports typer,
click or pydantic; rich is imported only to print the text table or a refusal.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from heartsease.signal.recording import RecordingAnalysis

CORRECTIONS = ("automatic", "none", "very-low", "low", "medium", "strong", "very-strong")
DETRENDING = ("none", "smoothness-priors")


class RefusalError(Exception):
    """Why a recording cannot be analysed, in rich markup; the command exits with status 2."""


def escape(text: str) -> str:
    """``text`` with rich markup escaped (rich imported only when there is something to say)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def json_safe(value: object) -> object:
    """``value`` with NaN and infinities as ``None`` (JSON has neither).

    >>> json_safe({"segments": [{"lf_ms2": float("nan")}]})
    {'segments': [{'lf_ms2': None}]}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):  # the 5-minute segment table is a list of objects
        return [json_safe(v) for v in value]
    return value


def analysis_json(result: dict[str, object]) -> str:
    """``result`` as indented JSON, each row of its ``segments`` table on one line.

    A day's table is 270 rows of 60 figures: a row a line reads as the table it is, and
    the JSON takes half the time to write (json's indenting encoder is pure Python: 12
    against 6 ms of a day's 0.5-s run).

    >>> print(analysis_json({"n_beats": 2, "segments": [{"start_s": 0.0}, {"start_s": 300.0}]}))
    {
      "n_beats": 2,
      "segments": [
        {"start_s": 0.0},
        {"start_s": 300.0}
      ]
    }
    """
    rows = result.get("segments")
    if not isinstance(rows, list) or not rows:
        return json.dumps(result, indent=2)
    # No text of the result holds a NUL (paths cannot; the rest is ours): a unique mark.
    mark = json.dumps("\0segments\0")
    table = ",\n".join("    " + json.dumps(row) for row in rows)
    return json.dumps({**result, "segments": "\0segments\0"}, indent=2).replace(
        mark, "[\n" + table + "\n  ]", 1)


def run_analyze(path: Path, as_json: bool = False, no_correction: bool = False,
                correction: str = "automatic", detrend: str = "none", lambda_: float = 500.0,
                window_s: float = 300.0, overlap: float = 50.0, ar_order: int = 16,
                beats: Path | None = None) -> None:
    """Analyse the recording at ``path`` and print it (JSON or a table) on stdout; raise
    :class:`RefusalError` when it cannot be analysed. The defaults are the command's.

    The analysis runs on one OpenBLAS thread (:func:`~heartsease.signal.lapack.
    one_blas_thread`): its figures are the same bits on every machine and from both entry
    points."""
    from heartsease.sensors.files import RecordingError, read_rr_file
    from heartsease.signal.kubios_report import Detrending, KubiosOptions
    from heartsease.signal.lapack import one_blas_thread
    from heartsease.signal.recording import MIN_BEATS_FOR_SPECTRUM, analyze_recording
    from heartsease.signal.threshold_correction import CorrectionLevel

    if correction not in CORRECTIONS:
        raise RefusalError(f"Unknown --correction {escape(correction)}; one of "
                           f"{', '.join(CORRECTIONS)}")
    if detrend not in DETRENDING:
        raise RefusalError(f"Unknown --detrend {escape(detrend)}; one of "
                           f"{', '.join(DETRENDING)}")
    correct = not no_correction and correction != "none"
    level = None if correction in ("automatic", "none") else correction
    options = KubiosOptions(detrending=cast(Detrending, detrend), lambda_=lambda_,
                            window_s=window_s, overlap_pct=overlap, ar_order=ar_order)
    try:
        recording = read_rr_file(path)
        with one_blas_thread():
            analysis = analyze_recording(
                recording.rr_ms, correct=correct, options=options,
                correction_level=cast(CorrectionLevel | None, level),
                share_work=_shared_with_forked_processes if _may_fork() else None)
    except RecordingError as exc:
        raise RefusalError(f"[bold]Cannot analyse this recording.[/bold] "
                           f"{escape(str(exc))}") from None
    usable = analysis.correction.raw_rr_ms.size
    if usable < MIN_BEATS_FOR_SPECTRUM:
        # Fewer than the spectrum's spline needs: no figure of the contract but a few
        # time-domain ones, so one clear line rather than a table of dashes (issue 26).
        raise RefusalError(f"[bold]Cannot analyse this recording.[/bold] {escape(path.name)}: "
                           f"only {usable} RR interval(s) outside gaps; at least "
                           f"{MIN_BEATS_FOR_SPECTRUM} are needed")
    if beats is not None:
        _write_beats(beats, recording.rr_ms, analysis)
    result = analysis.as_dict()
    if as_json:
        result = {"file": str(path), "format": recording.format, **result,
                  "notes": recording.notes}
        print(analysis_json(json_safe(result)))
        return
    _print_analysis(path, recording.format, recording.notes, result)


def _may_fork() -> bool:
    """Whether a long recording's work may be shared with forked processes: on Linux (where
    numpy's OpenBLAS restarts its threads after a fork; macOS's Accelerate is not known to
    be safe to fork once used) unless ``HEARTSEASE_ANALYZE_FORK`` is ``0``."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and os.environ.get("HEARTSEASE_ANALYZE_FORK", "1") != "0")


# A day's work is some 20 pieces, the longest a tenth of it: more processes than this
# would wait for the longest.
MAX_ANALYSIS_PROCESSES = 8
# Every piece's number (4 bytes) is written to the claims pipe before anyone reads it: a
# pipe holds 64 KiB (a week's recording is some 150 pieces).
MAX_SHARED_PIECES = 16_384


def _cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def _shared_with_forked_processes(work: list[Callable[[], object]]) -> list[object]:
    """Do the pieces of ``work`` here and in child processes forked now, one a core (none
    on one core), each process taking the next piece not yet taken until none is left;
    their results in order. What a child did not give back (it failed, or could not start)
    is done here.

    Issue 27 asks a 24-hour day's analysis, process start included, to take less wall time
    than neurokit2's ``hrv_time`` alone. A long recording's analysis is independent pieces
    (its correction's thresholds; then the whole series' measures, batches of coherence
    windows, runs of segments), so the cores share it: whichever process is free takes the
    next piece, so all finish together on any machine. Pieces are claimed by reading their
    numbers from a pipe all hold (a read of four bytes from a pipe is atomic), and each
    child's results come back pickled through a pipe of its own. All compute with the same
    code on the same numbers and the results are joined in order: the same bits as in one
    process.
    """
    import pickle  # only for a long recording: a strap's run does without it

    from heartsease.signal.work import one_after_another

    helpers = min(_cores(), MAX_ANALYSIS_PROCESSES, len(work)) - 1
    if helpers < 1 or len(work) > MAX_SHARED_PIECES:
        return one_after_another(work)
    try:
        claims_out, claims_in = os.pipe()
    except OSError:
        return one_after_another(work)
    with os.fdopen(claims_in, "wb") as claims:  # all numbers written before anyone reads
        claims.write(b"".join(k.to_bytes(4, "little") for k in range(len(work))))

    parent = os.getpid()

    def take_pieces() -> dict[int, object]:
        done = {}
        # A child whose parent is gone (killed) takes no more: nobody would read its work.
        while ((os.getpid() == parent or os.getppid() == parent)
               and len(claim := os.read(claims_out, 4)) == 4):
            k = int.from_bytes(claim, "little")
            done[k] = work[k]()
        return done

    children: list[tuple[int, int]] = []  # each child's pid and the end its results come from
    for _ in range(helpers):
        try:
            results_out, results_in = os.pipe()
        except OSError:
            break
        try:
            pid = os.fork()
        except OSError:
            os.close(results_out)
            os.close(results_in)
            break
        if pid == 0:  # a child: never returns into the caller's code
            code = 1
            try:
                for _, earlier in children:
                    os.close(earlier)
                os.close(results_out)
                payload = pickle.dumps(take_pieces(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(results_in, "wb") as pipe:
                    pipe.write(payload)
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
        os.close(results_in)
        children.append((pid, results_out))
    try:
        done = take_pieces()
    finally:  # the children waited for, even when a piece failed here
        while os.read(claims_out, 4096):  # pieces left after a failure: no child takes one
            pass
        os.close(claims_out)
        payloads = []
        for pid, results_out in children:
            with os.fdopen(results_out, "rb") as pipe:
                payload = pipe.read()
            if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 and payload:
                payloads.append(payload)
    for payload in payloads:
        done |= pickle.loads(payload)  # our own children's pickles
    return [done[k] if k in done else work[k]() for k in range(len(work))]


def _write_beats(out: Path, raw_rr_ms: ArrayLike, analysis: RecordingAnalysis) -> None:
    """The ``--beats`` CSV: every raw interval, its label and its corrected value."""
    import csv

    from heartsease.signal.beat_table import BEAT_COLUMNS, beat_table

    table = beat_table(raw_rr_ms, analysis.gaps, analysis.correction)
    try:
        with out.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(BEAT_COLUMNS)
            writer.writerows((f"{t:.3f}", repr(rr), label,
                              "" if fixed is None else f"{fixed:.3f}", parts, int(gap))
                             for t, rr, label, fixed, parts, gap in table.rows())
    except OSError as exc:
        raise RefusalError(f"Cannot write {escape(str(out))}: {exc.strerror}") from None


def _number(r: dict[str, object], key: str, digits: int = 1) -> str:
    value = r.get(key)
    return "-" if not isinstance(value, int | float) else f"{value:,.{digits}f}"


def _pair(r: dict[str, object], a: str, b: str, digits: int = 1) -> str:
    return f"{_number(r, a, digits)} / {_number(r, b, digits)}"


def _analysis_rows(r: dict[str, object]) -> list[tuple[str, str, str]]:
    """The table's rows in the order of a Kubios report: time, geometric, frequency (FFT and
    AR), nonlinear, the autonomic indexes, then the long-term measures and heartsease's own."""
    # Words where no rate is told: "cannot be told from the heartbeat breaths/min" read oddly.
    breathing = ((_number(r, "breathing_rate_bpm"), "breaths/min")
                 if r["breathing_rate_bpm"] is not None
                 else ("cannot be told from the heartbeat", ""))
    rows = [
        ("Mean RR", _number(r, "mean_rr_ms"), "ms"),
        ("Mean / SD heart rate", _pair(r, "mean_hr_bpm", "std_hr_bpm"), "bpm"),
        ("Min / max heart rate", _pair(r, "min_hr_bpm", "max_hr_bpm"), "bpm"),
        ("SDNN", _number(r, "sdnn_ms", 2), "ms"), ("RMSSD", _number(r, "rmssd_ms", 2), "ms"),
        ("pNN50", _number(r, "pnn50_pct"), "%"),
        ("RR triangular index / TINN", f"{_number(r, 'rr_tri_index', 2)} / "
         f"{_number(r, 'tinn_ms')}", "/ ms"),
        ("VLF power (FFT / AR)", _pair(r, "vlf_ms2", "ar_vlf_ms2"), "ms²"),
        ("LF power (FFT / AR)", _pair(r, "lf_ms2", "ar_lf_ms2"), "ms²"),
        ("HF power (FFT / AR)", _pair(r, "hf_ms2", "ar_hf_ms2"), "ms²"),
        ("LF / HF (n.u., FFT)", _pair(r, "lf_nu", "hf_nu"), "n.u."),
        ("LF/HF (FFT / AR)", _pair(r, "lf_hf", "ar_lf_hf", 2), ""),
        ("SD1 / SD2", _pair(r, "sd1_ms", "sd2_ms"), "ms"),
        ("ApEn / SampEn", _pair(r, "apen", "sampen", 3), ""),
        ("DFA alpha 1 / 2", _pair(r, "dfa_alpha1", "dfa_alpha2", 3), ""),
        ("Stress index", _number(r, "stress_index", 2), ""),
        ("PNS / SNS index", _pair(r, "pns_index", "sns_index", 2), ""),
    ]
    if r.get("sdann_ms") is not None:
        rows += [("SDANN / SDNN index", _pair(r, "sdann_ms", "sdnn_index_ms"), "ms"),
                 ("ULF power", _number(r, "ulf_ms2"), "ms²")]
    rows += [
        ("Dominant slow rhythm", _number(r, "peak_hz", 3), "Hz"),
        ("Coherence ratio (mean)", _number(r, "coherence_ratio", 2), ""),
        ("Breathing rate", *breathing),
        ("Artifacts corrected", f"{r['artifacts_corrected']} ({_number(r, 'artifact_pct')} %)",
         ""),
        ("HRV can be read", "yes" if r["hrv_interpretable"] else "no", ""),
    ]
    return rows


def _print_analysis(path: Path, fmt: str, notes: list[str], r: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{path.name}  ({fmt}, {r['n_beats']} beats, "
                        f"{float(r['duration_s']) / 60:.1f} min)", show_header=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for row in _analysis_rows(r):
        table.add_row(*row)
    console.print(table)
    for note in [*notes, *r["quality_notes"]]:
        console.print(f"note: {escape(note)}")
