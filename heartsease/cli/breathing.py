"""``heartsease breathe``: a guided breathing session in the terminal, or streamed to a
clinic's server."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from heartsease.cli.common import (
    NO_ADAPTER_HELP,
    PracticeOption,
    ProtocolOption,
    RateOption,
    StageOption,
    check_scenario,
    console,
    protocol_or_exit,
    refuse,
)
from heartsease.sources import (
    SCENARIO_NAMES,
    Recording,
    SimulatedHeart,
    SourceDescription,
    Strap,
    open_source,
    simulated_recording,
)

if TYPE_CHECKING:
    from heartsease.coaching.events import Event
    from heartsease.coaching.profile import ClientProfile
    from heartsease.coaching.protocols import Protocol
    from heartsease.coaching.session import CoachingSession
    from heartsease.terminal import EventLog


def breathe(
    simulated: Annotated[str | None, typer.Option(
        "--simulate", help=f"A simulated strap: {', '.join(SCENARIO_NAMES)}")] = None,
    device: Annotated[str | None, typer.Option(
        "--device", help="A chest strap's address or advertised name")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="Replay an RR recording as if it were a strap")] = None,
    protocol_name: ProtocolOption = "srb",
    rate: RateOption = None,
    stages: StageOption = [],  # noqa: B006 (typer reads the default, never mutates it)
    practice_minutes: PracticeOption = None,
    speed: Annotated[float, typer.Option(
        min=0.1, max=100.0, help="With --simulate or --file: run this many times faster")] = 1.0,
    seed: Annotated[int, typer.Option(help="With --simulate: the simulated person")] = 0,
    resonance: Annotated[float | None, typer.Option(
        min=3.0, max=9.0, help="With --simulate: the simulated person's resonance rate")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Session log (JSON lines: every event and raw beat)")] = None,
    server: Annotated[str | None, typer.Option(
        help="Stream to a clinic's heartsease server (URL) instead of coaching here")] = None,
    email: Annotated[str | None, typer.Option(
        help="With --server: your sign-in (the password is asked, or HEARTSEASE_PASSWORD)")
    ] = None,
    code: Annotated[str | None, typer.Option(
        help="With --server: the one-time code your breathing page shows, instead of "
             "--email and a password")] = None,
    show_states: Annotated[bool, typer.Option(
        "--show-states", help="Show the heart's numbers and the state in words while "
        "practising, and the time estimated in each state at the end (a clinician's view; "
        "quiet by default)")] = False,
) -> None:
    """A guided breathing session with a live breathing bar, heart rhythm and cues."""
    heart = _heart(simulated, device, file, speed, seed, resonance)
    protocol = protocol_or_exit(protocol_name, stages, practice_minutes)
    if server is not None:
        from heartsease.cli.clinic import stream_to_clinic

        stream_to_clinic(server.rstrip("/"), email, protocol, rate, stages, practice_minutes,
                         heart, code)
        return
    _breathe_here(heart, protocol, rate, out, show_states)


def _heart(simulated: str | None, device: str | None, file: Path | None, speed: float,
           seed: int, resonance: float | None) -> SourceDescription:
    """The one heart source the options name, or a clear refusal."""
    if sum(x is not None for x in (simulated, device, file)) != 1:
        refuse("Choose one heart source: --simulate SCENARIO (no strap needed), "
               "--device NAME_OR_ADDRESS or --file RECORDING.")
    check_scenario(simulated)
    if simulated is not None:
        return SimulatedHeart(simulated, seed, speed, resonance)
    if file is not None:
        return Recording(file, speed)
    assert device is not None
    return Strap(device)


def _breathe_here(heart: SourceDescription, protocol: Protocol, rate: float | None,
                  out: Path | None, show_states: bool) -> None:
    """Coach the session in this terminal, log it, and keep what it taught the profile."""
    import asyncio
    import time

    from heartsease.coaching.profile import load_profile, remember_session, save_profile
    from heartsease.coaching.session import CoachingSession
    from heartsease.sensors.ble import StrapNotFoundError
    from heartsease.sensors.files import RecordingError
    from heartsease.store.db import data_dir
    from heartsease.terminal import EventLog, print_summary

    if isinstance(heart, SimulatedHeart):
        # A simulated person has a history of their own, kept apart from the real profile.
        profile_path = data_dir() / "simulated" / f"person-{heart.seed}.json"
        profile = _simulated_profile(profile_path, heart.seed)
    else:
        profile_path = data_dir() / "profile.json"
        profile = load_profile(profile_path)
    pace = rate if rate is not None else profile.pace_bpm
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_path = out or data_dir() / "sessions" / f"{stamp}-{protocol.name}.jsonl"
    log = EventLog(log_path)
    try:
        session = CoachingSession(protocol, pace_bpm=pace, baseline=profile.resting_baseline())
        events = asyncio.run(_breathe(session, heart, log, show_states))
    except StrapNotFoundError as exc:
        refuse(f"Cannot start: {escape(str(exc))}. {NO_ADAPTER_HELP}")
    except RecordingError as exc:
        refuse(f"Cannot replay this recording. {escape(str(exc))}")
    finally:
        log.close()
    record = print_summary(console, events, show_states)
    remember_session(profile, session.learned_baseline, record.resonance)
    save_profile(profile, profile_path)
    console.print(f"The session's events and every heartbeat are saved in "
                  f"{escape(str(log_path))}.", style="grey58")


def _simulated_profile(path: Path, seed: int) -> ClientProfile:
    """The simulated person's profile; on first use, their resting baseline is measured
    from a quiet 5-minute rest on another (simulated) day, as a real client's would be."""
    import asyncio

    from heartsease.coaching.loop import replay_session
    from heartsease.coaching.profile import load_profile, save_profile
    from heartsease.coaching.protocols import load_protocol
    from heartsease.coaching.session import CoachingSession

    profile = load_profile(path)
    if not profile.baselines:
        session = CoachingSession(load_protocol("srb"))
        asyncio.run(replay_session(simulated_recording("rest", 300, seed), session))
        if session.learned_baseline is not None:
            profile.add_baseline(session.learned_baseline)
            save_profile(profile, path)
    return profile


async def _breathe(session: CoachingSession, heart: SourceDescription,
                   log: EventLog, show_states: bool) -> list[Event]:
    from heartsease.coaching.loop import CoachingLoop
    from heartsease.terminal import run_breathing_session

    opened = open_source(heart, session.protocol.schedule(session.pace_bpm))
    loop = CoachingLoop(opened.source, session, opened.clock)
    try:
        return await run_breathing_session(loop, log, console, session.protocol.title,
                                           show_states)
    finally:
        opened.close()
