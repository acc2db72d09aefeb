"""A remote client's strap streamed in over one ingest connection: its messages checked and
paced, its beats numbered, put on the server's clock, handed to the coaching loop, written,
and acknowledged once on disk (the protocol: :mod:`heartsease.wire`)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError

from heartsease import wire
from heartsease.api.limits import MessageRate
from heartsease.api.running import RemoteSource, RunningSession
from heartsease.api.schemas import PlainText
from heartsease.coaching.events import GapEvent
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Gap, Measurement
from heartsease.store.group_commit import GroupCommitter
from heartsease.store.repository import beat_row

log = logging.getLogger(__name__)
# A strap sends about one message a second; a client back from an outage resends its
# backlog at 20 a second (ten minutes of it in half a minute), after a burst of one minute's.
INGEST_PER_S, INGEST_BURST = 20.0, 60.0
INGEST_THROTTLE_LIMIT_S = 60.0
RR_RANGE_MS = (200, 3000)
# A streamer's clock reads seconds since its machine started (or since 1970): a time beyond
# this, NaN or an infinity is no time at all, and stored it made every beat's time NaN.
MAX_TIME_S = 1e10
SecondsOnAClock = Annotated[float, Field(ge=-MAX_TIME_S, le=MAX_TIME_S, allow_inf_nan=False)]
TIME_FIELDS = frozenset({"arrival_s", "beat_times_s", "gap_start_s", "gap_end_s"})
# A number that is no time closes the connection (resending it would not help); a value of
# the wrong type gets an error reply, as any other malformed message.
NO_TIME_ERRORS = frozenset({"finite_number", "less_than_equal", "greater_than_equal"})
Row = dict[str, Any]


class MeasurementIn(BaseModel):
    """A :class:`wire.MeasurementMessage`, as the server takes it."""

    seq: int = Field(ge=1)
    arrival_s: SecondsOnAClock
    hr_bpm: int = Field(ge=0, le=255)
    rr_ms: list[float] = Field(max_length=16)
    beat_times_s: list[SecondsOnAClock] | None = Field(None, max_length=16)
    contact: str = "not supported"

    def times_s(self) -> list[float]:
        """The beats' times; from the RR series ending at the arrival when the client sent
        none."""
        if self.beat_times_s:
            return self.beat_times_s
        times, t = [], self.arrival_s
        for rr in reversed(self.rr_ms):
            times.append(t)
            t -= rr / 1000.0
        return times[::-1]


class GapIn(BaseModel):
    """A :class:`wire.GapMessage`, as the server takes it."""

    gap_start_s: SecondsOnAClock
    gap_end_s: SecondsOnAClock
    reason: PlainText = Field("link lost", max_length=200)


@dataclass
class Outbox:
    """What a streaming connection received and has not yet handed to the disk, and up to
    which sequence number to acknowledge."""

    rows: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    upto: int = 0
    closed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledge(self, upto: int) -> None:
        self.upto = upto
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class IngestStream:
    """One ingest connection's beats, from the message to the acknowledgement.

    ``next_seq`` is the number of the next beat the session takes and ``chain_s`` the time
    of its last stored beat. With a ``running`` session that takes streamed beats, they are
    placed on its clock and coached as they come. Without one they are still stored, never
    coached and without reopening the session: at their own times when the session's
    ``stored_offset_s`` is known (beats that arrive after it ended: the page kept them
    through a reload, a lost network or a closed lid), else in order after the last (a
    session the server lost to a restart)."""

    def __init__(self, websocket: WebSocket, writer: GroupCommitter, session_id: str,
                 running: RunningSession | None, next_seq: int, chain_s: float,
                 stored_offset_s: float | None = None) -> None:
        self.websocket = websocket
        self.session_id = session_id
        self.running = running
        self.remote: RemoteSource | None = running.remote if running is not None else None
        self.next_seq = next_seq
        self.chain_s = chain_s
        self.stored_offset_s = stored_offset_s
        self.rate = self._rate()
        self.throttled_since: float | None = None
        self.outbox = Outbox()
        self._storing = asyncio.create_task(self._store_then_acknowledge(writer))

    def _rate(self) -> MessageRate:
        """The session's message budget, kept across its connections."""
        if self.remote is not None and self.remote.rate is not None:
            return self.remote.rate
        rate = MessageRate(INGEST_PER_S, INGEST_BURST)
        if self.remote is not None:
            self.remote.rate = rate
        return rate

    async def take(self, raw: Any) -> tuple[wire.Close, str] | None:
        """One message from the client; why to close the connection, if it should close."""
        if self.remote is not None:
            self.remote.heard()
        if self._storing.done():  # a write failed: the streamer resends what was not acknowledged
            return wire.Close.NOT_STORED, "beats could not be stored just now"
        if await self._too_fast():
            return wire.Close.TOO_FAST, "sending faster than a strap can"
        try:
            refusal = self._receive(raw)
        except ValidationError as exc:
            if any(error["loc"] and error["loc"][0] in TIME_FIELDS
                   and error["type"] in NO_TIME_ERRORS for error in exc.errors()):
                return wire.Close.NOT_READABLE, "times must be finite seconds on a clock"
            refusal = wire.error(exc.errors()[0]["msg"])
        if refusal is not None:
            await self.websocket.send_json(refusal)
        return None

    async def _too_fast(self) -> bool:
        """Faster than a strap: slowed to the rate (the sender waits, nothing is dropped),
        and after a minute of that, to be closed; the streamer resends what was not taken."""
        now = time.monotonic()
        wait_s = self.rate.wait_s(now)
        if wait_s > 0:
            self.throttled_since = self.throttled_since or now
            if now - self.throttled_since > INGEST_THROTTLE_LIMIT_S:
                return True
            await asyncio.sleep(wait_s)
        else:
            self.throttled_since = None
            if self.rate.bursting:  # a burst read from the buffer lets others go between
                await asyncio.sleep(0)
        return False

    def _receive(self, raw: Any) -> wire.ErrorReply | None:
        """A message taken, or the reason it was not (a message of the wrong shape raises
        pydantic's ``ValidationError``)."""
        if wire.is_gap(raw):
            gap = GapIn.model_validate(raw)
            if gap.gap_end_s < gap.gap_start_s:
                return wire.error("a gap ends after it starts")
            self._gap(gap)
            return None
        m = MeasurementIn.model_validate(raw)
        times = m.times_s()
        low, high = RR_RANGE_MS
        if len(times) != len(m.rr_ms) or any(not low <= rr <= high for rr in m.rr_ms):
            return wire.error("RR must be 200-3000 ms, one time each", seq=m.seq)
        if m.seq > self.next_seq:
            return wire.error(f"beats from {self.next_seq} are missing",
                              expected_seq=self.next_seq)
        self._beats(m, times)
        return None

    def _gap(self, gap: GapIn) -> None:
        offset = self.remote.clock_offset_s if self.remote is not None else None
        if offset is not None and self.remote is not None:
            if (gap.gap_start_s, gap.gap_end_s) in self.remote.gaps_taken:
                return  # re-sent with the beats after it, which were not acknowledged
            self.remote.gaps_taken.add((gap.gap_start_s, gap.gap_end_s))
            self.remote.put(Gap(gap.gap_start_s + offset, gap.gap_end_s + offset, gap.reason))
        elif self.running is None and self.stored_offset_s is not None:
            late = self.stored_offset_s
            event = GapEvent(t_s=gap.gap_start_s + late, end_s=gap.gap_end_s + late,
                             reason=gap.reason)
            self.outbox.events.append({"session_id": self.session_id, "t_s": event.t_s,
                                       "kind": event.kind, "data": event.as_dict()})

    def _beats(self, m: MeasurementIn, times: list[float]) -> None:
        """The beats of ``m`` not yet taken (a beat sent twice is stored once): coached,
        queued for the disk, and acknowledged."""
        skip = self.next_seq - m.seq
        new = list(zip(m.rr_ms[skip:], times[skip:], strict=True))
        if new:
            if self.running is not None and self.remote is not None:
                rows = self._placed(m, new, self.running, self.remote)
            elif self.running is None and self.stored_offset_s is not None:
                rows = self._late(m, new, self.stored_offset_s)
            else:
                rows = self._chained(new)
            self.outbox.rows.extend(rows)
            self.next_seq += len(new)
        self.outbox.acknowledge(self.next_seq - 1)

    def _placed(self, m: MeasurementIn, new: list[tuple[float, float]],
                running: RunningSession, remote: RemoteSource) -> list[Row]:
        """``new`` beats on the running session's clock, handed to its loop."""
        seen = running.loop.clock.now() - m.arrival_s
        if remote.clock_offset_s is None or seen < remote.clock_offset_s:
            remote.clock_offset_s = seen
        offset = remote.clock_offset_s
        origin = running.loop.session.origin_s
        fresh = [(rr, t) for k, (rr, t) in enumerate(new, start=self.next_seq)
                 if k > remote.fed_seq]
        if fresh:
            # The live view does not wait for the disk (the acknowledgement does), and a
            # beat re-sent after a failed write is not coached twice.
            remote.put(Measurement(
                m.arrival_s + offset, m.hr_bpm, tuple(rr for rr, _ in fresh),
                tuple(t + offset for _, t in fresh), _contact(m.contact)))
            remote.fed_seq = self.next_seq + len(new) - 1
        return [beat_row(self.session_id, self.next_seq + i, t + offset - origin, rr,
                         m.arrival_s + offset - origin) for i, (rr, t) in enumerate(new)]

    def _late(self, m: MeasurementIn, new: list[tuple[float, float]], offset_s: float
              ) -> list[Row]:
        """``new`` beats of a session that has ended, at their own times."""
        return [beat_row(self.session_id, self.next_seq + i, t + offset_s, rr,
                         m.arrival_s + offset_s) for i, (rr, t) in enumerate(new)]

    def _chained(self, new: list[tuple[float, float]]) -> list[Row]:
        """``new`` beats placed one after the other after the last stored one."""
        rows = []
        for i, (rr, _) in enumerate(new):
            self.chain_s += rr / 1000.0
            rows.append(beat_row(self.session_id, self.next_seq + i, self.chain_s, rr,
                                 self.chain_s))
        return rows

    async def _store_then_acknowledge(self, writer: GroupCommitter) -> None:
        """The connection's beats, written a batch at a time (committed with the other
        sessions', one transaction for many) and acknowledged once on disk.

        Reading the next message never waits for a commit: under load a commit can take
        seconds, and each beat reached the live view that much late (450 sessions on this
        project's machine: p50 3.3 s). One write at a time, so a later batch is never stored
        ahead of a failed earlier one; a failed write ends this task and the connection."""
        outbox = self.outbox
        can_acknowledge = True
        while not (outbox.closed and not outbox.rows):
            await outbox.wake.wait()
            outbox.wake.clear()
            rows, outbox.rows = outbox.rows, []
            events, outbox.events = outbox.events, []
            upto = outbox.upto
            if rows or events:
                await writer.write(rows, events)
            if can_acknowledge and not outbox.closed:
                try:
                    await self.websocket.send_json(wire.ack(upto))
                except (WebSocketDisconnect, RuntimeError, OSError):
                    can_acknowledge = False  # the sender left; what it sent is still stored

    async def close(self) -> None:
        """What arrived, stored even when the sender has gone."""
        self.outbox.close()
        await asyncio.wait([self._storing])
        if not self._storing.cancelled() and (failed := self._storing.exception()) is not None:
            log.warning("session %s: streamed beats not stored (%s); its client resends what "
                        "was not acknowledged", self.session_id, failed)


def _contact(value: str) -> SensorContact:
    try:
        return SensorContact(value)
    except ValueError:
        return SensorContact.NOT_SUPPORTED
