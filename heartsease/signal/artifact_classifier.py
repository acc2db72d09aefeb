"""The beat classification of Lipponen & Tarvainen (2019), shared by batch and live use.

Each RR interval is labelled (:class:`ArtifactKind`) by the paper's method, as implemented here:

- ``dRR[n] = RR[n] - RR[n-1]`` (``dRR[0] = 0``), normalised by the time-varying threshold
  ``Th1 = alpha * QD(dRR)``, where QD is the quartile deviation ``(Q3 - Q1) / 2`` over
  91 beats and ``alpha = 5.2``;
- ``mRR[n] = RR[n] - median(RR)`` over 11 beats, negative values doubled, normalised by
  ``Th2 = alpha * QD(mRR)`` over 91 beats.

  QD is taken over the signed values. The paper chooses alpha = 5.2 so that the threshold
  covers 99.95 % of normal beats: for Gaussian dRR, QD of the signed values is 0.674 sigma
  and 5.2 * 0.674 = 3.5 sigma, which is that bound. QD of the absolute values (as
  neurokit2 computes it) is 0.416 sigma, a 2.2-sigma threshold that flags ~3 % of normal
  beats; on MIT-BIH 100 it triples the false alarms;
- a beat whose ``|dRRs| > 1`` is **ectopic** when ``(S11, S12)`` falls in the ectopic
  region (``S12 < -c1*S11 - c2`` for ``S11 > 1``, ``S12 > -c1*S11 + c2`` for ``S11 < -1``,
  ``c1 = 0.13``, ``c2 = 0.17``), where ``S11 = dRRs[n]`` and ``S12`` is the max of the
  neighbouring ``dRRs`` when ``dRRs[n] > 0``, the min otherwise (a negative-positive-negative
  or positive-negative-positive pattern);
- otherwise, if ``|dRRs| > 1`` or ``|mRRs| > 3``, the beat (and the next one, when the next
  ``dRR`` step is the smaller of the next two) is **long** (``S21 > 1, S22 < -1``),
  **short** (``S21 < -1, S22 > 1``) or an outlier (``|mRRs| > 3``), with ``S21 = dRRs[n]``
  and ``S22`` the min (for ``dRRs[n] >= 0``) or max of ``dRRs[n+1], dRRs[n+2]``; a long beat
  that halves into the local median is a **missed** beat, a short beat that sums with the
  next into the local median is an **extra** beat.

Four departures from the paper, each for recordings it was not tuned on (issue 26):

- on a coarse RR grid (a 128-Hz Holter's 7.8-ms steps) one step is added to each QD in
  quadrature (:func:`threshold_ms`), so rounding is not called an artifact;
- a short interval followed by one that sums with it to two local medians is a premature
  beat and its compensatory pause, an **ectopic** pair, not a short beat;
- when frequent ectopy or slow breathing's swing has widened the thresholds until nothing
  stands out, or dRR crosses its threshold with no long or short pattern, the beat is read
  from the rhythm around it (``BeatClassifier._dense_ectopic_step``): an interval 20 %
  shorter than both the one before it and its pair's mean is an ectopic pair, two
  intervals 20 % shorter than the steady rhythm either side that sum to it are an extra
  beat, and one that holds two or more of the intervals either side is a missed beat;
- an interval far from the 11-beat median (``|mRRs| > 3``) with no long or short pattern
  in dRR is left alone when it changes by under 20 % from both its neighbours: the rhythm
  moved (a sigh, a slow breath) and the median lags it (``BeatClassifier._is_sinus_step``).

:mod:`heartsease.signal.artifacts` corrects what is labelled here, over a whole recording
or one beat at a time.
"""

from __future__ import annotations

from collections.abc import MutableSequence, Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.rolling import Window, median, rolling, sorted_distinct

ALPHA = 5.2
QD_WINDOW_BEATS = 91
MEDIAN_WINDOW_BEATS = 11
C1 = 0.13
C2 = 0.17
MIN_THRESHOLD_MS = 1.0
PREMATURE_STEP = 0.2
# How far apart the intervals either side of a split one may be for the split to be read
# (:meth:`BeatClassifier._splits_the_one_before`). Slow breathing moves RR by up to 130 ms a
# beat (a 450-ms swing at 5.5/min), so three beats apart they can differ by a third: at 0.2
# an extra beat on the swing's steep side (between 1,084 and 887 ms) was left in, RMSSD
# 13-17 % high, in 5 of 40 simulated sessions at 5.5/min (4 at 6 and 4 at 6.5); at 0.4
# none. A missed beat or a pause beside (twice the other) stays outside it.
MAX_SPLIT_SIDES_DIFFERENCE = 0.4
# How far a split interval's two parts may sum from the rhythm around them. At 0.2 more of
# frequent ectopy's premature pairs were read as extra beats: MIT-BIH 208's SDNN error rose
# from +84 % (at 0.15) to +103 %, 233's RMSSD error from +328 % to +339 %.
SPLIT_SUM_TOLERANCE = 0.15
# A grid fits when this share of the intervals sit on it (a file's repaired values may not).
RESOLUTION_FIT_SHARE = 0.95



class ArtifactKind(IntEnum):
    """Label of one raw RR interval."""

    NORMAL = 0
    ECTOPIC = 1
    LONG = 2
    SHORT = 3
    MISSED = 4
    EXTRA = 5


# Plain ints for the per-beat loops: a member looked up on an IntEnum class goes through
# EnumType.__getattr__ on Python 3.11, which was a third of a 24-hour day's classification.
NORMAL, ECTOPIC, LONG, SHORT, MISSED, EXTRA = (int(kind) for kind in ArtifactKind)


@dataclass(frozen=True, slots=True)
class Normalised:
    """Per-beat quantities the classification reads (arrays in batch, lists when live)."""

    rr: Sequence[float]
    drrs: Sequence[float]
    mrrs: Sequence[float]
    median_rr: Sequence[float]
    th2: Sequence[float]


def rr_resolution_ms(rr_ms: Sequence[float]) -> float:
    """The step RR intervals were recorded in (their greatest common step), 0 if none.

    A Holter annotated at 128 Hz gives 7.8125-ms steps, MIT-BIH's 360 Hz 2.78 ms, a strap
    reporting whole ms 1 ms. The candidate step is the median gap between neighbouring
    distinct values (on a grid, most neighbours are one step apart); it is accepted when at
    least 95 % of the intervals lie on its multiples within a tenth of a step. Continuous
    values (a simulation) have no grid: 0.

    Examples
    --------
    >>> round(rr_resolution_ms(np.round(np.arange(90, 130) * 7.8125, 3)), 3)
    7.812
    >>> rr_resolution_ms(800 + 50 * np.sin(np.arange(200) / 7))
    0.0
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    distinct = sorted_distinct(np.round(rr, 3))
    if distinct.size < 3:
        return 0.0
    step = median(np.diff(distinct))
    if step < 0.1:
        return 0.0
    steps = np.round(rr / step)
    on_grid = np.abs(rr / step - steps) < 0.1
    if np.mean(on_grid) < RESOLUTION_FIT_SHARE:
        return 0.0
    # Neighbouring values were rounded (a file's 945.312 for 121 steps of 7.8125): the
    # least-squares step over all the values on the grid undoes that rounding.
    k, x = steps[on_grid], rr[on_grid]
    return float(np.dot(k, x) / np.dot(k, k))


def threshold_ms(qd_ms: ArrayLike, alpha: float, resolution_ms: float) -> NDArray[np.float64]:
    """The paper's ``alpha * QD`` threshold, on a grid of ``resolution_ms`` steps.

    Quartiles of values rounded to a grid snap to grid points: in a quiet stretch of a
    128-Hz Holter the quartile deviation of dRR collapses to 0 or one 7.8-ms step, and a
    threshold of ``alpha`` times that calls one- or two-step changes artifacts (NSR2DB
    nsr004: 1.1 % of a healthy day's beats corrected, quiet 5-minute stretches up to 23 %).
    One step is added to the quartile deviation in quadrature (rounding adds its own
    spread): where the spread is a few steps this is the threshold the unrounded beats
    would give, and where it is many steps (QD = 5 steps: +2 %) it changes nothing. With no
    grid, a 1-ms floor keeps a perfectly regular stretch (metronome, simulator) finite.

    Examples
    --------
    >>> threshold_ms(np.array([0.0, 7.8125, 40.0]), 5.2, 7.8125).round(1).tolist()
    [40.6, 57.5, 211.9]
    >>> threshold_ms(np.array([0.0, 10.0]), 5.2, 0.0).tolist()
    [1.0, 52.0]
    """
    return np.maximum(alpha * np.hypot(qd_ms, resolution_ms), MIN_THRESHOLD_MS)


def normalise(
    rr: NDArray[np.float64], window: Window, alpha: float, resolution_ms: float = 0.0
) -> Normalised:
    """The quantities the classification reads, for every interval of ``rr``: the two
    independent halves of the work (:func:`normalised_drr` and :func:`normalised_mrr`)."""
    return joined_normalised(rr, normalised_drr(rr, window, alpha, resolution_ms),
                             normalised_mrr(rr, window, alpha, resolution_ms))


def normalised_drr(rr: NDArray[np.float64], window: Window, alpha: float,
                   resolution_ms: float = 0.0) -> NDArray[np.float64]:
    """``dRRs``: successive differences over their rolling threshold."""
    drr = np.zeros_like(rr)
    drr[1:] = np.diff(rr)
    th1 = threshold_ms(rolling(drr, QD_WINDOW_BEATS, window, "qd"), alpha, resolution_ms)
    return drr / th1


MrrPart = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def normalised_mrr(rr: NDArray[np.float64], window: Window, alpha: float,
                   resolution_ms: float = 0.0) -> MrrPart:
    """``mRRs`` (departures from the rolling median over their rolling threshold), the
    rolling median and that threshold."""
    median_rr = rolling(rr, MEDIAN_WINDOW_BEATS, window, "median")
    mrr = rr - median_rr
    mrr = np.where(mrr < 0, 2.0 * mrr, mrr)
    th2 = threshold_ms(rolling(mrr, QD_WINDOW_BEATS, window, "qd"), alpha, resolution_ms)
    return mrr / th2, median_rr, th2


def joined_normalised(rr: NDArray[np.float64], drrs: NDArray[np.float64],
                      mrr_part: MrrPart) -> Normalised:
    """:func:`normalise`'s result from its two halves."""
    mrrs, median_rr, th2 = mrr_part
    return Normalised(rr=rr, drrs=drrs, mrrs=mrrs, median_rr=median_rr, th2=th2)


class BeatClassifier:
    """The paper's decision flow, one beat at a time, shared by batch and causal use.

    ``ectopic_step(i)`` tests the ectopic pattern centred on interval ``i`` and needs RR up
    to ``i+2``; ``longshort_step(i)`` needs RR up to ``i+3``. The order is
    ``ectopic_step(i+1)`` before ``longshort_step(i)``, so that a premature beat's short
    interval is seen as half of an ectopic pair before it can be called short. Indices past
    the known data read as 0 (no evidence of an artifact), so a batch run and a streaming
    run that flushes at the end agree.

    ``pairs[i] == 1`` marks intervals ``i`` and ``i+1`` as one correction unit (an ectopic
    pair, or an extra beat merged with the next interval).
    """

    def __init__(
        self, data: Normalised, labels: MutableSequence[int], pairs: MutableSequence[int]
    ) -> None:
        self.d = data
        self.labels = labels
        self.pairs = pairs

    @property
    def n(self) -> int:
        return len(self.labels)

    def _drrs(self, i: int) -> float:
        return float(self.d.drrs[i]) if 0 <= i < self.n else 0.0

    def step(self, i: int) -> None:
        """Everything decided at interval ``i``: ``ectopic_step(i+1)``, ``longshort_step(i)``."""
        if i + 1 < self.n:
            self.ectopic_step(i + 1)
        self.longshort_step(i)

    def _is_ectopic_centre(self, i: int) -> bool:
        s11 = self._drrs(i)
        if abs(s11) <= 1.0:
            return False
        neighbours = (self._drrs(i - 1), self._drrs(i + 1))
        s12 = max(neighbours) if s11 > 0 else min(neighbours)
        return (s11 > 1.0 and s12 < -C1 * s11 - C2) or (s11 < -1.0 and s12 > -C1 * s11 + C2)

    def ectopic_step(self, i: int) -> None:
        if self.labels[i] != NORMAL or not self._is_ectopic_centre(i):
            return
        # dRR[i] reads RR[i-1]; when that interval is already an artifact the pattern at i
        # is its echo, not a new misplaced beat.
        if i > 0 and self.labels[i - 1] != NORMAL:
            return
        # A premature beat trips both the positive-negative-positive pattern centred on its
        # own short interval and the negative-positive-negative one centred on its pause.
        # Premature beats are far commoner than late ones, so the latter wins.
        if i + 1 < self.n and self._drrs(i) < 0 and self._is_ectopic_centre(i + 1):
            return
        # Centred on a drop, the pattern pairs a long interval with the short one after it (a
        # late beat). A long one that holds two or more of the intervals around it is a
        # missed beat, and a short one that sums with the next to the rhythm around them is
        # an extra beat (at a slow breath's top, the long one is the swing): both are left
        # to the long/short step.
        if self._drrs(i) < 0 and (self._holds_whole_beats(i - 1)
                                  or self._splits_the_one_before(i)):
            return
        # Centred on a rise, the pattern pairs a premature interval with its pause; when the
        # "premature" one keeps the rhythm before it and the "pause" holds two beats, it is a
        # missed beat on a slow breath's falling side.
        if self._drrs(i) > 0 and self._before_missed(i - 1):
            return
        self.labels[i] = ECTOPIC
        if i > 0:
            self.labels[i - 1] = ECTOPIC
            self.pairs[i - 1] = 1

    def _holds_whole_beats(self, j: int) -> bool:
        """Whether interval ``j`` is two or more of the intervals either side of it, each
        within :data:`PREMATURE_STEP` of their mean: a missed beat. On a slow breath's
        rising side the interval after a missed beat is far shorter than the missed one,
        and dRR showed a late beat (long, then short) where there was none: the pair was
        averaged rather than the long interval split (simulated resonance breathing
        swinging 600-700 ms: RMSSD 5-7.5 % high in 5 of 40 sessions at 5.5/min)."""
        if not (j > 0 and j + 1 < self.n):
            return False
        rr = self.d.rr
        around = (rr[j - 1] + rr[j + 1]) / 2.0
        beats = int(round(rr[j] / around))
        return beats >= 2 and abs(rr[j] / beats - around) < PREMATURE_STEP * around

    def _before_missed(self, j: int) -> bool:
        """Whether interval ``j`` keeps the rhythm before it (changes by under
        :data:`PREMATURE_STEP`) and the next holds two or more beats: what looks like a
        premature interval and its pause is a missed beat on a slow breath's falling side."""
        rr = self.d.rr
        return (j > 0 and abs(rr[j] - rr[j - 1]) < PREMATURE_STEP * rr[j - 1]
                and self._holds_whole_beats(j + 1))

    def longshort_step(self, i: int) -> None:
        if self.labels[i] != NORMAL:
            return
        if abs(self._drrs(i)) > 1.0 or abs(self.d.mrrs[i]) > 3.0:
            # dRR alone decides it, so it holds whatever the labels become below.
            before_premature = self._before_premature(i, i)
            if not before_premature:
                self._classify_long_short(i)
            j = i + 1
            if (j < self.n and abs(self._drrs(j)) < abs(self._drrs(j + 1))
                    and self.labels[j] == NORMAL and not self._before_premature(j, i)):
                self._classify_long_short(j)
            if before_premature:
                return
        if self.labels[i] == NORMAL:
            self._dense_ectopic_step(i)

    def _dense_ectopic_step(self, i: int) -> None:
        """A premature beat the thresholds let through because ectopy is frequent.

        Bigeminy and trigeminy widen the 91-beat quartile deviations until nothing stands
        out. Seen from the rhythm instead, a premature beat is an interval at least
        :data:`PREMATURE_STEP` shorter than the mean of it and the next (so the next, its
        compensatory pause, is as much longer) and than the interval before it: the 20 %
        step beyond which an interval is not sinus rhythm (Kleiger et al. 1987). The pair
        is corrected as an ectopic pair, to its mean. An interval that holds two or more of
        the intervals either side is a missed beat; one that keeps the rhythm before a
        missed beat is not a premature one.

        The same rules read a beat whose dRR crossed its threshold with no long or short
        pattern: on a swing of 550-690 ms with slow breathing, a premature beat's pause or
        a missed beat steps up by just over the threshold and back by just under it, and
        was left in (RMSSD 5-11 % high in 5 of 200 simulated sessions). Needs two beats of
        look-ahead.
        """
        if not (i > 0 and i + 1 < self.n and self.labels[i + 1] == NORMAL):
            return
        rr = self.d.rr
        mean = (rr[i] + rr[i + 1]) / 2.0
        if self._holds_whole_beats(i):
            self.labels[i] = MISSED
            return
        if self._splits_the_one_before(i):
            kind = EXTRA
        elif self._before_missed(i):
            return
        elif ((rr[i] < (1.0 - PREMATURE_STEP) * mean
               and rr[i - 1] > (1.0 + PREMATURE_STEP) * rr[i])
              or self._straddles_the_rhythm(i)):
            kind = ECTOPIC
        else:
            return
        self.labels[i] = self.labels[i + 1] = kind
        self.pairs[i] = 1

    def _straddles_the_rhythm(self, i: int) -> bool:
        """Whether interval ``i`` and the next are a premature beat and its pause seen from
        the rhythm around them: the first :data:`PREMATURE_STEP` shorter than the mean of the
        intervals either side of the pair, the second as much longer, together within that
        step of two of it. At the top of a large slow-breath swing the premature interval is
        hardly shorter than the one before it, so neither dRR nor the step from the one
        before shows it, and the pause stays under an mRR threshold the swing has widened
        (simulated breathing at 6/min swinging 590-690 ms: RMSSD 5-13 % high in 7 of 40
        sessions, 3 after). It catches frequent ectopy too: MIT-BIH 106's sensitivity 71.9 ->
        80.4 %, the five records under 10 % burden unchanged, specificity unchanged."""
        if not (i > 0 and i + 2 < self.n):
            return False
        rr = self.d.rr
        around = (rr[i - 1] + rr[i + 2]) / 2.0
        return (rr[i] < (1.0 - PREMATURE_STEP) * around
                and rr[i + 1] > (1.0 + PREMATURE_STEP) * around
                and abs(rr[i] + rr[i + 1] - 2.0 * around) < PREMATURE_STEP * 2.0 * around)

    def _is_pause_centre(self, i: int) -> bool:
        """A negative-positive-negative pattern centred on ``i``: a premature beat's pause."""
        return i < self.n and self._drrs(i) > 0 and self._is_ectopic_centre(i)

    def _before_premature(self, j: int, i: int) -> bool:
        """Whether ``j`` is a premature interval, or the one before it, that the coming ectopic
        step will take: its long/short evidence is the premature drop itself."""
        # For the look-ahead candidate (j = i+1) only j+1 can be checked within 3 beats.
        return self._is_pause_centre(j + 1) or (j == i and self._is_pause_centre(j + 2))

    def _classify_long_short(self, j: int) -> None:
        s21 = self._drrs(j)
        pair = (self._drrs(j + 1), self._drrs(j + 2))
        s22 = min(pair) if s21 >= 0 else max(pair)
        is_long = s21 > 1.0 and s22 < -1.0
        is_short = s21 < -1.0 and s22 > 1.0
        if not (is_long or is_short or abs(self.d.mrrs[j]) > 3.0):
            if self._splits_the_one_before(j):
                self.labels[j] = self.labels[j + 1] = EXTRA
                self.pairs[j] = 1
            return
        if not (is_long or is_short) and self._is_sinus_step(j):
            return
        rr, med = self.d.rr, self.d.median_rr[j]
        paired = self._paired_kind(j, is_short)
        if paired is not None:
            self.labels[j] = self.labels[j + 1] = paired
            self.pairs[j] = 1
        elif is_long and abs(rr[j] / max(2, int(round(rr[j] / med))) - med) < self.d.th2[j]:
            self.labels[j] = MISSED
        else:
            self.labels[j] = LONG if rr[j] > med else SHORT

    def _is_sinus_step(self, j: int) -> bool:
        """Whether interval ``j``, far from the 11-beat median but with no long or short
        pattern in dRR, is the rhythm moving rather than one interval out of it: it
        changes by under :data:`PREMATURE_STEP` from the interval before and from the one
        after, the bound within which successive intervals are taken as sinus rhythm
        (Kleiger et al. 1987; the usual Holter NN criterion). A missed, extra or misplaced
        beat breaks that bound on one side at least; a sigh's or a slow breath's swing
        does not, and the median lags it (NSR2DB nsr004: a clean night stretch's 18 % step,
        then back over 8 beats, was called long and RMSSD moved 2.9 %). Needs one beat of
        look-ahead."""
        if not (j > 0 and j + 1 < self.n):
            return False
        rr = self.d.rr
        return (abs(rr[j] - rr[j - 1]) < PREMATURE_STEP * rr[j - 1]
                and abs(rr[j + 1] - rr[j]) < PREMATURE_STEP * rr[j])

    def _splits_the_one_before(self, j: int) -> bool:
        """Whether intervals ``j`` and ``j+1`` are one interval split by an extra beat, seen
        from the rhythm around them: both 20 % shorter than the mean of the intervals either
        side of the pair (which agree within :data:`MAX_SPLIT_SIDES_DIFFERENCE`), together
        within 15 % of it. Slow breathing swings RR by 300 ms a breath, so the dRR pattern
        of an extra beat (short, then back up) can stay under the widened thresholds, and an
        11-beat median lags the swing. At the swing's top the split interval is longer than
        both around it: 7-11 % over their mean on a 550-690 ms swing, where 10 % was the
        bound (RMSSD up to 5.7 % high)."""
        if not (j > 0 and j + 2 < self.n and self.labels[j - 1] == NORMAL
                and self.labels[j + 1] == NORMAL):
            return False
        rr = self.d.rr
        around = (rr[j - 1] + rr[j + 2]) / 2.0
        if abs(rr[j - 1] - rr[j + 2]) > MAX_SPLIT_SIDES_DIFFERENCE * around:
            return False  # no steady rhythm either side (a missed beat, a pause) to read by
        short = (1.0 - PREMATURE_STEP) * around
        return rr[j] < short and rr[j + 1] < short and abs(rr[j] + rr[j + 1] - around) < (
            SPLIT_SUM_TOLERANCE * around)

    def _paired_kind(self, j: int, is_short: bool) -> int | None:
        """What a short interval ``j`` is together with the next one, if anything: an extra
        beat (the two sum to one usual interval), or a premature beat with its compensatory
        pause (short then long, summing to two usual intervals).

        The second is the ectopic pattern seen from the sinus rhythm rather than from dRR:
        when ectopy is frequent, the dRR thresholds widen until the pause no longer stands
        out, and the premature interval alone was called short, its pause left in the
        series (MIT-BIH 116: RMSSD 57 % over the truth).
        """
        rr, med, th2 = self.d.rr, self.d.median_rr[j], self.d.th2[j]
        if not (j + 1 < self.n and self.labels[j + 1] == NORMAL and rr[j] < med):
            return None
        if is_short and abs(rr[j] + rr[j + 1] - med) < th2:
            return EXTRA
        if rr[j + 1] > med and abs(rr[j] + rr[j + 1] - 2.0 * med) < th2:
            return ECTOPIC
        return None

def classify(
    rr: NDArray[np.float64], window: Window, alpha: float, resolution_ms: float | None = None,
    normalised: Normalised | None = None,
) -> BeatClassifier:
    """Every interval of a whole series classified; the labels and pairs are on the result.

    ``resolution_ms`` is the RR step of the recording; ``None`` estimates it from ``rr``.
    ``normalised``: :func:`normalise` of the same arguments, if computed already.
    """
    if resolution_ms is None:
        resolution_ms = rr_resolution_ms(rr)
    n = normalise(rr, window, alpha, resolution_ms) if normalised is None else normalised
    # Steps that can change nothing whatever the labels are skipped: the same labels at a
    # tenth of the loop's cost on a 24-hour day (issue 27).
    steps = np.flatnonzero(_may_act(n))
    # The loop reads some 30 single elements a step, which numpy boxes one at a time (a list
    # gives them for less): lists when the steps are many, the arrays as they are when few (a
    # healthy day's 1,000 steps read fewer elements than turning 5 x 100,000 into lists).
    return _stepped(n, steps, as_lists=steps.size * 30 > rr.size)


def _stepped(n: Normalised, steps: NDArray[np.intp], as_lists: bool) -> BeatClassifier:
    """The classifier after ``steps``, reading ``n`` from lists or from arrays: the same
    doubles either way, so the same labels."""
    columns = [np.asarray(c, dtype=np.float64) for c in (n.rr, n.drrs, n.mrrs, n.median_rr,
                                                         n.th2)]
    data = Normalised(*(c.tolist() if as_lists else c for c in columns))
    classifier = BeatClassifier(data, [NORMAL] * columns[0].size, [0] * columns[0].size)
    for i in steps.tolist():
        classifier.step(i)
    return classifier


def _may_act(data: Normalised) -> NDArray[np.bool_]:
    """The intervals ``i`` whose :meth:`BeatClassifier.step` may change a label or a pair.

    A step acts only through ``ectopic_step(i+1)``, which needs ``|dRRs[i+1]| > 1``, or
    ``longshort_step(i)``: beyond ``|dRRs[i]| > 1`` or ``|mRRs[i]| > 3`` it acts only
    through ``_dense_ectopic_step(i)``, whose rules compare ``RR[i-1..i+2]`` alone.
    Labels only ever stop a step, so these conditions, tested from the arrays with a
    margin for rounding, are a superset of the steps that act: visiting just those in
    order gives the loop's labels exactly.
    """
    rr = np.asarray(data.rr, dtype=np.float64)
    drrs = np.abs(np.asarray(data.drrs, dtype=np.float64))
    mrrs = np.abs(np.asarray(data.mrrs, dtype=np.float64))
    size = rr.size
    act = (drrs > 1.0) | (mrrs > 3.0)
    act[:-1] |= drrs[1:] > 1.0
    slack = 1.0 + 1e-9  # the rules' products and sums, rounded either way, stay inside it
    if size >= 3:
        i = np.arange(1, size - 1)
        mean = (rr[i] + rr[i + 1]) / 2.0
        premature = ((rr[i] < (1.0 - PREMATURE_STEP) * mean * slack)
                     & (rr[i - 1] * slack > (1.0 + PREMATURE_STEP) * rr[i]))
        act[i] |= premature
        act[i] |= rr[i] * slack >= 0.75 * (rr[i - 1] + rr[i + 1])
    if size >= 4:
        j = np.arange(1, size - 2)
        around = (rr[j - 1] + rr[j + 2]) / 2.0
        short = (1.0 - PREMATURE_STEP) * around * slack
        act[j] |= (rr[j] < short) & (rr[j + 1] < short)
        act[j] |= (rr[j] < short) & (rr[j + 1] * slack > (1.0 + PREMATURE_STEP) * around)
    return act
