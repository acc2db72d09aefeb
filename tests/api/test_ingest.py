"""The ingest stream on its own (heartsease.api.ingest), without a server: what it stores,
acknowledges and refuses for the messages of one connection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from heartsease import wire
from heartsease.api.ingest import IngestStream


class Sender:
    """The connection's far end: what the stream sends back."""

    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = []

    async def send_json(self, message: dict[str, Any]) -> None:
        self.replies.append(message)


class Disk:
    """The writer: the rows written, in order."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    async def write(self, rows: list[dict[str, Any]], events: list[dict[str, Any]] = ()
                    ) -> None:
        self.rows.extend(rows)
        self.events.extend(events)


def beats(seq: int, *rr_ms: float) -> dict[str, Any]:
    return {"seq": seq, "arrival_s": 10.0, "hr_bpm": 70, "rr_ms": list(rr_ms)}


def stream(messages: list[Any], next_seq: int = 1, chain_s: float = 0.0,
           stored_offset_s: float | None = None, disk: Disk | None = None
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The replies and the rows written for ``messages`` on a connection to a session the
    server no longer runs (its beats stored in order after the last, or at their own times
    on ``stored_offset_s``)."""
    sender, disk = Sender(), disk or Disk()

    async def run() -> None:
        ingest = IngestStream(sender, disk, "s1", None, next_seq, chain_s,  # type: ignore[arg-type]
                              stored_offset_s)
        for message in messages:
            assert await ingest.take(message) is None
            await asyncio.sleep(0)  # the writer's turn
        await ingest.close()

    asyncio.run(run())
    return sender.replies, disk.rows


def test_beats_are_chained_after_the_last_stored_one_and_acknowledged() -> None:
    replies, rows = stream([beats(5, 800.0, 1000.0)], next_seq=5, chain_s=100.0)
    assert [(r["seq"], r["t_s"]) for r in rows] == [(5, 100.8), (6, 101.8)]
    assert replies == [wire.ack(6)]


def test_a_beat_sent_twice_is_stored_once() -> None:
    replies, rows = stream([beats(1, 800.0, 800.0), beats(2, 800.0, 800.0)])
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert replies[-1] == wire.ack(3)


def test_missing_beats_and_bad_messages_are_refused_and_nothing_is_stored() -> None:
    replies, rows = stream([beats(3, 800.0), beats(1, 100.0), {"seq": "x"},
                            {"gap_start_s": "soon", "gap_end_s": 1.0}])
    assert rows == []
    assert replies[0] == wire.error("beats from 1 are missing", expected_seq=1)
    assert replies[1] == wire.error("RR must be 200-3000 ms, one time each", seq=1)
    assert [r["kind"] for r in replies[2:]] == [wire.Kind.ERROR] * 2


def test_a_gap_is_taken_without_an_acknowledgement() -> None:
    replies, rows = stream([{"gap_start_s": 1.0, "gap_end_s": 4.0}])
    assert (replies, rows) == ([], [])


def test_beats_after_the_session_ended_are_stored_at_their_own_times_with_their_gaps() -> None:
    """A page that kept its beats through a reload sends them after the session ended: they
    are placed with the offset the session kept, not chained onto its last beat (which would
    fill the gap)."""
    disk = Disk()
    late = [{"gap_start_s": 30.0, "gap_end_s": 42.0, "reason": "link lost"},
            {**beats(5, 800.0, 1000.0), "arrival_s": 44.01, "beat_times_s": [43.0, 44.0]}]
    replies, rows = stream(late, next_seq=5, chain_s=20.0, stored_offset_s=-10.0, disk=disk)
    assert [(r["seq"], r["t_s"], r["arrival_s"]) for r in rows] == [
        (5, 33.0, pytest.approx(34.01)), (6, 34.0, pytest.approx(34.01))]
    assert [(e["kind"], e["t_s"], e["data"]["end_s"]) for e in disk.events] == [
        ("gap", 20.0, 32.0)]
    assert replies == [wire.ack(6)]
