"""Simulated sessions run through the coaching session, as a replay would."""

from __future__ import annotations

import asyncio

from heartsease.coaching.classifier import RestingBaseline
from heartsease.coaching.events import Event
from heartsease.coaching.loop import replay_session
from heartsease.coaching.protocols import Protocol, load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.simulator.heart import SimulatedBeats
from heartsease.simulator.scenarios import beats_as_source, simulate, simulate_following


def run_session(beats: SimulatedBeats, session: CoachingSession) -> list[Event]:
    return asyncio.run(replay_session(beats_as_source(beats), session))


def resting_baseline(seed: int) -> RestingBaseline:
    """The simulated person's resting baseline from another day: the quiet start of a
    5-minute rest session (the same seed draws the same person, other moments)."""
    session = CoachingSession(load_protocol("srb"))
    run_session(simulate("rest", 300, seed), session)
    assert session.learned_baseline is not None
    return session.learned_baseline


def coached(
    scenario: str, seed: int, protocol: Protocol | None = None, with_baseline: bool = True,
    resonance_bpm: float | None = None, extra_s: float = 0.0,
) -> tuple[SimulatedBeats, list[Event]]:
    """A scenario's person breathing with the protocol's pacer, coached; ``extra_s`` of
    beats after the protocol's end let it complete rather than run out of beats."""
    protocol = protocol or load_protocol("srb")
    schedule = protocol.schedule() + ([(extra_s, None)] if extra_s else [])
    beats = simulate_following(scenario, schedule, seed, resonance_bpm)
    session = CoachingSession(protocol, baseline=resting_baseline(seed) if with_baseline
                              else None)
    return beats, run_session(beats, session)
