"""Two service processes over one PostgreSQL database and Redis, as workers behind a load
balancer: a session streamed into one is watched, annotated and paused from the other."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import websockets
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from heartsease.api.app import create_app
from heartsease.api.fanout import LIVE_PREFIX, LocalHub, RedisHub
from heartsease.api.running import SessionManager
from heartsease.api.settings import Settings
from heartsease.remote import sign_in, start_remote_session, stream_to_server
from heartsease.simulator.scenarios import simulate
from heartsease.store.models import Beat, BreathingSession, utcnow
from tests.api.conftest import bearer
from tests.api.conftest import sign_in as sign_in_headers
from tests.api.test_remote_streaming import paced_beats
from tests.conftest import free_port, fresh_postgres, serve
from tests.store.stores import store_with_sessions


async def next_kind(ws: Any, kind: str, timeout_s: float = 15.0, **match: Any) -> dict[str, Any]:
    """The next message of ``kind`` (with the given fields) on a live WebSocket."""
    async with asyncio.timeout(timeout_s):
        while True:
            message = json.loads(await ws.recv())
            if message.get("kind") == kind and all(message.get(k) == v
                                                   for k, v in match.items()):
                return message


def test_a_session_on_one_worker_is_watched_and_steered_from_another(redis_url: str) -> None:
    db_url = fresh_postgres()
    ports = free_port(), free_port()
    servers = [serve(db_url, port, HEARTSEASE_REDIS_URL=redis_url) for port in ports]
    a, b = (f"http://127.0.0.1:{port}" for port in ports)
    rr = simulate("rest", 300, seed=4).rr_ms  # streamed in about 8 s, longer than needed
    try:
        client = sign_in(a, "client@example.org", "heartsease-demo")
        clinician = sign_in(b, "clinician@example.org", "heartsease-demo")
        session_id = start_remote_session(a, client, protocol="srb")

        async def scenario() -> None:
            stop = asyncio.Event()
            streaming = asyncio.create_task(
                stream_to_server(paced_beats(rr, 0.05), a, client, session_id, stop=stop))
            live = f"/api/sessions/{session_id}/live"
            # Unbounded queues, as a browser reads all it is sent: a bounded one the test
            # never drains stops reading the connection, and its close then waits 10 s for
            # the server's answer behind the beats.
            async with websockets.connect(b.replace("http", "ws") + live, max_queue=None,
                                          additional_headers=bearer(clinician)) as watch, \
                    websockets.connect(a.replace("http", "ws") + live, max_queue=None,
                                       additional_headers=bearer(client)) as own, \
                    websockets.connect(b.replace("http", "ws") + live, max_queue=None,
                                       additional_headers=bearer(client)) as own_b:
                hello = await next_kind(watch, "hello", role="observer")
                assert hello["session_id"] == session_id  # from worker A, through Redis
                first = await next_kind(watch, "beat")
                later = await next_kind(watch, "beat")
                assert later["seq"] > first["seq"]
                await watch.send(json.dumps({"type": "annotation", "text": "grounding"}))
                note = await next_kind(own, "annotation")  # seen by the client on worker A
                assert note["text"] == "grounding" and note["author"] == "Dr. Rivera"
                await own_b.send(json.dumps({"type": "pause"}))
                assert (await next_kind(own, "paused"))["paused"] is True
                assert (await next_kind(watch, "paused"))["paused"] is True
                listed = httpx.get(f"{b}/api/sessions", headers={
                    "Authorization": f"Bearer {clinician}"}).json()
                assert [s["live"] for s in listed if s["id"] == session_id] == [True]
                # The client's pages leave, the last from worker B: worker A, which runs
                # the session, hears it through Redis and tells the observers.
                await own.close()
                await asyncio.sleep(0.5)
                await own_b.close()
                away = await next_kind(watch, "presence", presence="away")
                assert away["paused"] is True
            stop.set()
            stats = await streaming
            assert stats.acknowledged == stats.sent  # every beat sent is stored

        asyncio.run(scenario())
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)  # a stop must not hang on Redis or a quiet viewer


def test_without_redis_live_views_stay_on_the_worker_and_storage_goes_on(tmp_path) -> None:
    """Redis away (nothing listens on port 1): a session runs, its viewer on the same worker
    sees it, every beat is stored, and the service says it is degraded and why."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}",
                        redis_url="redis://127.0.0.1:1/0", demo_history_days=0)
    with TestClient(create_app(settings)) as client:
        headers = sign_in_headers(client, "client@example.org")
        r = client.post("/api/sessions", headers=headers, json={
            "source": "simulated", "scenario": "rest", "speed": 20, "practice_minutes": 1})
        session_id = r.json()["id"]
        with client.websocket_connect(f"/api/sessions/{session_id}/live",
                                      headers=headers) as ws:
            assert ws.receive_json()["kind"] == "hello"
            seen = 0
            while seen < 60:
                m = ws.receive_json()
                if m["kind"] == "beat":
                    seen = m["seq"]
        health = client.get("/api/health").json()
        assert health["status"] == "degraded" and health["database"] == "ok"
        assert health["live"].startswith("this worker only (Redis unreachable")
        client.post(f"/api/sessions/{session_id}/stop", headers=headers)
        with client.app.state.db() as db:
            stored = db.scalar(select(func.max(Beat.seq)).where(Beat.session_id == session_id))
        assert stored >= seen


def test_a_worker_hears_only_what_its_viewers_watch_and_reads_liveness_directly(
        redis_url: str) -> None:
    """A worker that heard every session of every worker fell behind at 1,000 sessions on
    two workers (bench_load, 2026-12-03): the other worker's "alive" message waited behind
    the beats, its live sessions were swept as interrupted, and their straps and pages
    reconnected 97,362 times. Now a hub hears only the sessions its viewers watch, and which
    sessions run where is read from expiring keys, not from the stream."""

    async def scenario() -> None:
        a, b = RedisHub(redis_url), RedisHub(redis_url)
        heard: list[str] = []
        received = b._received
        b._received = lambda channel, data: (heard.append(channel), received(channel, data))
        for hub in (a, b):
            await hub.start(lambda session_id, command: None)
        try:
            async with asyncio.timeout(10):
                while a.degraded is not None or b.degraded is not None:
                    await asyncio.sleep(0.05)
            queue = b.subscribe("watched")
            await b.listening("watched")
            for seq in range(1, 51):
                a.publish("unwatched", {"kind": "beat", "seq": seq})
                a.publish("watched", {"kind": "beat", "seq": seq})
            async with asyncio.timeout(10):
                got = [(await queue.get()).message["seq"] for _ in range(50)]
            assert got == list(range(1, 51))
            a.announce(["running-on-a"])
            await asyncio.sleep(0.5)  # a writes its key at once
            b.announce([])  # and b reads the others' when it writes its own
            async with asyncio.timeout(5):
                while not b.live_elsewhere("running-on-a"):
                    await asyncio.sleep(0.05)
            assert not b.live_elsewhere("never-announced")
            # Redis pub/sub channels span every database, so another test's worker may post a
            # control that b rightly hears; of the sessions' streams, b heard only the watched.
            assert {c for c in heard if c.startswith(LIVE_PREFIX)} == {LIVE_PREFIX + "watched"}
        finally:
            for hub in (a, b):
                await hub.close()

    asyncio.run(scenario())


class _OtherWorkers(LocalHub):
    """What the other workers say they run, set by the test."""

    distributed = True

    def __init__(self) -> None:
        super().__init__()
        self.running_elsewhere: set[str] = set()

    def live_elsewhere(self, session_id: str) -> bool:
        return session_id in self.running_elsewhere


def test_the_sweep_closes_a_stopped_workers_sessions_not_those_waiting_for_a_strap(
        tmp_path) -> None:
    """A streamed session runs only once its strap connects: one waiting for it is not a
    dead worker's (bench_load, two workers, 60-s ramp: 294 sessions were swept while their
    straps queued to connect)."""
    names = ("waiting", "on-a-worker-that-stops", "running", "left-by-restart")
    engine, factory, rows = store_with_sessions(f"sqlite:///{tmp_path / 'h.db'}",
                                                ["remote"] * len(names))
    ids = {name: row.id for name, row in zip(names, rows, strict=True)}
    with factory() as db, db.begin():
        for name, minutes in zip(names, (2, 10, 10, 60), strict=True):
            db.get(BreathingSession, ids[name]).started_at = utcnow() - timedelta(
                minutes=minutes)
    hub = _OtherWorkers()
    manager = SessionManager(factory, hub)

    def statuses() -> dict[str, str]:
        with factory() as db:
            return {name: db.get(BreathingSession, i).status.value for name, i in ids.items()}

    hub.running_elsewhere = {ids["on-a-worker-that-stops"], ids["running"]}
    manager.liveness.sweep()
    assert statuses() == {"waiting": "active", "on-a-worker-that-stops": "active",
                          "running": "active", "left-by-restart": "interrupted"}
    hub.running_elsewhere = {ids["running"]}
    manager.liveness.sweep()
    assert statuses() == {"waiting": "active", "on-a-worker-that-stops": "interrupted",
                          "running": "active", "left-by-restart": "interrupted"}
    engine.dispose()
