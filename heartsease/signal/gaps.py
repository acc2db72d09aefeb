"""Gaps in an RR series: intervals no heart makes, where the recorder lost the signal.

An interval longer than :data:`MAX_RR_MS` that is not a whole number (2 or 3) of the usual
intervals around it is not missed beats to split (Lipponen & Tarvainen's correction does that
for whole multiples): it is a dropout (a strap's disconnect, a Holter's lost lead; NSR2DB
nsr001 has 3-7.5 s ones) or a pause too long to analyse as sinus rhythm. Such an interval
splits the series: artifacts are corrected in each part on its own, and the measures are
taken over the parts joined without it, so nothing is invented to fill it.

The 3-s bound is the usual threshold for a significant sinus pause on a Holter (e.g. the
ACC/AHA/HRS 2018 bradycardia guideline's "pauses > 3 s"), and the limit at which
:mod:`heartsease.sensors.files` stops calling an interval plausible.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import pairwise
from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.artifact_classifier import (
    ALPHA,
    MrrPart,
    joined_normalised,
    normalised_drr,
    normalised_mrr,
    rr_resolution_ms,
)
from heartsease.signal.artifacts import ArtifactCorrection, correct_artifacts
from heartsease.signal.rolling import median
from heartsease.signal.work import ShareWork, one_after_another

MAX_RR_MS = 3000.0
MIN_RR_MS = 200.0
MAX_MISSED_PARTS = 3
# How close each part of a split interval must be to the usual interval to count as beats.
PART_TOLERANCE = 0.25
TYPICAL_HALF_WINDOW_BEATS = 10


@dataclass(frozen=True, slots=True)
class RRGap:
    """One interval taken out of the series: where it started and how long it lasted."""

    index: int
    start_s: float
    length_ms: float


def typical_rr_ms(rr: NDArray[np.float64], i: int) -> float | None:
    """The median of the plausible intervals within 10 beats of ``i``."""
    near = rr[max(0, i - TYPICAL_HALF_WINDOW_BEATS) : i + TYPICAL_HALF_WINDOW_BEATS + 1]
    near = near[(near >= MIN_RR_MS) & (near <= MAX_RR_MS)]
    return median(near) if near.size else None


def is_whole_multiple(rr_ms: float, typical_ms: float | None) -> bool:
    """Whether ``rr_ms`` is 2 or 3 usual intervals (beats a sensor missed)."""
    if typical_ms is None:
        return False
    parts = int(round(rr_ms / typical_ms))
    return 2 <= parts <= MAX_MISSED_PARTS and rr_ms / parts <= MAX_RR_MS and (
        abs(rr_ms / parts - typical_ms) < PART_TOLERANCE * typical_ms
    )


def find_gaps(rr_ms: ArrayLike) -> list[RRGap]:
    """Every interval over 3 s that is not 2 or 3 usual intervals.

    Examples
    --------
    >>> rr = np.r_[np.full(20, 800.0), 5200.0, np.full(20, 800.0), 2400.0, np.full(5, 800.0)]
    >>> [(g.index, g.start_s, g.length_ms) for g in find_gaps(rr)]
    [(20, 16.0, 5200.0)]
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    beat_s = np.r_[0.0, np.cumsum(rr)] / 1000.0
    return [RRGap(int(i), float(beat_s[i]), float(rr[i]))
            for i in np.flatnonzero(rr > MAX_RR_MS)
            if not is_whole_multiple(float(rr[i]), typical_rr_ms(rr, int(i)))]


def correct_around_gaps(
    rr_ms: ArrayLike, gaps: list[RRGap], correct: bool = True,
    share_work: ShareWork = one_after_another,
) -> ArtifactCorrection:
    """Artifacts corrected in each part between gaps on its own, the parts joined.

    The gap intervals are left out of the result (its ``raw_rr_ms`` too), so no correction
    reaches across a dropout. The RR resolution is estimated once, over the whole series.
    The rolling thresholds of each part (two independent pieces of work a part, most of a
    correction's time) are handed to ``share_work``.

    Examples
    --------
    >>> rr = np.r_[np.full(30, 800.0), 6000.0, np.full(30, 810.0)]
    >>> fixed = correct_around_gaps(rr, find_gaps(rr))
    >>> fixed.raw_rr_ms.size, fixed.n_corrected
    (60, 0)
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    edges = [-1, *(g.index for g in gaps), rr.size]
    parts = [rr[a + 1 : b] for a, b in pairwise(edges) if b > a + 1]
    if not correct:
        raw = np.concatenate(parts) if parts else rr[:0]
        return ArtifactCorrection(raw, np.zeros(raw.size, dtype=np.int8), raw,
                                  np.ones(raw.size, dtype=np.int8))
    resolution = rr_resolution_ms(rr)
    done = share_work([functools.partial(normalise_part, part, "centered", ALPHA, resolution)
                       for part in parts for normalise_part in (normalised_drr, normalised_mrr)])
    fixed = [correct_artifacts(part, resolution_ms=resolution, normalised=joined_normalised(
                 part, cast(NDArray[np.float64], done[2 * k]), cast(MrrPart, done[2 * k + 1])))
             for k, part in enumerate(parts)]
    return ArtifactCorrection(
        raw_rr_ms=np.concatenate([f.raw_rr_ms for f in fixed]),
        labels=np.concatenate([f.labels for f in fixed]),
        rr_ms=np.concatenate([f.rr_ms for f in fixed]),
        parts=np.concatenate([f.parts for f in fixed]),
    )
