"""Named simulated sessions with ground truth, and the faults a real strap adds.

Scenarios scale to any length: each is a list of segments whose durations are shares of
the requested seconds. The person is drawn from the seed (resting heart rate 60-76 beats/min,
own breathing 11-16/min) with a resonance rate of 5.5/min unless one is given.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import numpy as np

from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Measurement
from heartsease.simulator.heart import (
    AutonomicState,
    Breathing,
    Physiology,
    Segment,
    SimulatedBeats,
    simulate_beats,
)

THREAT, NEUTRAL, SOOTHING = AutonomicState.THREAT, AutonomicState.NEUTRAL, AutonomicState.SOOTHING
RESONANCE_SWEEP_BPM = (6.5, 6.0, 5.5, 5.0, 4.5)


def _rest(s: float) -> list[Segment]:
    return [Segment(s, NEUTRAL)]


def _paced_6(s: float) -> list[Segment]:
    return [Segment(s, SOOTHING, Breathing.PACED, 6.0)]


def _threat_then_soothe(s: float) -> list[Segment]:
    return [Segment(0.4 * s, THREAT), Segment(0.6 * s, SOOTHING, Breathing.PACED, 6.0)]


def _backdraft(s: float) -> list[Segment]:
    # Soothing practice interrupted by a sustained return to threat (emotional backdraft):
    # the person stops following the pacer while it happens.
    return [
        Segment(0.2 * s, NEUTRAL),
        Segment(0.3 * s, SOOTHING, Breathing.PACED, 6.0),
        Segment(0.2 * s, THREAT, Breathing.NOT_FOLLOWING, 6.0),
        Segment(0.3 * s, SOOTHING, Breathing.PACED, 6.0),
    ]


def _resonance_sweep(s: float) -> list[Segment]:
    share = s / len(RESONANCE_SWEEP_BPM)
    return [Segment(share, NEUTRAL, Breathing.PACED, r) for r in RESONANCE_SWEEP_BPM]


SCENARIOS: dict[str, Callable[[float], list[Segment]]] = {
    "rest": _rest,
    "paced-6": _paced_6,
    "threat-then-soothe": _threat_then_soothe,
    "backdraft": _backdraft,
    "resonance-sweep": _resonance_sweep,
    "noisy-strap": _rest,
}
NOISY = {"noisy-strap"}


def person(rng: np.random.Generator, resonance_bpm: float | None = None) -> Physiology:
    """A simulated person drawn from ``rng``."""
    return Physiology(
        resting_hr_bpm=float(rng.uniform(60, 76)),
        spontaneous_breathing_bpm=float(rng.uniform(11, 16)),
        resonance_bpm=5.5 if resonance_bpm is None else resonance_bpm,
    )


def simulate(
    scenario: str, seconds: float, seed: int, resonance_bpm: float | None = None
) -> SimulatedBeats:
    """A named scenario's beats with ground truth, deterministic for a seed.

    Examples
    --------
    >>> a = simulate("rest", 60, seed=3)
    >>> b = simulate("rest", 60, seed=3)
    >>> bool((a.rr_ms == b.rr_ms).all())
    True
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    rng = np.random.default_rng(seed)
    beats = simulate_beats(SCENARIOS[scenario](seconds), person(rng, resonance_bpm), rng)
    return add_faults(beats, rng) if scenario in NOISY else beats


def simulate_following(
    scenario: str,
    pacer_schedule: Sequence[tuple[float, float | None]],
    seed: int,
    resonance_bpm: float | None = None,
    physiology: Physiology | None = None,
) -> SimulatedBeats:
    """A scenario's person and states, breathing with a session's pacer.

    ``pacer_schedule`` is the pacer as ``(seconds, rate or None)`` pieces (a protocol's
    schedule). The scenario's segments are stretched over the schedule's length; where the
    scenario has the person following a pacer they follow this one, where the pacer is off
    they breathe freely, and where they do not follow (backdraft) they keep their own rate.
    The person is the one :func:`simulate` draws for the same seed, or ``physiology``
    (the same person on different days, say).

    Examples
    --------
    >>> beats = simulate_following("paced-6", [(60, None), (120, 5.0)], seed=1)
    >>> sorted(set(np.nan_to_num(beats.pacer_bpm).tolist()))  # free for a minute, then paced
    [0.0, 5.0]
    >>> bool(abs(np.median(beats.breathing_rate_bpm[-60:]) - 5.0) < 0.3)
    True
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    total = sum(seconds for seconds, _ in pacer_schedule)
    if total <= 0:
        raise ValueError("the pacer schedule must last longer than zero seconds")
    story = SCENARIOS[scenario](total)
    cuts = sorted({0.0, *np.cumsum([s.seconds for s in story])[:-1],
                   *np.cumsum([seconds for seconds, _ in pacer_schedule])[:-1]})
    story_ends = np.cumsum([s.seconds for s in story])
    pacer_ends = np.cumsum([seconds for seconds, _ in pacer_schedule])
    segments = []
    for start, end in zip(cuts, [*cuts[1:], total], strict=True):
        mid = 0.5 * (start + end)
        part = story[min(int(np.searchsorted(story_ends, mid)), len(story) - 1)]
        rate = pacer_schedule[min(int(np.searchsorted(pacer_ends, mid)),
                                  len(pacer_schedule) - 1)][1]
        breathing = part.breathing
        if rate is None or breathing is Breathing.FREE:
            breathing, rate = Breathing.FREE, None
        segments.append(Segment(end - start, part.state, breathing, rate))
    rng = np.random.default_rng(seed)
    drawn = person(rng, resonance_bpm)  # drawn even when given: the noise stays the seed's
    beats = simulate_beats(segments, physiology or drawn, rng)
    return add_faults(beats, rng) if scenario in NOISY else beats


def add_faults(beats: SimulatedBeats, rng: np.random.Generator) -> SimulatedBeats:
    """What a real strap adds, each fault labelled in ``artifact``.

    About 1 % ectopic beats (premature at 60-75 % of the cycle with a compensatory pause),
    0.5 % missed beats (two intervals delivered as one), 0.5 % extra beats (one interval
    split by a false detection), one 8 s loss of skin contact and one 20 s disconnect
    (no beats delivered; the beat after carries ``gap``).
    """
    rr = list(beats.rr_ms)
    labels = [""] * len(rr)
    n = len(rr)
    kinds = rng.choice(["", "ectopic", "missed", "extra"], size=n, p=[0.98, 0.01, 0.005, 0.005])
    out_rr: list[float] = []
    out_label: list[str] = []
    keep: list[int] = []  # source beat of each output row, for the ground truth columns
    i = 0
    while i < n:
        kind = kinds[i] if 5 < i < n - 5 else ""
        if kind == "ectopic":
            early = rr[i] * rng.uniform(0.6, 0.75)
            out_rr += [early, rr[i] + rr[i + 1] - early]
            out_label += ["ectopic", "ectopic"]
            keep += [i, i + 1]
            i += 2
            continue
        if kind == "missed":
            out_rr.append(rr[i] + rr[i + 1])
            out_label.append("missed")
            keep.append(i + 1)
            i += 2
            continue
        if kind == "extra":
            part = rr[i] * rng.uniform(0.3, 0.6)
            out_rr += [part, rr[i] - part]
            out_label += ["extra", "extra"]
            keep += [i, i]
            i += 1
            continue
        out_rr.append(rr[i])
        out_label.append(labels[i])
        keep.append(i)
        i += 1
    t = beats.t_s[0] - beats.rr_ms[0] / 1000.0 + np.cumsum(out_rr) / 1000.0
    rows = np.ones(len(out_rr), dtype=bool)
    span = t[-1] - t[0]
    # Contact loss somewhere in the first half, a disconnect in the second: never overlapping.
    for length_s, (lo, hi) in ((8.0, (0.15, 0.45)), (20.0, (0.55, 0.85))):
        start = t[0] + rng.uniform(lo, hi) * span
        lost = (t >= start) & (t < start + length_s)
        rows &= ~lost
        after = np.flatnonzero(~lost & (t >= start + length_s))
        if after.size:
            out_label[after[0]] = "gap"
    src = np.asarray(keep)[rows]
    return SimulatedBeats(
        t_s=t[rows],
        rr_ms=np.asarray(out_rr)[rows],
        state=[beats.state[k] for k in src],
        breathing_rate_bpm=beats.breathing_rate_bpm[src],
        pacer_bpm=beats.pacer_bpm[src],
        artifact=[lab for lab, r in zip(out_label, rows, strict=True) if r],
    )


async def beats_as_source(beats: SimulatedBeats) -> AsyncIterator[Measurement]:
    """Simulated beats as a source, one notification per beat arriving as the beat ends:
    the ideal strap, for replays that need no radio."""
    for t, rr in zip(beats.t_s.tolist(), beats.rr_ms.tolist(), strict=True):
        yield Measurement(t, round(60000 / rr), (rr,), (t,), SensorContact.NOT_SUPPORTED)


def write_csv(beats: SimulatedBeats, path: Path) -> None:
    """The ``heartsease simulate`` file: ``t_s, rr_ms`` and the ground-truth columns."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["t_s", "rr_ms", "state", "breathing_rate_bpm", "pacer_bpm", "artifact"])
        for k in range(beats.rr_ms.size):
            pacer = beats.pacer_bpm[k]
            writer.writerow([
                f"{beats.t_s[k]:.4f}", f"{beats.rr_ms[k]:.2f}", beats.state[k],
                f"{beats.breathing_rate_bpm[k]:.2f}", "" if np.isnan(pacer) else f"{pacer:g}",
                beats.artifact[k],
            ])
