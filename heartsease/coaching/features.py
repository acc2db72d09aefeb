"""The state features: what the heart shows in each 5-s epoch, as the classifier reads it.

The streaming analyzer of the current stretch of beats (a gap or lost skin contact starts a
new one) serves the heart rate and RMSSD of the last breath and the share of corrected
beats; this module turns them, with coherence and the breathing rate, into
:class:`~heartsease.coaching.classifier.EpochFeatures`, and says why the state is what it
is.
"""

from __future__ import annotations

import math

from heartsease.coaching import events as ev
from heartsease.coaching.classifier import AutonomicState, EpochFeatures, StateClassifier
from heartsease.signal.hrv import TimeDomainHRV
from heartsease.signal.streaming import SpectralMetrics, StreamingAnalyzer

# Feature windows: short enough to follow a change of state within two or three breaths,
# and never shorter than one whole breath, so that RSA averages out of heart rate and RMSSD
# does not depend on where in the breath the window falls (10 s at 6/min, 15 s at 4/min).
MIN_FEATURE_WINDOW_S = 10.0
MAX_FEATURE_WINDOW_S = 20.0
MIN_VAGAL_BEATS = 5
# The share of corrected beats is judged over 30 s: one corrected beat in a 10-s window is
# not a poor signal, three or more in 30 s are.
ARTIFACT_WINDOW_S = 30.0
MAX_ARTIFACT_SHARE = 0.10
MIN_CLEAN_S_AFTER_GAP = 30.0


def new_analyzer(pacer_rate_bpm: float | None = None) -> StreamingAnalyzer:
    """An analyzer that keeps what the feature windows read, and no more."""
    return StreamingAnalyzer(pacer_rate_bpm=pacer_rate_bpm, recent_s=MAX_FEATURE_WINDOW_S,
                             artifact_window_s=ARTIFACT_WINDOW_S)


class StateFeatures:
    """The features of each epoch of one session, from the analyzer of its current stretch.

    Attributes
    ----------
    analyzer : the streaming analyzer the session's beats go to.
    contact_lost : the strap says it cannot feel the heart; beats are not analysed.
    """

    def __init__(self) -> None:
        self.analyzer = new_analyzer()
        self.contact_lost = False
        self.last_hrv: TimeDomainHRV | None = None
        self._breathing_bpm: float | None = None
        self._clean_since_s = 0.0

    def restart(self, t_s: float) -> None:
        """Windows start afresh at ``t_s``: beats either side of a gap are not joined. (The
        caller has analysed what the old analyzer's flush decided.)"""
        self.analyzer = new_analyzer(self.analyzer.pacer_rate_bpm)
        self._clean_since_s = t_s

    def epoch(
        self, t_s: float, spectral: SpectralMetrics, pacer_rate_bpm: float | None
    ) -> EpochFeatures:
        """The features of the epoch that ``spectral`` closes at session time ``t_s``;
        ``pacer_rate_bpm`` is the pacer's rate now (``None`` when it is off)."""
        self._breathing_bpm = spectral.window_breathing.rate_bpm
        coherence = None if spectral.coherence is None else spectral.coherence.coherence_ratio
        window = self.analyzer.recent(t_s - self._window_s(pacer_rate_bpm))
        share = self.analyzer.artifact_share(t_s - ARTIFACT_WINDOW_S)
        share = 1.0 if share is None else share
        ln_rmssd = None
        if window.n_beats >= MIN_VAGAL_BEATS and window.rmssd_ms is not None:
            ln_rmssd = math.log(window.rmssd_ms) if window.rmssd_ms > 0 else None
        ok = (share <= MAX_ARTIFACT_SHARE and not self.contact_lost
              and t_s - self._clean_since_s >= MIN_CLEAN_S_AFTER_GAP)
        return EpochFeatures(t_s, window.mean_hr_bpm, ln_rmssd, coherence, share, ok,
                             self._breathing_bpm)

    def reason(self, classifier: StateClassifier, features: EpochFeatures) -> str:
        """Why the classifier says what it says, in a few words."""
        if classifier.baseline is None:
            return "learning the resting baseline"
        if not features.signal_ok:
            poor = features.artifact_share > MAX_ARTIFACT_SHARE or self.contact_lost
            return "signal too poor to tell" if poor else "settling after a gap"
        s = classifier.scores
        if s is None:
            return "too few beats yet since the start or a gap"
        return (f"heart rate {s.z_hr:+.1f}, vagal (ln RMSSD) {s.z_vagal:+.1f}"
                + ("" if s.z_coherence is None else f", coherence {s.z_coherence:+.1f}")
                + ("" if s.z_slow_breathing is None
                   else f", slower breathing {s.z_slow_breathing:+.1f}")
                + ", as z-scores against the resting baseline")

    def _window_s(self, pacer_rate_bpm: float | None) -> float:
        """One breath at the breathing rate the heart shows, or else at the pacer's rate."""
        rate = self._breathing_bpm if self._breathing_bpm is not None else pacer_rate_bpm
        if rate is None or rate <= 0:
            return MIN_FEATURE_WINDOW_S
        return min(max(60.0 / rate, MIN_FEATURE_WINDOW_S), MAX_FEATURE_WINDOW_S)


def metrics_event(
    t_s: float, spectral: SpectralMetrics, features: EpochFeatures, hrv: TimeDomainHRV | None,
    state: AutonomicState, scores: tuple[float | None, float | None],
) -> ev.Metrics:
    """The 5-s update: the epoch's features, the analyzer's measures and the state with its
    (arousal, calm) scores."""
    freq = spectral.frequency
    return ev.Metrics(
        t_s=t_s,
        hr_bpm=features.hr_bpm,
        rmssd_ms=None if hrv is None else hrv.rmssd_ms,
        sdnn_ms=None if hrv is None else hrv.sdnn_ms,
        ln_rmssd=features.ln_rmssd,
        coherence_ratio=features.coherence_ratio,
        coherence_peak_hz=None if spectral.coherence is None else spectral.coherence.peak_hz,
        breathing_rate_bpm=spectral.breathing.rate_bpm,
        pacer_adherence=spectral.pacer_adherence,
        lf_ms2=None if freq is None else freq.lf_ms2,
        hf_ms2=None if freq is None else freq.hf_ms2,
        artifact_pct=100.0 * features.artifact_share,
        state=state.value,
        arousal=scores[0],
        calm=scores[1],
    )
