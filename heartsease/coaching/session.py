"""One coaching session as a state machine: beats and time in, events out.

:class:`CoachingSession` has no clock and no I/O. It is told the time (``tick``), given
measurements and gaps as a source delivers them, and returns the events they cause. It ties
together the parts that do the work: the protocol runner (:mod:`~heartsease.coaching.runner`:
steps, cues, pacer, pause and resume), the state features and classifier
(:mod:`~heartsease.coaching.features`), the shift log (:mod:`~heartsease.coaching.shifts`),
the backdraft guard (:mod:`~heartsease.coaching.backdraft`) and what the measuring steps
give (:mod:`~heartsease.coaching.measures`: the resting baseline, the resonance rate).
:mod:`heartsease.coaching.loop` drives it from a live source on a clock; a replay drives it
from a recording, as fast as the machine allows, with the same results.

Times are session seconds: the source's clock minus ``origin_s``.
"""

from __future__ import annotations

from heartsease.coaching import events as ev
from heartsease.coaching.backdraft import (
    CUE_CHECK_IN,
    CUE_GROUNDING,
    CUE_PAUSE,
    CUE_WELCOME_BACK,
    BackdraftContext,
    BackdraftGuard,
    Verdict,
)
from heartsease.coaching.classifier import AutonomicState, RestingBaseline, StateClassifier
from heartsease.coaching.features import StateFeatures, metrics_event
from heartsease.coaching.measures import StepMeasures
from heartsease.coaching.pacer import BreathPacer
from heartsease.coaching.protocols import DEFAULT_PACE_BPM, Protocol, Step
from heartsease.coaching.runner import ProtocolRunner
from heartsease.coaching.shifts import Epoch, ShiftLog
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Gap, Measurement
from heartsease.signal.streaming import BeatMetrics, SpectralMetrics

CUE_SETTLING = "Your heart rhythm seems to be settling with your breath."
CUE_GAP = "The strap lost touch for a moment. Nothing you did; carry on as you are."
CUE_CONTACT = ("The strap can't feel your heartbeat just now. A little water on its sensor "
               "pads usually helps.")


class CoachingSession:
    """The coaching loop's logic for one session.

    Parameters
    ----------
    protocol : the steps to run.
    pace_bpm : the client's pace (their resonance rate); 6/min when not known.
    baseline : the person's stored resting baseline; without one, the protocol's baseline
        step provides it and the state is ``unknown`` until then.
    origin_s : the source-clock time of the session's start.
    heart_led : whether the heart may lead what the person meets (a backdraft the body
        shows, a word when it seems to settle). False when their plan is the pacer and cues
        only (suitability not yet confirmed; a pacemaker or frequent arrhythmia): the beats
        are still measured and kept, and "this is a lot" still works.

    Examples
    --------
    >>> from heartsease.coaching.protocols import load_protocol
    >>> s = CoachingSession(load_protocol("srb"))
    >>> [e.kind for e in s.start()]
    ['session-started', 'step', 'cue']
    >>> [e.kind for e in s.tick(125.0)]
    ['cue', 'cue', 'cue', 'cue', 'step', 'pacer-phase', 'pacer', 'cue', 'pacer-phase']
    """

    def __init__(
        self,
        protocol: Protocol,
        pace_bpm: float | None = None,
        baseline: RestingBaseline | None = None,
        origin_s: float = 0.0,
        heart_led: bool = True,
    ) -> None:
        self.origin_s = origin_s
        self.heart_led = heart_led
        self.stored_baseline = baseline
        self.classifier = StateClassifier(baseline)
        self.beats_received = 0
        self._out: list[ev.Event] = []
        self._shifts = ShiftLog()
        self._guard = BackdraftGuard()
        self._features = StateFeatures()
        self._measures = StepMeasures()
        self._runner = ProtocolRunner(
            protocol, DEFAULT_PACE_BPM if pace_bpm is None else pace_bpm, self._out,
            self._shifts, on_step_begun=self._step_begun, on_step_ending=self._step_ending,
            on_session_ending=self._session_ending)

    # -- what the loop, the service and the terminal read ---------------------------------

    @property
    def protocol(self) -> Protocol:
        return self._runner.protocol

    @property
    def pace_bpm(self) -> float:
        """The client's pace; a resonance assessment in the session may have changed it."""
        return self._runner.pace_bpm

    @property
    def step(self) -> Step | None:
        return self._runner.step

    @property
    def pacer(self) -> BreathPacer | None:
        return self._runner.pacer

    @property
    def paused(self) -> bool:
        return self._runner.paused

    @property
    def ended(self) -> bool:
        return self._runner.ended

    @property
    def now_s(self) -> float:
        """The session time it has been told, or that its beats have brought it to."""
        return self._runner.now_s

    @property
    def learned_baseline(self) -> RestingBaseline | None:
        """The resting baseline this session's baseline step measured, if it did."""
        return self._measures.learned_baseline

    def step_elapsed_s(self, t_s: float) -> float:
        """How far into the current step the session is (a pause stops the count)."""
        return self._runner.step_elapsed_s(t_s)

    def next_due_s(self) -> float:
        """Session time of the next event that time alone brings (the step's end, a cue, the
        pacer's next phase), or infinity while paused or ended: a live loop sleeps until
        then rather than polling."""
        return self._runner.next_due_s()

    # -- driving -----------------------------------------------------------------------

    def start(self, t_s: float | None = None) -> list[ev.Event]:
        """Begin the first step at session time ``t_s`` (0 by default)."""
        at = 0.0 if t_s is None else t_s
        protocol = self.protocol
        baseline_step = next((s.name for s in protocol.steps if s.baseline), "none")
        self._out.append(ev.SessionStarted(
            t_s=at, protocol=protocol.name, title=protocol.title, pace_bpm=self.pace_bpm,
            baseline_from="stored" if self.stored_baseline is not None else baseline_step))
        self._runner.start(at)
        return self._drain()

    def tick(self, t_s: float) -> list[ev.Event]:
        """Advance session time to ``t_s``: steps, cues and pacer phases up to then."""
        self._runner.advance(t_s)
        return self._drain()

    def measurement(self, m: Measurement) -> list[ev.Event]:
        """A strap notification (times on the source clock)."""
        arrival = m.arrival_s - self.origin_s
        runner = self._runner
        runner.advance(arrival)
        if runner.ended:
            return self._drain()
        features = self._features
        if m.contact is SensorContact.NOT_DETECTED:
            if not features.contact_lost:
                features.contact_lost = True
                runner.signal_cue(arrival, CUE_CONTACT)
        elif features.contact_lost:
            features.contact_lost = False
            self._restart_analysis(arrival)
        for rr, beat_t in zip(m.rr_ms, m.beat_times_s, strict=True):
            t = beat_t - self.origin_s
            self.beats_received += 1
            self._out.append(ev.Beat(t_s=t, seq=self.beats_received, rr_ms=rr,
                                     arrival_s=arrival, hr_bpm=m.hr_bpm))
            if not features.contact_lost:
                self._analyse(*features.analyzer.push(rr, t))
        return self._drain()

    def gap(self, g: Gap) -> list[ev.Event]:
        """No beats from ``g.start_s`` to ``g.end_s`` (source clock)."""
        start, end = g.start_s - self.origin_s, g.end_s - self.origin_s
        self._runner.advance(start)
        self._analyse(*self._features.analyzer.flush())
        self._out.append(ev.GapEvent(t_s=start, end_s=end, reason=g.reason))
        self._runner.signal_cue(start, CUE_GAP)
        self._runner.advance(end)
        self._restart_analysis(end)
        return self._drain()

    def annotate(self, text: str, author: str, t_s: float | None = None) -> list[ev.Event]:
        """A clinician's note at ``t_s`` (now by default); it may precede a shift."""
        at = self.now_s if t_s is None else t_s
        self._out.append(ev.Annotation(t_s=at, author=author, text=text))
        self._shifts.remember(ev.Preceding(kind="annotation", label=text, at_s=at))
        return self._drain()

    def pause(self, t_s: float) -> list[ev.Event]:
        """Hold the protocol and the pacer; beats are still received and stored."""
        self._runner.advance(t_s)
        self._runner.pause(t_s)
        return self._drain()

    def resume(self, t_s: float) -> list[ev.Event]:
        """Carry on after a pause, or after "this is a lot" when the person is ready."""
        self._runner.advance(t_s)
        if self._guard.active:
            self._ease(t_s)
        self._runner.resume(t_s)
        return self._drain()

    def this_is_a_lot(self, t_s: float) -> list[ev.Event]:
        """The person says it is a lot: at once, what a backdraft the body shows brings
        (the pacer stops, grounding, the protocol holds), kept for the clinician."""
        self._runner.advance(t_s)
        step = self.step
        if step is not None and not self.ended and not self._guard.active:
            self._raise(t_s, step, "client")
        return self._drain()

    def finish(self, t_s: float, reason: str = "stopped") -> list[ev.Event]:
        """End the session (stopped by the person, or the source ended)."""
        self._runner.advance(t_s)
        if not self.ended:
            self._analyse(*self._features.analyzer.flush())
            self._runner.end(t_s, reason)
        return self._drain()

    # -- as the runner's steps begin and end ---------------------------------------------

    def _step_begun(self, step: Step, t_s: float) -> None:
        self._measures.step_begun(step)
        self._guard.step_begun(step)

    def _step_ending(self, step: Step, t_s: float, later_steps: tuple[Step, ...]) -> None:
        if step.baseline:
            self._learn_baseline(t_s)
        if self._measures.end_response(step) and not any(s.assess for s in later_steps):
            self._assess(t_s)

    def _session_ending(self, step: Step | None, t_s: float, reason: str) -> None:
        if step is not None and step.assess and reason != "completed":
            self._assess(t_s)
        if self._guard.raised:
            self._runner.cue(t_s, "check-in", CUE_CHECK_IN)

    def _learn_baseline(self, t_s: float) -> None:
        learned = self._measures.learn_baseline(t_s)
        self._runner.own_breathing_bpm = self._measures.own_breathing_bpm
        if learned is None:
            return
        if self.stored_baseline is None:
            self.classifier.baseline = learned.baseline
        self._out.append(learned)

    def _assess(self, t_s: float) -> None:
        result = self._measures.assess(t_s)
        if result is None:
            return
        if result.resonance_bpm is not None:
            self._runner.pace_bpm = result.resonance_bpm
        self._out.append(result)

    # -- analysis ----------------------------------------------------------------------

    def _restart_analysis(self, t_s: float) -> None:
        """Windows start afresh: beats on either side of a gap are not joined."""
        self._analyse(*self._features.analyzer.flush())
        self._features.restart(t_s)

    def _analyse(self, beats: list[BeatMetrics], spectra: list[SpectralMetrics]) -> None:
        step_beats = self._measures.step_beats
        if beats:
            if step_beats is not None:
                step_beats.extend([b.rr_ms for b in beats])
            self._features.last_hrv = beats[-1].hrv
        for s in spectra:
            self._epoch(s.at_s, s)
        pacer = self._runner.pacer
        self._features.analyzer.pacer_rate_bpm = None if pacer is None else \
            pacer.target_rate_bpm()

    def _epoch(self, t_s: float, s: SpectralMetrics) -> None:
        pacer = self.pacer
        features = self._features.epoch(
            t_s, s, None if pacer is None else pacer.rate_at(self.now_s))
        step = self.step
        if step is not None and step.baseline and not self.paused:
            self._measures.baseline_epoch(features)
        previous = self.classifier.state
        state = self.classifier.update(features)
        scores = self.classifier.scores
        arousal, calm = (None, None) if scores is None else (scores.arousal, scores.calm)
        self._shifts.record(Epoch(t_s, state, arousal, calm, features.hr_bpm, features.ln_rmssd,
                                  features.coherence_ratio))
        self._out.append(metrics_event(t_s, s, features, self._features.last_hrv, state,
                                       (arousal, calm)))
        if state is not previous:
            self._out.append(ev.StateChanged(
                t_s=t_s, state=state.value, previous=previous.value,
                reason=self._features.reason(self.classifier, features)))
            self._state_changed(t_s, previous, state)
        if step is not None and not self.paused and self.heart_led:
            self._watch(t_s, step, state, arousal)

    def _state_changed(self, t_s: float, previous: AutonomicState, state: AutonomicState) -> None:
        self._guard.state_changed(t_s, previous, state)
        shift = self._shifts.state_changed(t_s, state)
        if shift is None:
            return
        self._out.append(shift)
        # Not while the guide has stopped for a backdraft: the person is being grounded, and
        # the words would take the grounding's place on their screen.
        if shift.direction == "threat-to-soothing" and self.heart_led \
                and not self._runner.held and self._shifts.reflection_due(t_s):
            self._runner.cue(t_s, "reflection", CUE_SETTLING)

    def _watch(self, t_s: float, step: Step, state: AutonomicState, arousal: float | None) -> None:
        """The backdraft guard's verdict on this epoch, and what the session does about it."""
        verdict = self._guard.watch(t_s, state, arousal, step.practice)
        if verdict is Verdict.BACKDRAFT:
            self._raise(t_s, step, "body")
        elif verdict is Verdict.EASED:
            self._ease(t_s)

    def _raise(self, t_s: float, step: Step, raised_by: str) -> None:
        self._runner.hold(t_s)
        self._out.append(self._guard.backdraft(t_s, step.name, raised_by,
                                               BackdraftContext(self._shifts)))
        self._runner.cue(t_s, "grounding", CUE_GROUNDING)
        self._runner.cue(t_s, "pause", CUE_PAUSE)

    def _ease(self, t_s: float) -> None:
        self._out.append(self._guard.ease(t_s))
        self._runner.cue(t_s, "reflection", CUE_WELCOME_BACK)
        self._runner.release(t_s)

    def _drain(self) -> list[ev.Event]:
        out = self._out[:]
        self._out.clear()  # the runner holds the same list
        return out
