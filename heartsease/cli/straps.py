"""``heartsease scan`` and ``record``: chest straps nearby, and their raw beats on disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from heartsease.cli.common import NO_ADAPTER_HELP, check_scenario, console, refuse

if TYPE_CHECKING:
    from heartsease.sensors.ble import FoundStrap


def scan_command(
    seconds: Annotated[float, typer.Option(help="How long to listen")] = 5.0,
    simulated: Annotated[
        bool, typer.Option("--simulate", help="Scan a virtual strap instead of the radio")
    ] = False,
) -> None:
    """List nearby chest straps (devices advertising the Heart Rate Service)."""
    import asyncio

    from heartsease.sensors.ble import StrapNotFoundError, scan

    async def run() -> list[FoundStrap]:
        if not simulated:
            return await scan(seconds)
        from heartsease.sources import simulated_scanner

        return await scan(seconds, scanner_backend=simulated_scanner())

    try:
        found = asyncio.run(run())
    except StrapNotFoundError as exc:
        refuse(f"No Bluetooth scan was possible: {escape(str(exc))}. {NO_ADAPTER_HELP}")
    if not found:
        console.print("No chest strap found. Is it on, moistened and worn? Straps only "
                      "advertise while they feel a heartbeat.")
        return
    table = Table("name", "address", "signal (dBm)")
    for strap in found:
        table.add_row(escape(strap.name or "(no name)"), strap.address, str(strap.rssi))
    console.print(table)


def record_command(
    device: Annotated[str, typer.Option(help="Strap address or advertised name")],
    out: Annotated[Path, typer.Option(help="File to write (arrival_s, rr_ms, beat_time_s)")],
    seconds: Annotated[float | None, typer.Option(help="Stop after this long")] = None,
    simulated: Annotated[
        str | None, typer.Option("--simulate", help="Record a virtual strap: scenario name")
    ] = None,
) -> None:
    """Record raw RR intervals from a strap; every beat is on disk as soon as it arrives."""
    import asyncio

    from heartsease.sensors.ble import StrapNotFoundError

    check_scenario(simulated)
    try:
        beats = asyncio.run(_record(device, out, seconds, simulated))
    except StrapNotFoundError as exc:
        refuse(f"Cannot record: {escape(str(exc))}. {NO_ADAPTER_HELP}")
    except KeyboardInterrupt:
        beats = None
    console.print(f"Recorded {'' if beats is None else beats} beats to {escape(str(out))}.")


async def _record(device: str, out: Path, seconds: float | None, scenario: str | None) -> int:
    import asyncio
    import contextlib
    import os

    from heartsease.sensors.files import record_text
    from heartsease.sensors.source import Measurement
    from heartsease.sources import SimulatedHeart, Strap, open_source

    # A real strap's arrivals on the host's clock: a file recorded into again keeps rising.
    opened = open_source(Strap(device, host_clock=True) if scenario is None else
                         SimulatedHeart(scenario, strap_name=device,
                                        seconds=(seconds or 300) + 5))
    written = 0
    with out.open("a", buffering=1) as f, contextlib.closing(opened):
        f.write(f"# heartsease record: {device}; arrival_s, rr_ms, beat_time_s\n")

        async def stream() -> None:
            nonlocal written
            async for item in opened.source:
                f.write(record_text(item))
                written += len(item.rr_ms) if isinstance(item, Measurement) else 0
                f.flush()
                os.fsync(f.fileno())  # durable before the next notification

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stream(), timeout=seconds)
    return written
