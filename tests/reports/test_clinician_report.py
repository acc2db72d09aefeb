"""The clinician's PDF report read back as a reader's software reads it (the words and where
they stand): the client, their own date, the figures, ratings, the shift log and the notes,
and no two words drawn over each other, even when notes come seconds apart."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTPage, LTTextLine

from heartsease.coaching.summary import SessionRecord
from heartsease.reports.gentle import GivenRating
from heartsease.reports.report import ReportClient, note_rows, report_html, report_pdf
from heartsease.reports.session import SessionHeader, StoredBeat
from heartsease.signal.recording import analyze_recording
from tests.reports.test_people_s_words import a_session

# Midnight UTC on a Monday is Sunday evening in New York.
HEADER = SessionHeader("s1", "c1", "srb", 6.0, "completed", datetime(2026, 1, 5, tzinfo=UTC))
NOTES = ("eyes closed", "critic's voice named", "shoulders dropped", "a sigh", "smiled")
CLIENT = ReportClient("Sam Example", ZoneInfo("America/New_York"),
                      [GivenRating(2.0, "inner-critic", 6), GivenRating(150.0, "calm", None)])


def a_session_with_notes_seconds_apart() -> tuple[list[StoredBeat], SessionRecord]:
    # A note a beat: under a second apart.
    return a_session(240, {100 + i: note for i, note in enumerate(NOTES)})


def read_back(pdf: bytes) -> list[LTPage]:
    return list(extract_pages(io.BytesIO(pdf)))


def lines_of(page: LTPage) -> list[LTTextLine]:
    found: list[LTTextLine] = []

    def walk(item: object) -> None:
        if isinstance(item, LTTextLine):
            found.append(item)
        elif hasattr(item, "__iter__"):
            for child in item:  # type: ignore[attr-defined]
                walk(child)
    walk(page)
    return found


def chars_of(page: LTPage) -> list[tuple[int, int, LTChar]]:
    """Each drawn character with its line and place in the line."""
    return [(n, i, c) for n, line in enumerate(lines_of(page)) for i, c in enumerate(line)
            if isinstance(c, LTChar) and c.get_text().strip()]


def overlap(a: tuple[int, int, LTChar], b: tuple[int, int, LTChar],
            slack_pt: float = 0.3) -> bool:
    """Whether two drawn characters cover each other beyond a hair; neighbours in a line
    by more than a kerned pair such as "Fr" does (a third of the narrower one)."""
    (line_a, i, x), (line_b, j, y) = a, b
    across = min(x.x1, y.x1) - max(x.x0, y.x0)
    if line_a == line_b and abs(i - j) == 1:
        slack_pt = max(slack_pt, min(x.width, y.width) / 3)
    return across > slack_pt and min(x.y1, y.y1) - max(x.y0, y.y0) > 0.3


def test_the_pdf_carries_the_client_the_figures_and_every_note_legibly() -> None:
    beats, record = a_session_with_notes_seconds_apart()
    pages = read_back(report_pdf(HEADER, beats, record, CLIENT))
    text = "\n".join(line.get_text() for page in pages for line in lines_of(page))
    assert "Sam Example · Sunday 4 January 2026, 19:00 (EST)" in text
    expected = analyze_recording(np.array([b.rr_ms for b in beats]))
    for label, value in (("RMSSD", f"{expected.time.rmssd_ms:,.1f} ms"),
                         ("SDNN", f"{expected.time.sdnn_ms:,.1f} ms"),
                         ("mean heart rate", f"{expected.time.mean_hr_bpm:,.1f} bpm"),
                         ("LF power", f"{expected.frequency.lf_ms2:,.0f} ms²"),
                         ("HF power", f"{expected.frequency.hf_ms2:,.0f} ms²"),
                         ("coherence ratio", f"{expected.coherence_ratio:,.2f}")):
        assert label in text and value in text, (label, value)
    assert "breathing rate (from the heart's rhythm)" in text
    for words in ("The client's ratings", "inner critic", "6 of 10", "skipped",
                  "Shift log", "Clinicians' notes", "heart rate (beats/min)",
                  "minutes into the session", "settled"):
        assert words in text, words
    for note in NOTES:
        assert note in text, note
    for number, page in enumerate(pages, start=1):
        touching = [(a[2].get_text(), b[2].get_text(), round(a[2].x0), round(a[2].y0))
                    for a, b in itertools.combinations(chars_of(page), 2) if overlap(a, b)]
        assert not touching, f"page {number}: {touching[:5]}"


def test_marks_of_notes_close_together_take_rows_of_their_own() -> None:
    rows = note_rows([100.0, 101.0, 102.0, 140.0, 103.0], [10.0] * 5)
    assert rows == [0, 1, 2, 0, 3]
    assert note_rows([], []) == []


def test_the_html_report_has_a_legend_for_the_state_colours() -> None:
    beats, record = a_session_with_notes_seconds_apart()
    page = report_html(HEADER, beats, record, CLIENT)
    assert 'aria-label="What the colours mean"' in page
    for words in ("on alert", "steady", "settled", "not yet known"):
        assert words in page
    assert "Sam Example" in page and "6 of 10" in page
