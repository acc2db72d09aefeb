"""Whether a running session's client still has it open: their pages on its ``/live`` socket.

A browser tab closed, a laptop lid shut or a phone gone to sleep leaves a session running
with nobody breathing with it. Once the last of the client's pages has gone, the session
pauses after :attr:`AwayTimes.pause_after_s` and, if no page of theirs comes back within
:attr:`AwayTimes.leave_after_s` of that, ends as ``left`` (not practice). A session no page
of the client's has ever joined (streamed from a terminal, started through the API) is
never ended this way.

The observers are told how it stands (:data:`heartsease.wire.Kind.PRESENCE`): the client's
page ``connected`` or ``away``; whether the session is paused comes with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

PageState = Literal["connected", "away"]


@dataclass(frozen=True, slots=True)
class AwayTimes:
    """How long a session waits for its client's page (settings ``away_pause_s`` and
    ``away_leave_s``)."""

    pause_after_s: float = 30.0
    leave_after_s: float = 600.0


class Presence:
    """The client's pages on one running session, and the timers their going starts.

    ``pause`` and ``leave`` act on the session; ``tell`` sends the observers the page's
    state. Called on the event loop that runs the session."""

    def __init__(self, times: AwayTimes, pause: Callable[[], None],
                 leave: Callable[[], None], tell: Callable[[PageState], None]) -> None:
        self.times = times
        self._pause = pause
        self._leave = leave
        self._tell = tell
        self._pages: set[str] = set()
        self._ever_joined = False
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None

    @property
    def state(self) -> PageState | None:
        """``None`` until a page of the client's has joined."""
        if not self._ever_joined:
            return None
        return "connected" if self._pages else "away"

    def arrived(self, page: str) -> None:
        if self._closed:
            return
        self._cancel()
        self._pages.add(page)
        self._ever_joined = True
        self._tell("connected")

    def went(self, page: str) -> None:
        if self._closed or page not in self._pages:
            return
        self._pages.discard(page)
        if self._pages:
            return
        self._tell("away")
        self._timer = asyncio.get_running_loop().call_later(self.times.pause_after_s,
                                                            self._away_too_long)

    def close(self) -> None:
        """The session ended: no timer outlives it, and pages that come or go after it are
        not told (the client's page leaving its closing words once read the observers'
        room "away · paused" under "The session has ended")."""
        self._closed = True
        self._cancel()

    def _away_too_long(self) -> None:
        self._pause()
        self._timer = asyncio.get_running_loop().call_later(self.times.leave_after_s,
                                                            self._leave)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
