"""A clinician's note in a session's report and files: the person's words, whole, never
read as markup."""

from __future__ import annotations

import dataclasses
import html
import tempfile
from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pyedflib
import pytest

from heartsease.coaching.events import Preceding, Shift
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.coaching.summary import SessionRecord, session_record
from heartsease.reports.files import edf_plus
from heartsease.reports.gentle import client_report_lines
from heartsease.reports.report import ReportClient, report_html, report_pdf
from heartsease.reports.session import SessionHeader, StoredBeat
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Measurement

HEADER = SessionHeader("s1", "c1", "srb", 6.0, "completed", datetime(2026, 1, 5, tzinfo=UTC))


def a_session(beats_n: int, notes: dict[int, str]) -> tuple[list[StoredBeat], SessionRecord]:
    """A coached session of ``beats_n`` tidy beats, with each of ``notes`` written by the
    clinician at the beat it is keyed by."""
    session = CoachingSession(load_protocol("srb"))
    events = session.start(0.0)
    beats, t = [], 0.0
    for seq in range(1, beats_n + 1):
        rr = 850.0 + 50.0 * np.sin(seq / 1.6)
        t += rr / 1000.0
        events += session.measurement(Measurement(t, 70, (rr,), (t,),
                                                  SensorContact.DETECTED))
        beats.append(SimpleNamespace(seq=seq, t_s=t, rr_ms=rr, arrival_s=t, label="N"))
        if seq in notes:
            events += session.annotate(notes[seq], "Dr Rivera", t)
    events += session.finish(t)
    return beats, session_record(events)


def a_session_with(note: str) -> tuple[list[StoredBeat], SessionRecord]:
    return a_session(180, {60: note})


@pytest.mark.parametrize("note", [r"breathing $\notacommand$ fine",
                                  "$" + "{" * 1000 + "}" * 1000 + "$"])
def test_a_note_is_never_parsed_as_markup(note: str) -> None:
    """``$...$`` was read as mathtext: a 500 on every report of the session, forever (and
    nested braces a RecursionError)."""
    beats, record = a_session_with(note)
    page = report_html(HEADER, beats, record, ReportClient("Sam"))
    assert html.escape(note) in page
    assert report_pdf(HEADER, beats, record, ReportClient("Sam")).startswith(b"%PDF")


def test_an_edf_note_keeps_all_its_words() -> None:
    """EDFlib cut every annotation at 40 bytes."""
    note = "Sam named the critic's voice and let it pass; the breath slowed to five — é"
    beats, record = a_session_with(note)
    with tempfile.NamedTemporaryFile(suffix=".edf") as f:
        f.write(edf_plus(HEADER, beats, record))
        f.flush()
        onsets, _, texts = pyedflib.EdfReader(f.name).readAnnotations()
    first = next(i for i, text in enumerate(texts) if text.startswith("note: "))
    together = [text for onset, text in zip(onsets, texts, strict=True)
                if onset == onsets[first]]
    assert "".join(together) == f"note: {note}"


def test_a_session_with_the_demo_heart_says_so_in_both_reports() -> None:
    """The demo heart's sessions read as the client's own to a clinician (a simulated
    backdraft among their moments) until the reports said whose heart it was."""
    beats, record = a_session(180, {})
    demo = dataclasses.replace(HEADER, demo=True)
    clinicians = report_html(demo, beats, record, ReportClient("Sam"))
    assert "a demo heart (the simulator&#x27;s), not the client&#x27;s" in clinicians
    assert "demo heart" not in report_html(HEADER, beats, record, ReportClient("Sam"))
    clients = " ".join(" ".join(lines) for _, lines in client_report_lines(demo, record, [], []))
    assert "You practised with a demo heart, not yours" in clients
    assert "on Monday 5 January 2026" in clients  # the day as the clinician's report writes it


def test_the_shift_log_speaks_the_legends_words_and_cuts_a_cue_at_a_word() -> None:
    """It read "threat-to-soothing" beside a legend of "on alert" and "settled", and cut a cue
    mid-word ("letti")."""
    beats, record = a_session(180, {})
    cue = "You might check in with your face, letting it soften a little"
    shift = Shift(t_s=120.0, direction="threat-to-soothing", onset_s=100.0,
                  preceded_by=Preceding(kind="cue", label=cue, at_s=78.0), latency_s=22.0,
                  delta_hr_bpm=-4.0, delta_ln_rmssd=0.2, delta_coherence=None)
    page = report_html(HEADER, beats, dataclasses.replace(record, shifts=[shift]),
                       ReportClient("Sam"))
    assert "on alert to settled" in page and "threat-to-soothing" not in page
    assert "cue: You might check in with your face,… (22 s)" in page
