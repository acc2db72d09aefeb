"""One coaching session as a state machine: beats and time in, events out.

:class:`CoachingSession` has no clock and no I/O. It is told the time (``tick``), given
measurements and gaps as a source delivers them, and returns the events they cause: the
protocol's steps and cues, the pacer, the analyzer's metrics, the threat/soothing state,
the shift log, the backdraft guard and the resonance assessment. :mod:`heartsease.coaching.loop`
drives it from a live source on a clock; a replay drives it from a recording, as fast as the
machine allows, with the same results.

Times are session seconds: the source's clock minus ``origin_s``.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass

import numpy as np

from heartsease.coaching import events as ev
from heartsease.coaching.classifier import (
    ENTER_Z,
    EXIT_Z,
    AutonomicState,
    EpochFeatures,
    RestingBaseline,
    StateClassifier,
)
from heartsease.coaching.pacer import BreathPacer
from heartsease.coaching.protocols import DEFAULT_PACE_BPM, Protocol, Step
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Gap, Measurement
from heartsease.signal.artifacts import ArtifactKind
from heartsease.signal.live import BeatMetrics, LiveAnalyzer, SpectralMetrics
from heartsease.signal.resonance import PacedResponse, assess_resonance, paced_response

# Feature windows: short enough to follow a change of state within two or three breaths,
# and never shorter than one whole breath, so that RSA averages out of heart rate and RMSSD
# does not depend on where in the breath the window falls (10 s at 6/min, 15 s at 4/min).
MIN_FEATURE_WINDOW_S = 10.0
MAX_FEATURE_WINDOW_S = 20.0
SHIFT_SIZE_WINDOW_S = 10.0
MIN_VAGAL_BEATS = 5
# The share of corrected beats is judged over 30 s: one corrected beat in a 10-s window is
# not a poor signal, three or more in 30 s are.
ARTIFACT_WINDOW_S = 30.0
MAX_ARTIFACT_SHARE = 0.10
MIN_CLEAN_S_AFTER_GAP = 30.0
# The backdraft guard fires on either of two signs of a sustained return to threat during
# practice, once the person had settled there:
# - the classifier confirms threat (two epochs, 10 s, asking to leave the previous state)
#   and arousal has risen by at least ENTER_Z resting spreads above its median so far in
#   the practice (a return, not a practice that hovered at the edge of threat all along);
# - a sudden return: for two epochs in a row, arousal is above the person's resting level
#   by a resting spread (the classifier's exit level for threat) and has risen by at least
#   BACKDRAFT_RISE_Z resting spreads above its median so far in the practice. Someone deep
#   in soothing who springs back to threat crosses this well before the threshold for threat
#   proper, which is measured from rest; a flat or drifting practice never rises this far.
BACKDRAFT_CONFIRM_EPOCHS = 2
BACKDRAFT_RISE_Z = 4.0
# After a backdraft, this long out of threat counts as having come back.
BACKDRAFT_EASE_S = 20.0
BACKDRAFT_SLOWING = 0.9  # the pacer slows by 10 %, and never below 4 breaths/min
MIN_SLOWED_BPM = 4.0
# How far back a shift looks for the state it came from, and for what preceded it.
SHIFT_LOOKBACK_S = 300.0
# The onset of a shift: when the old state's score had fallen this share of the way from
# its typical level during that state towards the person's baseline.
ONSET_FALL_SHARE = 0.25
REFLECTION_EVERY_S = 180.0
SIGNAL_CUE_EVERY_S = 60.0
PACER_LOOKAHEAD_S = 30.0  # longer than any part of a breath (20 s at 3/min, all in)

CUE_GROUNDING = ("Let's slow right down. Feel your feet on the floor and the chair holding "
                 "you. You are safe here.")
CUE_PAUSE = ("Strong feelings can come up when we turn kindness towards ourselves. That "
             "makes sense. It's fine to pause, or to stop for today.")
CUE_HOLDING = "We'll stay with the breath for now. There's no need to move on."
CUE_WELCOME_BACK = "Welcome back. Go gently, at whatever pace feels right."
CUE_SETTLING = "Your heart rhythm seems to be settling with your breath."
CUE_GAP = "The strap lost touch for a moment. Nothing you did; carry on as you are."
CUE_CONTACT = ("The strap can't feel your heartbeat just now. A little water on its sensor "
               "pads usually helps.")


@dataclass(slots=True)
class _Epoch:
    t_s: float
    state: AutonomicState
    arousal: float | None
    calm: float | None
    hr_bpm: float | None
    ln_rmssd: float | None
    coherence: float | None


class CoachingSession:
    """The coaching loop's logic for one session.

    Parameters
    ----------
    protocol : the steps to run.
    pace_bpm : the client's pace (their resonance rate); 6/min when not known.
    baseline : the person's stored resting baseline; without one, the protocol's baseline
        step provides it and the state is ``unknown`` until then.
    origin_s : the source-clock time of the session's start.

    Examples
    --------
    >>> from heartsease.coaching.protocols import load_protocol
    >>> s = CoachingSession(load_protocol("srb"))
    >>> [e.kind for e in s.start()]
    ['session-started', 'step', 'cue']
    >>> [e.kind for e in s.tick(125.0)]
    ['cue', 'step', 'pacer-phase', 'pacer', 'cue', 'pacer-phase']
    """

    def __init__(
        self,
        protocol: Protocol,
        pace_bpm: float | None = None,
        baseline: RestingBaseline | None = None,
        origin_s: float = 0.0,
    ) -> None:
        self.protocol = protocol
        self.pace_bpm = DEFAULT_PACE_BPM if pace_bpm is None else pace_bpm
        self.origin_s = origin_s
        self.stored_baseline = baseline
        self.classifier = StateClassifier(baseline)
        self.analyzer = LiveAnalyzer()
        self.pacer: BreathPacer | None = None
        self.own_breathing_bpm: float | None = None
        self.step_index = -1
        self.step_start_s = 0.0
        self.now_s = 0.0
        self.ended = False
        self.paused = False
        self.responses: list[PacedResponse] = []
        self.beats_received = 0
        self._out: list[ev.Event] = []
        self._cue_index = 0
        self._paused_at: float | None = None
        self._raw_times: dict[int, float] = {}  # analyzer's beat index -> session time
        self._pushed = 0
        self._breathing_bpm: float | None = None
        self.learned_baseline: RestingBaseline | None = None
        self._clean_since_s = 0.0
        self._contact_lost = False
        # Recent beats as plain numbers, not a tuple each: what a session holds per beat is
        # what the service's garbage collector walks at every pass (README, load).
        self._corrected_t: deque[float] = deque()  # for features
        self._corrected_rr: deque[float] = deque()
        self._labels_t: deque[float] = deque()
        self._labels_bad: deque[bool] = deque()  # is artifact
        # Kept as compact arrays, and the step's beats only while a step that measures the
        # paced response runs: a long practice holds 8 bytes an epoch, not a list of floats.
        self._step_beats: array[float] | None = None
        self._baseline_epochs: list[EpochFeatures] = []
        self._epochs: deque[_Epoch] = deque()
        self._last_hrv: BeatMetrics | None = None
        self._preceding: deque[ev.Preceding] = deque()
        self._threat_since_s: float | None = None
        self._settled_in_practice = False
        self._practice_arousal: array[float] = array("d")
        self._rising_epochs = 0
        self._backdraft_at: float | None = None
        self._calm_since_s: float | None = None
        self._last_reflection_s = -math.inf
        self._last_signal_cue_s = -math.inf

    # -- driving -----------------------------------------------------------------------

    @property
    def step(self) -> Step | None:
        steps = self.protocol.steps
        return steps[self.step_index] if 0 <= self.step_index < len(steps) else None

    def step_elapsed_s(self, t_s: float) -> float:
        """How far into the current step the session is (a pause stops the count)."""
        until = self._paused_at if self._paused_at is not None else t_s
        return max(until - self.step_start_s, 0.0)

    def start(self, t_s: float | None = None) -> list[ev.Event]:
        """Begin the first step at session time ``t_s`` (0 by default)."""
        self.now_s = 0.0 if t_s is None else t_s
        from_stored = self.stored_baseline is not None
        baseline_step = next((s.name for s in self.protocol.steps if s.baseline), "none")
        self._emit(ev.SessionStarted(self.now_s, self.protocol.name, self.protocol.title,
                                     self.pace_bpm, "stored" if from_stored else baseline_step))
        self._begin_step(0, self.now_s)
        return self._drain()

    def tick(self, t_s: float) -> list[ev.Event]:
        """Advance session time to ``t_s``: steps, cues and pacer phases up to then."""
        self._advance(t_s)
        return self._drain()

    def next_due_s(self) -> float:
        """Session time of the next event that time alone brings (the step's end, a cue, the
        pacer's next phase), or infinity while paused or ended: a live loop sleeps until
        then rather than polling."""
        step = self.step
        if self.ended or self.paused or step is None:
            return math.inf
        due = self.step_start_s + step.seconds
        if self._cue_index < len(step.cues):
            due = min(due, self.step_start_s + step.cues[self._cue_index].at_s)
        if self.pacer is not None:
            ahead = self.pacer.transitions(self.now_s, self.now_s + PACER_LOOKAHEAD_S)
            if ahead:
                due = min(due, ahead[0][0])
        return due

    def measurement(self, m: Measurement) -> list[ev.Event]:
        """A strap notification (times on the source clock)."""
        arrival = m.arrival_s - self.origin_s
        self._advance(arrival)
        if self.ended:
            return self._drain()
        if m.contact is SensorContact.NOT_DETECTED:
            if not self._contact_lost:
                self._contact_lost = True
                self._signal_cue(arrival, CUE_CONTACT)
        elif self._contact_lost:
            self._contact_lost = False
            self._restart_analysis(arrival)
        for rr, beat_t in zip(m.rr_ms, m.beat_times_s, strict=True):
            t = beat_t - self.origin_s
            self.beats_received += 1
            self._emit(ev.Beat(t, self.beats_received, rr, arrival, m.hr_bpm))
            if self._contact_lost:
                continue
            self._raw_times[self._pushed] = t
            self._pushed += 1
            self._analyse(*self.analyzer.push(rr))
        return self._drain()

    def gap(self, g: Gap) -> list[ev.Event]:
        """No beats from ``g.start_s`` to ``g.end_s`` (source clock)."""
        start, end = g.start_s - self.origin_s, g.end_s - self.origin_s
        self._advance(start)
        self._analyse(*self.analyzer.flush())
        self._emit(ev.GapEvent(start, end, g.reason))
        self._signal_cue(start, CUE_GAP)
        self._advance(end)
        self._restart_analysis(end)
        return self._drain()

    def annotate(self, text: str, author: str, t_s: float | None = None) -> list[ev.Event]:
        """A clinician's note at ``t_s`` (now by default); it may precede a shift."""
        at = self.now_s if t_s is None else t_s
        self._emit(ev.Annotation(at, author, text))
        self._remember(ev.Preceding("annotation", text, at))
        return self._drain()

    def pause(self, t_s: float) -> list[ev.Event]:
        """Hold the protocol and the pacer; beats are still received and stored."""
        self._advance(t_s)
        if not self.paused and not self.ended:
            self.paused, self._paused_at = True, t_s
            self.pacer = None
            self._emit(ev.Paused(t_s, True))
            self._emit(ev.PacerChanged(t_s, None, 0.0, 0.0, 0.0))
        return self._drain()

    def resume(self, t_s: float) -> list[ev.Event]:
        self._advance(t_s)
        if self.paused and not self.ended and self._paused_at is not None:
            self.step_start_s += t_s - self._paused_at
            self.paused, self._paused_at = False, None
            self._emit(ev.Paused(t_s, False))
            self._start_pacer(t_s, fresh=True)
        return self._drain()

    def finish(self, t_s: float, reason: str = "stopped") -> list[ev.Event]:
        """End the session (stopped by the person, or the source ended)."""
        self._advance(t_s)
        if not self.ended:
            self._analyse(*self.analyzer.flush())
            self._end(t_s, reason)
        return self._drain()

    # -- time --------------------------------------------------------------------------

    def _advance(self, t_s: float) -> None:
        while not self.ended and not self.paused:
            step = self.step
            assert step is not None
            end = self.step_start_s + step.seconds
            if end > t_s:
                break
            self._run_until(end)
            if self._backdraft_at is not None and self._next_is_practice():
                # Never push on into a new practice stage while the person is in distress.
                self.step_start_s += BACKDRAFT_EASE_S
                self._cue(end, "grounding", CUE_HOLDING)
                continue
            self._end_step(end)
            if self.step_index + 1 >= len(self.protocol.steps):
                self._end(end, "completed")
                return
            self._begin_step(self.step_index + 1, end)
        if not self.ended:
            self._run_until(t_s)

    def _run_until(self, t_s: float) -> None:
        """Cues and pacer phases of the current step up to ``t_s``."""
        if t_s < self.now_s:
            return
        step = self.step
        if step is not None and not self.paused:
            while (self._cue_index < len(step.cues)
                   and self.step_start_s + step.cues[self._cue_index].at_s <= t_s):
                cue = step.cues[self._cue_index]
                self._cue(self.step_start_s + cue.at_s, "guidance", cue.text)
                self._cue_index += 1
        if self.pacer is not None:
            for at, part in self.pacer.transitions(self.now_s, t_s):
                phase = self.pacer.phase(at + 1e-9)
                self._emit(ev.PacerPhase(at, part.value, phase.breath, phase.rate_bpm,
                                         phase.part_s))
        self.now_s = t_s

    def _next_is_practice(self) -> bool:
        steps = self.protocol.steps
        return self.step_index + 1 < len(steps) and steps[self.step_index + 1].practice

    def _begin_step(self, index: int, t_s: float) -> None:
        self.step_index, self.step_start_s, self._cue_index = index, t_s, 0
        step = self.protocol.steps[index]
        self._step_beats = array("d") if _measures_response(step) else None
        rates = step.pacer_rates(self.pace_bpm, self.own_breathing_bpm)
        self._emit(ev.StepStarted(t_s, step.name, step.title, step.seconds, step.practice,
                                  None if rates is None else rates[0],
                                  None if rates is None else rates[1]))
        self._remember(ev.Preceding("step", step.name, t_s))
        if not step.practice:
            self._settled_in_practice = False
            self._practice_arousal = array("d")
            self._rising_epochs = 0
        self._start_pacer(t_s, fresh=False)
        self._run_until(t_s)

    def _start_pacer(self, t_s: float, fresh: bool) -> None:
        step = self.step
        assert step is not None
        rates = step.pacer_rates(self.pace_bpm, self.own_breathing_bpm)
        if rates is None:
            if self.pacer is not None:
                self.pacer = None
                self._emit(ev.PacerChanged(t_s, None, 0.0, 0.0, 0.0))
            return
        start, end = rates
        if self._backdraft_at is not None:
            start = end = self._slowed(end)
        elapsed = t_s - self.step_start_s
        glide_s = step.seconds - elapsed if start != end else 0.0
        if start != end and elapsed > 0:  # resuming inside a glide: start where it had got to
            start = start + (end - start) * elapsed / step.seconds
        if self.pacer is None or fresh:
            self.pacer = BreathPacer(start, t_s, self.protocol.pattern)
            first = self.pacer.phase(t_s)
            self._emit(ev.PacerPhase(t_s, first.part.value, 0, first.rate_bpm, first.part_s))
        else:
            self.pacer.set_rate(start, t_s)
            glide_s = max(glide_s, self.pacer.glide_s)
        if start != end:
            self.pacer.set_rate(end, t_s, glide_s=glide_s)
        shares = self.protocol.pattern.shares()
        self._emit(ev.PacerChanged(t_s, end, glide_s if start != end else self.pacer.glide_s,
                                   shares[0], shares[2]))

    def _end_step(self, t_s: float) -> None:
        step = self.step
        assert step is not None
        if step.baseline:
            self._learn_baseline(t_s)
        if self._step_beats is not None:
            response = paced_response(np.frombuffer(self._step_beats), float(step.pacer))
            if response is not None:
                self.responses.append(response)
            if not any(s.assess for s in self.protocol.steps[self.step_index + 1:]):
                self._assess(t_s)

    def _end(self, t_s: float, reason: str) -> None:
        step = self.step
        if step is not None and step.assess and reason != "completed":
            self._assess(t_s)
        self.ended = True
        self.now_s = max(self.now_s, t_s)
        self.pacer = None
        self._emit(ev.SessionEnded(t_s, reason))

    def _assess(self, t_s: float) -> None:
        if not self.responses:
            return
        a = assess_resonance(self.responses)
        if a.resonance_bpm is not None:
            self.pace_bpm = a.resonance_bpm
        self._emit(ev.ResonanceResult(
            t_s, a.resonance_bpm, a.confidence.value, a.margin, a.explanation,
            tuple({"pacer_rate_bpm": r.pacer_rate_bpm, "lf_peak_power_ms2": r.lf_peak_power_ms2,
                   "lf_peak_hz": r.lf_peak_hz, "hr_swing_bpm": r.hr_swing_bpm,
                   "coherence_ratio": r.coherence_ratio, "pacer_adherence": r.pacer_adherence}
                  for r in a.responses)))
        self.responses = []

    def _learn_baseline(self, t_s: float) -> None:
        breathing = [e.breathing_bpm for e in self._baseline_epochs
                     if e.breathing_bpm is not None]
        if breathing:
            self.own_breathing_bpm = float(np.median(breathing))
        learned = RestingBaseline.from_epochs(self._baseline_epochs)
        if learned is None:
            return
        if self.stored_baseline is None:
            self.classifier.baseline = learned
        self.learned_baseline = learned
        self._emit(ev.BaselineLearned(t_s, learned, self.own_breathing_bpm))

    # -- analysis ----------------------------------------------------------------------

    def _restart_analysis(self, t_s: float) -> None:
        """Windows start afresh: beats on either side of a gap are not joined."""
        self._analyse(*self.analyzer.flush())
        self._pushed = 0
        self._raw_times.clear()
        self.analyzer = LiveAnalyzer(pacer_rate_bpm=self.analyzer.pacer_rate_bpm)
        for recent in (self._corrected_t, self._corrected_rr, self._labels_t, self._labels_bad):
            recent.clear()
        self._clean_since_s = t_s

    def _analyse(self, beats: list[BeatMetrics], spectra: list[SpectralMetrics]) -> None:
        times = {}
        for b in beats:
            t = self._raw_times.get(b.index, self.now_s)
            times[b.t_s] = t
            self._corrected_t.append(t)
            self._corrected_rr.append(b.rr_ms)
            self._labels_t.append(t)
            self._labels_bad.append(b.artifact is not ArtifactKind.NORMAL)
            if self._step_beats is not None:
                self._step_beats.append(b.rr_ms)
            self._last_hrv = b
        for i in [k for k in self._raw_times if beats and k < beats[-1].index]:
            del self._raw_times[i]
        if beats:
            last = times[beats[-1].t_s]
            while self._corrected_t and self._corrected_t[0] < last - MAX_FEATURE_WINDOW_S:
                self._corrected_t.popleft()
                self._corrected_rr.popleft()
            while self._labels_t and self._labels_t[0] < last - ARTIFACT_WINDOW_S:
                self._labels_t.popleft()
                self._labels_bad.popleft()
        for s in spectra:
            self._epoch(times.get(s.t_s, self.now_s), s)
        pacer_rate = None if self.pacer is None else self.pacer.target_rate_bpm()
        self.analyzer.pacer_rate_bpm = pacer_rate

    def _feature_window_s(self) -> float:
        """One breath at the breathing rate the heart shows, or else at the pacer's rate."""
        rate = self._breathing_bpm
        if rate is None and self.pacer is not None:
            rate = self.pacer.rate_at(self.now_s)
        if rate is None or rate <= 0:
            return MIN_FEATURE_WINDOW_S
        return min(max(60.0 / rate, MIN_FEATURE_WINDOW_S), MAX_FEATURE_WINDOW_S)

    def _features(self, t_s: float, coherence: float | None) -> EpochFeatures:
        window = self._feature_window_s()
        recent = np.array([rr for t, rr in zip(self._corrected_t, self._corrected_rr, strict=True)
                           if t > t_s - window])
        labels = [bad for t, bad in zip(self._labels_t, self._labels_bad, strict=True)
                  if t > t_s - ARTIFACT_WINDOW_S]
        share = sum(labels) / len(labels) if labels else 1.0
        ln_rmssd = None
        if recent.size >= MIN_VAGAL_BEATS:
            rmssd = float(np.sqrt(np.mean(np.diff(recent) ** 2)))
            ln_rmssd = math.log(rmssd) if rmssd > 0 else None
        ok = (share <= MAX_ARTIFACT_SHARE and not self._contact_lost
              and t_s - self._clean_since_s >= MIN_CLEAN_S_AFTER_GAP)
        return EpochFeatures(t_s, 60000.0 / float(recent.mean()) if recent.size else None,
                             ln_rmssd, coherence, share, ok, self._breathing_bpm)

    def _epoch(self, t_s: float, s: SpectralMetrics) -> None:
        coherence = None if s.coherence is None else s.coherence.coherence_ratio
        self._breathing_bpm = s.breathing.rate_bpm
        features = self._features(t_s, coherence)
        step = self.step
        if step is not None and step.baseline and not self.paused:
            self._baseline_epochs.append(features)
        previous = self.classifier.state
        state = self.classifier.update(features)
        scores = self.classifier.scores
        epoch = _Epoch(t_s, state, None if scores is None else scores.arousal,
                       None if scores is None else scores.calm, features.hr_bpm,
                       features.ln_rmssd, coherence)
        self._epochs.append(epoch)
        while self._epochs and self._epochs[0].t_s < t_s - 2 * SHIFT_LOOKBACK_S:
            self._epochs.popleft()
        hrv = None if self._last_hrv is None else self._last_hrv.hrv
        freq = s.frequency
        self._emit(ev.Metrics(
            t_s, features.hr_bpm, None if hrv is None else hrv.rmssd_ms,
            None if hrv is None else hrv.sdnn_ms, features.ln_rmssd, coherence,
            None if s.coherence is None else s.coherence.peak_hz, s.breathing.rate_bpm,
            s.pacer_adherence, None if freq is None else freq.lf_ms2,
            None if freq is None else freq.hf_ms2, 100.0 * features.artifact_share,
            state.value, epoch.arousal, epoch.calm))
        if state is not previous:
            reason = self._reason(features)
            self._emit(ev.StateChanged(t_s, state.value, previous.value, reason))
            self._on_state_change(t_s, previous, state)
        self._guard(t_s, state)

    def _reason(self, features: EpochFeatures) -> str:
        if self.classifier.baseline is None:
            return "learning the resting baseline"
        if not features.signal_ok:
            return "signal too poor to tell" if features.artifact_share > MAX_ARTIFACT_SHARE or \
                self._contact_lost else "settling after a gap"
        s = self.classifier.scores
        if s is None:
            return "too few beats yet since the start or a gap"
        return (f"heart rate {s.z_hr:+.1f}, vagal (ln RMSSD) {s.z_vagal:+.1f}"
                + ("" if s.z_coherence is None else f", coherence {s.z_coherence:+.1f}")
                + ("" if s.z_slow_breathing is None
                   else f", slower breathing {s.z_slow_breathing:+.1f}")
                + " resting spreads from baseline")

    # -- shifts and backdraft ------------------------------------------------------------

    def _on_state_change(
        self, t_s: float, previous: AutonomicState, state: AutonomicState
    ) -> None:
        if state is AutonomicState.THREAT:
            self._threat_since_s = t_s
        elif previous is AutonomicState.THREAT:
            self._threat_since_s = None
        if state is AutonomicState.UNKNOWN:
            return
        came_from = self._last_emotional_state(t_s)
        if state is AutonomicState.SOOTHING and came_from is AutonomicState.THREAT:
            self._shift(t_s, "threat-to-soothing", AutonomicState.THREAT)
            if t_s - self._last_reflection_s >= REFLECTION_EVERY_S:
                self._last_reflection_s = t_s
                self._cue(t_s, "reflection", CUE_SETTLING)
        elif state is AutonomicState.THREAT and came_from is AutonomicState.SOOTHING:
            self._shift(t_s, "soothing-to-threat", AutonomicState.SOOTHING)

    def _last_emotional_state(self, t_s: float) -> AutonomicState | None:
        """Threat or soothing, whichever the person was last in before now (within the
        look-back), passing over neutral and unknown stretches."""
        epochs = list(self._epochs)[:-1]
        for e in reversed(epochs):
            if e.t_s < t_s - SHIFT_LOOKBACK_S:
                return None
            if e.state in (AutonomicState.THREAT, AutonomicState.SOOTHING):
                return e.state
        return None

    def _shift(self, t_s: float, direction: str, old: AutonomicState) -> None:
        epochs = [e for e in self._epochs if e.t_s >= t_s - SHIFT_LOOKBACK_S]
        old_epochs = [e for e in epochs[:-1] if e.state is old]
        last_old = max(e.t_s for e in old_epochs)
        use_arousal = old is AutonomicState.THREAT
        level_values = [(e.arousal if use_arousal else e.calm) for e in old_epochs]
        level = float(np.median([v for v in level_values if v is not None]))
        onset = last_old
        for e in epochs:
            value = e.arousal if use_arousal else e.calm
            if e.t_s <= last_old and value is not None \
                    and value >= (1.0 - ONSET_FALL_SHARE) * level:
                onset = e.t_s
        after = [e for e in epochs if e.t_s > onset]
        onset = after[0].t_s if after else onset
        before = [e for e in old_epochs if onset - SHIFT_SIZE_WINDOW_S <= e.t_s < onset] or \
            old_epochs[-1:]
        now = epochs[-1]
        preceded = next((p for p in reversed(self._preceding) if p.at_s <= onset), None)
        self._emit(ev.Shift(
            t_s, direction, onset, preceded, None if preceded is None else onset - preceded.at_s,
            _delta(now.hr_bpm, [e.hr_bpm for e in before]),
            _delta(now.ln_rmssd, [e.ln_rmssd for e in before]),
            _delta(now.coherence, [e.coherence for e in before])))

    def _guard(self, t_s: float, state: AutonomicState) -> None:
        """The backdraft guard: watches practice steps for a sustained return to threat."""
        step = self.step
        if step is None or self.paused:
            return
        if self._backdraft_at is not None:
            if state in (AutonomicState.NEUTRAL, AutonomicState.SOOTHING):
                self._calm_since_s = self._calm_since_s if self._calm_since_s is not None \
                    else t_s
                if t_s - self._calm_since_s >= BACKDRAFT_EASE_S:
                    self._ease(t_s)
            else:
                self._calm_since_s = None
            return
        if not step.practice:
            return
        arousal = self.classifier.scores.arousal if self.classifier.scores else None
        if state in (AutonomicState.NEUTRAL, AutonomicState.SOOTHING):
            self._settled_in_practice = True
        if not self._settled_in_practice or arousal is None:
            return
        level = float(np.median(self._practice_arousal)) if self._practice_arousal else arousal
        if state is AutonomicState.THREAT and arousal - level >= ENTER_Z:
            self._backdraft(t_s, step)
            return
        rising = arousal >= EXIT_Z and arousal - level >= BACKDRAFT_RISE_Z
        self._rising_epochs = self._rising_epochs + 1 if rising else 0
        if self._rising_epochs >= BACKDRAFT_CONFIRM_EPOCHS:
            self._backdraft(t_s, step)
            return
        if not rising:
            self._practice_arousal.append(arousal)

    def _backdraft(self, t_s: float, step: Step) -> None:
        self._backdraft_at = t_s
        self._rising_epochs = 0
        self._calm_since_s = None
        slowed = None
        if self.pacer is not None:
            slowed = self._slowed(self.pacer.target_rate_bpm())
            self.pacer.set_rate(slowed, t_s)
            shares = self.protocol.pattern.shares()
            self._emit(ev.PacerChanged(t_s, slowed, self.pacer.glide_s, shares[0], shares[2]))
        onset = self._threat_since_s if self._threat_since_s is not None else t_s
        self._emit(ev.Backdraft(t_s, onset, step.name, slowed))
        self._cue(t_s, "grounding", CUE_GROUNDING)
        self._cue(t_s, "pause", CUE_PAUSE)

    def _slowed(self, rate_bpm: float) -> float:
        return max(min(rate_bpm, self.pace_bpm) * BACKDRAFT_SLOWING, MIN_SLOWED_BPM)

    def _ease(self, t_s: float) -> None:
        assert self._backdraft_at is not None
        self._emit(ev.BackdraftEased(t_s, t_s - self._backdraft_at))
        self._backdraft_at = None
        self._cue(t_s, "reflection", CUE_WELCOME_BACK)
        step = self.step
        if self.pacer is not None and step is not None:
            rates = step.pacer_rates(self.pace_bpm, self.own_breathing_bpm)
            if rates is not None:
                self.pacer.set_rate(rates[1], t_s)
                shares = self.protocol.pattern.shares()
                self._emit(ev.PacerChanged(t_s, rates[1], self.pacer.glide_s, shares[0],
                                           shares[2]))

    # -- output ------------------------------------------------------------------------

    def _cue(self, t_s: float, kind: str, text: str) -> None:
        step = self.step
        self._emit(ev.Cue(t_s, kind, text, None if step is None else step.name))
        self._remember(ev.Preceding("cue", text, t_s))

    def _signal_cue(self, t_s: float, text: str) -> None:
        if t_s - self._last_signal_cue_s >= SIGNAL_CUE_EVERY_S:
            self._last_signal_cue_s = t_s
            step = self.step
            self._emit(ev.Cue(t_s, "signal", text, None if step is None else step.name))

    def _remember(self, p: ev.Preceding) -> None:
        self._preceding.append(p)
        while self._preceding and self._preceding[0].at_s < p.at_s - SHIFT_LOOKBACK_S:
            self._preceding.popleft()

    def _emit(self, event: ev.Event) -> None:
        self._out.append(event)

    def _drain(self) -> list[ev.Event]:
        out, self._out = self._out, []
        return out


def _measures_response(step: Step) -> bool:
    """An assessment step at a fixed pacer rate: its beats give a paced response."""
    return step.assess and step.pacer is not None and not isinstance(step.pacer, str)


def _delta(now: float | None, before: list[float | None]) -> float | None:
    values = [v for v in before if v is not None]
    if now is None or not values:
        return None
    return float(now - np.mean(values))
