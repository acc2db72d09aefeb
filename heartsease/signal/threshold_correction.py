"""Kubios HRV's threshold-based artifact correction, its five levels.

Kubios HRV user's guide (3.x, "Artefact correction"): each RR interval is compared with a
local average, the median of the surrounding intervals (a median, so that the artifacts
themselves do not drag it); an interval further from it than the threshold is an artifact
and is replaced by a cubic spline through the accepted intervals. The levels are named by
their threshold at 60 beats/min: very low 0.45 s, low 0.35 s, medium 0.25 s, strong 0.15 s,
very strong 0.05 s; Kubios scales them with the mean heart rate (a threshold of 0.25 s at
60 beats/min is 0.125 s at 120), here as ``threshold * mean RR / 1 s``.

The automatic (Lipponen & Tarvainen 2019) correction is :mod:`heartsease.signal.artifacts`;
this module only adds the threshold levels beside it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.artifact_classifier import ArtifactKind
from heartsease.signal.artifacts import ArtifactCorrection
from heartsease.signal.interpolation import FloatArray, NotAKnotSpline

CorrectionLevel = Literal["very-low", "low", "medium", "strong", "very-strong"]
THRESHOLDS_S: dict[str, float] = {
    "very-low": 0.45, "low": 0.35, "medium": 0.25, "strong": 0.15, "very-strong": 0.05,
}
LOCAL_MEDIAN_BEATS = 11


def threshold_ms(rr_ms: ArrayLike, level: CorrectionLevel) -> float:
    """The level's threshold in ms, scaled from 60 beats/min to the series' mean heart rate.

    Examples
    --------
    >>> threshold_ms([500.0] * 10, "medium")  # 120 beats/min: half of 250 ms
    125.0
    """
    if level not in THRESHOLDS_S:
        raise ValueError(f"unknown correction level {level!r}; one of {sorted(THRESHOLDS_S)}")
    return THRESHOLDS_S[level] * float(np.mean(np.asarray(rr_ms, dtype=np.float64)))


def local_median(rr_ms: FloatArray, beats: int = LOCAL_MEDIAN_BEATS) -> FloatArray:
    """The running median of ``beats`` intervals centred on each (ends padded with the end
    values).

    Examples
    --------
    >>> local_median(np.array([1.0, 9.0, 2.0, 3.0]), 3).tolist()
    [1.0, 2.0, 3.0, 3.0]
    """
    half = beats // 2
    padded = np.concatenate([np.full(half, rr_ms[0]), rr_ms, np.full(beats - 1 - half, rr_ms[-1])])
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, beats), axis=1)


def threshold_labels(
    rr_ms: ArrayLike, level: CorrectionLevel, median_beats: int = LOCAL_MEDIAN_BEATS
) -> NDArray[np.int8]:
    """``ArtifactKind.LONG`` or ``SHORT`` for intervals beyond the threshold from the local
    median of ``median_beats`` intervals, ``NORMAL`` otherwise.

    Examples
    --------
    >>> threshold_labels([800, 810, 1600, 805, 790, 800, 400, 800], "medium").tolist()
    [0, 0, 2, 0, 0, 0, 3, 0]
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    local = local_median(rr, median_beats)
    limit = threshold_ms(rr, level)
    labels = np.zeros(rr.size, dtype=np.int8)
    labels[rr - local > limit] = ArtifactKind.LONG
    labels[local - rr > limit] = ArtifactKind.SHORT
    return labels


def threshold_correct(
    rr_ms: ArrayLike, level: CorrectionLevel, median_beats: int = LOCAL_MEDIAN_BEATS
) -> ArtifactCorrection:
    """Label with :func:`threshold_labels` and replace each artifact by a not-a-knot cubic
    spline (over beat number) through the accepted intervals; the raw series is kept.
    Beyond the first or last accepted interval the nearest accepted value is used.

    Examples
    --------
    >>> c = threshold_correct([800, 810, 820, 1600, 840, 850, 860, 870], "medium")
    >>> c.rr_ms[3], c.n_corrected
    (np.float64(830.0), 1)
    """
    raw = np.asarray(rr_ms, dtype=np.float64)
    labels = threshold_labels(raw, level, median_beats)
    bad = labels != ArtifactKind.NORMAL
    good = np.flatnonzero(~bad)
    corrected = raw.copy()
    if bad.any() and good.size >= 2:
        beats = np.flatnonzero(bad)
        inside = (beats > good[0]) & (beats < good[-1])
        linear = np.interp(beats[inside], good, raw[good])
        if good.size >= 4:
            smooth = NotAKnotSpline(good.astype(np.float64), raw[good])(
                beats[inside].astype(np.float64))
            # Over a long run of rejected beats (atrial fibrillation, a lost signal) the
            # spline can swing past every accepted interval, even below zero (MIT-BIH 203 at
            # "medium" crashed the analysis): there the straight line is kept instead.
            swung = (smooth < raw[good].min()) | (smooth > raw[good].max())
            corrected[beats[inside]] = np.where(swung, linear, smooth)
        else:
            corrected[beats[inside]] = linear
        corrected[beats[~inside]] = raw[good[np.abs(good[:, None] - beats[~inside]).argmin(0)]]
    return ArtifactCorrection(raw, labels, corrected, np.ones(raw.size, dtype=np.int8))
