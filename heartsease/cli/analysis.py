"""``heartsease analyze``, ``simulate`` and ``replay``: recordings in, figures out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.markup import escape
from rich.table import Table

from heartsease.cli.common import (
    PracticeOption,
    ProtocolOption,
    RateOption,
    StageOption,
    check_scenario,
    console,
    json_safe,
    protocol_or_exit,
    refuse,
)
from heartsease.sources import SCENARIO_NAMES

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from heartsease.signal.recording import RecordingAnalysis

CORRECTIONS = ("automatic", "none", "very-low", "low", "medium", "strong", "very-strong")
DETRENDING = ("none", "smoothness-priors")


def analyze(
    path: Annotated[Path, typer.Argument(help="RR recording: text, CSV with rr_ms, or export")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    no_correction: Annotated[
        bool, typer.Option("--no-correction", help="Analyse the raw series (--correction none)")
    ] = False,
    correction: Annotated[str, typer.Option(
        help=f"Artifact correction, as Kubios names it: {', '.join(CORRECTIONS)}")] = "automatic",
    detrend: Annotated[str, typer.Option(
        help="Detrending before analysis: none or smoothness-priors")] = "none",
    lambda_: Annotated[float, typer.Option(
        "--lambda", min=1.0, help="Smoothness-priors lambda (Kubios: 500 = 0.035 Hz)")] = 500.0,
    window_s: Annotated[float, typer.Option(
        "--window-s", min=10.0, help="Welch window width in s")] = 300.0,
    overlap: Annotated[float, typer.Option(
        min=0.0, max=95.0, help="Welch window overlap in %")] = 50.0,
    ar_order: Annotated[int, typer.Option(
        "--ar-order", min=1, max=64, help="AR model order")] = 16,
    beats: Annotated[Path | None, typer.Option(
        "--beats", help="Also write every raw interval with its label and corrected value "
        "to this CSV")] = None,
) -> None:
    """Analyse an RR recording: HRV, coherence and breathing rate, artifacts corrected."""
    from heartsease.sensors.files import RecordingError, read_rr_file
    from heartsease.signal.kubios_report import Detrending, KubiosOptions
    from heartsease.signal.recording import MIN_BEATS_FOR_SPECTRUM, analyze_recording
    from heartsease.signal.threshold_correction import CorrectionLevel

    if correction not in CORRECTIONS:
        refuse(f"Unknown --correction {escape(correction)}; one of {', '.join(CORRECTIONS)}")
    if detrend not in DETRENDING:
        refuse(f"Unknown --detrend {escape(detrend)}; one of {', '.join(DETRENDING)}")
    correct = not no_correction and correction != "none"
    level = None if correction in ("automatic", "none") else correction
    options = KubiosOptions(detrending=cast(Detrending, detrend), lambda_=lambda_,
                            window_s=window_s, overlap_pct=overlap, ar_order=ar_order)
    try:
        recording = read_rr_file(path)
        analysis = analyze_recording(recording.rr_ms, correct=correct, options=options,
                                     correction_level=cast(CorrectionLevel | None, level))
    except RecordingError as exc:
        refuse(f"[bold]Cannot analyse this recording.[/bold] {escape(str(exc))}")
    usable = analysis.correction.raw_rr_ms.size
    if usable < MIN_BEATS_FOR_SPECTRUM:
        # Fewer than the spectrum's spline needs: no figure of the contract but a few
        # time-domain ones, so one clear line rather than a table of dashes (issue 26).
        refuse(f"[bold]Cannot analyse this recording.[/bold] {escape(path.name)}: only "
               f"{usable} RR interval(s) outside gaps; at least {MIN_BEATS_FOR_SPECTRUM} "
               "are needed")
    if beats is not None:
        _write_beats(beats, recording.rr_ms, analysis)
    result = analysis.as_dict()
    if as_json:
        result = {"file": str(path), "format": recording.format, **result,
                  "notes": recording.notes}
        typer.echo(json.dumps(json_safe(result), indent=2))
        return
    _print_analysis(path, recording.format, recording.notes, result)


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
        refuse(f"Cannot write {escape(str(out))}: {exc.strerror}")


def simulate_command(
    scenario: Annotated[str, typer.Option(help=f"One of: {', '.join(SCENARIO_NAMES)}")] = "rest",
    seconds: Annotated[float, typer.Option(min=10, help="Length of the recording")] = 300.0,
    seed: Annotated[int, typer.Option(help="Same seed, same beats")] = 0,
    out: Annotated[Path, typer.Option(help="CSV to write")] = Path("simulated.csv"),
    resonance: Annotated[
        float | None, typer.Option(help="The person's resonance rate, breaths/min")
    ] = None,
) -> None:
    """Write a simulated recording with ground truth (state, breathing, artifacts) as CSV."""
    from heartsease.sources import simulate, write_csv

    check_scenario(scenario)
    beats = simulate(scenario, seconds, seed, resonance)
    try:
        write_csv(beats, out)
    except OSError as exc:
        refuse(f"Cannot write {escape(str(out))}: {exc.strerror}")
    console.print(f"Wrote {beats.rr_ms.size} beats ({beats.t_s[-1] / 60:.1f} min, "
                  f"scenario {scenario}, seed {seed}) to {escape(str(out))}")


def replay_command(
    path: Annotated[Path, typer.Argument(help="RR recording (any format analyze reads)")],
    protocol_name: ProtocolOption = "srb",
    rate: RateOption = None,
    stages: StageOption = [],  # noqa: B006 (typer reads the default, never mutates it)
    practice_minutes: PracticeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the session as JSON")] = False,
) -> None:
    """Run the coaching loop over a recording as fast as possible and print the session."""
    import asyncio

    from heartsease.coaching.loop import replay_session
    from heartsease.coaching.session import CoachingSession
    from heartsease.coaching.summary import session_record
    from heartsease.sensors.files import RecordingError, read_rr_file
    from heartsease.sensors.replay import replay
    from heartsease.terminal import print_summary

    protocol = protocol_or_exit(protocol_name, stages, practice_minutes)
    try:
        read_rr_file(path)
        events = asyncio.run(replay_session(replay(path, speed=None),
                                            CoachingSession(protocol, pace_bpm=rate)))
    except RecordingError as exc:
        refuse(f"[bold]Cannot replay this recording.[/bold] {escape(str(exc))}")
    record = session_record(events)
    if as_json:
        typer.echo(json.dumps(json_safe(record.as_dict()), indent=2))
        return
    print_summary(console, events, show_states=True)  # a replay is read as a clinician
    table = Table("onset", "shift", "after", "HR change", "ln RMSSD change", title="Shift log")
    for shift in record.shifts:
        before = shift.preceded_by
        table.add_row(f"{shift.onset_s / 60:.1f} min", shift.direction,
                      "-" if before is None else f"{before.kind} ({shift.latency_s:.0f} s)",
                      _signed(shift.delta_hr_bpm, " bpm"), _signed(shift.delta_ln_rmssd))
    console.print(table)


def _signed(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:+.2f}{unit}"


def _number(r: dict[str, object], key: str, digits: int = 1) -> str:
    value = r.get(key)
    return "-" if not isinstance(value, int | float) else f"{value:,.{digits}f}"


def _pair(r: dict[str, object], a: str, b: str, digits: int = 1) -> str:
    return f"{_number(r, a, digits)} / {_number(r, b, digits)}"


def _analysis_rows(r: dict[str, object]) -> list[tuple[str, str, str]]:
    """The table's rows in the order of a Kubios report: time, geometric, frequency (FFT and
    AR), nonlinear, the autonomic indexes, then the long-term measures and heartsease's own."""
    breathing = (_number(r, "breathing_rate_bpm") if r["breathing_rate_bpm"] is not None
                 else "cannot be told from the heartbeat")
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
        ("Breathing rate", breathing, "breaths/min"),
        ("Artifacts corrected", f"{r['artifacts_corrected']} ({_number(r, 'artifact_pct')} %)",
         ""),
        ("HRV can be read", "yes" if r["hrv_interpretable"] else "no", ""),
    ]
    return rows


def _print_analysis(path: Path, fmt: str, notes: list[str], r: dict[str, object]) -> None:
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
