"""What a protocol's measuring steps take from the heart.

A baseline step yields the person's resting reference (and their own breathing rate, read
from its beats as a recording's is); the assessment steps, each at a fixed pacer rate,
yield paced responses from which the resonance rate is picked once the last of them ends.
"""

from __future__ import annotations

from array import array

import numpy as np

from heartsease.coaching import events as ev
from heartsease.coaching.classifier import EpochFeatures, RestingBaseline
from heartsease.coaching.protocols import Step
from heartsease.signal.breathing import breathing_rate_over_recording
from heartsease.signal.resonance import PacedResponse, assess_resonance, paced_response


def measures_response(step: Step) -> bool:
    """An assessment step at a fixed pacer rate: its beats give a paced response."""
    return step.assess and step.pacer is not None and not isinstance(step.pacer, str)


class StepMeasures:
    """The beats and epochs of the measuring steps, and what they give when a step ends."""

    def __init__(self) -> None:
        self.responses: list[PacedResponse] = []
        self.learned_baseline: RestingBaseline | None = None
        self.own_breathing_bpm: float | None = None
        # Kept as compact arrays, and the step's beats only while a baseline step or one that
        # measures the paced response runs: a long practice holds 8 bytes an epoch, not a
        # list of floats.
        self.step_beats: array[float] | None = None  # the corrected beats of such a step
        self._baseline_epochs: list[EpochFeatures] = []

    def step_begun(self, step: Step) -> None:
        self.step_beats = array("d") if step.baseline or measures_response(step) else None

    def baseline_epoch(self, features: EpochFeatures) -> None:
        """An epoch of a baseline step."""
        self._baseline_epochs.append(features)

    def learn_baseline(self, t_s: float) -> ev.BaselineLearned | None:
        """At the end of a baseline step: the person's own breathing rate, and their resting
        baseline when enough of its epochs were clean.

        The rate is the step's beats' as a recording's
        (:func:`~heartsease.signal.breathing.breathing_rate_over_recording`), not the median
        of the live 64-s readings: those take a dominant baroreflex (Mayer) rhythm near
        6/min for the breathing, and the settling pacer would then start at the person's
        pace instead of near their own rate. Measured on simulated sessions' baselines, wrong
        by more than 1/min (the live median, then this): the default person breathing
        8-22/min, 27 and 0 of 56; beside Mayer waves of 3-7 beats/min, breathing 10-25/min,
        115 and 0 of 120; with a weak RSA (0.5-1 beats/min at 12/min), 72 and 0 of 80 (16
        unknown). ``None`` is the protocol's unknown own rate."""
        if self.step_beats is not None:
            self.own_breathing_bpm = breathing_rate_over_recording(
                np.frombuffer(self.step_beats)).rate_bpm
        learned = RestingBaseline.from_epochs(self._baseline_epochs)
        if learned is None:
            return None
        self.learned_baseline = learned
        return ev.BaselineLearned(t_s=t_s, baseline=learned,
                                  own_breathing_bpm=self.own_breathing_bpm)

    def end_response(self, step: Step) -> bool:
        """At the end of a step: its paced response, if it measures one (whether it did)."""
        if self.step_beats is None or not measures_response(step):
            return False
        response = paced_response(np.frombuffer(self.step_beats), float(step.pacer))
        if response is not None:
            self.responses.append(response)
        return True

    def assess(self, t_s: float) -> ev.ResonanceResult | None:
        """The resonance rate from the responses so far (which are then let go)."""
        if not self.responses:
            return None
        a = assess_resonance(self.responses)
        self.responses = []
        return ev.ResonanceResult(
            t_s=t_s, resonance_bpm=a.resonance_bpm, confidence=a.confidence.value,
            margin=a.margin, explanation=a.explanation,
            rates=tuple({"pacer_rate_bpm": r.pacer_rate_bpm,
                         "lf_peak_power_ms2": r.lf_peak_power_ms2, "lf_peak_hz": r.lf_peak_hz,
                         "hr_swing_bpm": r.hr_swing_bpm, "coherence_ratio": r.coherence_ratio,
                         "pacer_adherence": r.pacer_adherence} for r in a.responses))
