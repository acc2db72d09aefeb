"""The clinician's PDF report read back as a reader's software reads it (the words and where
they stand): the client, their own date, the figures, ratings, the shift log and the notes,
and no two words drawn over each other, even when notes come seconds apart."""

from __future__ import annotations

import io
import itertools
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTPage, LTTextLine

from heartsease.api.upload_worker import analyse
from heartsease.coaching.events import Beat
from heartsease.coaching.summary import SessionRecord, session_record
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


# Each recording with a respiration belt, uploaded as a client's own file and replayed
# through the srb protocol as the service does; each step's breathing against the median of
# the belt's breaths that began in it. Measured: event-related baseline 18.5 (belt 18.7;
# the live readings' median, shown before, 5.3: the Mayer rhythm); 8-minute rest baseline
# 7.3 (7.3) and practice 10.5 (10.7; before 8.8); 5-minute rest baseline 16.6 (16.9). The
# shorter steps show none (their 90-s readings were 9.0 for 7.7 and 14.1 for 15.3).
@pytest.mark.parametrize(("name", "steps_read"), [("bio_eventrelated_100hz", 1),
                                                  ("bio_resting_8min_100hz_rest", 2),
                                                  ("bio_resting_5min_100hz", 1)])
def test_each_steps_breathing_is_the_belts_or_none(refdata: Path, name: str,
                                                    steps_read: int) -> None:
    base = refdata / "ecg_resp/neurokit" / name
    analysed = analyse(Path(f"{base}_rpeaks_rr.csv").read_bytes(), f"{name}.csv", "srb", None,
                       None)
    record = session_record(analysed.events)
    beats = [SimpleNamespace(seq=e.seq, t_s=e.t_s, rr_ms=e.rr_ms, arrival_s=e.arrival_s,
                             label=None) for e in analysed.events if isinstance(e, Beat)]
    page = report_html(HEADER, beats, record, CLIENT)
    table = page.split("<h2>Each step (medians of its 5-s live updates)</h2>")[1]
    assert "Breathing is read over steps of 2 minutes or more" in table
    shown = re.findall(r"<tr><td>([a-z ]+)</td>(?:<td>[^<]*</td>){4}<td>([^<]*)</td></tr>",
                       table.split("</table>")[0])
    assert [step for step, _ in shown] == [s.step for s in record.summary.by_step]
    breaths = pd.read_csv(f"{base}_breaths.csv")
    # The session's clock starts at the recording's first beat.
    offset_s = pd.read_csv(f"{base}_rpeaks_rr.csv").rpeak_time_s[1] - beats[0].t_s
    read = 0
    for (_, words), step in zip(shown, record.summary.by_step, strict=True):
        if words == "-":
            continue
        onsets = breaths.inhale_onset_s - offset_s
        belt = breaths.rate_bpm[(onsets >= step.start_s) & (onsets < step.end_s)].median()
        assert float(words.removesuffix(" /min")) == pytest.approx(belt, abs=1.0), step.step
        read += 1
    assert read == steps_read
