"""A running session's events on their way to its viewers, and what a viewer who joins late is
shown first (:func:`hello`)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from heartsease.api.fanout import LocalHub, Message, Outgoing
from heartsease.coaching.events import Event
from heartsease.store.db import finite_json
from heartsease.wire import Hello, Kind

if TYPE_CHECKING:
    from heartsease.api.running import RunningSession

# What a viewer who joins late is shown: the beats the observation room plots (its 400, with
# room to spare), and the steps, states, shifts and notes of the session so far (a few a
# minute; the bound is for a session that runs for days).
RECENT_BEATS = 600
RECENT_STORY = 1000
STORY_KINDS = {Kind.STEP, Kind.PACER, Kind.STATE, Kind.SHIFT, Kind.BACKDRAFT,
               Kind.BACKDRAFT_EASED, Kind.ANNOTATION, Kind.CUE, Kind.PAUSED}


@dataclass
class SoFar:
    """Where a session is, for a viewer who joins late: its last metrics and state, its story
    (steps, states, shifts, notes) and its last beats.

    Kept as the JSON text sent live (thousands of dicts a session would be thousands of
    objects for the garbage collector to walk, and several times the memory). Beats and the
    story are kept apart so that the beats, by far the most, do not push the session's first
    steps and states out."""

    last_metrics: Message | None = None
    last_state: str = "unknown"
    recent_beats: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_BEATS))
    story: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_STORY))

    def keep(self, message: Message, text: str) -> None:
        kind = message["kind"]
        if kind == Kind.METRICS:
            self.last_metrics = message
            self.last_state = message["state"]
        if kind == Kind.BEAT:
            self.recent_beats.append(text)
        elif kind in STORY_KINDS:
            self.story.append(text)

    def recent(self) -> str:
        """The story first, then the beats, each in the order sent, as a JSON array's items."""
        return ", ".join([*self.story, *self.recent_beats])


def publish_event(hub: LocalHub, session_id: str, so_far: SoFar, event: Event) -> Message:
    """``event`` sent to the session's viewers (on every worker) and kept for latecomers."""
    message = event.as_dict()
    outgoing = hub.publish(session_id, message)
    so_far.keep(message, outgoing.text)
    return message


def hello(running: RunningSession, role: str, for_viewer: str | None = None) -> Outgoing:
    """What a viewer is shown on joining: where the session is, its last metrics, and its
    story so far and last beats (``recent``, spliced in as the texts already sent, so it is
    not in ``message``): the story first, then the beats, each in the order sent."""
    session = running.loop.session
    step = session.step
    pacer = session.pacer
    now = running.loop.now_s()
    message: Hello = {
        "kind": Kind.HELLO, "role": role, "session_id": running.session_id, "t_s": now,
        "protocol": session.protocol.name, "pace_bpm": session.pace_bpm,
        "step": None if step is None else {"name": step.name, "title": step.title,
                                           "seconds": step.seconds,
                                           "elapsed_s": session.step_elapsed_s(now)},
        "pacer": None if pacer is None else {"rate_bpm": pacer.rate_at(now),
                                             "breaths": pacer.breaths_at(now),
                                             "anchors": pacer.anchors()},
        "pattern": list(session.protocol.pattern.shares()),
        "state": running.so_far.last_state, "metrics": running.so_far.last_metrics,
        "paused": session.paused,
        "presence": None if running.presence is None else running.presence.state}
    if for_viewer is not None:
        message["for"] = for_viewer
    text = finite_json(message)[:-1] + ', "recent": [' + running.so_far.recent() + "]}"
    return Outgoing(dict(message), text)
