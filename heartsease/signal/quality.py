"""Whether a recording's HRV can be read at all, and why not: the honest verdict.

Every analysis gets ``interpretable`` (true or false) and plain reasons. The thresholds:

- **Corrected beats over 5 %**: not interpretable. Kubios HRV's user guide (Tarvainen et al.,
  Kubios HRV 3 user's guide, "artefact correction") warns that results from recordings with
  more than 5 % corrected beats are questionable; Peltola (2012, Front Physiol 3:148, "Role of
  editing of R-R intervals in the analysis of heart rate variability") shows RMSSD and HF
  biased by even a few percent of edited or ectopic beats, so 1 % or more gets a note.
- **An irregular rhythm**: over 5 % of successive corrected intervals changing by more than
  20 % of the one before. The 20 % change is the classic limit beyond which an interval is
  not taken as sinus rhythm (Kleiger et al. 1987, Am J Cardiol 59:256, and most Holter NN
  filters since). Sinus rhythm stays far under it (measured: 0-0.9 % on MIT-BIH 100, 101,
  103, 105, 116, the Polar H10 and NeuroKit recordings); bigeminy, trigeminy and atrial
  fibrillation give 42-62 % before correction (MIT-BIH 106, 119, 200, 203, 208, 233); what
  correction leaves of them is caught here when it does not exceed 5 % corrected beats.
- **Too short**: under 60 s is not interpretable; the Task Force (1996, Circulation
  93:1043) asks at least 1 minute for HF, 2 for LF and 5 as the short-term standard; the
  shorter ones get notes.
- **Gaps**: listed; the verdict is false when the longest stretch between them is under
  60 s (nothing is long enough to read).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heartsease.signal.artifacts import ArtifactCorrection, ArtifactKind
from heartsease.signal.gaps import RRGap, correct_around_gaps, find_gaps

MAX_CORRECTED_PCT = 5.0
NOTE_CORRECTED_PCT = 1.0
IRREGULAR_STEP = 0.2
MAX_IRREGULAR_PCT = 5.0
MIN_DURATION_S = 60.0
MIN_LF_DURATION_S = 120.0
STANDARD_DURATION_S = 300.0


@dataclass(frozen=True, slots=True)
class Quality:
    """The verdict on a recording's HRV and its reasons, in plain words."""

    interpretable: bool
    notes: list[str]


def irregular_pct(rr_ms: NDArray[np.float64]) -> float:
    """Share of successive intervals changing by more than 20 % of the one before.

    Examples
    --------
    >>> irregular_pct(np.array([800.0, 810, 600, 1000, 800]))
    50.0
    """
    if rr_ms.size < 2:
        return 0.0
    return float(100.0 * np.mean(np.abs(np.diff(rr_ms)) > IRREGULAR_STEP * rr_ms[:-1]))


def _longest_stretch_s(raw_rr_ms: NDArray[np.float64], gaps: list[RRGap]) -> float:
    if not gaps:
        return float(raw_rr_ms.sum() / 1000.0)
    # raw_rr_ms has the gap intervals taken out; rebuild the parts from the gap indices.
    edges = [g.index - k for k, g in enumerate(gaps)]
    parts = np.split(raw_rr_ms, edges)
    return max(float(p.sum()) for p in parts) / 1000.0


def corrected_beats(correction: ArtifactCorrection) -> int:
    """How many beats correction moved, added or removed, as Kubios counts them: an ectopic
    pair (two intervals) is one misplaced beat, an extra beat's two intervals one beat."""
    labels = correction.labels
    pairs = np.count_nonzero(np.isin(labels, (ArtifactKind.ECTOPIC, ArtifactKind.EXTRA)))
    return int(pairs // 2 + np.count_nonzero(
        np.isin(labels, (ArtifactKind.MISSED, ArtifactKind.LONG, ArtifactKind.SHORT))))


def _correction_notes(correction: ArtifactCorrection) -> tuple[bool, list[str]]:
    pct = 100.0 * corrected_beats(correction) / max(1, correction.raw_rr_ms.size)
    if pct < NOTE_CORRECTED_PCT:
        return True, []
    ectopic = int(np.count_nonzero(correction.labels == ArtifactKind.ECTOPIC)) // 2
    other = corrected_beats(correction) - ectopic
    detail = (f"{pct:.1f} % of beats corrected ({ectopic} ectopic, {other} missed, extra, "
              "long or short)")
    if pct > MAX_CORRECTED_PCT:
        return False, [f"{detail}: over the 5 % beyond which HRV is questionable (Kubios)"]
    return True, [f"{detail}: HRV, RMSSD and HF above all, may be biased (Peltola 2012)"]


def _duration_notes(duration_s: float) -> tuple[bool, list[str]]:
    if duration_s < MIN_DURATION_S:
        return False, [f"too short: {duration_s:.0f} s; HRV needs at least 1 minute "
                       "(Task Force 1996)"]
    if duration_s < MIN_LF_DURATION_S:
        return True, [f"short: {duration_s:.0f} s; LF needs at least 2 minutes, so only "
                      "the time domain and HF can be read (Task Force 1996)"]
    if duration_s < STANDARD_DURATION_S:
        return True, [f"{duration_s:.0f} s: shorter than the 5-minute standard (Task Force "
                      "1996); compare only with recordings of the same length"]
    return True, []


def _gap_notes(raw_rr_ms: NDArray[np.float64], gaps: list[RRGap]) -> tuple[bool, list[str]]:
    if not gaps:
        return True, []
    lost_s = sum(g.length_ms for g in gaps) / 1000.0
    shown = ", ".join(f"{g.length_ms / 1000:.1f} s at {g.start_s:.0f} s" for g in gaps[:5])
    more = f" and {len(gaps) - 5} more" if len(gaps) > 5 else ""
    notes = [f"{len(gaps)} gap(s) in the signal, {lost_s:.1f} s in all ({shown}{more}): "
             "analysed around them"]
    longest = _longest_stretch_s(raw_rr_ms, gaps)
    if longest < MIN_DURATION_S:
        notes.append(f"the longest stretch between gaps is {longest:.0f} s, under 1 minute")
        return False, notes
    return True, notes


def assess_quality(
    correction: ArtifactCorrection, gaps: list[RRGap], duration_s: float
) -> Quality:
    """The verdict on a corrected recording (see the module docstring for the thresholds).

    Examples
    --------
    >>> from heartsease.signal.artifacts import correct_artifacts
    >>> rr = 850 + 40 * np.sin(np.arange(400) / 2)
    >>> assess_quality(correct_artifacts(rr), [], float(rr.sum() / 1000))
    Quality(interpretable=True, notes=[])
    >>> bigeminy = np.tile([600.0, 1100.0], 200)
    >>> q = assess_quality(correct_artifacts(bigeminy), [], float(bigeminy.sum() / 1000))
    >>> q.interpretable, q.notes[0][:27]
    (False, '50.0 % of beats corrected (')
    >>> fibrillation = np.random.default_rng(0).uniform(450, 1100, 400)
    >>> q = assess_quality(correct_artifacts(fibrillation), [], 300.0)
    >>> q.interpretable, q.notes[0][:20]
    (False, 'irregular rhythm: 45')
    """
    checks = [_duration_notes(duration_s), _gap_notes(correction.raw_rr_ms, gaps)]
    irregular = irregular_pct(correction.rr_ms)
    if irregular > MAX_IRREGULAR_PCT:
        checks.append((False, [
            f"irregular rhythm: {irregular:.0f} % of successive intervals change by over 20 % "
            "even after correction (frequent ectopy or atrial fibrillation): not sinus rhythm"
        ]))
    checks.append(_correction_notes(correction))
    notes = [note for _, part in checks for note in part]
    return Quality(all(ok for ok, _ in checks), notes)


def recording_quality(rr_ms: NDArray[np.float64] | list[float]) -> Quality:
    """The verdict on raw RR intervals as they were recorded: gaps found, artifacts
    corrected automatically (as ``heartsease analyze`` does), then :func:`assess_quality`.

    Examples
    --------
    >>> recording_quality([800.0] * 30).interpretable  # 24 s: too short
    False
    """
    raw = np.asarray(rr_ms, dtype=np.float64)
    gaps = find_gaps(raw)
    return assess_quality(correct_around_gaps(raw, gaps), gaps, float(raw.sum() / 1000.0))
