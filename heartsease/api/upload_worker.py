"""What an upload's worker process does: read the form it came in, read the recording, run
it through the coaching loop and store the session (:mod:`heartsease.api.uploads` hands it
the uploads). It imports no more than that work needs, so that a worker starts quickly."""

from __future__ import annotations

import asyncio
import functools
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from heartsease.api.closing import session_out, store_replayed
from heartsease.coaching.classifier import RestingBaseline
from heartsease.coaching.events import Event
from heartsease.coaching.loop import replay_session
from heartsease.coaching.protocols import BUILT_IN, load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.sensors.files import parse_rr_text
from heartsease.sensors.replay import replay_recording
from heartsease.store.db import make_engine, session_factory
from heartsease.store.models import BreathingSession

MAX_UPLOAD_BYTES = 2_000_000  # a day of beats as text is under 1 MB
TOO_LARGE = "That file is larger than 2 MB; split it into shorter recordings."
# Control, format (bidi overrides, zero-width) and line or paragraph separator characters.
HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


class NotTextError(ValueError):
    """The upload is not UTF-8 text."""


class FormError(ValueError):
    """The form an upload came in cannot be read: what to answer, and why."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(status_code, detail)
        self.status_code, self.detail = status_code, detail


@dataclass(frozen=True, slots=True)
class UploadForm:
    """What an upload's form holds: the file's shown name, its bytes and the protocol."""

    name: str
    raw: bytes
    protocol_name: str


def upload_name(filename: str | None) -> str:
    r"""An uploaded file's name as it may be shown and stored: without control, format
    (right-to-left override, zero-width) or line-separating characters, which could make
    ``gpj.exe`` read as ``exe.jpg`` or break a line in a log or a page; 200 at most.

    >>> upload_name("rest\u202egpj.txt\r\n")
    'restgpj.txt'
    >>> upload_name("\x00\u2066")
    'upload'
    """
    kept = "".join(c for c in filename or "" if unicodedata.category(c) not in HIDDEN)
    return kept.strip()[:200] or "upload"


def read_form(body: bytes, content_type: str) -> UploadForm:
    """The ``multipart/form-data`` body of an upload, read as Starlette reads a form (here, in
    a worker process: a 2 MB form took 5-20 ms of pure Python, a stall on the event loop
    for every live session); raises :class:`FormError`."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise FormError(422, "Send the recording as a form (multipart/form-data) with the "
                             "field file.")

    async def parsed() -> UploadForm | None:
        async def chunks() -> AsyncIterator[bytes]:
            yield body

        parser = MultiPartParser(Headers({"content-type": content_type}), chunks(),
                                 max_files=1, max_fields=1, max_part_size=1024)
        parser.spool_max_size = len(body)  # kept in memory: it is there already
        form = await parser.parse()
        file, protocol = form.get("file"), form.get("protocol", "srb")
        if not isinstance(file, UploadFile):
            return None
        return UploadForm(upload_name(file.filename), await file.read(),
                          protocol if isinstance(protocol, str) else "")

    try:
        form = asyncio.run(parsed())
    except MultiPartException as exc:
        raise FormError(400, f"The form could not be read: {exc.message}") from None
    if form is None:
        raise FormError(422, "Send the recording as a file in the form field file.")
    if len(form.raw) > MAX_UPLOAD_BYTES:
        raise FormError(413, TOO_LARGE)
    if form.protocol_name not in BUILT_IN:
        raise FormError(422, f"The protocol is one of {', '.join(BUILT_IN)}.")
    return form


@dataclass(frozen=True, slots=True)
class Analysed:
    """An upload's session, worked out: its events and what to say of its file."""

    format: str
    pace_bpm: float
    events: list[Event]


def analyse(raw: bytes, name: str, protocol_name: str, pace_bpm: float | None,
            baseline: RestingBaseline | None) -> Analysed:
    """Read ``raw`` and run it through a session (in a worker process): raises
    :class:`NotTextError` or :class:`~heartsease.sensors.files.RecordingError`."""
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise NotTextError(name) from None
    recording = parse_rr_text(text, name)
    session = CoachingSession(load_protocol(protocol_name), pace_bpm=pace_bpm,
                              baseline=baseline)
    events = asyncio.run(replay_session(replay_recording(recording), session))
    return Analysed(recording.format, session.pace_bpm, events)


def analyse_and_store(spooled: str, content_type: str, pace_bpm: float | None,
                      baseline: RestingBaseline | None, client_id: str,
                      database_url: str | None) -> dict[str, Any]:
    """The form in the file ``spooled`` read (:func:`read_form`), its recording analysed
    (:func:`analyse`), then the session stored as finished; the session as the API shows
    it (:func:`~heartsease.api.closing.session_out`), so that the service need not read it
    back on its event loop (issue 22: just after this process's write, that read took 1-5
    ms, and every live session waited as long)."""
    form = read_form(Path(spooled).read_bytes(), content_type)
    analysed = analyse(form.raw, form.name, form.protocol_name, pace_bpm, baseline)
    with _factory(database_url)() as db, db.begin():
        row = BreathingSession(client_id=client_id, protocol=form.protocol_name,
                               pace_bpm=analysed.pace_bpm, source="upload",
                               source_detail=f"{form.name} ({analysed.format})")
        db.add(row)
        db.flush()
        store_replayed(db, row, analysed.events)
        return session_out(row, live=False)


@functools.cache
def _factory(database_url: str | None) -> sessionmaker[Session]:
    """The worker process's own connections to the store, made once."""
    return session_factory(make_engine(database_url))
