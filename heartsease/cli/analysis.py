"""``heartsease analyze``, ``simulate`` and ``replay``: recordings in, figures out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from heartsease.cli.analyze_core import CORRECTIONS
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
    from heartsease.cli.analyze_core import RefusalError, run_analyze

    try:
        run_analyze(path, as_json=as_json, no_correction=no_correction, correction=correction,
                    detrend=detrend, lambda_=lambda_, window_s=window_s, overlap=overlap,
                    ar_order=ar_order, beats=beats)
    except RefusalError as refusal:
        refuse(str(refusal))


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
