"""A stored session as files: RR text (Kubios-readable), CSV, JSON, and EDF+ with
annotations."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Sequence

import numpy as np

from heartsease.coaching.summary import SessionRecord
from heartsease.reports.session import SessionHeader, StoredBeat, beat_dict
from heartsease.signal.hrv import beat_times_s
from heartsease.signal.interpolation import NotAKnotSpline
from heartsease.store.db import finite_json

EDF_HZ = 4


def rr_text(beats: Sequence[StoredBeat], header: SessionHeader) -> str:
    """One RR in ms per line with ``#`` comments: readable by Kubios and ``analyze``."""
    lines = [f"# heartsease session {header.id}, {header.started_at}",
             f"# protocol {header.protocol}, raw RR intervals in ms as the strap sent them"]
    lines += [f"{b.rr_ms:.3f}" for b in beats]
    return "\n".join(lines) + "\n"


def beats_csv(beats: Sequence[StoredBeat]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["seq", "t_s", "rr_ms", "arrival_s", "label"])
    for b in beats:
        writer.writerow([b.seq, f"{b.t_s:.4f}", f"{b.rr_ms:.3f}", f"{b.arrival_s:.4f}",
                         b.label or ""])
    return out.getvalue()


def session_json(header: SessionHeader, beats: Sequence[StoredBeat],
                 record: SessionRecord) -> str:
    """The session as one JSON object; a measure that is not a finite number is null (JSON
    has no NaN)."""
    return finite_json({"session": header.as_dict(), "beats": [beat_dict(b) for b in beats],
                        **record.as_dict()}, default=str)


# EDFlib (under pyedflib) writes at most this many bytes of an annotation.
EDF_ANNOTATION_BYTES = 40


def edf_plus(header: SessionHeader, beats: Sequence[StoredBeat], record: SessionRecord
             ) -> bytes:
    """EDF+ with the RR tachogram and heart rate resampled at 4 Hz, and annotations: steps,
    state changes, shifts, backdrafts, cues and clinicians' notes."""
    rr = np.array([b.rr_ms for b in beats], dtype=np.float64)
    if rr.size < 4:
        raise ValueError("a session needs at least 4 beats for an EDF+ file")
    t = beat_times_s(rr)
    grid = np.arange(t[0], t[-1], 1.0 / EDF_HZ)
    grid = grid[: (grid.size // EDF_HZ) * EDF_HZ]  # whole 1-s records
    tachogram = NotAKnotSpline(t, rr)(grid)
    hr = 60000.0 / tachogram
    offset = t[0] - float(beats[0].t_s)  # the file starts at the first beat
    import pyedflib  # on first use, as the service starts faster without it

    fd, path = tempfile.mkstemp(suffix=".edf")
    os.close(fd)
    try:
        writer = pyedflib.EdfWriter(path, 2, file_type=pyedflib.FILETYPE_EDFPLUS)
        writer.setSignalHeaders([
            {"label": "RR tachogram", "dimension": "ms", "sample_frequency": EDF_HZ,
             "physical_min": 200.0, "physical_max": 3000.0, "digital_min": -32768,
             "digital_max": 32767, "transducer": "chest strap", "prefilter": ""},
            {"label": "Heart rate", "dimension": "bpm", "sample_frequency": EDF_HZ,
             "physical_min": 20.0, "physical_max": 300.0, "digital_min": -32768,
             "digital_max": 32767, "transducer": "chest strap", "prefilter": ""},
        ])
        writer.setStartdatetime(header.started_at.replace(tzinfo=None))
        writer.setPatientCode(header.client_id)
        writer.setEquipment("heartsease")
        writer.writeSamples([np.clip(tachogram, 200, 3000), np.clip(hr, 20, 300)])
        for onset, text in _annotations(record):
            for piece in annotation_pieces(text):
                writer.writeAnnotation(max(onset + offset, 0.0), -1, piece)
        writer.close()
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def annotation_pieces(text: str, limit_bytes: int = EDF_ANNOTATION_BYTES) -> list[str]:
    """``text`` in consecutive pieces of at most ``limit_bytes`` of UTF-8 (EDFlib cuts an
    annotation there: a clinician's note lost all but its first 40 characters), never
    splitting a character; a reader joins the pieces that share an onset, in order.

    >>> annotation_pieces("note: " + "é" * 20)
    ['note: ééééééééééééééééé', 'ééé']
    """
    pieces, piece = [], ""
    for character in text:
        if len((piece + character).encode()) > limit_bytes:
            pieces.append(piece)
            piece = ""
        piece += character
    return [*pieces, piece]


def _annotations(record: SessionRecord) -> list[tuple[float, str]]:
    notes = [(s.t_s, f"step {s.name}") for s in record.steps]
    notes += [(s.start_s, f"state {s.state}") for s in record.states]
    notes += [(s.onset_s, f"shift {s.direction}") for s in record.shifts]
    notes += [(b.t_s, "backdraft") for b in record.backdrafts]
    notes += [(a.t_s, f"note: {a.text}") for a in record.annotations]
    return sorted(notes)
