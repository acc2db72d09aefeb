"""The live coaching loop: a virtual strap read by the bleak reader, on virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from heartsease.coaching.events import Event
from heartsease.coaching.loop import CoachingLoop
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.sensors.ble import ReconnectPolicy, StrapNotFoundError, StrapReader
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Gap, LiveClock, Measurement
from heartsease.simulator.radio import VirtualRadio
from heartsease.simulator.scenarios import simulate_following
from heartsease.simulator.virtual_strap import LinkDrop, VirtualStrap, virtual_time


async def live_session(
    stop_at_s: float | None = None, drops: list[LinkDrop] | None = None
) -> tuple[list[Event], VirtualStrap]:
    clock = LiveClock()
    radio = VirtualRadio(clock)
    protocol = load_protocol("srb").with_practice_minutes(2)
    beats = simulate_following("paced-6", [*protocol.schedule(), (60.0, None)], seed=0)
    strap = radio.add(VirtualStrap(beats, clock, drops=drops or []))
    strap_task = asyncio.create_task(strap.run())
    reader = StrapReader(strap.name, client_backend=radio.client_backend,
                         scanner_backend=radio.scanner_backend, clock=clock)
    loop = CoachingLoop(reader.stream(), CoachingSession(protocol), clock)
    events: list[Event] = []
    async for event in loop.events():
        events.append(event)
        if event.kind == "step" and event.name == "practice":
            loop.annotate("compassionate imagery", "dr.rivera")
        if stop_at_s is not None and event.t_s >= stop_at_s and not loop.session.ended:
            loop.stop()
    strap_task.cancel()
    return events, strap


def run(coroutine_factory):
    async def main():
        with virtual_time():
            return await coroutine_factory()

    return asyncio.run(main())


def test_a_whole_session_from_a_virtual_strap() -> None:
    events, strap = run(live_session)
    end = events[-1]
    assert (end.kind, end.reason) == ("session-ended", "completed")
    assert round(end.t_s) == 120 + 90 + 120 + 90 + 60
    beats = [e for e in events if e.kind == "beat"]
    delivered = [rr * 1000 / 1024 for d in strap.delivered for rr in d.rr_1024ths]
    assert [b.rr_ms for b in beats] == delivered[: len(beats)]  # every RR, in order
    assert all(b.t_s <= b.arrival_s + 1e-6 for b in beats)  # a beat is known after it
    assert [b.t_s for b in beats] == sorted(b.t_s for b in beats)
    annotation = [e for e in events if e.kind == "annotation"]
    assert len(annotation) == 1 and 209.0 < annotation[0].t_s < 211.0
    metrics = [e for e in events if e.kind == "metrics"]
    practice = [m.coherence_ratio for m in metrics if 270.0 < m.t_s < 330.0]
    assert len(metrics) > 60 and min(practice) > 2.0  # paced at 6/min: a coherent rhythm
    phases = [e for e in events if e.kind == "pacer-phase"]
    assert phases and all(120.0 <= p.t_s <= 420.0 for p in phases)  # guide fades out by 420 s


def test_stopping_ends_the_session_kindly() -> None:
    events, _ = run(lambda: live_session(stop_at_s=100.0))
    end = events[-1]
    assert (end.kind, end.reason) == ("session-ended", "stopped")
    assert 100.0 <= end.t_s < 103.0  # at the first event after 100 s (beats come late)


def test_a_dropped_link_is_a_gap_in_the_stream() -> None:
    events, _ = run(lambda: live_session(drops=[LinkDrop(150.0, 12.0)]))
    gaps = [e for e in events if e.kind == "gap"]
    assert len(gaps) == 1 and 149.0 < gaps[0].t_s < 151.0
    assert events[-1].reason == "completed"


def test_a_strap_that_cannot_be_found_ends_the_stream_with_the_reason() -> None:
    async def main():
        clock = LiveClock()
        radio = VirtualRadio(clock)
        reader = StrapReader("no such strap", client_backend=radio.client_backend,
                             scanner_backend=radio.scanner_backend, clock=clock,
                             reconnect=ReconnectPolicy(give_up_after_s=5.0))
        loop = CoachingLoop(reader.stream(), CoachingSession(load_protocol("srb")), clock)
        return [e async for e in loop.events()]

    with pytest.raises(StrapNotFoundError):
        run(main)


class _Pushed:
    """A source its items are handed to, as the ingest WebSocket hands over its beats."""

    def attach(self, deliver: Callable[[Measurement | Gap | None], None]) -> None:
        self.deliver = deliver


def _one_beat(at_s: float) -> Measurement:
    return Measurement(at_s, 75, (800.0,), (at_s,), SensorContact.NOT_SUPPORTED)


def test_a_pushed_beat_is_handed_on_before_the_pusher_goes_on() -> None:
    """Coached in the pusher's own task: through a queue, each beat would wait a turn of the
    event loop, tens of milliseconds when it serves a thousand sessions."""

    async def main():
        clock, source, seen = LiveClock(), _Pushed(), []
        loop = CoachingLoop(source, CoachingSession(load_protocol("srb")), clock)
        running = asyncio.create_task(loop.run(seen.append))
        await asyncio.sleep(0)  # run() starts, and attaches to the source
        source.deliver(_one_beat(clock.now() + 0.8))
        handed_on_at_once = [e.kind for e in seen]
        source.deliver(None)
        await running
        return handed_on_at_once, seen

    at_once, seen = run(main)
    assert at_once == ["session-started", "step", "cue", "beat"]
    assert (seen[-1].kind, seen[-1].reason) == ("session-ended", "source-ended")


def test_a_failing_receiver_ends_the_session_with_its_error() -> None:
    def refuse_beats(event: Event) -> None:
        if event.kind == "beat":
            raise ValueError("cannot store this")

    async def main():
        clock, source = LiveClock(), _Pushed()
        loop = CoachingLoop(source, CoachingSession(load_protocol("srb")), clock)
        running = asyncio.create_task(loop.run(refuse_beats))
        await asyncio.sleep(0)
        source.deliver(_one_beat(clock.now() + 0.8))
        await running

    with pytest.raises(ValueError, match="cannot store this"):
        run(main)
