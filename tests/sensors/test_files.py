"""Reading RR recordings: every format, and clear errors that name the line."""

from __future__ import annotations

import re
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heartsease.sensors.files import RecordingError, parse_rr_text, read_rr_file


def test_kubios_text_and_export_read_the_same(refdata: Path) -> None:
    plain = read_rr_file(refdata / "rr_reference/kubios/SampleSeries_rr_ms.txt")
    export = read_rr_file(refdata / "rr_reference/kubios/SampleExport.txt")  # '#' header
    assert plain.format == export.format == "text"
    np.testing.assert_array_equal(plain.rr_ms, export.rr_ms)
    assert plain.rr_ms.size == 423


def test_polar_h10_recording_with_arrival_times(refdata: Path) -> None:
    rec = read_rr_file(refdata / "rr_strap/polar_h10/sample_data_ibi.csv")
    assert rec.format == "timed-csv"
    assert rec.rr_ms.size == 620
    assert rec.arrival_s is not None and rec.arrival_s[0] == pytest.approx(0.2211511)


def test_csv_with_rr_ms_column_skips_the_first_empty_cell(refdata: Path) -> None:
    rec = read_rr_file(refdata / "annotated/mitdb_100/100_rr_from_atr.csv")
    assert rec.format == "csv"
    assert rec.rr_ms.size == 2272
    assert rec.source_lines[0] == 3  # header is line 1, the first beat has no RR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Phone timestamp;RR-interval [ms]\n2024-01-01T10:00:00;812\n"
         "2024-01-01T10:00:01;790\n2024-01-01T10:00:02;805\n", [812, 790, 805]),
        ("time,rr_ms,label\n0.8,812,N\n1.6,790,N\n2.4,805,N\n", [812, 790, 805]),
        ("0.812\n0.790\n0.805\n", [812, 790, 805]),  # seconds
        ("\ufeff# Elite HRV\n\n812\n790\n805\n", [812, 790, 805]),
    ],
)
def test_formats(text: str, expected: list[float]) -> None:
    np.testing.assert_allclose(parse_rr_text(text).rr_ms, expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("800\n810\nabc\n820\n", "line 3: RR value 'abc' is not a number"),
        ("800\n810\nnan\n820\n", "line 3"),
        ("800\n810\n90000\n800\n", "line 3: RR 90000 ms is outside the plausible"),
        ("800\n-5\n810\n820\n", "line 2: RR -5 ms is not a positive interval"),
        ("a,b\n1,2\n", "needs an 'rr_ms' column"),
        ("time,rr_ms\n1,800\n2,\n", "at least 3"),
        ("time,rr_ms\n", "no RR intervals"),
        ("800\n810\n", "at least 3"),
        ("1.0,800\n0.5,810\n2.0,790\n", "line 2: arrival times go backwards"),
    ],
)
def test_bad_input_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(RecordingError, match=re.escape(message)):
        parse_rr_text(text)


def test_repairs_only_what_has_one_clear_repair() -> None:
    extra = parse_rr_text("800\n810\n120\n690\n805\n")  # an extra beat split one interval
    np.testing.assert_allclose(extra.rr_ms, [800, 810, 810, 805])
    assert "line 3" in extra.notes[0] and "merged" in extra.notes[0]
    missed = parse_rr_text("1100\n1120\n3300\n1090\n1105\n")  # two beats lost at 55 bpm
    np.testing.assert_allclose(missed.rr_ms, [1100, 1120, 1100, 1100, 1100, 1090, 1105])
    assert "line 3" in missed.notes[0] and "split into 3" in missed.notes[0]
    with pytest.raises(RecordingError, match=r"line 3: .* cannot be repaired"):
        parse_rr_text("800\n810\n3300\n820\n")  # four lost beats: a gap, not beats


def test_binary_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "strap.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(RecordingError, match="not a text file"):
        read_rr_file(binary)
    with pytest.raises(RecordingError, match="cannot read"):
        read_rr_file(tmp_path / "missing.txt")


def test_a_long_interval_that_is_no_whole_beats_is_a_gap_not_an_error() -> None:
    values = [800.0] * 40 + [5200.0] + [810.0] * 40
    recording = parse_rr_text("\n".join(f"{v:g}" for v in values) + "\n")
    np.testing.assert_allclose(recording.rr_ms, values)  # kept: the analysis splits there
    assert recording.notes == ["line 41: 5200 ms is a gap in the signal (over 3 s and not a "
                               "whole number of beats): analysed around it"]


def test_rows_that_cannot_be_one_notification_are_read_as_plain_rr() -> None:
    """40,000 rows of one arrival time were one notification: every beat of it analysed
    before the session could end (0.35 ms a row, 320 kB took 13.9 s); a notification
    carries a few beats, so the times are not notifications' and are set aside, saying so."""
    rows = [f"100.000,{850 + 40 * (i % 3)}" for i in range(400)]
    recording = parse_rr_text("\n".join(rows), "same.csv")
    assert recording.format == "timed-csv" and recording.arrival_s is None
    assert recording.notes == ["arrival times ignored: lines 1-400 arrived together, more "
                               "beats than a strap sends at once"]
    together = "\n".join([*(f"{1 + i * 0.9:.3f},900" for i in range(30)),
                          *(f"28.000,{850 + i}" for i in range(16))])
    assert parse_rr_text(together, "x").arrival_s is not None  # 16 at once: a full one


@pytest.mark.parametrize("text", [
    "beat,rr_ms,x\r\n0,,a\r\n1,812.5,b\r\n2,790,c\r\n3,805,d\r\n",
    "beat,rr_ms\n0,812\n1, 790 \n2,805",
    "beat;RR_ms;x\n0;812;1\n\n1;790;1\n2;805;1\n",
    "# a comment\nbeat,rr_ms\n0,812\n1,790\n2,805\n",
    "beat\trr_ms\n\t0\t812\n1\t790\n2\t805\n",
    'beat,rr_ms\n0,"812"\n1,790\n2,805\n',
    "beat,rr_ms\n0,812\r1,790\n2,805\n",
    "beat,rr_ms\n0,812\n1,790\n2,805\n ",
    "812\n790.5\n805\n",
    "0.812\n0.790\n0.805",
    "812\r\n790\r\n805\r\n",
    "812\n\n790\n805\n",
    "812\n# moved\n790\n805\n",
    "812\n 790\n805\n",
    "812\n7_90\n805\n",
])
def test_plain_lines_read_straight_are_read_as_line_by_line(text: str) -> None:
    """The fast path (:func:`_parse_plain_lines`) takes only what the line-by-line parser
    reads the same way, values, line numbers and notes alike."""
    from heartsease.sensors.files import _parse_csv, _parse_plain, _parse_plain_lines

    content = [(n, stripped) for n, line in enumerate(text.splitlines(), 1)
               if (stripped := line.strip()) and not stripped.startswith("#")]
    slow = (_parse_plain if "," not in text and ";" not in text and "\t" not in text
            else _parse_csv)(content, "x")
    fast = _parse_plain_lines(text)
    if fast is not None:
        assert fast.rr_ms.tolist() == slow.rr_ms.tolist()
        assert fast.source_lines.tolist() == slow.source_lines.tolist()
        assert (fast.format, fast.notes) == (slow.format, slow.notes)
    assert parse_rr_text(text).rr_ms.tolist() == slow.rr_ms.tolist()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["", "beat,rr_ms\n", "beat,rr_ms\r\n"]),
       st.lists(st.tuples(st.sampled_from(["", "", " ", "\t", "#", "\r"]),
                          st.sampled_from(["812", "790.5", "805", "1,790", "2,805", "", "7e2"]),
                          st.sampled_from(["", "", " ", "\t", "\r", "\r\r"])),
                min_size=3, max_size=8),
       st.booleans())
def test_lines_decorated_anyhow_are_read_as_line_by_line(
        header: str, lines: list[tuple[str, str, str]], trailing_break: bool) -> None:
    """Whatever starts or ends a line (spaces, tabs, comments, blank lines, Windows line
    ends, a lone CR), a text the fast path reads is read as the line-by-line parser reads it;
    values plain decimals or not (7e2)."""
    from heartsease.sensors import files

    text = header + "\n".join(a + b + c for a, b, c in lines) + ("\n" if trailing_break else "")
    if files._parse_plain_lines(text) is None:
        return

    def read() -> object:
        try:
            r = parse_rr_text(text)
        except RecordingError as exc:
            return str(exc)
        return r.rr_ms.tolist(), r.source_lines.tolist(), r.format, r.notes

    fast = read()
    with mock.patch.object(files, "_parse_plain_lines", return_value=None):
        assert read() == fast


def test_plain_lines_are_read_straight() -> None:
    """An RR file of plain lines, as an upload of RR lines is, takes the fast path."""
    from heartsease.sensors.files import _parse_plain_lines

    fast = _parse_plain_lines("812\n790.5\n805\n")
    assert fast is not None and fast.format == "text"
    assert fast.rr_ms.tolist() == [812.0, 790.5, 805.0]
