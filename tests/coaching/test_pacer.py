"""The breath pacer: exact over half an hour, smooth through rate changes."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from heartsease.coaching.pacer import BreathPacer, BreathPart, BreathPattern

THIRTY_MIN_S = 1800.0
# The bound on phase error over 30 minutes.
MAX_PHASE_ERROR_S = 0.010


def test_constant_rate_breath_starts_are_exact_for_thirty_minutes() -> None:
    pacer = BreathPacer(5.5, start_s=1234.5)
    starts = [t for t, part in pacer.transitions(1234.0, 1234.5 + THIRTY_MIN_S)
              if part is BreathPart.INHALE]
    expected = 1234.5 + np.arange(len(starts)) * 60.0 / 5.5
    assert len(starts) == 166  # 30 min x 5.5/min, and the first at the start
    assert np.max(np.abs(np.array(starts) - expected)) < MAX_PHASE_ERROR_S / 1000


def test_phase_with_glides_matches_the_integral_of_the_rate() -> None:
    """Breaths paced = integral of rate/60, computed independently by quadrature; the
    difference converted to time at the current rate stays under 10 ms over 30 min."""
    pacer = BreathPacer(10.0, start_s=0.0)
    for at, rate in ((120, 6.0), (400, 5.5), (410, 4.5), (900, 6.5), (1500, 5.0)):
        pacer.set_rate(rate, at_s=at)
    worst_s = 0.0
    for t in np.linspace(0, THIRTY_MIN_S, 181):
        edges = [0.0, *[e for e in (120, 140, 400, 410, 430, 900, 920, 1500, 1520) if e < t], t]
        integral = sum(quad(pacer.rate_at, a, b)[0] for a, b in pairwise(edges)) / 60.0
        error_s = abs(pacer.breaths_at(t) - integral) * 60.0 / pacer.rate_at(t)
        worst_s = max(worst_s, error_s)
    assert worst_s < MAX_PHASE_ERROR_S


def test_phase_does_not_depend_on_how_often_it_is_asked() -> None:
    pacer = BreathPacer(5.5, start_s=0.0)
    pacer.set_rate(6.5, at_s=300.0)
    rng = np.random.default_rng(0)
    frames = np.cumsum(rng.uniform(0.001, 0.25, 20000))  # jittery frames, some very late
    frames = frames[frames < THIRTY_MIN_S]
    fresh = BreathPacer(5.5, start_s=0.0)
    fresh.set_rate(6.5, at_s=300.0)
    for t in frames[::997]:
        assert pacer.phase(t) == fresh.phase(t)
    assert [pacer.phase(t) for t in frames[-3:]] == [fresh.phase(t) for t in frames[-3:]]


def test_rate_changes_glide_and_the_shape_never_jumps() -> None:
    pacer = BreathPacer(6.0, start_s=0.0, glide_s=20.0)
    pacer.set_rate(4.5, at_s=33.0)
    t = np.arange(0.0, 120.0, 0.01)
    rates = np.array([pacer.rate_at(x) for x in t])
    lungs = np.array([pacer.phase(x).lungs for x in t])
    assert rates[t < 33].max() == 6.0 and rates[t >= 53].max() == pytest.approx(4.5)
    assert np.max(np.abs(np.diff(rates))) < 1.5 / 2000 + 1e-9  # 1.5/min over 20 s, 10 ms steps
    # The fastest a half-cosine breath of >= 4 s can change in 10 ms is pi/2 * 0.01/4.
    assert np.max(np.abs(np.diff(lungs))) < np.pi / 2 * 0.01 / 4 + 1e-6


def test_in_out_ratio_and_pauses() -> None:
    pacer = BreathPacer(6.0, start_s=0.0, pattern=BreathPattern(4, 5, hold_in=0.5, hold_out=0.5))
    parts = pacer.transitions(-1.0, 10.0)
    assert [p for _, p in parts] == [BreathPart.INHALE, BreathPart.HOLD_IN, BreathPart.EXHALE,
                                     BreathPart.HOLD_OUT, BreathPart.INHALE]
    assert [round(t, 6) for t, _ in parts] == [0.0, 4.0, 4.5, 9.5, 10.0]
    assert pacer.phase(4.2).lungs == 1.0 and pacer.phase(9.7).lungs == 0.0
    assert pacer.phase(2.0).part_s == pytest.approx(4.0)


def test_a_new_pattern_waits_for_the_next_in_breath() -> None:
    pacer = BreathPacer(6.0, start_s=0.0)
    pacer.set_pattern(BreathPattern(1, 1), at_s=3.0)
    assert pacer.phase(5.0).part is BreathPart.EXHALE  # still 4:6 in the first breath
    assert pacer.phase(14.0).part is BreathPart.INHALE and pacer.phase(16.0).part is \
        BreathPart.EXHALE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.5, 200.0), st.floats(3.0, 15.0)), max_size=6),
       st.floats(0.0, 1000.0))
def test_time_of_inverts_breaths_at(changes: list[tuple[float, float]], t: float) -> None:
    pacer = BreathPacer(6.0, start_s=0.0)
    at = 0.0
    for step, rate in changes:
        at += step
        pacer.set_rate(rate, at_s=at)
    assert pacer.time_of(pacer.breaths_at(t)) == pytest.approx(t, abs=1e-6)
    assert pacer.breaths_at(t + 0.01) > pacer.breaths_at(t)


def test_refuses_rates_no_one_can_breathe() -> None:
    with pytest.raises(ValueError, match="2-30"):
        BreathPacer(0.0)
