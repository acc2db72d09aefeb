"""The streamer's queue discipline (``heartsease.remote``) against a small ingest server that
follows the protocol of :mod:`heartsease.wire`: what is taken from the queue is kept until
the server acknowledges it, whatever happens to the connection in between."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from heartsease import wire
from heartsease.remote import stream_to_server
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Gap, Measurement


class Ingest:
    """Stores each numbered beat once, in order; asks for a resend when beats are missing
    (as :mod:`heartsease.api.ingest` does)."""

    def __init__(self) -> None:
        self.stored: list[int] = []
        self.gaps: list[float] = []

    async def handle(self, ws: websockets.ServerConnection) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if wire.is_gap(message):
                self.gaps.append(message["gap_start_s"])
                continue
            next_seq = len(self.stored) + 1
            if message["seq"] > next_seq:
                await ws.send(json.dumps(wire.error(f"beats from {next_seq} are missing",
                                                    expected_seq=next_seq)))
                continue
            last = wire.last_seq(message)
            self.stored.extend(range(next_seq, last + 1))
            await ws.send(json.dumps(wire.ack(len(self.stored))))


async def strap(n: int, gap_after: int | None = None) -> AsyncIterator[Measurement | Gap]:
    for i in range(1, n + 1):
        yield Measurement(i * 0.8, 75, (800.0,), (i * 0.8,), SensorContact.DETECTED)
        if i == gap_after:
            yield Gap(i * 0.8, i * 0.8 + 5.0, "link lost")
        await asyncio.sleep(0.002)


@pytest.mark.parametrize("dies_in", ["beats", "gap"])
def test_a_connection_that_dies_inside_the_send_loses_nothing(
        monkeypatch: pytest.MonkeyPatch, dies_in: str) -> None:
    """The streamer took a message from its queue, sent it, and only then counted it
    unacknowledged: a connection that died inside ``ws.send`` lost it for good, and every
    resend after was answered "beats from N are missing" (CI: 120 s of that, then failed).
    Here the send of beat 7's message (or of the gap after it) fails as the connection
    dies, every time the test runs."""
    real_send = ClientConnection.send
    failed: list[str] = []

    async def dying_send(self: ClientConnection, message: str) -> None:
        sent = json.loads(message)
        hit = sent.get("seq") == 7 if dies_in == "beats" else wire.is_gap(sent)
        if hit and not failed:
            failed.append(message)
            self.transport.abort()  # the connection dies before the frame leaves
            raise websockets.ConnectionClosedError(None, None)
        await real_send(self, message)

    monkeypatch.setattr(ClientConnection, "send", dying_send)
    ingest = Ingest()

    async def main() -> None:
        async with websockets.serve(ingest.handle, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            stats = await asyncio.wait_for(stream_to_server(
                strap(20, gap_after=7), f"http://127.0.0.1:{port}", "t", "s"), timeout=15)
            assert stats.reconnects == 1 and not stats.unacknowledged

    asyncio.run(main())
    assert failed
    assert ingest.stored == list(range(1, 21))
    assert ingest.gaps == [7 * 0.8]
