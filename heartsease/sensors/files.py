"""RR recordings on disk: format detection, parsing and plausibility, with errors that name
the line.

Formats read:

- ``text``: one RR per line in ms, ``#`` comment lines and blank lines allowed (Kubios'
  ASCII RR import, Elite HRV's RR export, Polar Flow's RR ``.txt``). Values that are all
  below 10 are taken as seconds (Kubios accepts either) and converted.
- ``csv``: comma, semicolon or tab separated with a header that has an ``rr_ms`` column
  (other columns ignored, empty cells skipped); also Polar Sensor Logger's
  ``RR-interval [ms]`` column.
- ``timed-csv``: two numeric columns without a header, arrival time in s and RR in ms, as
  recorded from a Polar H10 by the dont-hold-your-breath app; also ``heartsease record``'s
  output (:func:`record_text`), whose third column, the beat time placed live, is ignored.

RR values outside 200-3000 ms are implausible. One that merges with its neighbour into a
plausible interval (an extra beat) or splits into whole plausible intervals (missed beats)
is fixed and noted. A longer one that does neither is a gap (a recorder's dropout, a strap's
disconnect): it is kept, noted, and the analysis splits the series there
(:mod:`heartsease.signal.gaps` applies the same rule). Only a file where gaps are more than
a tenth of the intervals (not RR in ms at all), or a too-short interval with no repair, is
an error naming its line; so is a file of fewer than 3 intervals.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from heartsease.sensors.text_columns import column_spans, line_spans, plain_decimals
from heartsease.signal.rolling import median

if TYPE_CHECKING:  # imported by record_text: the sources bring asyncio, which analyze needs not
    from heartsease.sensors.source import Gap, Measurement

MIN_RR_MS = 200.0
MAX_RR_MS = 3000.0
# A strap that misses beats misses one or two; a longer silence is a gap, not beats to invent.
MAX_SPLIT_PARTS = 3
# Gaps are rare events; when more than this share of the values are, the units are wrong.
MAX_GAP_SHARE = 0.1
MIN_INTERVALS = 3
# Rows whose arrival times are this close came in one notification, which carries a few
# beats (a strap sends about once a second; the streaming protocol takes up to 16 at once).
SAME_NOTIFICATION_S = 0.001
MAX_BEATS_PER_NOTIFICATION = 16
RR_COLUMNS = ("rr_ms", "rr-interval [ms]", "rr interval [ms]", "rr (ms)")


class RecordingError(ValueError):
    """A recording that cannot be read or analysed; the message says where and why."""


@dataclass(frozen=True, slots=True)
class RRRecording:
    """RR intervals read from a file, with where each came from."""

    rr_ms: NDArray[np.float64]
    source_lines: NDArray[np.int64]
    format: str
    arrival_s: NDArray[np.float64] | None = None
    notes: list[str] = field(default_factory=list)


def record_text(item: Measurement | Gap) -> str:
    """``heartsease record``'s lines for one notification (``arrival_s,rr_ms,beat_time_s``
    per beat) or gap (a comment), as written to disk the moment it arrives.

    Examples
    --------
    >>> from heartsease.sensors.hrm import SensorContact
    >>> from heartsease.sensors.source import Measurement
    >>> print(record_text(Measurement(12.0, 60, (1000.0, 990.0), (10.99, 11.98),
    ...                               SensorContact.DETECTED)), end="")
    12.000000,1000.000,10.990000
    12.000000,990.000,11.980000
    """
    from heartsease.sensors.source import Gap

    if isinstance(item, Gap):
        return f"# gap {item.start_s:.3f}-{item.end_s:.3f} s: {item.reason}\n"
    return "".join(f"{item.arrival_s:.6f},{rr:.3f},{t:.6f}\n"
                   for rr, t in zip(item.rr_ms, item.beat_times_s, strict=True))


def read_rr_file(path: str | Path) -> RRRecording:
    """Read an RR recording in any supported format and check it is plausible.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("# my rest\\n812\\n790\\n805\\n")
    >>> read_rr_file(f.name).rr_ms.tolist()
    [812.0, 790.0, 805.0]
    >>> os.unlink(f.name)
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise RecordingError(f"{file}: cannot read the file ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{file}: not a text file (byte {exc.start} is not UTF-8)") from exc
    return parse_rr_text(text, name=str(file))


def parse_rr_text(text: str, name: str = "<input>") -> RRRecording:
    """Parse the text of a recording (see the module docstring for the formats)."""
    fast = _parse_plain_lines(text.removeprefix("\ufeff"))
    if fast is not None:
        return _check_plausible(fast, name)
    lines = text.removeprefix("\ufeff").splitlines()
    content = [(n, stripped) for n, line in enumerate(lines, 1)
               if (stripped := line.strip()) and not stripped.startswith("#")]
    if not content:
        raise RecordingError(f"{name}: no RR intervals found (the file is empty)")
    cells, delimiter = _split(content[0][1])
    if not all(_is_number(cell) for cell in cells):
        recording = _parse_csv(content, name)
    elif delimiter is not None and len(cells) >= 2:
        recording = _parse_timed(content, name)
    else:
        recording = _parse_plain(content, name)
    return _check_plausible(recording, name)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _split(line: str) -> tuple[list[str], str | None]:
    for delimiter in (",", ";", "\t"):
        if delimiter in line:
            return [cell.strip() for cell in line.split(delimiter)], delimiter
    return [line], None


def _number(cell: str, name: str, line_no: int, what: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise RecordingError(
            f"{name}, line {line_no}: {what} {cell!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise RecordingError(f"{name}, line {line_no}: {what} {cell!r} is not a finite number")
    return value


def _parse_plain(content: list[tuple[int, str]], name: str) -> RRRecording:
    values = [_number(line, name, n, "RR value") for n, line in content]
    return _plain_values(np.asarray(values), np.asarray([n for n, _ in content]))


def _plain_values(rr: NDArray[np.float64], source_lines: NDArray[np.int64]) -> RRRecording:
    """A ``text`` recording of the values ``rr`` read from ``source_lines``."""
    notes = []
    if rr.max() < 10.0:
        rr = rr * 1000.0
        notes.append("values read as seconds (all below 10) and converted to ms")
    return RRRecording(rr_ms=rr, source_lines=source_lines, format="text", notes=notes)


def _parse_timed(content: list[tuple[int, str]], name: str) -> RRRecording:
    times, values = [], []
    for n, line in content:
        cells, _ = _split(line)
        if len(cells) < 2:
            raise RecordingError(f"{name}, line {n}: expected 'time, RR' but found {line!r}")
        times.append(_number(cells[0], name, n, "time"))
        values.append(_number(cells[1], name, n, "RR value"))
    arrival = np.asarray(times)
    if np.any(np.diff(arrival) < 0):
        bad = content[int(np.flatnonzero(np.diff(arrival) < 0)[0]) + 1][0]
        raise RecordingError(f"{name}, line {bad}: arrival times go backwards")
    lines = np.asarray([n for n, _ in content])
    crowded = _crowded_notification(arrival)
    if crowded is not None:
        # Not a notification's arrival: read as plain RR, or every beat of the file would be
        # one notification, analysed whole before the session could end (a 2 MB file: a
        # minute of a worker's time for a 14-minute session).
        first, last = crowded
        return RRRecording(rr_ms=np.asarray(values), source_lines=lines, format="timed-csv",
                           notes=[f"arrival times ignored: lines {lines[first]}-{lines[last]}"
                                  f" arrived together, more beats than a strap sends at once"])
    return RRRecording(rr_ms=np.asarray(values), source_lines=lines, format="timed-csv",
                       arrival_s=arrival)


def _crowded_notification(arrival: NDArray[np.float64]) -> tuple[int, int] | None:
    """The first and last row of the first run of rows that arrived together (within
    :data:`SAME_NOTIFICATION_S` of the one before) and hold more beats than one notification
    carries, if there is one.

    >>> _crowded_notification(np.array([1.0, 1.0, 2.0]))
    >>> _crowded_notification(np.r_[[0.5], np.full(20, 1.0)])
    (1, 20)
    """
    new_notification = np.r_[True, np.diff(arrival) > SAME_NOTIFICATION_S]
    starts = np.flatnonzero(new_notification)
    sizes = np.diff(np.r_[starts, arrival.size])
    over = np.flatnonzero(sizes > MAX_BEATS_PER_NOTIFICATION)
    if over.size == 0:
        return None
    first = int(starts[over[0]])
    return first, first + int(sizes[over[0]]) - 1


def _parse_csv(content: list[tuple[int, str]], name: str) -> RRRecording:
    header_no, header_line = content[0]
    _, delimiter = _split(header_line)
    fast = _parse_csv_unquoted(content, delimiter or ",")
    if fast is not None:
        return fast
    reader = csv.reader((line for _, line in content), delimiter=delimiter or ",")
    rows = list(reader)
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((header.index(c) for c in RR_COLUMNS if c in header), None)
    if column is None:
        raise RecordingError(
            f"{name}, line {header_no}: a CSV recording needs an 'rr_ms' column; "
            f"the header has {', '.join(repr(h) for h in rows[0])}"
        )
    values, lines = [], []
    for (n, _), row in zip(content[1:], rows[1:], strict=True):
        if column >= len(row):
            raise RecordingError(f"{name}, line {n}: the row has no '{header[column]}' column")
        if not row[column].strip():
            continue  # an R-peak table's first beat has no interval before it
        values.append(_number(row[column].strip(), name, n, "RR value"))
        lines.append(n)
    if not values:
        raise RecordingError(f"{name}: the CSV has a header but no RR intervals")
    return RRRecording(rr_ms=np.asarray(values), source_lines=np.asarray(lines), format="csv")


def _parse_csv_unquoted(content: list[tuple[int, str]], delimiter: str) -> RRRecording | None:
    """:func:`_parse_csv`'s recording when no line holds a quote or a NUL and every RR cell
    is a finite number or blank; ``None`` otherwise (the full parser then says what is wrong).

    Without quotes the csv module's rows are the lines split at the delimiter, and
    ``float`` of a cell is ``float`` of it stripped; a day's 100,000 rows are read in a
    third of the csv module's time (issue 27).
    """
    if any('"' in line or "\0" in line for _, line in content):
        return None
    column = _rr_column(content[0][1], delimiter)
    if column is None:
        return None
    lines = np.fromiter((n for n, _ in content[1:]), dtype=np.int64, count=len(content) - 1)
    return _csv_rows_unquoted([line for _, line in content[1:]], lines, delimiter, column)


# In ASCII text, what makes its lines differ from its "\n"-split pieces as parse_rr_text
# reads them: a line break other than "\n" or "\r\n" (splitlines() breaks at \r, \v, \f,
# \x1c-\x1e), whitespace (str.isspace: those, \x1f, space and tab) at a line's start or
# end, which is stripped, and a blank line or a comment, which are left out. The characters
# are found by substring tests, each a scan at memory speed (a regular expression over a
# day's 3 MB took longer than the parse it spares); a lone "\r" by _body; what starts or
# ends a line by _plain_line_ends.
_NOT_IN_PLAIN_LINES = (b"\v", b"\f", b"\x1c", b"\x1d", b"\x1e", b"\x1f", b'"', b"\0")
# After a line break: whitespace, another break (a blank line), a comment; before one
# (before its "\r" if it has one): whitespace.
_NOT_AFTER_A_BREAK = np.frombuffer(b" \t\r\n#", dtype=np.uint8)
_NOT_BEFORE_A_BREAK = np.frombuffer(b" \t", dtype=np.uint8)


def _plain_line_ends(text: NDArray[np.uint8]) -> bool:
    """Whether no line of ASCII ``text`` but the first starts, and none but the last ends,
    with what :data:`_NOT_AFTER_A_BREAK` and :data:`_NOT_BEFORE_A_BREAK` hold: the bytes
    beside each line break looked at together (six substring tests of two characters each
    took a day's file 18 ms, every line break being a candidate match; this takes 4)."""
    breaks = np.flatnonzero(text == ord("\n"))
    if breaks.size == 0:
        return True
    # text neither starts nor ends with a line break (its first and last are not whitespace)
    before = breaks - 1
    before -= text[before] == ord("\r")
    return not (np.isin(text[breaks + 1], _NOT_AFTER_A_BREAK).any()
                or np.isin(text[np.maximum(before, 0)], _NOT_BEFORE_A_BREAK).any())


def _body(text: str) -> bytes | None:
    """ASCII ``text`` as bytes without its final line break (``"\n"`` or ``"\r\n"``);
    ``None`` when it is not ASCII or holds a ``"\r"`` that ends no line (splitlines()
    breaks at it). Windows line ends stay: :func:`~heartsease.sensors.text_columns.
    line_spans` leaves their ``"\r"`` out (a day's 100,000 dropped from a copy took 8 ms)."""
    if not text.isascii():
        return None
    raw = text.encode("ascii")
    if b"\r" in raw:
        chars = np.frombuffer(raw, dtype=np.uint8)
        returns = np.flatnonzero(chars == ord("\r"))
        if returns[-1] + 1 == chars.size or (chars[returns + 1] != ord("\n")).any():
            return None
    body = raw[:-1] if raw.endswith(b"\n") else raw
    return body[:-1] if body.endswith(b"\r") else body


def _lines(body: bytes) -> list[str]:
    """The lines of a :func:`_body`, Windows line ends and all."""
    return body.decode("ascii").replace("\r\n", "\n").split("\n")


def _parse_plain_lines(text: str) -> RRRecording | None:
    """:func:`parse_rr_text`'s recording of one RR value a line, or of a CSV (before the
    plausibility check), read straight from ``text`` when its lines are plain (no blank or
    comment line, nothing to strip, no quote or NUL); ``None`` otherwise, or when the text
    is neither, or a value is not a finite number (the line-by-line reading then names the
    line).

    A day's 100,000 lines are then read at once (:mod:`heartsease.sensors.text_columns`)
    when their values are plain decimals, or else split once, not stripped and numbered one
    by one (issue 27), and an upload of 2 MB of RR lines is read in a tenth of the time
    (issue 22); what is read is what :func:`_parse_plain` and :func:`_parse_csv` read.
    """
    body = _body(text)
    if (not body or body[:1].isspace() or body[-1:].isspace() or body[:1] == b"#"
            or any(part in body for part in _NOT_IN_PLAIN_LINES)):
        return None
    chars = np.frombuffer(body, dtype=np.uint8)
    if not _plain_line_ends(chars):
        return None
    starts, stops = line_spans(chars)
    header_line = body[: stops[0]].decode("ascii")
    cells, delimiter = _split(header_line)
    if delimiter is None:
        rr = plain_decimals(chars, starts, stops)
        if rr is None:
            rr = _finite_values(_lines(body))
        return None if rr is None else _plain_values(rr, np.arange(1, starts.size + 1))
    if all(_is_number(cell) for cell in cells):
        return None  # timed values, not a CSV with a header
    column = _rr_column(header_line, delimiter)
    if column is None:
        return None
    at_once = _decimal_column(chars, starts[1:], stops[1:], delimiter, column)
    if at_once is not None:
        return at_once
    lines = _lines(body)
    return _csv_rows_unquoted(lines[1:], np.arange(2, len(lines) + 1), delimiter, column)


def _rr_column(header_line: str, delimiter: str) -> int | None:
    """Which cell of a CSV's header names the RR column, if one does."""
    header = [cell.strip().lower() for cell in header_line.split(delimiter)]
    return next((header.index(c) for c in RR_COLUMNS if c in header), None)


def _decimal_column(chars: NDArray[np.uint8], starts: NDArray[np.intp],
                    stops: NDArray[np.intp], delimiter: str,
                    column: int) -> RRRecording | None:
    """:func:`_csv_rows_unquoted`'s recording of the lines at ``starts``/``stops`` (those
    after the header) when each holds as many delimiters and every RR cell is a plain
    decimal or blank (:func:`~heartsease.sensors.text_columns.plain_decimals`); ``None``
    otherwise."""
    if starts.size == 0:
        return None
    spans = column_spans(chars, starts, stops, delimiter, column)
    if spans is None:
        return None
    filled = spans[1] > spans[0]  # an R-peak table's first beat has no interval before it
    if not filled.any():
        return None
    rr = plain_decimals(chars, spans[0][filled], spans[1][filled])
    lines = np.arange(2, starts.size + 2)[filled]
    return None if rr is None else RRRecording(rr_ms=rr, source_lines=lines, format="csv")


def _csv_rows_unquoted(rows: list[str], lines: NDArray[np.int64], delimiter: str,
                       column: int) -> RRRecording | None:
    """The RR ``column`` of unquoted CSV ``rows``; ``None`` when a row is short, or a cell
    is not a finite number or blank."""
    try:
        cells = [line.split(delimiter, column + 1)[column] for line in rows]
    except IndexError:
        return None
    # An R-peak table's first beat has no interval before it: its cell is empty. (A cell of
    # spaces is not a number either: the full parser then reads the file.)
    blank, at = [], -1
    for _ in range(cells.count("")):
        at = cells.index("", at + 1)
        blank.append(at)
    if blank:
        for i in reversed(blank):
            del cells[i]
        lines = np.delete(lines, blank)
    rr = _finite_values(cells) if cells else None
    return None if rr is None else RRRecording(rr_ms=rr, source_lines=lines, format="csv")


def _finite_values(cells: list[str]) -> NDArray[np.float64] | None:
    """``cells`` as numbers, as ``float`` reads them; ``None`` when one is not a finite
    number (the line-by-line reader then names its line)."""
    try:
        values = np.array(list(map(float, cells)), dtype=np.float64)
    except ValueError:
        return None
    return values if np.all(np.isfinite(values)) else None


def _check_plausible(recording: RRRecording, name: str) -> RRRecording:
    """Fix the implausible values that have one clear repair, refuse the rest."""
    plausible = (recording.rr_ms >= MIN_RR_MS) & (recording.rr_ms <= MAX_RR_MS)
    if plausible.all():  # most files: nothing to repair, and a day's lists not made
        if recording.rr_ms.size < MIN_INTERVALS:
            raise RecordingError(f"{name}: only {recording.rr_ms.size} RR intervals; at least "
                                 f"{MIN_INTERVALS} are needed")
        return recording
    # Read from the arrays until the first repair, and from lists (which repairs change)
    # after: a day with gaps and nothing to repair (both Holter days in refdata) is not
    # turned into lists and back, 10 ms of a day's reading.
    rr: Sequence[float] = recording.rr_ms
    lines: Sequence[int] = recording.source_lines
    arrival: Sequence[float] | None = recording.arrival_s
    notes = list(recording.notes)
    gaps: list[int] = []
    # Only the implausible values need a look (a day has 100,000 beats and a few dozen of
    # them). A repair changes the list only at and next to the value in hand, so a value
    # further on that was in the file at index k is now at k + shift, shift being how many
    # values the repairs so far added (splits) or removed (merges).
    implausible = np.flatnonzero(~plausible).tolist()
    shift, next_bad = 0, 0
    i = 0
    while True:
        while next_bad < len(implausible) and implausible[next_bad] + shift < i:
            next_bad += 1  # consumed by the merge before it
        if next_bad == len(implausible):
            break
        i = implausible[next_bad] + shift
        next_bad += 1
        before = len(rr)
        value = rr[i]
        if value <= 0:
            raise RecordingError(f"{name}, line {lines[i]}: RR {value:g} ms is not a positive "
                                 "interval")
        typical = _typical_rr(rr, i)
        repaired = None
        if value < MIN_RR_MS or (typical is not None and _is_missed_beats(value, typical)):
            if not isinstance(rr, list):
                rr, lines = np.asarray(rr).tolist(), np.asarray(lines).tolist()
                arrival = None if arrival is None else np.asarray(arrival).tolist()
            repaired = (_merge_extra_beat(rr, lines, arrival, i, typical, notes)
                        if value < MIN_RR_MS else
                        _split_missed_beats(rr, lines, arrival, i, typical, notes))
        if repaired is not None:
            shift += len(rr) - before
            i = repaired
            continue
        if value > MAX_RR_MS:
            gaps.append(i)
            i += 1
            continue
        raise _implausible(name, lines[i], value)
    if len(gaps) > MAX_GAP_SHARE * len(rr):
        raise _implausible(name, lines[gaps[0]], rr[gaps[0]],
                           f" ({len(gaps)} of {len(rr)} intervals are that long:"
                           " too many to be gaps)")
    notes.extend(f"line {lines[g]}: {rr[g]:g} ms is a gap in the signal (over "
                 f"{MAX_RR_MS / 1000:g} s and not a whole number of beats): analysed around it"
                 for g in gaps)
    if len(rr) < MIN_INTERVALS:
        raise RecordingError(f"{name}: only {len(rr)} RR intervals; at least "
                             f"{MIN_INTERVALS} are needed")
    return RRRecording(
        rr_ms=np.asarray(rr),
        source_lines=np.asarray(lines),
        format=recording.format,
        arrival_s=None if arrival is None else np.asarray(arrival),
        notes=notes,
    )


def _merge_extra_beat(rr: list[float], lines: list[int], arrival: list[float] | None, i: int,
                      typical: float | None, notes: list[str]) -> int | None:
    """Merge a too-short value with a neighbour (an extra beat); the next index, or ``None``
    when no merge gives a plausible beat."""
    merged = _merge_extra(rr, i, typical)
    if merged is None:
        return None
    other = i + 1 if merged == i else i - 1
    notes.append(f"line {lines[i]}: {rr[i]:g} ms merged with line {lines[other]}"
                 " (an extra beat)")
    first = min(i, other)
    rr[first] = rr[i] + rr[other]
    del rr[first + 1], lines[first + 1]
    if arrival is not None:
        del arrival[first]
    return first + 1


def _split_missed_beats(rr: list[float], lines: list[int], arrival: list[float] | None, i: int,
                        typical: float | None, notes: list[str]) -> int | None:
    """Split a too-long value into 2 or 3 beats (missed beats); the next index, or ``None``
    when it is no whole number of typical beats."""
    value = rr[i]
    if typical is None or not _is_missed_beats(value, typical):
        return None
    parts = int(round(value / typical))
    notes.append(f"line {lines[i]}: {value:g} ms split into {parts} beats (missed beats)")
    rr[i : i + 1] = [value / parts] * parts
    lines[i : i + 1] = [lines[i]] * parts
    if arrival is not None:
        arrival[i : i + 1] = [arrival[i]] * parts
    return i + parts


def _is_missed_beats(value: float, typical: float) -> bool:
    """Whether a long value is 2 or 3 intervals near the typical one."""
    parts = int(round(value / typical))
    return 2 <= parts <= MAX_SPLIT_PARTS and MIN_RR_MS <= value / parts <= MAX_RR_MS and (
        abs(value / parts - typical) < 0.25 * typical)


def _implausible(name: str, line: int, value: float, why: str = "") -> RecordingError:
    return RecordingError(
        f"{name}, line {line}: RR {value:g} ms is outside the plausible "
        f"{MIN_RR_MS:g}-{MAX_RR_MS:g} ms and cannot be repaired{why} "
        "(is the file in ms, one beat per line?)"
    )


def _typical_rr(rr: Sequence[float], i: int) -> float | None:
    near = [v for v in rr[max(0, i - 10) : i + 11] if MIN_RR_MS <= v <= MAX_RR_MS]
    return median(near) if near else None


def _merge_extra(rr: list[float], i: int, typical: float | None) -> int | None:
    """Which neighbour a too-short interval merges with (``i`` for the next, ``i-1`` for the
    previous), if the sum is a plausible beat near the typical one."""
    best = None
    for j, other in ((i, i + 1), (i - 1, i - 1)):
        if not 0 <= other < len(rr) or other == i:
            continue
        total = rr[i] + rr[other]
        if not MIN_RR_MS <= total <= MAX_RR_MS:
            continue
        error = abs(total - typical) if typical is not None else 0.0
        if typical is not None and error > 0.25 * typical:
            continue
        if best is None or error < best[1]:
            best = (j, error)
    return None if best is None else best[0]
