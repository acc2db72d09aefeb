"""How promptly this worker's event loop answers, and what held it up when it did not.

Every live session of a worker shares its one event loop: a beat reaches its viewers only
when the loop gets to it, so how late the loop answers is a floor under every latency. A
thread of its own asks the loop to run a no-op four times a second and times the answer;
when no answer comes within :data:`STALL_S`, it logs what the loop's thread is running at
that moment, which names the code that holds every session up.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback
from collections import deque

import numpy as np

logger = logging.getLogger(__name__)

ASK_EVERY_S = 0.25
STALL_S = 0.5
WINDOW_S = 60.0


class EventLoopWatch:
    """Times how long ``loop`` takes to run a callback handed to it from another thread.

    That is how late anything the loop has to do (a beat to pass on, a handshake to answer)
    starts, whether the loop is blocked by one long call or behind a long queue of short
    ones. :meth:`lag_ms` summarises the last :data:`WINDOW_S`; a stall of :data:`STALL_S` or
    more is logged with the loop thread's stack at that moment.

    Examples
    --------
    >>> async def main() -> float:
    ...     watch = EventLoopWatch(asyncio.get_running_loop(), ask_every_s=0.01)
    ...     watch.start()
    ...     await asyncio.sleep(0.1)
    ...     watch.stop()
    ...     return watch.lag_ms()["max"]
    >>> asyncio.run(main()) >= 0.0  # a few ms on an idle loop; more on a busy machine
    True
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, *, ask_every_s: float = ASK_EVERY_S,
                 stall_s: float = STALL_S, window_s: float = WINDOW_S) -> None:
        self._loop = loop
        self._ask_every_s = ask_every_s
        self._stall_s = stall_s
        self._answers: deque[tuple[float, float]] = deque(
            maxlen=int(window_s / ask_every_s) + 1)  # (asked at, seconds to answer)
        self._window_s = window_s
        self._stopping = threading.Event()
        self._loop_thread = threading.get_ident()  # made on the loop's own thread
        self._thread = threading.Thread(target=self._watch, name="event-loop-watch",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def lag_ms(self) -> dict[str, float]:
        """``p99`` and ``max`` milliseconds the loop took to answer over the last window
        (0 before the first answer)."""
        since = time.monotonic() - self._window_s
        lags = [lag for asked, lag in list(self._answers) if asked >= since]
        if not lags:
            return {"p99": 0.0, "max": 0.0}
        return {"p99": round(1000 * float(np.percentile(lags, 99)), 1),
                "max": round(1000 * max(lags), 1)}

    def _watch(self) -> None:
        while not self._stopping.wait(self._ask_every_s):
            asked = time.monotonic()
            answered = threading.Event()
            try:
                self._loop.call_soon_threadsafe(answered.set)
            except RuntimeError:  # the loop has closed
                return
            if not answered.wait(self._stall_s):
                self._report_stall()
                while not answered.wait(self._ask_every_s):
                    if self._stopping.is_set() or self._loop.is_closed():
                        return
            self._answers.append((asked, time.monotonic() - asked))

    def _report_stall(self) -> None:
        frame = sys._current_frames().get(self._loop_thread)
        running = ("".join(traceback.format_stack(frame, limit=12)) if frame is not None
                   else "(the loop's thread has gone)\n")
        logger.warning("the event loop has not answered for %.1f s; every live session on "
                       "this worker waits. It is running:\n%s", self._stall_s, running)
