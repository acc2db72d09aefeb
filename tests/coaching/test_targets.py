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

# One xdist worker runs the module: its 60 coached sessions are made once, not once a worker.
pytestmark = pytest.mark.xdist_group("targets")

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


def state_confusion(runs: list[tuple[SimulatedBeats, list[Event]]]) -> Counter:
    """(true state, classified state) counts of the 5-s epochs the issue scores."""
    confusion: Counter = Counter()
    for beats, events in runs:
        changes, _ = transitions(beats)
        for e in events:
            if e.kind != "metrics":
                continue
            if changes.size and np.min(np.abs(changes - e.t_s)) < EXCLUDE_NEAR_TRANSITION_S:
                continue
            truth = beats.state[min(np.searchsorted(beats.t_s, e.t_s), beats.t_s.size - 1)]
            confusion[(truth, e.state)] += 1
    return confusion


def shift_latencies(runs: list[tuple[SimulatedBeats, list[Event]]]) -> tuple[list, list]:
    """Seconds from each true threat-to-soothing shift to the logged shift's onset and to
    its confirmation; ``inf`` for a shift that was not logged."""
    onset, confirmed = [], []
    for beats, events in runs:
        shifts = [e for e in events if e.kind == "shift" and e.direction == "threat-to-soothing"]
        for at, pair in zip(*transitions(beats), strict=True):
            if pair != ("threat", "soothing"):
                continue
            found = [s for s in shifts if s.t_s > at]
            onset.append(found[0].onset_s - at if found else np.inf)
            confirmed.append(found[0].t_s - at if found else np.inf)
    return onset, confirmed


def backdraft_latencies(runs: list[tuple[SimulatedBeats, list[Event]]]) -> list[float]:
    """Seconds from the return to threat to the backdraft event (``inf`` when none)."""
    out = []
    for beats, events in runs:
        changes, pairs = transitions(beats)
        returned = next(at for at, p in zip(changes, pairs, strict=True) if p[1] == "threat")
        raised = [e for e in events if e.kind == "backdraft" and e.t_s > returned]
        out.append(raised[0].t_s - returned if raised else np.inf)
    return out


def resonance_picks(seeds: range) -> list[tuple[float, float | None, str]]:
    """(simulated resonance, picked rate, confidence) of a resonance session per seed, the
    resonance drawn uniformly from 4.5-6.5 breaths/min."""
    protocol = load_protocol("resonance")
    out = []
    for seed in seeds:
        resonance = float(np.random.default_rng(1000 + seed).uniform(4.5, 6.5))
        _, events = coached("resonance-sweep", seed, protocol, with_baseline=False,
                            resonance_bpm=resonance)
        result = next(e for e in events if e.kind == "resonance")
        out.append((resonance, result.resonance_bpm, result.confidence))
    return out


def rest_states(seed: int) -> tuple[int, Counter]:
    """Shifts logged and states seen in 30 minutes of simulated rest."""
    beats = simulate("rest", 1800, seed)
    protocol = load_protocol("srb").with_practice_minutes(26)
    events = run_session(beats, CoachingSession(protocol, baseline=resting_baseline(seed)))
    return (sum(1 for e in events if e.kind == "shift"),
            Counter(e.state for e in events if e.kind == "metrics"))


def test_state_f1_for_threat_and_soothing(sessions) -> None:
    confusion = state_confusion([run for runs in sessions.values() for run in runs])
    # Target 0.9 each (measured: threat 0.962, soothing 0.946). Misses are mostly the first
    # 30 s of each session (unknown until the windows fill) and soothing that the person
    # reaches while breathing freely, before the pacer starts.
    assert f1(confusion, "threat") >= 0.9
    assert f1(confusion, "soothing") >= 0.9


def test_every_threat_to_soothing_shift_is_logged_promptly(sessions) -> None:
    onset, _ = shift_latencies([run for runs in sessions.values() for run in runs])
    assert len(onset) == 40 and np.all(np.isfinite(onset))  # 20 + 20 true shifts, all logged
    # Target: median at most 20 s after the true shift (measured: onset 7.6 s; the state is
    # confirmed a median 27.7 s after, once the 64-s coherence window and hysteresis agree).
    assert np.median(onset) <= 20.0
    assert min(onset) > -5.0  # the onset is not dated before the body moved


def test_backdraft_is_raised_within_30_s_and_never_in_paced_practice(sessions) -> None:
    # Target: within 30 s in every seed (measured: 19.5-27.3 s).
    assert max(backdraft_latencies(sessions["backdraft"])) <= 30.0
    for _, events in sessions["backdraft"]:
        raised = next(e for e in events if e.kind == "backdraft")
        assert any(e.kind == "cue" and e.cue_kind == "grounding" for e in events)
        # The pacer stops rather than slowing (slower still can add air hunger), and no
        # breath is paced after it until the person has come back.
        stopped = [e for e in events if e.kind == "pacer" and e.t_s == raised.t_s]
        assert stopped and stopped[0].rate_bpm is None
        after = events[events.index(raised):]
        until = next((i for i, e in enumerate(after) if e.kind == "backdraft-eased"), len(after))
        assert not [e for e in after[:until] if e.kind == "pacer-phase"]
    for _, events in sessions["paced-6"]:
        assert not [e for e in events if e.kind == "backdraft"]


@pytest.mark.parametrize("seed", range(100, 103))
def test_no_false_shifts_in_thirty_minutes_of_rest(seed: int) -> None:
    shifts, states = rest_states(seed)
    assert shifts == 0
    assert states["threat"] == states["soothing"] == 0


def test_resonance_assessment_finds_the_persons_rate() -> None:
    """With the simulated resonance anywhere in 4.5-6.5/min, the pick is within 0.5/min in
    at least 19 of 20 seeded runs (measured: 19 of 20)."""
    picks = resonance_picks(SEEDS)
    hits = sum(picked is not None and abs(picked - true) <= 0.5 for true, picked, _ in picks)
    assert hits >= 19, picks
