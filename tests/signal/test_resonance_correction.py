"""Artifact correction while the heart swings with slow paced breathing (issue 26, item 3)."""

from __future__ import annotations

import numpy as np
import pytest

from heartsease.signal.artifacts import correct_artifacts
from heartsease.signal.hrv import time_domain
from heartsease.simulator.heart import (
    AutonomicState,
    Breathing,
    Physiology,
    Segment,
    simulate_beats,
)


def with_artifacts(rr: np.ndarray, rng: np.random.Generator, n: int = 8) -> np.ndarray:
    """``n`` artifacts at least 12 beats apart, in turn a premature beat (30 % early, its
    pause after it), a missed beat and an extra beat (splitting one interval 40/60)."""
    out = list(rr)
    at = sorted(rng.choice(np.arange(20, len(out) - 20, 12), n, replace=False))[::-1]
    for j, k in enumerate(at):
        if j % 3 == 0:
            early = 0.3 * out[k]
            out[k] -= early
            out[k + 1] += early
        elif j % 3 == 1:
            out[k : k + 2] = [out[k] + out[k + 1]]
        else:
            out[k : k + 1] = [0.4 * out[k], 0.6 * out[k]]
    return np.asarray(out)


# Measured over seeds 0-9: RMSSD after correction median 0.7-0.9 %, worst 1.4 % from the
# clean series at 4.5, 5.5 and 6.5/min (was median 11-13 %, worst 22 % at 5.5-6.5/min:
# an extra beat hidden in the swing, missed beats split against a lagging median).
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("rate_bpm", [4.5, 5.5, 6.5, 12.0])
def test_rmssd_within_5_pct_of_the_clean_series(rate_bpm: float, seed: int) -> None:
    clean = simulate_beats([Segment(360, AutonomicState.NEUTRAL, Breathing.PACED, rate_bpm)],
                           Physiology(), np.random.default_rng(seed)).rr_ms
    fixed = correct_artifacts(with_artifacts(clean, np.random.default_rng(100 + seed)))
    assert time_domain(fixed.rr_ms).rmssd_ms == pytest.approx(time_domain(clean).rmssd_ms,
                                                               rel=0.05)
    assert time_domain(correct_artifacts(clean).rr_ms).rmssd_ms == pytest.approx(
        time_domain(clean).rmssd_ms, rel=0.01)


def test_many_sessions_of_resonance_breathing_keep_rmssd_within_5_pct() -> None:
    # Other sessions and other artifacts than the test above: 5.0-6.5/min, seeds 0-19, the
    # artifacts drawn from seeds 1000-1019. Before an extra beat on the swing's steep side
    # was read (its neighbours 1,084 and 887 ms: 20 % apart, where 20 % was the bound), 6 of
    # these 80 were 13-17 % high. Measured now: at most 1.5 %.
    errors = []
    for rate_bpm in (5.0, 5.5, 6.0, 6.5):
        for seed in range(20):
            segment = Segment(360, AutonomicState.NEUTRAL, Breathing.PACED, rate_bpm)
            clean = simulate_beats([segment], Physiology(), np.random.default_rng(seed)).rr_ms
            fixed = correct_artifacts(with_artifacts(clean, np.random.default_rng(1000 + seed)))
            errors.append(abs(time_domain(fixed.rr_ms).rmssd_ms / time_domain(clean).rmssd_ms
                              - 1))
    assert max(errors) <= 0.05
