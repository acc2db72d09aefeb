"""The coaching loop against the simulator's ground truth: the issue's targets.

20 seeds of each of threat-then-soothe, backdraft and paced-6, each a whole soothing rhythm
breathing session (14.5 min) in which the simulated person follows the session's pacer.
The classifier's reference is the person's resting baseline from another day (a separate
rest recording of the same simulated person).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from heartsease.coaching.events import Event
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.simulator.heart import SimulatedBeats
from heartsease.simulator.scenarios import simulate
from tests.coaching.conftest import coached, resting_baseline, run_session

SEEDS = range(20)
SCENARIOS = ("threat-then-soothe", "backdraft", "paced-6")
EXCLUDE_NEAR_TRANSITION_S = 15.0  # the rule for scoring epochs


def transitions(beats: SimulatedBeats) -> tuple[np.ndarray, list[tuple[str, str]]]:
    state = np.asarray(beats.state)
    at = np.flatnonzero(state[1:] != state[:-1]) + 1
    return beats.t_s[at], [(state[i - 1], state[i]) for i in at]


@pytest.fixture(scope="module")
def sessions() -> dict[str, list[tuple[SimulatedBeats, list[Event]]]]:
    return {name: [coached(name, seed) for seed in SEEDS] for name in SCENARIOS}


def f1(confusion: Counter, state: str) -> float:
    tp = confusion[(state, state)]
    fp = sum(n for (truth, got), n in confusion.items() if got == state and truth != state)
    fn = sum(n for (truth, got), n in confusion.items() if truth == state and got != state)
    return 2 * tp / (2 * tp + fp + fn)


def test_state_f1_for_threat_and_soothing(sessions) -> None:
    confusion: Counter = Counter()
    for runs in sessions.values():
        for beats, events in runs:
            changes, _ = transitions(beats)
            for e in events:
                if e.kind != "metrics":
                    continue
                if changes.size and np.min(np.abs(changes - e.t_s)) < EXCLUDE_NEAR_TRANSITION_S:
                    continue
                truth = beats.state[min(np.searchsorted(beats.t_s, e.t_s), beats.t_s.size - 1)]
                confusion[(truth, e.state)] += 1
    # Target 0.9 each (measured: threat 0.962, soothing 0.947). Misses are mostly the first
    # 30 s of each session (unknown until the windows fill) and soothing that the person
    # reaches while breathing freely, before the pacer starts.
    assert f1(confusion, "threat") >= 0.9
    assert f1(confusion, "soothing") >= 0.9


def test_every_threat_to_soothing_shift_is_logged_promptly(sessions) -> None:
    onset_latency, confirm_latency = [], []
    for runs in sessions.values():
        for beats, events in runs:
            shifts = [e for e in events
                      if e.kind == "shift" and e.direction == "threat-to-soothing"]
            for at, (before, after) in zip(*transitions(beats), strict=True):
                if (before, after) != ("threat", "soothing"):
                    continue
                found = [s for s in shifts if s.t_s > at]
                assert found, "a true threat-to-soothing shift was not logged"
                onset_latency.append(found[0].onset_s - at)
                confirm_latency.append(found[0].t_s - at)
    assert len(onset_latency) == 40  # 20 in threat-then-soothe, 20 in backdraft
    # Target: median at most 20 s after the true shift (measured: onset 7.6 s; the state is
    # confirmed a median 27.5 s after, once the 64-s coherence window and hysteresis agree).
    assert np.median(onset_latency) <= 20.0
    assert min(onset_latency) > -5.0  # the onset is not dated before the body moved


def test_backdraft_is_raised_within_30_s_and_never_in_paced_practice(sessions) -> None:
    latencies = []
    for beats, events in sessions["backdraft"]:
        changes, pairs = transitions(beats)
        returned = next(at for at, p in zip(changes, pairs, strict=True) if p[1] == "threat")
        raised = [e for e in events if e.kind == "backdraft" and e.t_s > returned]
        assert raised, "the return to threat raised no backdraft"
        latencies.append(raised[0].t_s - returned)
        assert any(e.kind == "cue" and e.cue_kind == "grounding" for e in events)
        slowed = [e for e in events if e.kind == "pacer" and e.t_s == raised[0].t_s]
        assert slowed and slowed[0].rate_bpm < 6.0
    # Target: within 30 s in every seed (measured: 19.5-27.3 s).
    assert max(latencies) <= 30.0
    for _, events in sessions["paced-6"]:
        assert not [e for e in events if e.kind == "backdraft"]


@pytest.mark.parametrize("seed", range(3))
def test_no_false_shifts_in_thirty_minutes_of_rest(seed: int) -> None:
    beats = simulate("rest", 1800, 100 + seed)
    protocol = load_protocol("srb").with_practice_minutes(26)
    events = run_session(beats, CoachingSession(protocol, baseline=resting_baseline(100 + seed)))
    assert not [e for e in events if e.kind == "shift"]
    states = Counter(e.state for e in events if e.kind == "metrics")
    assert states["threat"] == states["soothing"] == 0


def test_resonance_assessment_finds_the_persons_rate() -> None:
    """With the simulated resonance anywhere in 4.5-6.5/min, the pick is within 0.5/min in
    at least 19 of 20 seeded runs (measured: 19 of 20; 59 of 60 over seeds 0-59)."""
    protocol = load_protocol("resonance")
    hits, results = 0, []
    for seed in SEEDS:
        resonance = float(np.random.default_rng(1000 + seed).uniform(4.5, 6.5))
        _, events = coached("resonance-sweep", seed, protocol, with_baseline=False,
                                resonance_bpm=resonance)
        result = [e for e in events if e.kind == "resonance"]
        assert len(result) == 1
        results.append((resonance, result[0].resonance_bpm, result[0].confidence))
        hits += result[0].resonance_bpm is not None and abs(
            result[0].resonance_bpm - resonance) <= 0.5
    assert hits >= 19, results
