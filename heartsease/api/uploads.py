"""Uploaded recordings, read, run through the coaching loop and stored away from the event
loop.

Reading a 2 MB recording and replaying it through a session is seconds of pure Python,
storing its session most of a second more, and even reading the form it came in some
milliseconds: on the event loop it froze every live session of
the worker that long (`/api/health` waited 6 s), and in a thread it would still hold the
interpreter's lock against them. So all of it runs in a small pool of worker processes
(:mod:`heartsease.api.upload_worker`, run by :class:`UploadAnalyser`), started when the
first upload comes. One person may have only
:data:`MAX_UPLOADS_PER_PERSON` uploads in hand at a time on a worker: more are refused
(429), so one person's batch cannot queue everyone else's behind it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from fastapi import HTTPException, status
from sqlalchemy.exc import SQLAlchemyError

from heartsease.api.upload_worker import FormError, NotTextError, analyse_and_store
from heartsease.coaching.classifier import RestingBaseline
from heartsease.sensors.files import RecordingError

MAX_UPLOADS_PER_PERSON = 2
RETRY_AFTER_S = 10
WORKER_NICE = 19  # the lowest: behind the service and anything else on the machine


def default_workers() -> int:
    """One core always left to the event loop: on 2 cores, one worker process."""
    return max(1, min(2, (os.cpu_count() or 2) - 1))


class UploadAnalyser:
    """The worker processes that analyse uploads, and who has how many in hand."""

    def __init__(self, database_url: str | None, workers: int | None = None) -> None:
        self.database_url = database_url
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

    async def analyse_and_store(self, body: bytes, content_type: str, pace_bpm: float | None,
                                baseline: RestingBaseline | None, client_id: str) -> str:
        """:func:`~heartsease.api.upload_worker.analyse_and_store` in a worker process, from
        the upload's form as it came (``body``, of ``content_type``): the stored session's
        id; 4xx for a form that cannot be read or a file that is not a recording."""
        if self._pool is None:
            # Spawned, not forked: the service's threads (the database pool's, the demo
            # history's) would be copied mid-flight by a fork. Niced: on a small machine
            # the live sessions come first, an upload takes what is left.
            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=os.nice, initargs=(WORKER_NICE,))
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, analyse_and_store, body,
                                              content_type, pace_bpm, baseline, client_id,
                                              self.database_url)
        except FormError as exc:
            raise HTTPException(exc.status_code, exc.detail) from None
        except NotTextError as exc:
            raise HTTPException(422, f"{exc} is not a text file of RR intervals.") from None
        except RecordingError as exc:
            raise HTTPException(422, str(exc)) from None
        except SQLAlchemyError:
            # The database away, or the person erased while their file was analysed.
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                "The recording could not be stored just now; send it again "
                                "in a minute.") from None

    def close(self) -> None:
        """Uploads still waiting are dropped (their requests fail with the service); the
        one being analysed finishes (a few seconds at most, for the largest file) and the
        worker processes exit. Not waiting left them running after the service had gone,
        each blocked on a pipe whose other end had closed."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
