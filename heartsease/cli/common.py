"""What the commands share: the consoles, the way they refuse, and the protocol options.

Imported to print ``--help``: only typer, rich and light modules at the top.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from heartsease.cli.analyze_core import json_safe as json_safe  # shared by analyze and replay
from heartsease.coaching.protocols import BUILT_IN, Protocol, ProtocolError, load_protocol
from heartsease.sources import SCENARIO_NAMES

console = Console()
err_console = Console(stderr=True)

NO_ADAPTER_HELP = (
    "Is Bluetooth on, and is there an adapter? On Linux BlueZ must be running; on macOS "
    "the terminal needs Bluetooth permission. To try heartsease without a strap, add "
    "--simulate."
)

ProtocolOption = Annotated[str, typer.Option(
    "--protocol", help=f"{' or '.join(BUILT_IN)}, or a protocol .toml file")]
StageOption = Annotated[list[str], typer.Option(
    "--stage", help="Add an optional practice stage, e.g. compassionate-imagery")]
RateOption = Annotated[float | None, typer.Option(
    "--rate", min=3.0, max=10.0, help="Breathing pace (breaths/min); default: your resonance "
    "rate if known, else 6")]
PracticeOption = Annotated[float | None, typer.Option(
    "--practice-minutes", min=1.0, help="Length of the practice step")]


def refuse(message: str) -> NoReturn:
    """Say why on stderr, and exit with status 2 (no traceback)."""
    err_console.print(message, soft_wrap=True)
    raise typer.Exit(code=2)


def check_scenario(name: str | None) -> None:
    """Refuse a scenario the simulator does not have."""
    if name is not None and name not in SCENARIO_NAMES:
        refuse(f"Unknown scenario {escape(repr(name))}. "
               f"Choose one of: {', '.join(SCENARIO_NAMES)}.")


def protocol_or_exit(name: str, stages: list[str], practice_minutes: float | None) -> Protocol:
    """The protocol ``name`` with ``stages`` and the practice's length, or a clear refusal."""
    try:
        protocol = load_protocol(name).with_stages(stages)
        if practice_minutes is not None:
            protocol = protocol.with_practice_minutes(practice_minutes)
    except ProtocolError as exc:
        refuse(f"Cannot use this protocol: {escape(str(exc))}")
    return protocol
