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
import contextlib
import multiprocessing
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy.exc import SQLAlchemyError

from heartsease.api.upload_worker import FormError, NotTextError, analyse_and_store
from heartsease.coaching.classifier import RestingBaseline
from heartsease.sensors.files import RecordingError

MAX_UPLOADS_PER_PERSON = 2
RETRY_AFTER_S = 10
WORKER_NICE = 19  # the lowest: behind the service and anything else on the machine


def run_behind_everything() -> None:
    """Make this process (an upload worker) give way to the service at once.

    On Linux, the idle scheduling policy: any other process that wakes takes the processor
    from an idle-policy one at once, where a niced one may keep it to the end of its time
    slice, milliseconds, while the service waits with a beat to pass on. It still runs, with
    a small share, on a machine kept busy. Elsewhere, and where the policy is refused, the
    lowest niceness."""
    os.nice(WORKER_NICE)
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):  # not permitted here: the niceness stays
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def default_workers() -> int:
    """One core always left to the event loop: on 2 cores, one worker process."""
    return max(1, min(2, (os.cpu_count() or 2) - 1))


class UploadAnalyser:
    """The worker processes that analyse uploads, and who has how many in hand."""

    def __init__(self, database_url: str | None, workers: int | None = None) -> None:
        self.database_url = database_url
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None
        self._spool: Path | None = None
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
                                baseline: RestingBaseline | None, client_id: str
                                ) -> dict[str, Any]:
        """:func:`~heartsease.api.upload_worker.analyse_and_store` in a worker process, from
        the upload's form as it came (``body``, of ``content_type``): the stored session as
        the API shows it; 4xx for a form that cannot be read or a file that is not a recording."""
        if self._pool is None:
            # Spawned, not forked: the service's threads (the database pool's, the demo
            # history's) would be copied mid-flight by a fork. Behind everything: on a
            # small machine the live sessions come first, an upload takes what is left.
            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=run_behind_everything)
            # The worker reads the form from a file of this folder (only this user may
            # read it) rather than through the pool's pipe: 2 MB through a pipe is 30-odd
            # hand-overs, each waking the pool's feeder thread in this process. Measured
            # with a worker that only slept (bench/bench_uploads.py): the live beats' p99
            # was 3.3 times the baseline's through the pipe, 1.0 through a file.
            self._spool = Path(tempfile.mkdtemp(prefix="heartsease-uploads-"))
        assert self._spool is not None
        spooled = await asyncio.to_thread(_spool, self._spool, body)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, analyse_and_store, str(spooled),
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
        finally:
            spooled.unlink(missing_ok=True)

    def close(self) -> None:
        """Uploads still waiting are dropped (their requests fail with the service); the
        one being analysed finishes (a few seconds at most, for the largest file) and the
        worker processes exit. Not waiting left them running after the service had gone,
        each blocked on a pipe whose other end had closed."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)


def _spool(folder: Path, body: bytes) -> Path:
    """``body`` in a new file of ``folder``, for a worker to read."""
    handle, name = tempfile.mkstemp(dir=folder, suffix=".upload")
    with os.fdopen(handle, "wb") as file:
        file.write(body)
    return Path(name)
