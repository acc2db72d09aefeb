"""Where a description of a heart source becomes a running source.

A description says which heart to listen to: :class:`SimulatedHeart` (the simulator's person
on a virtual strap), :class:`Strap` (a chest strap by name or address), :class:`Recording`
(a file played as if it were a strap) or :class:`RemoteStream` (beats a client streams in).
:func:`open_source` turns one into an :class:`OpenedSource`: the source, the clock it runs
on, and the tasks that feed it. The command line and the service both start their sessions
here, and this is the one module outside the simulator that imports it.

The simulator, bleak and numpy are loaded only when a description needs them: a command's
help lists the scenarios (:data:`SCENARIO_NAMES`) without loading the heart model. The
simulator's model and scenarios that the demo history and ``heartsease simulate`` use
(``Physiology``, ``simulate``, ``simulate_following``, ``beats_as_source``, ``write_csv``)
are reached through this module, loaded on first use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from heartsease.simulator import SCENARIO_NAMES

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Sequence
    from pathlib import Path

    from heartsease.sensors.source import Clock, PullSource, PushSource, Source
    from heartsease.simulator.heart import Physiology
    from heartsease.simulator.scenarios import (
        beats_as_source,
        simulate,
        simulate_following,
        write_csv,
    )
    from heartsease.simulator.virtual_strap import LinkDrop

__all__ = [
    "SCENARIO_NAMES",
    "OpenedSource",
    "Physiology",
    "Recording",
    "RemoteStream",
    "SimulatedHeart",
    "SourceDescription",
    "Strap",
    "beats_as_source",
    "open_source",
    "simulate",
    "simulate_following",
    "simulated_recording",
    "simulated_scanner",
    "write_csv",
]

# Two spare minutes of heartbeat after the protocol: a session that slows down for a
# backdraft can still run to its end.
SPARE_S = 120.0
# The name the simulated person's virtual strap advertises.
SIMULATED_STRAP_NAME = "heartsease simulated strap"


@dataclass(frozen=True, slots=True)
class SimulatedHeart:
    """The simulator's person, on a virtual strap read through the bleak reader.

    With a session's pacer schedule the person breathes with the pacer for as long as it
    leads (and :data:`SPARE_S` after); without one, they breathe on their own for
    ``seconds``. The strap advertises ``strap_name``, its link goes down at ``drops``, and
    the whole runs ``speed`` times faster than real time.
    """

    scenario: str
    seed: int = 0
    speed: float = 1.0
    resonance_bpm: float | None = None
    strap_name: str = SIMULATED_STRAP_NAME
    seconds: float = 300.0
    drops: tuple[LinkDrop, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.scenario} (seed {self.seed})"


@dataclass(frozen=True, slots=True)
class Strap:
    """A chest strap by address or advertised name.

    Arrivals are stamped on a live clock from zero, or with ``host_clock`` on the host's
    monotonic clock (a recording appended to over several runs keeps its times rising).
    """

    device: str
    host_clock: bool = False

    @property
    def label(self) -> str:
        return self.device


@dataclass(frozen=True, slots=True)
class Recording:
    """An RR recording played as if it were a strap, ``speed`` times faster."""

    path: Path
    speed: float = 1.0

    @property
    def label(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class RemoteStream:
    """Beats a client streams in, handed over by the connection that receives them."""

    pushed: PushSource
    label: ClassVar[str] = "streamed by the client"


SourceDescription = SimulatedHeart | Strap | Recording | RemoteStream


@dataclass(slots=True)
class OpenedSource:
    """A running source, the clock it runs on, and the tasks that feed it."""

    source: Source
    clock: Clock
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def close(self) -> None:
        """Stop the tasks that feed the source (a virtual strap's)."""
        for task in self.tasks:
            task.cancel()


def open_source(
    description: SourceDescription,
    pacer_schedule: Sequence[tuple[float, float | None]] | None = None,
) -> OpenedSource:
    """The source ``description`` names, running in the current event loop.

    ``pacer_schedule`` is the session's (seconds, breaths/min) steps, which a simulated
    person follows. A recording is read at once, so that a bad file is refused before the
    session starts.

    Raises
    ------
    heartsease.sensors.files.RecordingError
        The recording cannot be read.
    """
    from heartsease.sensors.source import LiveClock, MonotonicClock

    if isinstance(description, SimulatedHeart):
        return _open_simulated(description, pacer_schedule)
    if isinstance(description, Recording):
        from heartsease.sensors.files import read_rr_file
        from heartsease.sensors.replay import replay

        read_rr_file(description.path)
        clock = LiveClock(description.speed)
        return OpenedSource(replay(description.path, speed=1.0, clock=clock), clock)
    if isinstance(description, Strap):
        from heartsease.sensors.ble import StrapReader

        strap_clock: Clock = MonotonicClock() if description.host_clock else LiveClock(1.0)
        return OpenedSource(StrapReader(description.device, clock=strap_clock).stream(),
                            strap_clock)
    return OpenedSource(description.pushed, LiveClock(1.0))


def _open_simulated(heart: SimulatedHeart,
                    pacer_schedule: Sequence[tuple[float, float | None]] | None
                    ) -> OpenedSource:
    import asyncio

    from heartsease.sensors.ble import StrapReader
    from heartsease.sensors.source import LiveClock
    from heartsease.simulator.radio import VirtualRadio
    from heartsease.simulator.scenarios import simulate, simulate_following
    from heartsease.simulator.virtual_strap import VirtualStrap

    clock = LiveClock(heart.speed)
    radio = VirtualRadio(clock)
    if pacer_schedule is None:
        beats = simulate(heart.scenario, heart.seconds, heart.seed, heart.resonance_bpm)
    else:
        beats = simulate_following(heart.scenario, [*pacer_schedule, (SPARE_S, None)],
                                   heart.seed, heart.resonance_bpm)
    strap = radio.add(VirtualStrap(beats, clock, name=heart.strap_name,
                                   drops=list(heart.drops)))
    task = asyncio.get_running_loop().create_task(strap.run())
    reader = StrapReader(strap.name, client_backend=radio.client_backend,
                         scanner_backend=radio.scanner_backend, clock=clock)
    return OpenedSource(reader.stream(), clock, [task])


def simulated_recording(scenario: str, seconds: float, seed: int) -> PullSource:
    """A scenario's beats as a source that delivers as fast as it is read, one beat per
    notification (a simulated person's earlier day, replayed)."""
    from heartsease.simulator.scenarios import beats_as_source, simulate

    return beats_as_source(simulate(scenario, seconds, seed))


def simulated_scanner() -> type[Any]:
    """A bleak scanner backend on whose air one simulated strap advertises (``heartsease
    scan --simulate``); made inside a running event loop."""
    from heartsease.sensors.source import LiveClock
    from heartsease.simulator.radio import VirtualRadio
    from heartsease.simulator.scenarios import simulate
    from heartsease.simulator.virtual_strap import VirtualStrap

    radio = VirtualRadio(LiveClock())
    radio.add(VirtualStrap(simulate("rest", 60, 0), radio.clock))
    return radio.scanner_backend


# The simulator's names reached through this module, and where each is defined.
_FROM_THE_SIMULATOR = {
    "Physiology": "heartsease.simulator.heart",
    "beats_as_source": "heartsease.simulator.scenarios",
    "simulate": "heartsease.simulator.scenarios",
    "simulate_following": "heartsease.simulator.scenarios",
    "write_csv": "heartsease.simulator.scenarios",
}


def __getattr__(name: str) -> Any:
    """The simulator's model and scenarios, loaded on first use (PEP 562)."""
    if name in _FROM_THE_SIMULATOR:
        return getattr(importlib.import_module(_FROM_THE_SIMULATOR[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
