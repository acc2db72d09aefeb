"""The analysis of a whole RR recording, as ``heartsease analyze`` reports it.

Artifacts are corrected first (Lipponen & Tarvainen, centred windows); every measure is
computed on the corrected series. Coherence is the mean of the 64-s coherence ratios
updated every 5 s over the recording (as a HeartMath session reports its average), and
``peak_hz`` is the frequency of the highest peak of the recording's Welch spectrum within
coherence's search band (0.04-0.26 Hz): the dominant slow rhythm. The figures of a Kubios HRV
report (:mod:`heartsease.signal.kubios_report`) come with Kubios' options; a recording of half
an hour or more also gets the Task Force long-term measures and the 5-minute segment table.

Intervals no heart makes (:mod:`heartsease.signal.gaps`) split the series: each part is
corrected on its own and the measures are taken over the parts joined. Every analysis says
whether its HRV can be read (:mod:`heartsease.signal.quality`).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import NamedTuple, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from heartsease.signal.ar_spectrum import ARModel, ar_models_of_samples_many
from heartsease.signal.artifacts import ArtifactCorrection, ArtifactKind
from heartsease.signal.breathing import (
    BREATHING_WINDOW_S,
    RECORDING_STEP_S,
    BreathingEstimate,
    breathing_from_mean_spectrum,
    breathing_rate_over_recording,
)
from heartsease.signal.coherence import (
    COHERENCE_UPDATE_S,
    COHERENCE_WINDOW_S,
    PEAK_SEARCH_HZ,
    TOTAL_BAND_HZ,
    coherence_ratios,
)
from heartsease.signal.detrend import DEFAULT_LAMBDA, smoothness_priors_trends
from heartsease.signal.gaps import RRGap, correct_around_gaps, find_gaps
from heartsease.signal.hrv import (
    RESAMPLING_HZ,
    FrequencyDomainHRV,
    TimeDomainHRV,
    beat_times_s,
    frequency_domain_from_psd,
    peak_frequency,
    resample_many,
    resampling_grid,
    time_domain,
    welch_psd,
    welch_psd_of_samples,
)
from heartsease.signal.interpolation import FloatArray, NotAKnotSpline
from heartsease.signal.kubios_report import (
    FIGURE_KEYS,
    KubiosOptions,
    detrended,
    kubios_figures,
)
from heartsease.signal.kubios_report import (
    MIN_BEATS_FOR_SPECTRUM as MIN_BEATS_FOR_AR,
)
from heartsease.signal.long_term import (
    LONG_RECORDING_S,
    SEGMENT_S,
    LongTermHRV,
    long_term,
    segment_bounds,
)
from heartsease.signal.nonlinear import DFA_LONG_BEATS, DFA_SHORT_BEATS, dfa_alphas_many
from heartsease.signal.psd import periodograms_below
from heartsease.signal.quality import Quality, assess_quality
from heartsease.signal.spectrum import (
    RECORDING_WINDOW_MAX_HZ,
    Spectrum,
    WindowBatch,
    recording_window_batches,
    recording_window_psds,
    window_bins,
    window_samples,
)
from heartsease.signal.threshold_correction import CorrectionLevel, threshold_correct
from heartsease.signal.work import ShareWork, one_after_another

Figures = dict[str, float | None]
SEGMENT_TIME_KEYS = ("mean_rr_ms", "mean_hr_bpm", "sdnn_ms", "rmssd_ms", "pnn50_pct")
MIN_BEATS_FOR_TIME = 3
# The beat times go through a not-a-knot spline, which needs 4 points.
MIN_BEATS_FOR_SPECTRUM = 4

T = TypeVar("T")


def _unknown(cls: type[T]) -> T:
    """Measures too few beats cannot give: every field NaN (null in the JSON)."""
    return cls(**{f.name: math.nan for f in fields(cls)})  # type: ignore[arg-type]


def _frequency_domain(
    rr: NDArray[np.float64], options: KubiosOptions,
    welch: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[FrequencyDomainHRV, float]:
    """The frequency domain of ``rr`` from its Welch PSD (``welch``, if computed already)."""
    if rr.size < MIN_BEATS_FOR_SPECTRUM:
        return _unknown(FrequencyDomainHRV), math.nan
    f, psd = welch if welch is not None else welch_psd(
        rr, window_s=options.window_s, overlap=options.overlap_pct / 100.0)
    return frequency_domain_from_psd(f, psd), peak_frequency(f, psd, *PEAK_SEARCH_HZ)


class _Tachogram(NamedTuple):  # not a dataclass: ~0.8 ms less of import for a strap's run
    """A series' 4 Hz resampling and Welch PSD, computed once for the frequency domain and
    the Kubios figures (each built them itself: two splines through a day's 100,000 beats,
    two Welch PSDs). The coherence windows, pieces of work any process may do, build their
    own spline through every beat (:func:`coherence_and_breathing_work`)."""

    resampled: tuple[FloatArray, FloatArray]
    welch: tuple[FloatArray, FloatArray]


def _tachogram(rr: NDArray[np.float64], options: KubiosOptions) -> _Tachogram:
    """What :func:`resample_rr` and :func:`welch_psd` (with ``options``' window) give."""
    t = beat_times_s(rr)
    grid = resampling_grid(t)
    samples = NotAKnotSpline(t, rr)(grid)
    welch = welch_psd_of_samples(samples, window_s=options.window_s,
                                 overlap=options.overlap_pct / 100.0)
    return _Tachogram((grid, samples), welch)


@dataclass(frozen=True, slots=True)
class RecordingAnalysis:
    """Everything ``heartsease analyze`` reports about one recording."""

    correction: ArtifactCorrection
    time: TimeDomainHRV
    frequency: FrequencyDomainHRV
    peak_hz: float
    coherence_ratio: float | None
    breathing: BreathingEstimate
    kubios: Figures
    duration_s: float
    gaps: list[RRGap]
    quality: Quality
    long_term: LongTermHRV | None = None
    segments: list[Figures] | None = None

    def as_dict(self) -> dict[str, object]:
        """The ``--json`` object of the ``heartsease analyze`` contract (DESIGN.md)."""
        t, f = self.time, self.frequency
        kinds = {kind.name.lower(): int(np.count_nonzero(self.correction.labels == kind))
                 for kind in ArtifactKind if kind != ArtifactKind.NORMAL}
        out: dict[str, object] = {
            "n_beats": int(self.correction.raw_rr_ms.size),
            "duration_s": self.duration_s,
            "mean_rr_ms": t.mean_rr_ms,
            "mean_hr_bpm": t.mean_hr_bpm,
            "sdnn_ms": t.sdnn_ms,
            "rmssd_ms": t.rmssd_ms,
            "pnn50_pct": t.pnn50_pct,
            "pnn20_pct": t.pnn20_pct,
            "sd1_ms": t.sd1_ms,
            "sd2_ms": t.sd2_ms,
            "vlf_ms2": f.vlf_ms2,
            "lf_ms2": f.lf_ms2,
            "hf_ms2": f.hf_ms2,
            "total_power_ms2": f.total_ms2,
            "lf_hf": f.lf_hf,
            "lf_peak_hz": f.lf_peak_hz,
            "hf_peak_hz": f.hf_peak_hz,
            "peak_hz": self.peak_hz,
            "coherence_ratio": self.coherence_ratio,
            "breathing_rate_bpm": self.breathing.rate_bpm,
            "breathing_confidence": self.breathing.confidence,
            "sampen": self.kubios.get("sampen"),
            "dfa_alpha1": self.kubios.get("dfa_alpha1"),
            "artifacts_corrected": self.correction.n_corrected,
            "artifact_pct": self.correction.artifact_pct,
            "artifacts_by_kind": kinds,
            "hrv_interpretable": self.quality.interpretable,
            "quality_notes": list(self.quality.notes),
            "gaps": [{"start_s": g.start_s, "length_s": g.length_ms / 1000.0}
                     for g in self.gaps],
        }
        if not math.isfinite(f.lf_hf):
            out["lf_hf"] = None  # no HF power: no ratio (JSON has no Infinity)
        # The keys above keep their own values; the Kubios figures add the rest.
        out |= {k: v for k, v in self.kubios.items() if k not in out}
        lt = self.long_term
        out["sdann_ms"] = None if lt is None else lt.sdann_ms
        out["sdnn_index_ms"] = None if lt is None else lt.sdnn_index_ms
        out["ulf_ms2"] = None if lt is None else lt.ulf_ms2
        out["segments"] = self.segments
        return out


def mean_coherence_ratio(
    rr_ms: ArrayLike,
    window_s: float = COHERENCE_WINDOW_S,
    step_s: float = COHERENCE_UPDATE_S,
) -> float | None:
    """Mean of the coherence ratios of 64-s windows every 5 s; ``None`` below 64 s.

    Examples
    --------
    >>> rr = 1000 + 80 * np.sin(2 * np.pi * 0.1 * np.arange(300))
    >>> mean_coherence_ratio(rr) > 3
    True
    """
    return coherence_and_breathing(rr_ms, window_s, step_s)[0]


def coherence_and_breathing(
    rr_ms: ArrayLike,
    window_s: float = COHERENCE_WINDOW_S,
    step_s: float = COHERENCE_UPDATE_S,
) -> tuple[float | None, BreathingEstimate]:
    """The mean coherence ratio and the recording's breathing rate from one pass over its
    windows: breathing's windows (:data:`BREATHING_WINDOW_S` every
    :data:`RECORDING_STEP_S`) are every other coherence window, so each window's spectrum is
    computed once (:func:`breathing_rate_over_recording` gives the same rate on its own)."""
    work, combine = coherence_and_breathing_work(rr_ms, window_s, step_s)
    return combine(one_after_another(work))


class _WindowSums(NamedTuple):
    """What a batch of windows gives the recording's coherence and breathing."""

    ratios: FloatArray  # every window's coherence ratio
    breathing_ratios: FloatArray  # those of breathing's windows
    f_low: FloatArray  # the bins every window gets (coherence's, to 0.4 Hz)
    low: FloatArray  # their PSDs summed over breathing's windows
    f_high: FloatArray  # the bins breathing's windows get besides (to 0.55 Hz)
    high: FloatArray
    count: int  # how many of breathing's windows


CoherenceAndBreathing = tuple[float | None, BreathingEstimate]


def coherence_and_breathing_work(
    rr_ms: ArrayLike,
    window_s: float = COHERENCE_WINDOW_S,
    step_s: float = COHERENCE_UPDATE_S,
) -> tuple[list[Callable[[], object]], Callable[[list[object]], CoherenceAndBreathing]]:
    """:func:`coherence_and_breathing` as independent pieces of work (a batch of windows
    each, any process may do them, each building the spline through every beat if it has
    not yet) and how to join their results, given in order: the same numbers, summed in the
    same order."""
    rr = np.asarray(rr_ms, dtype=np.float64)
    every = round(RECORDING_STEP_S / step_s)
    if not (window_s == BREATHING_WINDOW_S and math.isclose(every * step_s, RECORDING_STEP_S)):
        def unshared() -> CoherenceAndBreathing:
            window_ratios = [coherence_ratios(f, psd) for _, f, psd
                             in recording_window_psds(rr, window_s, step_s)]
            return (float(np.mean(np.concatenate(window_ratios))) if window_ratios else None,
                    breathing_rate_over_recording(rr))

        return [unshared], lambda results: cast(CoherenceAndBreathing, results[0])

    @functools.cache
    def spline_of_every_beat() -> NotAKnotSpline:
        return NotAKnotSpline(beat_times_s(rr), rr)

    batches = recording_window_batches(rr, window_s, step_s)
    work: list[Callable[[], object]] = [
        functools.partial(_window_sums, spline_of_every_beat, batch, window_s, every)
        for batch in batches]

    def joined(results: list[object]) -> CoherenceAndBreathing:
        sums = cast(list[_WindowSums], results)
        if not sums:
            return None, BreathingEstimate(None, 0.0, None)
        coherence_ratio = float(np.mean(np.concatenate([s.ratios for s in sums])))
        low, high = np.zeros(sums[0].low.size), np.zeros(sums[0].high.size)
        for part in sums:
            low += part.low
            high += part.high
        count = sum(s.count for s in sums)
        if count == 0:
            return coherence_ratio, BreathingEstimate(None, 0.0, None)
        mean = Spectrum(np.concatenate([sums[0].f_low, sums[0].f_high]),
                        np.concatenate([low, high]) / count)
        return coherence_ratio, breathing_from_mean_spectrum(
            mean, rr, np.concatenate([s.breathing_ratios for s in sums]))

    return work, joined


def _window_sums(spline_of_every_beat: Callable[[], NotAKnotSpline], batch: WindowBatch,
                 window_s: float, every: int) -> _WindowSums:
    """One batch's coherence ratios and breathing's sums. Coherence reads its windows' bins
    up to 0.4 Hz, breathing up to 0.55: the bins between are computed for breathing's
    windows alone (a day's product a seventh smaller)."""
    samples = window_samples(spline_of_every_beat(), batch, window_s)
    n_samples = samples.shape[1]
    nfft, n_bins = window_bins(n_samples, RESAMPLING_HZ, RECORDING_WINDOW_MAX_HZ)
    n_coherence = window_bins(n_samples, RESAMPLING_HZ, TOTAL_BAND_HZ[1])[1]
    f_low, psd = periodograms_below(samples, RESAMPLING_HZ, nfft, n_coherence)
    ratios = coherence_ratios(f_low, psd)
    breathing = batch.index % every == 0
    f_high, psd_high = periodograms_below(samples[breathing], RESAMPLING_HZ, nfft, n_bins,
                                          first_bin=n_coherence)
    return _WindowSums(ratios, ratios[breathing], f_low, psd[breathing].sum(axis=0), f_high,
                       psd_high.sum(axis=0), int(np.count_nonzero(breathing)))


def segment_figures(rr_ms: np.ndarray, options: KubiosOptions,
                    resampled: tuple[np.ndarray, np.ndarray] | None = None,
                    tachogram_trend: np.ndarray | None = None,
                    dfa: tuple[float | None, float | None] | None = None,
                    ar: ARModel | None = None) -> Figures:
    """A 5-minute segment's row: its beat count, time-domain measures and Kubios figures
    (``resampled``, ``tachogram_trend``, ``dfa`` and ``ar`` as :func:`kubios_figures` takes
    them)."""
    row: Figures = {"n_beats": int(rr_ms.size)} | dict.fromkeys(SEGMENT_TIME_KEYS)
    row |= dict.fromkeys(FIGURE_KEYS)
    if rr_ms.size >= MIN_BEATS_FOR_TIME:
        t = time_domain(rr_ms)
        row |= {key: getattr(t, key) for key in SEGMENT_TIME_KEYS}
        row |= kubios_figures(rr_ms, options, resampled, tachogram_trend, dfa=dfa, ar=ar)
    return row


# What segment_figures may be given: the tachogram, its stress-index trend, the DFA alphas,
# the AR model.
_SegmentPrepared = tuple[tuple[FloatArray, FloatArray] | None, FloatArray | None,
                         tuple[float | None, float | None] | None, ARModel | None]


def segment_rows(rr_ms: np.ndarray, options: KubiosOptions) -> list[Figures]:
    """:func:`heartsease.signal.long_term.segment_table` of :func:`segment_figures`: the
    same rows, with the spline, stress-index trend, DFA alphas and AR model of every
    segment of a piece of work (:func:`segment_row_work`) computed together (without
    detrending; a day's 277 segments, issue 27)."""
    return [row for work in segment_row_work(rr_ms, options) for row in work()]


# Pieces a recording's segment table is cut into. Each piece computes its segments'
# splines, DFA and AR models together, which saves the interpreter's time in proportion to
# the segments (a day's table took 0.46 s in one piece, 0.60 s in 17); two let two
# processes start on the longest work side by side.
SEGMENT_WORK_PIECES = 2


def segment_row_work(rr_ms: np.ndarray,
                     options: KubiosOptions) -> list[Callable[[], list[Figures]]]:
    """:func:`segment_rows` as :data:`SEGMENT_WORK_PIECES` independent pieces of work, each
    the rows of consecutive segments, to be joined in order."""
    bounds = segment_bounds(rr_ms, SEGMENT_S)
    cuts = np.linspace(0, len(bounds), SEGMENT_WORK_PIECES + 1).round().astype(int)
    return [functools.partial(_rows_of_segments, rr_ms, options, bounds[a:b])
            for a, b in itertools.pairwise(cuts.tolist()) if b > a]


def _rows_of_segments(rr_ms: np.ndarray, options: KubiosOptions,
                      bounds: list[tuple[float, slice]]) -> list[Figures]:
    segments = [rr_ms[beats] for _, beats in bounds]
    prepared: list[_SegmentPrepared] = [(None, None, None, None)] * len(segments)
    if options.detrending == "none":
        chosen = [k for k, s in enumerate(segments)
                  if s.size >= max(MIN_BEATS_FOR_TIME, MIN_BEATS_FOR_AR)]
        tachograms = resample_many([segments[k] for k in chosen])
        trends = smoothness_priors_trends([x for _, x in tachograms], DEFAULT_LAMBDA)
        alphas = dfa_alphas_many([segments[k] for k in chosen],
                                 [DFA_SHORT_BEATS, DFA_LONG_BEATS])
        models = ar_models_of_samples_many([x for _, x in tachograms], options.ar_order)
        for k, tachogram, trend, (alpha1, alpha2), model in zip(
                chosen, tachograms, trends, alphas, models, strict=True):
            prepared[k] = (tachogram, trend, (alpha1, alpha2), model)
    return [{"start_s": start, **segment_figures(segment, options, *ready)}
            for (start, _), segment, ready in zip(bounds, segments, prepared, strict=True)]


def _corrected(raw: NDArray[np.float64], gaps: list[RRGap], correct: bool,
               level: CorrectionLevel | None,
               share_work: ShareWork = one_after_another) -> ArtifactCorrection:
    """The automatic correction around gaps (its pieces of work handed to ``share_work``),
    or Kubios' threshold ``level`` over the parts between gaps joined."""
    if not correct or level is None:
        return correct_around_gaps(raw, gaps, correct, share_work)
    return threshold_correct(correct_around_gaps(raw, gaps, correct=False).raw_rr_ms, level)


class _WholeRecording(NamedTuple):
    """The measures of the whole corrected series (as against its windows and segments)."""

    time: TimeDomainHRV
    frequency: FrequencyDomainHRV
    peak_hz: float
    kubios: Figures
    long_term: LongTermHRV | None


def _whole_recording(rr: NDArray[np.float64], opts: KubiosOptions,
                     is_long: bool) -> _WholeRecording:
    """The time and frequency domains of the corrected series ``rr`` (detrended as
    ``opts`` say), its spectrum's peak, its Kubios figures and, when ``is_long``, its
    long-term measures: one piece of work, which resamples the series once for all."""
    # With the default options the series is the corrected one as it always was.
    series = detrended(rr, opts) if rr.size >= MIN_BEATS_FOR_SPECTRUM else rr
    # Without detrending the frequency domain and Kubios figures share rr's tachogram;
    # detrended, the first is of the detrended series and Kubios detrends anew.
    shared = (_tachogram(rr, opts) if opts.detrending == "none"
              and rr.size >= max(MIN_BEATS_FOR_SPECTRUM, MIN_BEATS_FOR_AR) else None)
    frequency, peak_hz = _frequency_domain(series, opts,
                                           None if shared is None else shared.welch)
    kubios = (kubios_figures(rr, opts, None if shared is None else shared.resampled,
                             welch=None if shared is None else shared.welch)
              if rr.size >= MIN_BEATS_FOR_TIME else dict.fromkeys(FIGURE_KEYS))
    time = time_domain(series) if rr.size >= MIN_BEATS_FOR_TIME else _unknown(TimeDomainHRV)
    long_term_hrv = (long_term(rr, samples=None if shared is None else shared.resampled[1])
                     if is_long else None)
    return _WholeRecording(time, frequency, peak_hz, kubios, long_term_hrv)


def analyze_recording(
    rr_ms: ArrayLike,
    correct: bool = True,
    options: KubiosOptions | None = None,
    correction_level: CorrectionLevel | None = None,
    share_work: ShareWork | None = None,
) -> RecordingAnalysis:
    """Correct artifacts (unless ``correct`` is false), then compute every measure.

    The correction is the automatic one, or Kubios' threshold correction at
    ``correction_level`` (``"very-low"`` .. ``"very-strong"``) when one is given.
    ``options`` are Kubios' analysis options (its defaults otherwise): detrending and the
    Welch window reach the time and frequency measures too; the long-term measures and the
    segment table come with recordings of :data:`LONG_RECORDING_S` or more.

    A long recording's analysis is independent pieces of work: first its correction's
    (:func:`~heartsease.signal.gaps.correct_around_gaps`), then, once the corrected series
    is known, the whole series' measures (the long-term ones among them), batches of
    coherence windows and runs of segments. ``share_work``, when given, is handed them (a
    caller may share them with other processes: issue 27's day); without it, they are done
    here. Either way the results are joined in the same order: the same numbers.

    Examples
    --------
    >>> rr = 900 + 60 * np.sin(2 * np.pi * 0.1 * np.cumsum(np.full(400, 0.9)))
    >>> a = analyze_recording(rr)
    >>> round(a.breathing.rate_bpm), round(a.peak_hz, 2)
    (6, 0.1)
    """
    raw = np.asarray(rr_ms, dtype=np.float64)
    opts = options or KubiosOptions()
    gaps = find_gaps(raw)
    duration_s = float(raw.sum() / 1000.0)
    # Only a long recording's work is worth sharing (starting another process has a cost).
    share = (share_work if share_work is not None and duration_s >= LONG_RECORDING_S
             else one_after_another)
    correction = _corrected(raw, gaps, correct, correction_level, share)
    rr = correction.rr_ms
    is_long = duration_s >= LONG_RECORDING_S and rr.size >= MIN_BEATS_FOR_SPECTRUM
    segment_work = segment_row_work(rr, opts) if is_long else []
    coherence_work, join_coherence = coherence_and_breathing_work(rr)
    # The long pieces first (a day's whole series, up to 0.6 s of a 1-ms day's entropy, then
    # its segments' halves), the many short ones last: whoever is free takes the next, so
    # the processes finish together.
    work: list[Callable[[], object]] = [
        functools.partial(_whole_recording, rr, opts, is_long), *segment_work, *coherence_work]
    done = (share if is_long else one_after_another)(work)
    whole = cast(_WholeRecording, done[0])
    segments = ([row for rows in done[1 : 1 + len(segment_work)]
                 for row in cast(list[Figures], rows)] if is_long else None)
    coherence_ratio, breathing = join_coherence(done[1 + len(segment_work):])
    return RecordingAnalysis(
        correction=correction,
        time=whole.time,
        frequency=whole.frequency,
        peak_hz=whole.peak_hz,
        coherence_ratio=coherence_ratio,
        breathing=breathing,
        kubios=whole.kubios,
        duration_s=duration_s,
        gaps=gaps,
        quality=assess_quality(correction, gaps, duration_s),
        long_term=whole.long_term,
        segments=segments,
    )
