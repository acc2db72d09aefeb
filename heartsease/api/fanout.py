"""Live fan-out: every viewer of a session gets every message of it, in order, whichever
worker runs the session and whichever worker the viewer is connected to.

:class:`LocalHub` is one process; :class:`RedisHub` adds Redis pub/sub between workers
(``HEARTSEASE_REDIS_URL``). Both take *controls* (pause, stop, a note, a late joiner's
request for the story so far) addressed to a session and hand them to the worker running it.
When Redis is unreachable the hub says so (:attr:`degraded`), keeps serving the viewers on
its own worker, and reconnects by itself; storage never depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from heartsease.store.db import finite_json

log = logging.getLogger(__name__)
Message = dict[str, Any]
ControlHandler = Callable[[str, Message], None]
ALIVE_EVERY_S = 5.0  # how often a worker names the sessions it runs
ALIVE_FOR_S = 3 * ALIVE_EVERY_S  # after which a silent worker's sessions count as gone
ALIVE_PREFIX = "heartsease:alive:"  # a key a worker, naming its sessions, expiring
LISTEN_WAIT_S = 5.0  # for Redis to confirm a new subscription
VIEWER_QUEUE = 10_000
CLOSE_WAIT_S = 2.0
LIVE_PREFIX = "heartsease:live:"  # one channel a session
CONNECTING = "connecting to Redis"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A live message and its JSON text, made once however many viewers it goes to."""

    message: Message
    text: str

    @classmethod
    def of(cls, message: Message) -> Outgoing:
        return cls(message, finite_json(message))


class LocalHub:
    """In-process fan-out: every subscriber of a session gets every message, in order."""

    degraded: str | None = None
    distributed = False

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Outgoing | None]]] = defaultdict(set)
        self._on_control: ControlHandler | None = None

    async def start(self, on_control: ControlHandler) -> None:
        self._on_control = on_control

    async def close(self) -> None:
        self._on_control = None

    def subscribe(self, session_id: str) -> asyncio.Queue[Outgoing | None]:
        """A viewer's queue of the session's messages (``None`` is the viewer's own, to
        wake it when it should stop: see :func:`put_dropping_oldest`)."""
        queue: asyncio.Queue[Outgoing | None] = asyncio.Queue(maxsize=VIEWER_QUEUE)
        self._subscribers[session_id].add(queue)
        return queue

    def unsubscribe(self, session_id: str, queue: asyncio.Queue[Outgoing | None]) -> None:
        self._subscribers[session_id].discard(queue)
        if not self._subscribers[session_id]:
            del self._subscribers[session_id]

    def publish(self, session_id: str, message: Message) -> Outgoing:
        outgoing = Outgoing.of(message)
        self.publish_outgoing(session_id, outgoing)
        return outgoing

    def publish_outgoing(self, session_id: str, outgoing: Outgoing) -> None:
        self._deliver(session_id, outgoing)

    def _deliver(self, session_id: str, outgoing: Outgoing) -> None:
        for queue in list(self._subscribers.get(session_id, ())):
            put_dropping_oldest(queue, outgoing)

    def control(self, session_id: str, command: Message) -> None:
        """Hand ``command`` to the worker running the session (here, this one)."""
        if self._on_control is not None:
            self._on_control(session_id, command)

    def announce(self, session_ids: Iterable[str]) -> None:
        """Say which sessions this worker runs (nothing to say with one worker)."""

    def live_elsewhere(self, session_id: str) -> bool:
        return False

    async def listening(self, session_id: str) -> None:
        """Return once messages published for the session reach this worker's viewers
        (at once, in one process)."""


def put_dropping_oldest(queue: asyncio.Queue[Any], item: Any) -> None:
    """A stalled viewer loses its oldest message (never the store's copy)."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


class RedisHub(LocalHub):
    """Fan-out across workers through Redis pub/sub; the local hub when Redis is away.

    A worker subscribes only to the sessions its own viewers watch, so what it hears grows
    with its viewers, not with every session of every worker. Which sessions each worker
    runs is a key of its own with an expiry, read directly: a pub/sub message would wait
    behind the live traffic of a busy worker, and a late one makes live sessions look dead.
    """

    distributed = True

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.worker_id = uuid.uuid4().hex[:12]
        self.degraded = CONNECTING
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=100_000)
        self._elsewhere: dict[str, tuple[float, set[str]]] = {}
        self._running_here: list[str] = []
        self._announced = asyncio.Event()
        self._pubsub: Any = None
        self._channel_changes: asyncio.Queue[str] = asyncio.Queue()
        self._listening: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, on_control: ControlHandler) -> None:
        await super().start(on_control)
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._send()),
                       asyncio.create_task(self._subscriptions()),
                       asyncio.create_task(self._keep_alive())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        # A Redis connection cancelled mid-command may never finish closing: do not let it
        # hold up the service's shutdown.
        await asyncio.wait(self._tasks, timeout=CLOSE_WAIT_S)
        await super().close()

    def subscribe(self, session_id: str) -> asyncio.Queue[Outgoing | None]:
        first = session_id not in self._subscribers
        queue = super().subscribe(session_id)
        if first:
            self._channel_changes.put_nowait(session_id)
        return queue

    def unsubscribe(self, session_id: str, queue: asyncio.Queue[Outgoing | None]) -> None:
        super().unsubscribe(session_id, queue)
        if session_id not in self._subscribers:
            self._channel_changes.put_nowait(session_id)

    async def listening(self, session_id: str) -> None:
        """Return once Redis confirms this worker hears the session's channel (so what the
        session's worker publishes next reaches it), or after a few seconds regardless."""
        if self.degraded is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listening[LIVE_PREFIX + session_id].wait(),
                                       LISTEN_WAIT_S)

    def publish_outgoing(self, session_id: str, outgoing: Outgoing) -> None:
        super().publish_outgoing(session_id, outgoing)
        # {"w": ..., "m": message}, without making the message's JSON again
        self._post_text(LIVE_PREFIX + session_id,
                        f'{{"w":"{self.worker_id}","m":{outgoing.text}}}')

    def control(self, session_id: str, command: Message) -> None:
        super().control(session_id, command)  # the session may run here
        self._post("heartsease:control", {"w": self.worker_id, "s": session_id, "c": command})

    def announce(self, session_ids: Iterable[str]) -> None:
        self._running_here = sorted(session_ids)
        self._announced.set()

    def live_elsewhere(self, session_id: str) -> bool:
        now = time.monotonic()
        return any(now - seen < ALIVE_FOR_S and session_id in sessions
                   for seen, sessions in self._elsewhere.values())

    def _post(self, channel: str, payload: Message) -> None:
        self._post_text(channel, json.dumps(payload, default=str))

    def _post_text(self, channel: str, text: str) -> None:
        if self.degraded not in (None, CONNECTING):
            return  # local viewers already have it; nothing piles up while Redis is away
        with contextlib.suppress(asyncio.QueueFull):
            self._outbox.put_nowait((channel, text))

    def _down(self, exc: BaseException) -> None:
        if self.degraded is None:
            log.warning("Redis unreachable (%s): live views now reach only viewers on this "
                        "worker; sessions and storage go on", exc)
        self.degraded = f"Redis unreachable: {exc}"

    async def _send(self) -> None:
        from redis import asyncio as aioredis
        from redis.exceptions import RedisError

        client = aioredis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        try:
            while True:
                batch = [await self._outbox.get()]
                while not self._outbox.empty() and len(batch) < 500:
                    batch.append(self._outbox.get_nowait())
                try:
                    async with client.pipeline(transaction=False) as pipe:
                        for channel, payload in batch:
                            pipe.publish(channel, payload)
                        await pipe.execute()
                except (RedisError, OSError) as exc:
                    self._down(exc)
        finally:
            await client.aclose()

    async def _keep_alive(self) -> None:
        """Write which sessions run here (expiring unless renewed), read the others'."""
        from redis import asyncio as aioredis
        from redis.exceptions import RedisError

        client = aioredis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._announced.wait(), ALIVE_EVERY_S)
                self._announced.clear()
                try:
                    await client.set(ALIVE_PREFIX + self.worker_id,
                                     json.dumps(self._running_here), ex=int(ALIVE_FOR_S))
                    keys = [k async for k in client.scan_iter(ALIVE_PREFIX + "*")]
                    values = await client.mget(keys) if keys else []
                except (RedisError, OSError) as exc:
                    self._down(exc)
                    continue
                now = time.monotonic()
                self._elsewhere = {
                    worker: (now, set(json.loads(value)))
                    for key, value in zip(keys, values, strict=True)
                    if value is not None
                    and (worker := key.decode().removeprefix(ALIVE_PREFIX)) != self.worker_id}
        finally:
            await client.aclose()

    async def _subscriptions(self) -> None:
        """Follow the sessions watched here: subscribe to the first viewer's, unsubscribe
        when the last one leaves (a reconnection subscribes afresh to what is watched)."""
        from redis.exceptions import RedisError

        while True:
            session_id = await self._channel_changes.get()
            pubsub = self._pubsub
            if pubsub is None:
                continue
            channel = LIVE_PREFIX + session_id
            with contextlib.suppress(RedisError, OSError):
                if session_id in self._subscribers:
                    await pubsub.subscribe(channel)
                else:
                    await pubsub.unsubscribe(channel)

    async def _listen(self) -> None:
        from redis import asyncio as aioredis
        from redis.exceptions import RedisError

        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2)
            try:
                pubsub = client.pubsub()
                watched = set(self._subscribers)
                await pubsub.subscribe("heartsease:control",
                                       *(LIVE_PREFIX + s for s in watched))
                self._pubsub = pubsub
                # Viewers who came or went during that await found no connection to change.
                for session_id in watched ^ set(self._subscribers):
                    self._channel_changes.put_nowait(session_id)
                if self.degraded is not None:
                    log.info("Redis reachable: live views reach every worker again")
                self.degraded = None
                async for item in pubsub.listen():
                    if item["type"] == "message":
                        self._received(item["channel"].decode(), item["data"])
                    elif item["type"] == "subscribe":
                        self._listening[item["channel"].decode()].set()
                    elif item["type"] == "unsubscribe":
                        self._listening.pop(item["channel"].decode(), None)
            except (RedisError, OSError) as exc:
                self._down(exc)
                await asyncio.sleep(2.0)
            finally:
                self._pubsub = None
                self._listening.clear()
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()

    def _received(self, channel: str, data: bytes) -> None:
        session_id = channel.removeprefix(LIVE_PREFIX)
        if session_id != channel and session_id not in self._subscribers:
            return  # left just now: the unsubscribe is on its way
        payload = json.loads(data)
        if payload.get("w") == self.worker_id:
            return
        if channel == "heartsease:control":
            if self._on_control is not None:
                self._on_control(payload["s"], payload["c"])
        else:
            # The message's text as the other worker made it: its bytes after {"w":..,"m":
            text = data.decode()
            self._deliver(session_id, Outgoing(payload["m"], text[text.index('"m":') + 4:-1]))


def make_hub(redis_url: str | None) -> LocalHub:
    return RedisHub(redis_url) if redis_url else LocalHub()
