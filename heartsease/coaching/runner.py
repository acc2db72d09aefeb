"""The protocol runner: a protocol's steps, cues and pacer on session time, with pause and
resume.

It is told the time and emits what time alone brings: a step's start, its spoken cues, the
pacer's rate changes and the parts of each paced breath. While a backdraft lasts it is
*held*: the pacer is stopped, the stage's guidance is left unsaid and no new practice
stage begins.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from heartsease.coaching import events as ev
from heartsease.coaching.backdraft import BACKDRAFT_EASE_S
from heartsease.coaching.pacer import BreathPacer
from heartsease.coaching.protocols import Protocol, Step
from heartsease.coaching.shifts import ShiftLog

SIGNAL_CUE_EVERY_S = 60.0
PACER_LOOKAHEAD_S = 30.0  # longer than any part of a breath (20 s at 3/min, all in)

CUE_HOLDING = "We'll stay with the breath for now. There's no need to move on."



class ProtocolRunner:
    """Runs one protocol on session time; events go to ``out``, in order.

    Parameters
    ----------
    protocol : the steps to run.
    pace_bpm : the client's pace (their resonance rate).
    out : the session's event list, shared with the rest of the session.
    shifts : where the steps and cues are remembered, as what may precede a shift.
    on_step_begun : called with a step and the time as it begins.
    on_step_ending : called with a step, the time and the steps after it as it ends.
    on_session_ending : called with the current step (if any), the time and the reason as
        the session ends.
    """

    def __init__(
        self, protocol: Protocol, pace_bpm: float, out: list[ev.Event], shifts: ShiftLog, *,
        on_step_begun: Callable[[Step, float], None],
        on_step_ending: Callable[[Step, float, tuple[Step, ...]], None],
        on_session_ending: Callable[[Step | None, float, str], None],
    ) -> None:
        self.protocol = protocol
        self.pace_bpm = pace_bpm
        self.own_breathing_bpm: float | None = None
        self.pacer: BreathPacer | None = None
        self.step_index = -1
        self.step_start_s = 0.0
        self.now_s = 0.0
        self.ended = False
        self.paused = False
        self.held = False
        self._out = out
        self._shifts = shifts
        self._on_step_begun = on_step_begun
        self._on_step_ending = on_step_ending
        self._on_session_ending = on_session_ending
        self._cue_index = 0
        self._paused_at: float | None = None
        self._last_signal_cue_s = -math.inf

    @property
    def step(self) -> Step | None:
        steps = self.protocol.steps
        return steps[self.step_index] if 0 <= self.step_index < len(steps) else None

    def step_elapsed_s(self, t_s: float) -> float:
        """How far into the current step the session is (a pause stops the count)."""
        until = self._paused_at if self._paused_at is not None else t_s
        return max(until - self.step_start_s, 0.0)

    def start(self, t_s: float) -> None:
        self.now_s = t_s
        self._begin_step(0, t_s)

    def next_due_s(self) -> float:
        """Session time of the next event that time alone brings, or infinity while paused
        or ended."""
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

    def advance(self, t_s: float) -> None:
        """Steps, cues and pacer phases up to ``t_s``."""
        while not self.ended and not self.paused:
            step = self.step
            assert step is not None
            end = self.step_start_s + step.seconds
            if end > t_s:
                break
            self._run_until(end)
            if self.held and self._next_is_practice():
                # Never push on into a new practice stage while the person is in distress.
                self.step_start_s += BACKDRAFT_EASE_S
                self.cue(end, "grounding", CUE_HOLDING)
                continue
            self._end_step(end)
            if self.step_index + 1 >= len(self.protocol.steps):
                self.end(end, "completed")
                return
            self._begin_step(self.step_index + 1, end)
        if not self.ended:
            self._run_until(t_s)

    def pause(self, t_s: float) -> None:
        if not self.paused and not self.ended:
            self.paused, self._paused_at = True, t_s
            self.pacer = None
            self._emit(ev.Paused(t_s=t_s, paused=True))
            self._pacer_off(t_s)

    def resume(self, t_s: float) -> None:
        if self.paused and not self.ended and self._paused_at is not None:
            self.step_start_s += t_s - self._paused_at
            self.paused, self._paused_at = False, None
            self._emit(ev.Paused(t_s=t_s, paused=False))
            self._start_pacer(t_s, fresh=True)
            self.now_s = max(self.now_s, t_s)  # its first in-breath is said once, not again

    def end(self, t_s: float, reason: str) -> None:
        self._on_session_ending(self.step, t_s, reason)
        self.ended = True
        self.now_s = max(self.now_s, t_s)
        self.pacer = None
        self._emit(ev.SessionEnded(t_s=t_s, reason=reason))

    def hold(self, t_s: float) -> None:
        """Hold the protocol for a backdraft: the pacer stops (slowing it further can add
        air hunger) and no new practice stage begins."""
        self.held = True
        if self.pacer is not None:
            self.pacer = None
            self._pacer_off(t_s)

    def release(self, t_s: float) -> None:
        """The backdraft has eased: the pacer starts again, afresh, at the step's rate."""
        self.held = False
        if self.step is not None and not self.paused and not self.ended:
            self._start_pacer(t_s, fresh=True)
            self.now_s = max(self.now_s, t_s)  # its first in-breath is said once, not again

    def cue(self, t_s: float, kind: str, text: str) -> None:
        """Words for the person, remembered as what may precede a shift."""
        step = self.step
        self._emit(ev.Cue(t_s=t_s, cue_kind=kind, text=text,
                          step=None if step is None else step.name))
        self._shifts.remember(ev.Preceding(kind="cue", label=text, at_s=t_s))

    def signal_cue(self, t_s: float, text: str) -> None:
        """A word about the strap's signal, at most once a minute."""
        if t_s - self._last_signal_cue_s >= SIGNAL_CUE_EVERY_S:
            self._last_signal_cue_s = t_s
            step = self.step
            self._emit(ev.Cue(t_s=t_s, cue_kind="signal", text=text,
                              step=None if step is None else step.name))

    def _emit(self, event: ev.Event) -> None:
        self._out.append(event)

    def _run_until(self, t_s: float) -> None:
        """Cues and pacer phases of the current step up to ``t_s``."""
        if t_s < self.now_s:
            return
        step = self.step
        if step is not None and not self.paused:
            while (self._cue_index < len(step.cues)
                   and self.step_start_s + step.cues[self._cue_index].at_s <= t_s):
                cue = step.cues[self._cue_index]
                # While the guide has stopped for a backdraft, the stage's practice words
                # are left unsaid: the person was told it stopped, and is being grounded.
                if not self.held:
                    self.cue(self.step_start_s + cue.at_s, "guidance", cue.text)
                self._cue_index += 1
        if self.pacer is not None:
            for at, part in self.pacer.transitions(self.now_s, t_s):
                phase = self.pacer.phase(at + 1e-9)
                self._emit(ev.PacerPhase(t_s=at, part=part.value, breath=phase.breath,
                                         rate_bpm=phase.rate_bpm, part_s=phase.part_s))
        self.now_s = t_s

    def _next_is_practice(self) -> bool:
        steps = self.protocol.steps
        return self.step_index + 1 < len(steps) and steps[self.step_index + 1].practice

    def _begin_step(self, index: int, t_s: float) -> None:
        self.step_index, self.step_start_s, self._cue_index = index, t_s, 0
        step = self.protocol.steps[index]
        rates = step.pacer_rates(self.pace_bpm, self.own_breathing_bpm)
        self._emit(ev.StepStarted(
            t_s=t_s, name=step.name, title=step.title, seconds=step.seconds,
            practice=step.practice, pacer_from_bpm=None if rates is None else rates[0],
            pacer_to_bpm=None if rates is None else rates[1], pacer_fade=step.fade,
            workspace=step.workspace,
            prompts=tuple({"name": p.name, "text": p.text} for p in step.prompts)))
        self._shifts.remember(ev.Preceding(kind="step", label=step.name, at_s=t_s))
        self._on_step_begun(step, t_s)
        self._start_pacer(t_s, fresh=False)
        self._run_until(t_s)

    def _end_step(self, t_s: float) -> None:
        step = self.step
        assert step is not None
        self._on_step_ending(step, t_s, self.protocol.steps[self.step_index + 1:])

    def _start_pacer(self, t_s: float, fresh: bool) -> None:
        step = self.step
        assert step is not None
        rates = None if self.held else step.pacer_rates(self.pace_bpm, self.own_breathing_bpm)
        if rates is None:
            if self.pacer is not None:
                self.pacer = None
                self._pacer_off(t_s)
            return
        start, end = rates
        elapsed = t_s - self.step_start_s
        glide_s = step.seconds - elapsed if start != end else 0.0
        if start != end and elapsed > 0:  # resuming inside a glide: start where it had got to
            start = start + (end - start) * elapsed / step.seconds
        if self.pacer is None or fresh:
            self.pacer = BreathPacer(start, t_s, self.protocol.pattern)
            first = self.pacer.phase(t_s)
            self._emit(ev.PacerPhase(t_s=t_s, part=first.part.value, breath=0,
                                     rate_bpm=first.rate_bpm, part_s=first.part_s))
        else:
            self.pacer.set_rate(start, t_s)
            glide_s = max(glide_s, self.pacer.glide_s)
        if start != end:
            self.pacer.set_rate(end, t_s, glide_s=glide_s)
        self._pacer_changed(t_s, end, glide_s if start != end else self.pacer.glide_s)

    def _pacer_changed(self, t_s: float, rate_bpm: float, glide_s: float) -> None:
        shares = self.protocol.pattern.shares()
        self._emit(ev.PacerChanged(t_s=t_s, rate_bpm=rate_bpm, glide_s=glide_s,
                                   inhale_share=shares[0], exhale_share=shares[2],
                                   hold_in_share=shares[1], hold_out_share=shares[3]))

    def _pacer_off(self, t_s: float) -> None:
        self._emit(ev.PacerChanged(t_s=t_s, rate_bpm=None, glide_s=0.0, inhale_share=0.0,
                                   exhale_share=0.0))

