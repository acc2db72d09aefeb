"""The ``heartsease`` command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from heartsease.sensors.ble import StrapNotFoundError, StrapReader, scan
from heartsease.sensors.files import RecordingError, read_rr_file
from heartsease.sensors.source import Gap
from heartsease.signal.recording import analyze_recording
from heartsease.simulator.scenarios import SCENARIOS, simulate, write_csv
from heartsease.simulator.virtual_strap import SimulatedClock, VirtualRadio, VirtualStrap

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
                if isinstance(item, Gap):
                    f.write(f"# gap {item.start_s:.3f}-{item.end_s:.3f} s: {item.reason}\n")
                    continue
                for rr, t in zip(item.rr_ms, item.beat_times_s, strict=True):
                    f.write(f"{item.arrival_s:.6f},{rr:.3f},{t:.6f}\n")
                    written += 1
                f.flush()
                os.fsync(f.fileno())  # durable before the next notification

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stream(), timeout=seconds)
    return written


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
