"""Uploaded recordings, read and run through the coaching loop away from the event loop.

Reading a 2 MB recording and replaying it through a session is seconds of pure Python: on
the event loop it froze every live session of the worker that long (`/api/health` waited
6 s), and in a thread it would still hold the interpreter's lock against them. So it runs in
a small pool of worker processes (:class:`UploadAnalyser`), started when the first upload
comes; the store is written from a thread. One person may have only
:data:`MAX_UPLOADS_PER_PERSON` uploads in hand at a time on a worker: more are refused
(429), so one person's batch cannot queue everyone else's behind it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import unicodedata
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import HTTPException, status

from heartsease.coaching.classifier import RestingBaseline
from heartsease.coaching.events import Event
from heartsease.coaching.loop import replay_session
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.sensors.files import RecordingError, parse_rr_text
from heartsease.sensors.replay import replay_recording

MAX_UPLOADS_PER_PERSON = 2
# Control, format (bidi overrides, zero-width) and line or paragraph separator characters.
HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})
RETRY_AFTER_S = 10


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


def default_workers() -> int:
    """One core always left to the event loop: on 2 cores, one worker process."""
    return max(1, min(2, (os.cpu_count() or 2) - 1))


class UploadAnalyser:
    """The worker processes that analyse uploads, and who has how many in hand."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None
        self._in_hand: Counter[str] = Counter()

    @contextmanager
    def slot(self, person_id: str) -> Iterator[None]:
        """Hold one of ``person_id``'s upload slots while the upload is handled; 429 when
        they have none free."""
        if self._in_hand[person_id] >= MAX_UPLOADS_PER_PERSON:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"You have {MAX_UPLOADS_PER_PERSON} uploads being analysed; send the next "
                "when one of them is done.", headers={"Retry-After": str(RETRY_AFTER_S)})
        self._in_hand[person_id] += 1
        try:
            yield
        finally:
            self._in_hand[person_id] -= 1
            if not self._in_hand[person_id]:
                del self._in_hand[person_id]

    async def analyse(self, raw: bytes, name: str, protocol_name: str,
                      pace_bpm: float | None, baseline: RestingBaseline | None) -> Analysed:
        """:func:`analyse` in a worker process; 422 for a file that is not a recording."""
        if self._pool is None:
            # Spawned, not forked: the service's threads (the database pool's, the demo
            # history's) would be copied mid-flight by a fork.
            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("spawn"))
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, analyse, raw, name, protocol_name,
                                              pace_bpm, baseline)
        except NotTextError:
            raise HTTPException(422, f"{name} is not a text file of RR intervals.") from None
        except RecordingError as exc:
            raise HTTPException(422, str(exc)) from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
