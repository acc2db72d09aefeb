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


def with_artifacts(rr: np.ndarray, rng: np.random.Generator, n: int = 8,
                   kinds: tuple[str, ...] = ("premature", "missed", "extra")) -> np.ndarray:
    """``n`` places at least 12 beats apart taking in turn a premature beat (30 % early, its
    pause after it), a missed beat and an extra beat (splitting one interval 40/60); only
    those of ``kinds`` are put in."""
    out = list(rr)
    at = sorted(rng.choice(np.arange(20, len(out) - 20, 12), n, replace=False))[::-1]
    for j, k in enumerate(at):
        if ("premature", "missed", "extra")[j % 3] not in kinds:
            continue
        if j % 3 == 0:
            early = 0.3 * out[k]
            out[k] -= early
            out[k + 1] += early
        elif j % 3 == 1:
            out[k : k + 2] = [out[k] + out[k + 1]]
        else:
            out[k : k + 1] = [0.4 * out[k], 0.6 * out[k]]
    return np.asarray(out)


# Measured over seeds 0-9: RMSSD after correction median 0.3-0.4 %, worst 0.7 % from the
# clean series at 4.5, 5.5 and 6.5/min (was median 11-13 %, worst 22 % at 5.5-6.5/min:
# an extra beat hidden in the swing, missed beats split against a lagging median; then
# 0.7-0.9 %, worst 1.4 %, with missed beats split in equal halves).
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


def rmssd_errors(rate_bpm: float, rsa_at_12_bpm: float, seeds: range,
                 kinds: tuple[str, ...] = ("premature", "missed", "extra"),
                 artifact_seeds_from: int = 1000) -> np.ndarray:
    """RMSSD after correction over the clean series', less 1, for 6-minute sessions paced at
    ``rate_bpm``, each with :func:`with_artifacts` of ``kinds`` drawn from seed
    ``artifact_seeds_from`` + its own."""
    errors = []
    for seed in seeds:
        segment = Segment(360, AutonomicState.NEUTRAL, Breathing.PACED, rate_bpm)
        clean = simulate_beats([segment], Physiology(rsa_at_12_bpm=rsa_at_12_bpm),
                               np.random.default_rng(seed)).rr_ms
        broken = with_artifacts(clean, np.random.default_rng(artifact_seeds_from + seed),
                                kinds=kinds)
        errors.append(time_domain(correct_artifacts(broken).rr_ms).rmssd_ms
                      / time_domain(clean).rmssd_ms - 1)
    return np.asarray(errors)


def test_many_sessions_of_resonance_breathing_keep_rmssd_within_5_pct() -> None:
    # Other sessions and other artifacts than the test above: 5.0-6.5/min, seeds 0-19, the
    # artifacts drawn from seeds 1000-1019. Before an extra beat on the swing's steep side
    # was read (its neighbours 1,084 and 887 ms: 20 % apart, where 20 % was the bound), 6 of
    # these 80 were 13-17 % high. Measured now: at most 0.9 %.
    errors = np.concatenate([rmssd_errors(rate, 2.0, range(20)) for rate in (5.0, 5.5, 6.0, 6.5)])
    assert np.abs(errors).max() <= 0.05


def test_missed_beats_on_a_large_swing_are_split_where_the_rhythm_runs() -> None:
    # A heart swinging 590-690 ms with breathing at 5.5/min, missed beats alone. On the
    # rising side, the interval after a missed one is far shorter than it, and dRR showed a
    # late beat: the two were averaged, RMSSD 5-7.5 % high in 5 of these 40. Equal halves put
    # a false step either side (median +0.7 %). Then at most 3.7 %: on the falling side a
    # missed beat read as a premature beat and its pause. Measured now: at most 0.15 %.
    errors = rmssd_errors(5.5, 3.0, range(40), kinds=("missed",))
    assert np.abs(errors).max() <= 0.01
    assert abs(np.median(errors)) <= 0.002


def test_a_missed_beat_is_split_in_steps_from_the_interval_before_to_the_one_after() -> None:
    rr = 800 + 5 * np.random.default_rng(0).standard_normal(80)
    rr[39:42] = [760.0, 1620.0, 840.0]
    fixed = correct_artifacts(rr)
    assert fixed.parts[40] == 2
    # Steps of a third from 760 to 840 (786.7 and 813.3 ms), scaled to the 1,620 ms they hold.
    assert fixed.rr_ms[40:42] == pytest.approx([786.667 * 1620 / 1600, 813.333 * 1620 / 1600],
                                               abs=0.001)


def test_premature_beats_at_the_top_of_a_large_swing_are_caught() -> None:
    # Breathing at 6/min swinging the heart 590-690 ms, premature beats alone. At the top of
    # the swing the premature interval is hardly shorter than the one before it and its
    # pause stays under the widened thresholds: 6 of these 40 were 5-13 % high, the beat
    # left in; read from the rhythm around the pair, 2 (at most 5.4 %). Where dRR crosses
    # its threshold without a long or short pattern, the rhythm's rules now read the pair
    # too: at most 1.2 %.
    errors = np.abs(rmssd_errors(6.0, 3.0, range(40), kinds=("premature",)))
    assert errors.max() <= 0.02


def test_a_large_swing_keeps_rmssd_within_5_pct() -> None:
    # The three kinds together on a heart swinging 540-690 ms, 4.5-6.5/min, 200 sessions:
    # 8 were 5.3-10.6 % high (an extra beat at the swing's top summing 7-11 % over the
    # intervals around it, a missed beat on the falling side paired as premature, a premature
    # beat whose dRR crossed its threshold with no long/short pattern). Measured: at most
    # 2.1 %; on 200 other sessions (seeds 40-79, artifacts from 3000) at most 3.1 %.
    errors = np.concatenate([rmssd_errors(rate, 3.0, range(40))
                             for rate in (4.5, 5.0, 5.5, 6.0, 6.5)])
    assert np.abs(errors).max() <= 0.03
