"""A running session's rows on their way to the store: every raw beat and every event a
record needs, as the rows :mod:`heartsease.store.repository` writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from heartsease.coaching.events import Beat, Event
from heartsease.store.repository import beat_row

# Events a UI draws but a record does not need (the pacer's phase is recomputable from the
# pacer events); everything else the loop emits is stored.
NOT_STORED = {"pacer-phase", "beat"}
FLUSH_EVERY_S = 0.5

Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]


class SessionRecorder:
    """One live session's rows waiting to be written: every raw beat and every stored event.
    Its owner takes them and commits them within :data:`FLUSH_EVERY_S` of arriving, and puts
    them back when the database cannot be reached, so they are written by a later flush.

    Examples
    --------
    >>> from heartsease.coaching.events import Cue
    >>> recorder = SessionRecorder("s1")
    >>> recorder.add_all([Beat(t_s=1.0, seq=1, rr_ms=1000.0, arrival_s=1.02, hr_bpm=60),
    ...                   Cue(t_s=2.0, cue_kind="guidance", text="Breathe.", step=None)])
    >>> beats, events = recorder.take()
    >>> beats[0]["seq"], events[0]["kind"], recorder.take()
    (1, 'cue', ([], []))
    """

    def __init__(self, session_id: str, store_beats: bool = True) -> None:
        self.session_id = session_id
        self.store_beats = store_beats  # False where beats are stored as they arrive (ingest)
        self._beats: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []

    def add(self, event: Event) -> None:
        if isinstance(event, Beat):
            if self.store_beats:
                self._beats.append(beat_row(self.session_id, event.seq, event.t_s,
                                            event.rr_ms, event.arrival_s))
        elif event.kind not in NOT_STORED:
            self._events.append({"session_id": self.session_id, "t_s": event.t_s,
                                 "kind": event.kind, "data": event.as_dict()})

    def add_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.add(event)

    def take(self) -> Rows:
        """The beats and events waiting, leaving none: to be written while new ones arrive."""
        batch = (self._beats, self._events)
        self._beats, self._events = [], []
        return batch

    def restore(self, batch: Rows) -> None:
        """Put back a batch that could not be written, ahead of what came since."""
        self._beats, self._events = batch[0] + self._beats, batch[1] + self._events
