"""The ``heartsease`` command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from heartsease.coaching.loop import CoachingLoop, Source, replay_session
from heartsease.coaching.profile import (
    ClientProfile,
    load_profile,
    remember_session,
    save_profile,
)
from heartsease.coaching.protocols import (
    BUILT_IN,
    DEFAULT_PACE_BPM,
    Protocol,
    ProtocolError,
    load_protocol,
)
from heartsease.coaching.session import CoachingSession
from heartsease.coaching.summary import session_record
from heartsease.remote import (
    ServerError,
    StreamStats,
    sign_in,
    start_remote_session,
    stream_to_server,
)
from heartsease.sensors.ble import StrapNotFoundError, StrapReader, scan
from heartsease.sensors.files import RecordingError, read_rr_file, record_text
from heartsease.sensors.replay import replay
from heartsease.sensors.source import Clock, Measurement
from heartsease.signal.recording import analyze_recording
from heartsease.simulator.scenarios import (
    SCENARIOS,
    beats_as_source,
    simulate,
    write_csv,
)
from heartsease.simulator.virtual_strap import (
    SimulatedClock,
    VirtualRadio,
    VirtualStrap,
    simulated_session_strap,
)
from heartsease.store.db import data_dir
from heartsease.terminal import EventLog, print_summary, run_breathing_session

app = typer.Typer(
    help="heartsease: HRV biofeedback for compassion-focused therapy.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def main() -> None:
    """heartsease: HRV biofeedback for compassion-focused therapy."""


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


@app.command()
def analyze(
    path: Annotated[Path, typer.Argument(help="RR recording: text, CSV with rr_ms, or export")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    no_correction: Annotated[
        bool, typer.Option("--no-correction", help="Analyse the raw series, as recorded")
    ] = False,
) -> None:
    """Analyse an RR recording: HRV, coherence and breathing rate, artifacts corrected."""
    try:
        recording = read_rr_file(path)
        analysis = analyze_recording(recording.rr_ms, correct=not no_correction)
    except RecordingError as exc:
        err_console.print(f"[bold]Cannot analyse this recording.[/bold] {escape(str(exc))}",
                          soft_wrap=True)
        raise typer.Exit(code=2) from None
    result = analysis.as_dict()
    if as_json:
        result = {"file": str(path), "format": recording.format, **result,
                  "notes": recording.notes}
        typer.echo(json.dumps(_json_safe(result), indent=2))
        return
    _print_table(path, recording.format, recording.notes, result)


@app.command(name="simulate")
def simulate_command(
    scenario: Annotated[str, typer.Option(help=f"One of: {', '.join(SCENARIOS)}")] = "rest",
    seconds: Annotated[float, typer.Option(min=10, help="Length of the recording")] = 300.0,
    seed: Annotated[int, typer.Option(help="Same seed, same beats")] = 0,
    out: Annotated[Path, typer.Option(help="CSV to write")] = Path("simulated.csv"),
    resonance: Annotated[
        float | None, typer.Option(help="The person's resonance rate, breaths/min")
    ] = None,
) -> None:
    """Write a simulated recording with ground truth (state, breathing, artifacts) as CSV."""
    if scenario not in SCENARIOS:
        err_console.print(f"Unknown scenario {escape(repr(scenario))}. "
                          f"Choose one of: {', '.join(SCENARIOS)}.", soft_wrap=True)
        raise typer.Exit(code=2)
    beats = simulate(scenario, seconds, seed, resonance)
    try:
        write_csv(beats, out)
    except OSError as exc:
        err_console.print(f"Cannot write {escape(str(out))}: {exc.strerror}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    console.print(f"Wrote {beats.rr_ms.size} beats ({beats.t_s[-1] / 60:.1f} min, "
                  f"scenario {scenario}, seed {seed}) to {escape(str(out))}")


NO_ADAPTER_HELP = (
    "Is Bluetooth on, and is there an adapter? On Linux BlueZ must be running; on macOS "
    "the terminal needs Bluetooth permission. To try heartsease without a strap, add "
    "--simulate."
)


@app.command(name="scan")
def scan_command(
    seconds: Annotated[float, typer.Option(help="How long to listen")] = 5.0,
    simulated: Annotated[
        bool, typer.Option("--simulate", help="Scan a virtual strap instead of the radio")
    ] = False,
) -> None:
    """List nearby chest straps (devices advertising the Heart Rate Service)."""

    async def run() -> list:
        if not simulated:
            return await scan(seconds)
        radio = VirtualRadio(SimulatedClock())
        radio.add(VirtualStrap(simulate("rest", 60, 0), radio.clock))
        return await scan(seconds, scanner_backend=radio.scanner_backend)

    try:
        found = asyncio.run(run())
    except StrapNotFoundError as exc:
        err_console.print(f"No Bluetooth scan was possible: {escape(str(exc))}. "
                          f"{NO_ADAPTER_HELP}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    if not found:
        console.print("No chest strap found. Is it on, moistened and worn? Straps only "
                      "advertise while they feel a heartbeat.")
        return
    table = Table("name", "address", "signal (dBm)")
    for strap in found:
        table.add_row(escape(strap.name or "(no name)"), strap.address, str(strap.rssi))
    console.print(table)


@app.command(name="record")
def record_command(
    device: Annotated[str, typer.Option(help="Strap address or advertised name")],
    out: Annotated[Path, typer.Option(help="File to write (arrival_s, rr_ms, beat_time_s)")],
    seconds: Annotated[float | None, typer.Option(help="Stop after this long")] = None,
    simulated: Annotated[
        str | None, typer.Option("--simulate", help="Record a virtual strap: scenario name")
    ] = None,
) -> None:
    """Record raw RR intervals from a strap; every beat is on disk as soon as it arrives."""
    if simulated is not None and simulated not in SCENARIOS:
        err_console.print(f"Unknown scenario {escape(repr(simulated))}. "
                          f"Choose one of: {', '.join(SCENARIOS)}.", soft_wrap=True)
        raise typer.Exit(code=2)
    try:
        beats = asyncio.run(_record(device, out, seconds, simulated))
    except StrapNotFoundError as exc:
        err_console.print(f"Cannot record: {escape(str(exc))}. {NO_ADAPTER_HELP}",
                          soft_wrap=True)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        beats = None
    console.print(f"Recorded {'' if beats is None else beats} beats to {escape(str(out))}.")


async def _record(device: str, out: Path, seconds: float | None, scenario: str | None) -> int:
    kwargs = {}
    if scenario is not None:
        radio = VirtualRadio(SimulatedClock())
        strap = radio.add(VirtualStrap(simulate(scenario, (seconds or 300) + 5, 0),
                                       radio.clock, name=device))
        asyncio.get_running_loop().create_task(strap.run())
        kwargs = {"client_backend": radio.client_backend,
                  "scanner_backend": radio.scanner_backend, "clock": radio.clock}
    reader = StrapReader(device, **kwargs)
    written = 0
    with out.open("a", buffering=1) as f:
        f.write(f"# heartsease record: {device}; arrival_s, rr_ms, beat_time_s\n")

        async def stream() -> None:
            nonlocal written
            async for item in reader.stream():
                f.write(record_text(item))
                written += len(item.rr_ms) if isinstance(item, Measurement) else 0
                f.flush()
                os.fsync(f.fileno())  # durable before the next notification

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stream(), timeout=seconds)
    return written


def _protocol(name: str, stages: list[str], practice_minutes: float | None) -> Protocol:
    try:
        protocol = load_protocol(name).with_stages(stages)
        if practice_minutes is not None:
            protocol = protocol.with_practice_minutes(practice_minutes)
    except ProtocolError as exc:
        err_console.print(f"Cannot use this protocol: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    return protocol


ProtocolOption = Annotated[str, typer.Option(
    "--protocol", help=f"{' or '.join(BUILT_IN)}, or a protocol .toml file")]
StageOption = Annotated[list[str], typer.Option(
    "--stage", help="Add an optional practice stage, e.g. compassionate-imagery")]
RateOption = Annotated[float | None, typer.Option(
    "--rate", min=3.0, max=10.0, help="Breathing pace (breaths/min); default: your resonance "
    "rate if known, else 6")]
PracticeOption = Annotated[float | None, typer.Option(
    "--practice-minutes", min=1.0, help="Length of the practice step")]


@app.command()
def breathe(
    simulated: Annotated[str | None, typer.Option(
        "--simulate", help=f"A simulated strap: {', '.join(SCENARIOS)}")] = None,
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
) -> None:
    """A guided breathing session with a live breathing bar, heart rhythm and cues."""
    chosen = [x for x in (simulated, device, file) if x is not None]
    if len(chosen) != 1:
        err_console.print("Choose one heart source: --simulate SCENARIO (no strap needed), "
                          "--device NAME_OR_ADDRESS or --file RECORDING.", soft_wrap=True)
        raise typer.Exit(code=2)
    if simulated is not None and simulated not in SCENARIOS:
        err_console.print(f"Unknown scenario {escape(repr(simulated))}. "
                          f"Choose one of: {', '.join(SCENARIOS)}.", soft_wrap=True)
        raise typer.Exit(code=2)
    protocol = _protocol(protocol_name, stages, practice_minutes)
    if server is not None:
        _stream_to_clinic(server.rstrip("/"), email, protocol, rate, stages, practice_minutes,
                          simulated, device, file, speed, (seed, resonance))
        return
    if simulated is not None:
        # A simulated person has a history of their own, kept apart from the real profile.
        profile_path = data_dir() / "simulated" / f"person-{seed}.json"
        profile = _simulated_profile(profile_path, seed)
    else:
        profile_path = data_dir() / "profile.json"
        profile = load_profile(profile_path)
    pace = rate if rate is not None else profile.pace_bpm
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_path = out or data_dir() / "sessions" / f"{stamp}-{protocol.name}.jsonl"
    log = EventLog(log_path)
    try:
        session = CoachingSession(protocol, pace_bpm=pace, baseline=profile.resting_baseline())
        events = asyncio.run(_breathe(session, simulated, device, file, speed,
                                      (seed, resonance), log))
    except StrapNotFoundError as exc:
        err_console.print(f"Cannot start: {escape(str(exc))}. {NO_ADAPTER_HELP}",
                          soft_wrap=True)
        raise typer.Exit(code=2) from None
    except RecordingError as exc:
        err_console.print(f"Cannot replay this recording. {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    finally:
        log.close()
    record = print_summary(console, events)
    remember_session(profile, session.learned_baseline, record.resonance)
    save_profile(profile, profile_path)
    console.print(f"The session's events and every heartbeat are saved in "
                  f"{escape(str(log_path))}.", style="grey58")


def _simulated_profile(path: Path, seed: int) -> ClientProfile:
    """The simulated person's profile; on first use, their resting baseline is measured
    from a quiet 5-minute rest on another (simulated) day, as a real client's would be."""
    profile = load_profile(path)
    if not profile.baselines:
        session = CoachingSession(load_protocol("srb"))
        rest = simulate("rest", 300, seed)
        asyncio.run(replay_session(beats_as_source(rest), session))
        if session.learned_baseline is not None:
            profile.add_baseline(session.learned_baseline)
            save_profile(profile, path)
    return profile


async def _open_source(
    protocol: Protocol, pace_bpm: float, simulated: str | None, device: str | None,
    file: Path | None, speed: float, person: tuple[int, float | None],
) -> tuple[Source, Clock, list[asyncio.Task[None]]]:
    """The heart source on its clock (and the tasks that feed it, to cancel at the end)."""
    if simulated is not None:
        clock = SimulatedClock(speed)
        source, task = simulated_session_strap(simulated, protocol.schedule(pace_bpm), clock,
                                               *person)
        return source, clock, [task]
    if file is not None:
        read_rr_file(file)  # a clear error now rather than mid-session
        clock = SimulatedClock(speed)
        return replay(file, speed=1.0, clock=clock), clock, []
    assert device is not None
    clock = SimulatedClock(1.0)
    return StrapReader(device, clock=clock).stream(), clock, []


async def _breathe(
    session: CoachingSession, simulated: str | None, device: str | None, file: Path | None,
    speed: float, person: tuple[int, float | None], log: EventLog,
) -> list:
    source, clock, tasks = await _open_source(session.protocol, session.pace_bpm, simulated,
                                              device, file, speed, person)
    loop = CoachingLoop(source, session, clock)
    try:
        return await run_breathing_session(loop, log, console, session.protocol.title)
    finally:
        for task in tasks:
            task.cancel()


async def _breathe_with_server(
    server: str, token: str, protocol: Protocol, pace: float | None, simulated: str | None,
    device: str | None, file: Path | None, speed: float, person: tuple[int, float | None],
    options: dict,
) -> tuple[str, StreamStats]:
    session_id = start_remote_session(server, token, **options)
    source, _, tasks = await _open_source(protocol, pace or DEFAULT_PACE_BPM, simulated,
                                          device, file, speed, person)
    status_line = console.status("Connecting to the clinic…")
    status_line.start()

    def progress(stats: StreamStats) -> None:
        status_line.update(f"Streaming to the clinic: {stats.sent} heartbeats sent, "
                           f"{stats.acknowledged} safely stored"
                           + (f" ({stats.reconnects} reconnections)" if stats.reconnects
                              else ""))

    ended = asyncio.Event()
    watcher = asyncio.create_task(_watch_session(server, token, session_id, ended))
    try:
        return session_id, await stream_to_server(source, server, token, session_id, progress,
                                                  stop=ended)
    finally:
        status_line.stop()
        for task in (*tasks, watcher):
            task.cancel()


async def _watch_session(server: str, token: str, session_id: str,
                         ended: asyncio.Event) -> None:
    """The session as the server coaches it: cues and states as they come; sets ``ended``
    when it is over."""
    import websockets

    url = (server.replace("http://", "ws://").replace("https://", "wss://")
           + f"/api/sessions/{session_id}/live?token={token}")
    words = {"threat": "on alert", "neutral": "steady", "soothing": "soothed"}
    while not ended.is_set():
        try:
            async with websockets.connect(url) as ws:
                async for raw in ws:
                    event = json.loads(raw)
                    if event["kind"] == "cue":
                        console.print(escape(event["text"]), style="italic")
                    elif event["kind"] == "state" and event["state"] in words:
                        console.print(f"your body seems {words[event['state']]}",
                                      style="grey58")
                    elif event["kind"] in ("session-ended", "closed"):
                        ended.set()
                        return
        except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake):
            await asyncio.sleep(1.0)


def _stream_to_clinic(
    server: str, email: str | None, protocol: Protocol, rate: float | None, stages: list[str],
    practice_minutes: float | None, simulated: str | None, device: str | None,
    file: Path | None, speed: float, person: tuple[int, float | None],
) -> None:
    if email is None:
        err_console.print("With --server, give --email to sign in.")
        raise typer.Exit(code=2)
    password = os.environ.get("HEARTSEASE_PASSWORD") or typer.prompt("Password",
                                                                     hide_input=True)
    options = {"protocol": protocol.name, "stages": stages,
               "practice_minutes": practice_minutes, "pace_bpm": rate}
    try:
        token = sign_in(server, email, password)
        session_id, stats = asyncio.run(_breathe_with_server(
            server, token, protocol, rate, simulated, device, file, speed, person, options))
    except ServerError as exc:
        err_console.print(f"The clinic's server said: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    except StrapNotFoundError as exc:
        err_console.print(f"Cannot start: {escape(str(exc))}. {NO_ADAPTER_HELP}",
                          soft_wrap=True)
        raise typer.Exit(code=2) from None
    console.print(f"Done: {stats.acknowledged} heartbeats are stored on the clinic's server "
                  f"(session {session_id}).")


@app.command(name="replay")
def replay_command(
    path: Annotated[Path, typer.Argument(help="RR recording (any format analyze reads)")],
    protocol_name: ProtocolOption = "srb",
    rate: RateOption = None,
    stages: StageOption = [],  # noqa: B006 (typer reads the default, never mutates it)
    practice_minutes: PracticeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the session as JSON")] = False,
) -> None:
    """Run the coaching loop over a recording as fast as possible and print the session."""
    protocol = _protocol(protocol_name, stages, practice_minutes)
    try:
        read_rr_file(path)
        events = asyncio.run(replay_session(replay(path, speed=None),
                                            CoachingSession(protocol, pace_bpm=rate)))
    except RecordingError as exc:
        err_console.print(f"[bold]Cannot replay this recording.[/bold] {escape(str(exc))}",
                          soft_wrap=True)
        raise typer.Exit(code=2) from None
    record = session_record(events)
    if as_json:
        typer.echo(json.dumps(_json_safe(record.as_dict()), indent=2))
        return
    print_summary(console, events)
    table = Table("onset", "shift", "after", "HR change", "ln RMSSD change", title="Shift log")
    for shift in record.shifts:
        before = shift.preceded_by
        table.add_row(f"{shift.onset_s / 60:.1f} min", shift.direction,
                      "-" if before is None else f"{before.kind} ({shift.latency_s:.0f} s)",
                      _signed(shift.delta_hr_bpm, " bpm"), _signed(shift.delta_ln_rmssd))
    console.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(
        min=1, help="Worker processes (more than one needs HEARTSEASE_REDIS_URL)")] = 1,
) -> None:
    """Run the heartsease service (API and live WebSockets) on the embedded SQLite store,
    or on HEARTSEASE_DATABASE_URL; several workers share live views through Redis."""
    import uvicorn
    from pydantic import ValidationError

    from heartsease.api.app import create_app, prepare_store
    from heartsease.api.demo import DEMO_PASSWORD, DEMO_PEOPLE
    from heartsease.api.settings import Settings
    from heartsease.store.db import make_engine

    try:
        settings = Settings()
    except ValidationError as exc:
        err_console.print(f"Cannot start: {escape(exc.errors()[0]['msg'])}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    if settings.demo_data:
        console.print("Development mode. Demo sign-ins (password "
                      f"[bold]{DEMO_PASSWORD}[/bold]): "
                      + ", ".join(f"{email} ({role.value})" for email, _, role in DEMO_PEOPLE))
        console.print(f"On a first start the demo client's {settings.demo_history_days} days "
                      "of practice are prepared behind the running service, about half a "
                      "minute on a small machine: the trends page says so meanwhile.")
    console.print(f"heartsease is at http://{host}:{port}/ (API documentation at /docs)")
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, **UVICORN_OPTIONS)
        return
    if not settings.redis_url:
        err_console.print("Cannot start: several workers share live sessions through Redis; "
                          "set HEARTSEASE_REDIS_URL (for example redis://127.0.0.1:6379/0).")
        raise typer.Exit(code=2)
    engine = make_engine(settings.database_url)
    asyncio.run(prepare_store(engine, settings))  # once, not in every worker at once
    engine.dispose()
    os.environ["HEARTSEASE_PREPARE_STORE"] = "false"
    uvicorn.run("heartsease.api.app:create_app", factory=True, workers=workers, host=host,
                port=port, **UVICORN_OPTIONS)


# On stop, viewers' connections get this long to close before the running sessions are
# ended and stored; a connection that never closes must not keep the service up.
GRACEFUL_S = 5
# The largest WebSocket message taken (a strap notification is under 300 bytes; a client's
# note 500 characters): anything bigger closes the connection with 1009, message too big.
WS_MAX_BYTES = 64 * 1024
# Live messages are a few hundred bytes each: compressing them would cost the server more CPU
# per viewer than the bytes it saves.
UVICORN_OPTIONS: dict[str, Any] = {"log_level": "warning",
                                   "timeout_graceful_shutdown": GRACEFUL_S,
                                   "ws_max_size": WS_MAX_BYTES, "ws_per_message_deflate": False}


def _signed(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:+.2f}{unit}"


def _print_table(path: Path, fmt: str, notes: list[str], r: dict[str, object]) -> None:
    def num(key: str, digits: int = 1) -> str:
        value = r[key]
        return "-" if value is None else f"{value:,.{digits}f}"

    table = Table(title=f"{path.name}  ({fmt}, {r['n_beats']} beats, "
                        f"{float(r['duration_s']) / 60:.1f} min)", show_header=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    rows = [
        ("Mean RR", num("mean_rr_ms"), "ms"), ("Mean heart rate", num("mean_hr_bpm"), "bpm"),
        ("SDNN", num("sdnn_ms", 2), "ms"), ("RMSSD", num("rmssd_ms", 2), "ms"),
        ("pNN50", num("pnn50_pct"), "%"), ("SD1 / SD2", f"{num('sd1_ms')} / {num('sd2_ms')}",
                                            "ms"),
        ("VLF power", num("vlf_ms2"), "ms²"), ("LF power", num("lf_ms2"), "ms²"),
        ("HF power", num("hf_ms2"), "ms²"), ("LF/HF", num("lf_hf", 2), ""),
        ("Dominant slow rhythm", num("peak_hz", 3), "Hz"),
        ("Coherence ratio (mean)", num("coherence_ratio", 2), ""),
        ("Breathing rate", num("breathing_rate_bpm") if r["breathing_rate_bpm"] is not None
         else "cannot be told from the heartbeat", "breaths/min"),
        ("Artifacts corrected", f"{r['artifacts_corrected']} ({num('artifact_pct')} %)", ""),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for note in notes:
        console.print(f"note: {note}")
    if float(r["duration_s"]) < 120:
        console.print("note: under 2 minutes; LF power needs at least 2 minutes to be reliable")


if __name__ == "__main__":
    app()
