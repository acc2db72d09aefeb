"""Streaming a local strap to a clinic's heartsease server: ``heartsease breathe --server``.

The streamer numbers every beat, sends each notification to the session's ingest WebSocket,
and keeps what the server has not yet acknowledged. When the connection drops (the network,
or the server restarting) it reconnects with backoff and sends everything unacknowledged
again; the server stores each numbered beat once, so nothing is lost and nothing doubled. The
messages and close codes are :mod:`heartsease.wire`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets

from heartsease import wire
from heartsease.sensors.source import Gap, Measurement

log = logging.getLogger(__name__)
_warned: set[str] = set()  # addresses already warned of as unencrypted
MAX_BACKOFF_S = 10.0
Outgoing = wire.MeasurementMessage | wire.GapMessage


class ServerError(RuntimeError):
    """The server refused (wrong password, not allowed) or could not be reached."""


def authorization(token: str) -> dict[str, str]:
    """The header a token goes in, on every request and WebSocket (never in a URL, where
    proxies and servers log it)."""
    return {"Authorization": f"Bearer {token}"}


def is_plain_and_remote(url: str) -> bool:
    """Whether ``url`` is unencrypted (http, ws) to anywhere but this machine.

    >>> [is_plain_and_remote(u) for u in ("http://clinic:8000", "https://clinic",
    ...  "ws://127.0.0.1:8000/x", "http://localhost:8000", "ws://[::1]/x", "ws://10.0.0.2")]
    [True, False, False, False, False, True]
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "ws"):
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def warn_if_plain(url: str) -> None:
    """Heartbeats and the password are health data and a secret: said once per address."""
    if is_plain_and_remote(url) and urlsplit(url).netloc not in _warned:
        _warned.add(urlsplit(url).netloc)
        log.warning("%s is not encrypted (http/ws): anyone on the network between can read "
                    "the heartbeats and the sign-in. Use https:// (see the README's TLS "
                    "section).", urlsplit(url).netloc)


def sign_in(base_url: str, email: str, password: str) -> str:
    warn_if_plain(base_url)
    try:
        r = httpx.post(f"{base_url}/api/auth/token",
                       data={"username": email, "password": password}, timeout=10)
    except httpx.HTTPError as exc:
        raise ServerError(f"cannot reach {base_url}: {exc}") from None
    if r.status_code != 200:
        raise ServerError(r.json().get("detail", r.text))
    return str(r.json()["access_token"])


def redeem_code(base_url: str, code: str) -> str:
    """A sign-in from the one-time code the breathing page showed: it may stream this
    person's practice and nothing more."""
    try:
        r = httpx.post(f"{base_url}/api/auth/stream-code", json={"code": code}, timeout=10)
    except httpx.HTTPError as exc:
        raise ServerError(f"cannot reach {base_url}: {exc}") from None
    if r.status_code != 200:
        raise ServerError(r.json().get("detail", r.text))
    return str(r.json()["access_token"])


def start_remote_session(base_url: str, token: str, **options: Any) -> str:
    r = httpx.post(f"{base_url}/api/sessions", json={"source": "remote", **options},
                   headers=authorization(token), timeout=10)
    if r.status_code != 201:
        raise ServerError(r.json().get("detail", r.text))
    return str(r.json()["id"])


def stop_remote_session(base_url: str, token: str, session_id: str) -> None:
    """End the session on the server (the person quit the streamer)."""
    try:
        r = httpx.post(f"{base_url}/api/sessions/{session_id}/stop",
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except httpx.HTTPError as exc:
        raise ServerError(f"cannot reach {base_url} to end the session: {exc}") from None
    if r.status_code != 200:
        raise ServerError(r.json().get("detail", r.text))


@dataclass
class StreamStats:
    sent: int = 0
    acknowledged: int = 0
    reconnects: int = 0
    unacknowledged: deque[wire.MeasurementMessage] = field(default_factory=deque)
    unsent_gap: wire.GapMessage | None = None  # taken from the queue, its send not completed


async def stream_to_server(
    source: AsyncIterator[Measurement | Gap], base_url: str, token: str, session_id: str,
    on_progress: Callable[[StreamStats], None] | None = None,
    stop: asyncio.Event | None = None, stats: StreamStats | None = None,
) -> StreamStats:
    """Send every measurement of ``source`` to the session until the source ends (or
    ``stop`` is set: the session ended on the server, or the person quit) and every beat
    sent is acknowledged; counted in ``stats`` (a new one by default)."""
    ws_url = (base_url.replace("http://", "ws://").replace("https://", "wss://")
              + f"/api/sessions/{session_id}/ingest")
    warn_if_plain(ws_url)
    headers = authorization(token)
    stats = StreamStats() if stats is None else stats
    outbox: asyncio.Queue[Outgoing | None] = asyncio.Queue()
    next_seq = 1

    async def read_source() -> None:
        nonlocal next_seq
        async for item in source:
            message: Outgoing
            if isinstance(item, Gap):
                message = wire.gap_message(item)
            else:
                if not item.rr_ms:
                    continue
                message = wire.measurement_message(next_seq, item)
                next_seq += len(item.rr_ms)
            await outbox.put(message)
        await outbox.put(None)

    reader = asyncio.create_task(read_source())
    # One pending read of the outbox survives reconnections: a message taken from it is sent
    # on the next connection, never dropped between two.
    pending: list[asyncio.Task[Outgoing | None]] = []
    finished = False
    backoff = 0.5
    try:
        while True:
            try:
                async with websockets.connect(ws_url, additional_headers=headers) as ws:
                    backoff = 0.5
                    await _resend(ws, stats)
                    while not (finished and not stats.unacknowledged):
                        if finished:
                            _take_reply(json.loads(await ws.recv()), stats)
                        else:
                            message = await _next(outbox, pending, ws, stats, stop)
                            if message is None:
                                finished = True
                            else:
                                await _send(ws, message, stats)
                        if on_progress is not None:
                            on_progress(stats)
                    return stats
            except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake,
                    _ResendError) as exc:
                if isinstance(exc, websockets.ConnectionClosed) and exc.rcvd is not None \
                        and exc.rcvd.code in wire.FINAL_CLOSES:
                    raise ServerError(exc.rcvd.reason) from None
                stats.reconnects += 1
                log.info("connection to %s lost (%s); retrying in %.1f s", base_url, exc,
                         backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
    finally:
        for task in (reader, *pending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _send(ws: Any, message: Outgoing, stats: StreamStats) -> None:
    """A message taken from the queue, sent. Beats are unacknowledged from the moment they
    leave the queue: a connection that dies inside the send must not lose them. A gap (never
    acknowledged: it holds no beats) is kept until a send of it completes."""
    if wire.is_gap(message):
        stats.unsent_gap = message
        await ws.send(json.dumps(message))
        stats.unsent_gap = None
    else:
        stats.unacknowledged.append(message)
        stats.sent += len(message["rr_ms"])
        await ws.send(json.dumps(message))


async def _resend(ws: Any, stats: StreamStats) -> None:
    """On a new connection, what may not have landed on the last, in the order taken."""
    for message in list(stats.unacknowledged):
        await ws.send(json.dumps(message))
    if stats.unsent_gap is not None:
        await ws.send(json.dumps(stats.unsent_gap))
        stats.unsent_gap = None


class _ResendError(Exception):
    """The server is missing beats we sent: reconnect and send all unacknowledged again."""


async def _next(outbox: asyncio.Queue[Outgoing | None],
                pending: list[asyncio.Task[Outgoing | None]], ws: Any,
                stats: StreamStats, stop: asyncio.Event | None) -> Outgoing | None:
    """The next message to send (``None`` at the end of the source or when ``stop`` is
    set), taking the server's replies that arrive meanwhile."""
    if not pending:
        pending.append(asyncio.create_task(outbox.get()))
    get = pending[0]
    while True:
        if stop is not None and stop.is_set():
            return None
        recv = asyncio.create_task(ws.recv())
        waiting: set[asyncio.Future[Any]] = {get, recv}
        stopped = None if stop is None else asyncio.ensure_future(stop.wait())
        if stopped is not None:
            waiting.add(stopped)
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if stopped is not None and stopped not in done:
            stopped.cancel()
        if recv in done:
            _take_reply(json.loads(recv.result()), stats)
        else:
            recv.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recv
        if get in done:
            pending.clear()
            return get.result()


def _take_reply(reply: dict[str, Any], stats: StreamStats) -> None:
    if reply.get("kind") == wire.Kind.ACK:
        stats.acknowledged = max(stats.acknowledged, int(reply["seq"]))
        while stats.unacknowledged and (wire.last_seq(stats.unacknowledged[0])
                                        <= stats.acknowledged):
            stats.unacknowledged.popleft()
    elif reply.get("kind") == wire.Kind.ERROR:
        log.warning("the server refused a message: %s", reply.get("detail"))
        if "expected_seq" in reply:
            raise _ResendError(reply["detail"])
        if stats.unacknowledged:  # a message it will never take: do not resend forever
            stats.unacknowledged.popleft()
