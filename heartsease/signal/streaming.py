"""The streaming analyzer: HRV, coherence and breathing while the beats arrive.

Fed one RR interval at a time, :class:`StreamingAnalyzer`

1. passes it through the causal artifact detector (decisions three beats later),
2. for every decided beat, updates running sums over the last ``time_window_s`` seconds
   of corrected beats and emits :class:`BeatMetrics` (the time-domain measures of
   :func:`heartsease.signal.hrv.time_domain` over that window, at O(1) cost per beat),
3. every ``update_s`` seconds of beat time, emits :class:`SpectralMetrics`: coherence,
   breathing rate and pacer adherence over the last 64 s and LF/HF over the last
   ``spectral_window_s`` seconds, equal to the batch functions on the same beats, and the
   breathing rate a person is shown: the last 2 minutes read by a recording's rules
   (:func:`~heartsease.signal.breathing.breathing_from_mean_spectrum`) from the 64-s
   windows' spectra already made, given once it agrees with the reading 30 s before,
4. keeps the last few seconds of corrected beats on the caller's clock, from which it
   serves the heart rate and RMSSD of a window of any length up to ``recent_s``
   (:meth:`StreamingAnalyzer.recent`) and the share of beats that were corrected
   (:meth:`StreamingAnalyzer.artifact_share`).

It has no clock: its own time is the cumulative sum of the beats it was given, and the
caller may stamp each beat with the time it has for it (``push``'s ``at_s``). After a gap
(link loss) the caller starts a new analyzer rather than join two stretches of heartbeat
with invented beats.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from heartsease.signal.artifacts import ArtifactKind, CausalArtifactDetector, DecidedBeat
from heartsease.signal.breathing import (
    RECORDING_STEP_S,
    BreathingEstimate,
    breathing_from_mean_spectrum,
    breathing_from_spectrum,
    pacer_adherence_from_spectrum,
    search_band_hz,
)
from heartsease.signal.coherence import COHERENCE_UPDATE_S, Coherence, coherence_from_spectrum
from heartsease.signal.hrv import (
    RESAMPLING_HZ,
    FrequencyDomainHRV,
    TachogramSpectrum,
    TimeDomainHRV,
    beat_times_s,
    frequency_domain_from_psd,
    resampling_grid,
    welch_psd_of_samples,
)
from heartsease.signal.interpolation import NotAKnotSpline
from heartsease.signal.spectrum import (
    RECORDING_WINDOW_MAX_HZ,
    SHORT_WINDOW_S,
    Spectrum,
    last_window_grid,
    periodogram,
    window_bins,
)

TIME_WINDOW_S = 60.0
SPECTRAL_WINDOW_S = 120.0
# Running sums drift by ~1e-16 relative per beat; a rebuild a minute keeps them exact to
# far below what any display or test can see.
REBUILD_EVERY_UPDATES = 12
# Recent windows: a breath at 3/min at most (the slowest breathing the heart can show here),
# and the share of corrected beats over 30 s.
RECENT_S = 20.0
ARTIFACT_WINDOW_S = 30.0
# The breathing rate shown: the 2-minute windows in which issue 26 measures the recording
# rules right or absent. A 64-s window's highest peak took a Mayer wave for the breath in
# 14,929 of 15,120 simulated updates (bench/honest_analysis.py); one reading can still
# catch a change of pace half-way, so it is given only when the reading 30 s before agrees
# within 1 breath/min.
SHOWN_BREATHING_S = 120.0
BREATHING_AGREEMENT_S = 30.0
BREATHING_AGREEMENT_BPM = 1.0
_NO_BREATHING = BreathingEstimate(None, 0.0, None)
# The bins a recording's windows keep (:func:`~heartsease.signal.spectrum.recording_window_psds`).
_RECORDING_BINS = window_bins(int(round(SHORT_WINDOW_S * RESAMPLING_HZ)), RESAMPLING_HZ,
                              RECORDING_WINDOW_MAX_HZ)[1]


@dataclass(frozen=True, slots=True)
class BeatMetrics:
    """One decided beat and the time-domain HRV of the window ending at it."""

    index: int
    t_s: float
    at_s: float  # the raw beat's time on the caller's clock (``t_s`` when it gave none)
    raw_rr_ms: float
    rr_ms: float
    artifact: ArtifactKind
    hrv: TimeDomainHRV | None


@dataclass(frozen=True, slots=True)
class SpectralMetrics:
    """The 5-second update: coherence, breathing, pacer adherence, LF and HF.

    ``breathing`` is the rate a person is shown (the last 2 minutes, read by a recording's
    rules, or ``None``); ``window_breathing`` the last 64 s's strongest rhythm, which the
    state classifier compares with the person's own at rest."""

    t_s: float
    at_s: float  # the caller's time of the beat at which it was made
    coherence: Coherence | None
    breathing: BreathingEstimate
    window_breathing: BreathingEstimate
    pacer_adherence: float | None
    frequency: FrequencyDomainHRV | None


class _RunningTimeDomain:
    """Sums over a sliding window of RR values from which the time-domain HRV follows.

    Values are kept relative to a reference near the window's mean, so that the variance
    from sums does not lose precision; the sums are rebuilt exactly on :meth:`rebuild`.
    """

    def __init__(self) -> None:
        self.rr: deque[float] = deque()
        self.t: deque[float] = deque()
        self.rebuild()

    def rebuild(self) -> None:
        rr = np.fromiter(self.rr, dtype=np.float64, count=len(self.rr))
        self.ref = float(rr.mean()) if rr.size else 0.0
        x = rr - self.ref
        d = np.diff(rr)
        s = x[:-1] + x[1:]
        self.sx, self.sxx = float(x.sum()), float((x * x).sum())
        self.sd, self.sdd = float(d.sum()), float((d * d).sum())
        self.ss, self.sss = float(s.sum()), float((s * s).sum())
        self.n50 = int(np.count_nonzero(np.abs(d) > 50.0))
        self.n20 = int(np.count_nonzero(np.abs(d) > 20.0))

    def append(self, rr: float, t: float) -> None:
        if self.rr:
            self._pair(self.rr[-1], rr, +1)
        self.rr.append(rr)
        self.t.append(t)
        x = rr - self.ref
        self.sx += x
        self.sxx += x * x

    def evict_before(self, t_start: float) -> None:
        while self.t and self.t[0] < t_start:
            rr = self.rr.popleft()
            self.t.popleft()
            if self.rr:
                self._pair(rr, self.rr[0], -1)
            x = rr - self.ref
            self.sx -= x
            self.sxx -= x * x

    def _pair(self, a: float, b: float, sign: int) -> None:
        d = b - a
        s = (a - self.ref) + (b - self.ref)
        self.sd += sign * d
        self.sdd += sign * d * d
        self.ss += sign * s
        self.sss += sign * s * s
        self.n50 += sign * (abs(d) > 50.0)
        self.n20 += sign * (abs(d) > 20.0)

    def metrics(self) -> TimeDomainHRV | None:
        n = len(self.rr)
        if n < 3:
            return None
        m = n - 1
        mean_rr = self.ref + self.sx / n
        return TimeDomainHRV(
            n_beats=n,
            mean_rr_ms=mean_rr,
            mean_hr_bpm=60000.0 / mean_rr,
            sdnn_ms=_std(self.sx, self.sxx, n),
            rmssd_ms=math.sqrt(max(self.sdd, 0.0) / m),
            pnn50_pct=100.0 * self.n50 / m,
            pnn20_pct=100.0 * self.n20 / m,
            sd1_ms=_std(self.sd, self.sdd, m) / math.sqrt(2.0),
            sd2_ms=_std(self.ss, self.sss, m) / math.sqrt(2.0),
        )


@dataclass(frozen=True, slots=True)
class RecentWindow:
    """Heart rate and RMSSD of the corrected beats in a recent window."""

    n_beats: int
    mean_hr_bpm: float | None  # None without beats
    rmssd_ms: float | None  # None below two beats


def _std(total: float, total_sq: float, n: int) -> float:
    """Sample standard deviation (ddof=1) from a sum and a sum of squares."""
    return math.sqrt(max(total_sq - total * total / n, 0.0) / (n - 1))


class StreamingAnalyzer:
    """Per-beat and every-5-seconds HRV of a live beat stream.

    Parameters
    ----------
    time_window_s : window of the per-beat time-domain measures (60 s: the shortest over
        which RMSSD is stable, Munoz et al. 2015).
    spectral_window_s : window of LF and HF (120 s: the Task Force's minimum for LF).
    update_s : spacing of spectral updates in beat time (5 s, as HeartMath updates coherence).
    pacer_rate_bpm : the breath pacer's rate, for pacer adherence; may change at any time.
    recent_s : how long corrected beats are kept for :meth:`recent`, on the caller's clock.
    artifact_window_s : how long their labels are kept for :meth:`artifact_share`.

    Examples
    --------
    >>> live = StreamingAnalyzer()
    >>> rr = 1000 + 60 * np.sin(2 * np.pi * 0.1 * np.arange(200))
    >>> beats, spectra = [], []
    >>> for x in rr:
    ...     b, s = live.push(x)
    ...     beats += b; spectra += s
    >>> len(beats), round(spectra[-1].breathing.rate_bpm, 1)
    (197, 6.0)
    >>> window = live.recent(beats[-1].at_s - 10.0)
    >>> window.n_beats, round(window.mean_hr_bpm, 1)
    (10, 60.0)
    """

    def __init__(
        self,
        time_window_s: float = TIME_WINDOW_S,
        spectral_window_s: float = SPECTRAL_WINDOW_S,
        update_s: float = COHERENCE_UPDATE_S,
        pacer_rate_bpm: float | None = None,
        recent_s: float = RECENT_S,
        artifact_window_s: float = ARTIFACT_WINDOW_S,
    ) -> None:
        self.time_window_s = time_window_s
        self.spectral_window_s = spectral_window_s
        self.update_s = update_s
        self.pacer_rate_bpm = pacer_rate_bpm
        self.recent_s = recent_s
        self.artifact_window_s = artifact_window_s
        self._detector = CausalArtifactDetector()
        self._running = _RunningTimeDomain()
        self._spectral_rr: deque[float] = deque()
        self._spectral_t: deque[float] = deque()
        # The caller's times of the beats pushed but not yet decided (None: none given).
        self._pending_at: deque[float | None] = deque()
        # Recent beats as plain numbers, not an object each: a live service holds these for
        # every session, and its garbage collector walks what is held.
        self._recent_at: deque[float] = deque()
        self._recent_rr: deque[float] = deque()
        self._labels_at: deque[float] = deque()
        self._labels_corrected: deque[bool] = deque()
        self._t_s = 0.0
        self._next_update_s = update_s
        self._updates = 0
        # The 64-s windows of the last 2 minutes: (end in beat time, PSD to 0.55 Hz, coherence
        # ratio); and the 2-minute readings of the last 30 s, (time, rate).
        self._window_spectra: deque[tuple[float, np.ndarray, float]] = deque()
        self._breathing_readings: deque[tuple[float, float | None]] = deque()
        self._shown = _NO_BREATHING

    def push(
        self, rr_ms: float, at_s: float | None = None
    ) -> tuple[list[BeatMetrics], list[SpectralMetrics]]:
        """Add one raw RR interval, ending at ``at_s`` on the caller's clock when it has one;
        return what it made final."""
        self._pending_at.append(at_s)
        return self._consume(self._detector.push(rr_ms))

    def flush(self) -> tuple[list[BeatMetrics], list[SpectralMetrics]]:
        """Decide the last beats (end of a session or before a gap)."""
        return self._consume(self._detector.flush())

    def spectral_window_rr(self) -> np.ndarray:
        """The corrected beats the next spectral update reads: the last ``spectral_window_s``
        seconds (at least 2 minutes) plus two beats before, so no spline end is
        extrapolated."""
        return np.fromiter(self._spectral_rr, dtype=np.float64, count=len(self._spectral_rr))

    @property
    def kept_raw_beats(self) -> int:
        """How many raw beats the artifact detector holds (a bounded number)."""
        return self._detector.kept_beats

    def recent(self, after_s: float) -> RecentWindow:
        """Heart rate and RMSSD of the kept corrected beats later than ``after_s`` on the
        caller's clock (at most ``recent_s`` before the newest beat)."""
        rr = np.array([rr for at, rr in zip(self._recent_at, self._recent_rr, strict=True)
                       if at > after_s])
        return RecentWindow(
            n_beats=int(rr.size),
            mean_hr_bpm=60000.0 / float(rr.mean()) if rr.size else None,
            rmssd_ms=float(np.sqrt(np.mean(np.diff(rr) ** 2))) if rr.size >= 2 else None,
        )

    def artifact_share(self, after_s: float) -> float | None:
        """The share of the corrected beats later than ``after_s`` (at most
        ``artifact_window_s`` before the newest beat) that an artifact made; ``None``
        without beats."""
        labels = [corrected for at, corrected
                  in zip(self._labels_at, self._labels_corrected, strict=True) if at > after_s]
        return sum(labels) / len(labels) if labels else None

    def _consume(
        self, decided: list[DecidedBeat]
    ) -> tuple[list[BeatMetrics], list[SpectralMetrics]]:
        beats: list[BeatMetrics] = []
        spectra: list[SpectralMetrics] = []
        for beat in decided:
            at_s = self._pending_at.popleft()  # beats are decided once each, in order
            for rr in beat.corrected_rr_ms:
                beats.append(self._add_beat(beat, rr, at_s))
                if self._t_s >= self._next_update_s:
                    spectra.append(self._spectral(beats[-1].at_s))
                    self._next_update_s += self.update_s * (
                        1 + (self._t_s - self._next_update_s) // self.update_s
                    )
        if beats:
            self._forget_before(beats[-1].at_s)
        return beats, spectra

    def _add_beat(self, beat: DecidedBeat, rr: float, at_s: float | None) -> BeatMetrics:
        self._t_s += rr / 1000.0
        if at_s is None:
            at_s = self._t_s
        self._running.append(rr, self._t_s)
        self._running.evict_before(self._t_s - self.time_window_s)
        self._spectral_rr.append(rr)
        self._spectral_t.append(self._t_s)
        span_s = max(self.spectral_window_s, SHOWN_BREATHING_S)
        while len(self._spectral_t) > 2 and self._spectral_t[2] < self._t_s - span_s:
            self._spectral_rr.popleft()
            self._spectral_t.popleft()
        self._recent_at.append(at_s)
        self._recent_rr.append(rr)
        self._labels_at.append(at_s)
        self._labels_corrected.append(beat.kind is not ArtifactKind.NORMAL)
        return BeatMetrics(
            index=beat.index,
            t_s=self._t_s,
            at_s=at_s,
            raw_rr_ms=beat.raw_rr_ms,
            rr_ms=rr,
            artifact=beat.kind,
            hrv=self._running.metrics(),
        )

    def _forget_before(self, newest_at_s: float) -> None:
        """Drop the recent beats and labels that no window can reach any more."""
        while self._recent_at and self._recent_at[0] < newest_at_s - self.recent_s:
            self._recent_at.popleft()
            self._recent_rr.popleft()
        while self._labels_at and self._labels_at[0] < newest_at_s - self.artifact_window_s:
            self._labels_at.popleft()
            self._labels_corrected.popleft()

    def _spectral(self, at_s: float) -> SpectralMetrics:
        """The batch functions' results on :meth:`spectral_window_rr`, from one spline.

        ``coherence``, ``breathing_rate``, ``pacer_adherence`` and ``frequency_domain`` each
        resample the same beats; here the spline is built once and read on both grids.
        """
        self._updates += 1
        if self._updates % REBUILD_EVERY_UPDATES == 0:
            self._running.rebuild()  # bound floating-point drift of the running sums
        rr = self.spectral_window_rr()
        coherence = adherence = None
        breathing = window_breathing = _NO_BREATHING
        frequency = None
        if rr.size >= 4:
            t = beat_times_s(rr)
            short_grid = last_window_grid(t, SHORT_WINDOW_S)
            long_grid = resampling_grid(t) if t[-1] - t[0] >= self.spectral_window_s else None
            grids = [g for g in (short_grid, long_grid) if g is not None]
            spline = NotAKnotSpline(t, rr)
            values = spline(np.concatenate(grids)) if grids else None
            if short_grid is not None:
                spectrum = periodogram(values[: short_grid.size])
                coherence = coherence_from_spectrum(spectrum)
                band = search_band_hz(rr, SHORT_WINDOW_S)
                window_breathing = breathing_from_spectrum(spectrum, band)
                breathing = self._shown_breathing(spectrum, coherence.coherence_ratio, rr, t,
                                                  spline)
                if self.pacer_rate_bpm is not None:
                    adherence = pacer_adherence_from_spectrum(
                        spectrum, band, self.pacer_rate_bpm, SHORT_WINDOW_S
                    )
            if long_grid is not None:
                f, psd = welch_psd_of_samples(values[values.size - long_grid.size :])
                frequency = frequency_domain_from_psd(f, psd)
        return SpectralMetrics(
            t_s=self._t_s,
            at_s=at_s,
            coherence=coherence,
            breathing=breathing,
            window_breathing=window_breathing,
            pacer_adherence=adherence,
            frequency=frequency,
        )

    def _shown_breathing(
        self, spectrum: Spectrum, coherence_ratio: float, rr: np.ndarray, t: np.ndarray,
        spline: NotAKnotSpline,
    ) -> BreathingEstimate:
        """The last 2 minutes' breathing rate, read by a recording's rules from the mean of
        the 64-s windows' spectra already made and the tachogram from ``spline`` (through
        ``rr`` at ``t``), every :data:`RECORDING_STEP_S` (between, the last reading's),
        given when the reading 30 s before agrees."""
        windows = self._window_spectra
        # A copy of the bins read: a view would hold the whole spectrum for each session.
        windows.append((self._t_s, spectrum.psd[:_RECORDING_BINS].copy(), coherence_ratio))
        while windows[0][0] < self._t_s - (SHOWN_BREATHING_S - SHORT_WINDOW_S):
            windows.popleft()
        readings = self._breathing_readings
        if t[-1] - t[0] < SHOWN_BREATHING_S:
            return _NO_BREATHING
        if readings and self._t_s - readings[-1][0] < RECORDING_STEP_S - self.update_s / 2:
            return self._shown
        # The beats of the last 2 minutes and two before, as :meth:`spectral_window_rr` keeps.
        first = max(int(np.searchsorted(t, t[-1] - SHOWN_BREATHING_S)) - 2, 0)
        mean = Spectrum(spectrum.f_hz[:_RECORDING_BINS],
                        sum(w[1] for w in windows) / len(windows))
        estimate = breathing_from_mean_spectrum(
            mean, rr[first:], np.array([w[2] for w in windows]),
            lambda: TachogramSpectrum.of_samples(spline(resampling_grid(t[first:]))))
        earlier = None
        while readings and readings[0][0] <= self._t_s - BREATHING_AGREEMENT_S:
            earlier = readings.popleft()
        if earlier is not None:
            readings.appendleft(earlier)
        readings.append((self._t_s, estimate.rate_bpm))
        agreed = (earlier is not None and earlier[1] is not None
                  and estimate.rate_bpm is not None
                  and abs(estimate.rate_bpm - earlier[1]) <= BREATHING_AGREEMENT_BPM)
        self._shown = estimate if agreed else _NO_BREATHING
        return self._shown
