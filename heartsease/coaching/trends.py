"""A person's trends over weeks, from the summaries of their sessions.

Per day: resting ln RMSSD (the quiet start of the day's sessions) against the person's own
60-day normal range and its 7-day average (HRV4Training and Elite HRV present it so: Plews
et al. 2012), resting heart rate, coherence in practice, minutes soothed, shifts per
session, the self-ratings at the start and end of sessions, and the day's sessions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

HISTORY_DAYS = 60  # the normal range is the person's own over this many days before
WEEK_DAYS = 7
MIN_DAYS_FOR_RANGE = 3


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What the trends need of one session."""

    session_id: str
    started_at: datetime
    resting_ln_rmssd: float | None = None  # from its resting baseline, if it learned one
    resting_hr_bpm: float | None = None
    practice_coherence: list[float] = field(default_factory=list)  # each practice step's
    soothing_minutes: float = 0.0
    shifts_into_soothing: int = 0
    ratings: Mapping[str, list[int]] = field(default_factory=dict)  # by scale, in order

    @classmethod
    def from_summary(cls, session_id: str, started_at: datetime,
                     summary: Mapping[str, Any] | None, ratings: Mapping[str, list[int]]
                     ) -> SessionFacts:
        """From a session's stored summary (:func:`heartsease.coaching.finishing.
        stored_summary`; empty for a session not yet finished)."""
        summary = summary or {}
        baseline = (summary.get("baseline") or {}).get("baseline")
        return cls(
            session_id, started_at,
            resting_ln_rmssd=None if baseline is None else baseline["ln_rmssd"],
            resting_hr_bpm=None if baseline is None else baseline["hr_bpm"],
            practice_coherence=[
                step["median_coherence_ratio"] for step in summary.get("by_step", [])
                if step["step"] == "practice" and step["median_coherence_ratio"] is not None],
            soothing_minutes=summary.get("minutes_by_state", {}).get("soothing", 0.0),
            shifts_into_soothing=summary.get("threat_to_soothing_shifts", 0),
            ratings=ratings)


@dataclass(frozen=True, slots=True)
class DayTrend:
    """One day of trends (``None`` where the day has nothing to say)."""

    day: date
    sessions: int
    resting_ln_rmssd: float | None
    ln_rmssd_7d: float | None
    normal_low: float | None
    normal_high: float | None
    resting_hr_bpm: float | None
    coherence: float | None
    soothing_minutes: float
    shifts_per_session: float
    ratings_before: dict[str, float]  # per scale, the mean of sessions' first ratings
    ratings_after: dict[str, float]  # and of their last, where a session has two
    session_ids: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def trend_days(sessions: Sequence[SessionFacts], start: date, end: date) -> list[DayTrend]:
    """Each day from ``start`` to ``end``, from ``sessions`` (those of the days and of the
    :data:`HISTORY_DAYS` before, which the normal range needs).

    Examples
    --------
    >>> from datetime import date, datetime
    >>> days = [SessionFacts(f"s{d}", datetime(2026, 3, d, 8), resting_ln_rmssd=3.0 + d / 10,
    ...                      resting_hr_bpm=70.0 - d, shifts_into_soothing=1,
    ...                      ratings={"calm": [4, 7]}) for d in (1, 2, 3)]
    >>> [t] = trend_days(days, date(2026, 3, 4), date(2026, 3, 4))
    >>> t.sessions, t.resting_ln_rmssd, round(t.normal_low, 2), round(t.normal_high, 2)
    (0, None, 3.15, 3.25)
    >>> [t] = trend_days(days, date(2026, 3, 3), date(2026, 3, 3))
    >>> t.resting_hr_bpm, t.shifts_per_session, t.ratings_before, t.ratings_after
    (67.0, 1.0, {'calm': 4.0}, {'calm': 7.0})
    """
    by_day: dict[date, list[SessionFacts]] = defaultdict(list)
    for s in sessions:
        by_day[s.started_at.date()].append(s)
    daily_ln = _daily_resting_ln_rmssd(by_day)
    out = []
    day = start
    while day <= end:
        out.append(_day(day, by_day.get(day, []), daily_ln))
        day += timedelta(days=1)
    return out


def _daily_resting_ln_rmssd(by_day: Mapping[date, list[SessionFacts]]) -> dict[date, float]:
    daily: dict[date, float] = {}
    for day, sessions in by_day.items():
        values = [s.resting_ln_rmssd for s in sessions if s.resting_ln_rmssd is not None]
        if values:
            daily[day] = float(np.mean(values))
    return daily


def _day(day: date, sessions: list[SessionFacts], daily_ln: Mapping[date, float]
         ) -> DayTrend:
    window60 = [v for d, v in daily_ln.items()
                if day - timedelta(days=HISTORY_DAYS) <= d < day]
    window7 = [v for d, v in daily_ln.items()
               if day - timedelta(days=WEEK_DAYS - 1) <= d <= day]
    low, high = _normal_range(window60)
    before, after = ratings_before_and_after([s.ratings for s in sessions])
    coherence = [c for s in sessions for c in s.practice_coherence]
    return DayTrend(
        day=day, sessions=len(sessions),
        resting_ln_rmssd=daily_ln.get(day),
        ln_rmssd_7d=_mean(window7),
        normal_low=low, normal_high=high,
        resting_hr_bpm=_mean([s.resting_hr_bpm for s in sessions
                              if s.resting_hr_bpm is not None]),
        coherence=float(np.median(coherence)) if coherence else None,
        soothing_minutes=float(sum(s.soothing_minutes for s in sessions)),
        shifts_per_session=_mean([s.shifts_into_soothing for s in sessions]) or 0.0,
        ratings_before=before, ratings_after=after,
        session_ids=[s.session_id for s in sorted(sessions, key=lambda s: s.started_at)])


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _normal_range(daily: list[float]) -> tuple[float | None, float | None]:
    """The 60-day mean +/- half its SD, the smallest worthwhile change (Plews et al. 2012;
    Buchheit 2014); none from fewer than :data:`MIN_DAYS_FOR_RANGE` days."""
    if len(daily) < MIN_DAYS_FOR_RANGE:
        return None, None
    mean, sd = float(np.mean(daily)), float(np.std(daily, ddof=1))
    return mean - 0.5 * sd, mean + 0.5 * sd


def ratings_before_and_after(sessions: Sequence[Mapping[str, list[int]]]
                             ) -> tuple[dict[str, float], dict[str, float]]:
    """Per scale, the mean of each session's first rating and of its last (when it has a
    second): how the person felt coming in, and going out. ``sessions`` holds each
    session's ratings by scale, in the order given.

    >>> ratings_before_and_after([{"calm": [3, 6]}, {"calm": [5]}])
    ({'calm': 4.0}, {'calm': 6.0})
    """
    before: dict[str, list[int]] = defaultdict(list)
    after: dict[str, list[int]] = defaultdict(list)
    for by_scale in sessions:
        for scale, values in by_scale.items():
            before[scale].append(values[0])
            if len(values) > 1:
                after[scale].append(values[-1])
    return ({k: float(np.mean(v)) for k, v in before.items()},
            {k: float(np.mean(v)) for k, v in after.items()})
