"""What an upload's worker process does: read the recording, run it through the coaching
loop and store the session (:mod:`heartsease.api.uploads` hands it the uploads). It imports
no more than that work needs, so that a worker starts quickly."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.closing import store_replayed
from heartsease.coaching.classifier import RestingBaseline
from heartsease.coaching.events import Event
from heartsease.coaching.loop import replay_session
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.sensors.files import parse_rr_text
from heartsease.sensors.replay import replay_recording
from heartsease.store.db import make_engine, session_factory
from heartsease.store.models import BreathingSession


class NotTextError(ValueError):
    """The upload is not UTF-8 text."""


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


def analyse_and_store(raw: bytes, name: str, protocol_name: str, pace_bpm: float | None,
                      baseline: RestingBaseline | None, client_id: str,
                      database_url: str | None) -> str:
    """:func:`analyse`, then the session stored as finished; the session's id."""
    analysed = analyse(raw, name, protocol_name, pace_bpm, baseline)
    with _factory(database_url)() as db, db.begin():
        row = BreathingSession(client_id=client_id, protocol=protocol_name,
                               pace_bpm=analysed.pace_bpm, source="upload",
                               source_detail=f"{name} ({analysed.format})")
        db.add(row)
        db.flush()
        store_replayed(db, row, analysed.events)
        return row.id


@functools.cache
def _factory(database_url: str | None) -> sessionmaker[Session]:
    """The worker process's own connections to the store, made once."""
    return session_factory(make_engine(database_url))
