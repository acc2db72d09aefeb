"""Open WebSockets belong to their sign-in (issue 22, item 2): the ``/live`` and ``/ingest``
sockets close within 5 s of their sign-in being signed out or revoked, or their person
erased or deactivated; renewing a page's sign-in never closes one. Against a real server
process (uvicorn closes a socket under a route that waits to receive)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import ClientConnection

from heartsease.api.app import create_app
from heartsease.api.demo import DEMO_PASSWORD
from heartsease.api.security import hash_password
from heartsease.api.settings import Settings
from heartsease.api.signin_watch import HeldSignIn, SignInWatch
from heartsease.store.db import make_engine, migrate, session_factory
from heartsease.store.models import Assignment, Role, User
from heartsease.wire import Close
from tests.api.conftest import sign_in
from tests.conftest import free_port, serve

# One xdist worker runs them all: each worker would otherwise start the two servers itself.
pytestmark = pytest.mark.xdist_group("socket-sign-in")
CHECK_S = 1.0  # the server's round (HEARTSEASE_SIGN_IN_CHECK_S; 2 s by default)
LIMIT_S = 5.0  # the issue's: closed within 5 s
PASSWORD = "a long enough password"


@dataclass
class Service:
    base: str
    db_url: str

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://")


# On SQLite, as the other journeys above the store (tests/conftest.py, pytest_generate_tests):
# the watch asks the store what every request's sign-in check asks.
@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('sockets') / 'h.db'}"
    port = free_port()
    process = serve(db_url, port, HEARTSEASE_SIGN_IN_CHECK_S=str(CHECK_S))
    try:
        yield Service(f"http://127.0.0.1:{port}", db_url)
    finally:
        process.terminate()
        process.wait(timeout=30)


def new_client(service: Service) -> tuple[str, str]:
    """A client of the demo clinician's, made in the database (how accounts are made is
    another matter): their email and id."""
    engine = make_engine(service.db_url)
    with session_factory(engine)() as db, db.begin():
        clinician = db.scalar(select(User).where(User.email == "clinician@example.org"))
        assert clinician is not None
        client = User(email=f"{uuid.uuid4().hex[:12]}@example.org", name="Pat",
                      role=Role.CLIENT, password_hash=hash_password(PASSWORD))
        db.add(client)
        db.flush()
        db.add(Assignment(clinician_id=clinician.id, client_id=client.id))
        found = client.email, client.id
    engine.dispose()
    return found


def bearer_of(service: Service, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    r = httpx.post(f"{service.base}/api/auth/token",
                   data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def until_closed(ws: ClientConnection, limit_s: float) -> tuple[int | None, str, float]:
    """The close code and reason, and how long after now it came."""
    started = time.monotonic()
    async with asyncio.timeout(limit_s):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed:
            pass
    return ws.close_code, ws.close_reason or "", time.monotonic() - started


async def still_open_after(ws: ClientConnection, seconds: float) -> bool:
    try:
        await until_closed(ws, seconds)
    except TimeoutError:
        return True
    return False


@dataclass
class Sockets:
    ingest: ClientConnection
    live: ClientConnection
    observer: ClientConnection


async def open_sockets(service: Service, client: dict[str, str],
                       clinician: dict[str, str]) -> Sockets:
    """A streamed session's three sockets: the client's strap, the client's page and the
    clinician watching, each past its first message (so the route holds it)."""
    r = httpx.post(f"{service.base}/api/sessions", headers=client, json={"source": "remote"})
    assert r.status_code == 201, r.text
    path = f"{service.ws}/api/sessions/{r.json()['id']}"
    ingest = await websockets.connect(f"{path}/ingest", additional_headers=client)
    await ingest.send('{"seq": 1, "arrival_s": 1.0, "hr_bpm": 70, "rr_ms": [850.0]}')
    assert '"ack"' in str(await ingest.recv())
    live = await websockets.connect(f"{path}/live", additional_headers=client)
    observer = await websockets.connect(f"{path}/live", additional_headers=clinician)
    for ws in (live, observer):
        assert '"hello"' in str(await ws.recv())
    return Sockets(ingest, live, observer)


def deactivate(service: Service, user_id: str) -> None:
    engine = make_engine(service.db_url)
    with engine.begin() as c:
        c.execute(update(User).where(User.id == user_id).values(deactivated_at=datetime.now(UTC)))
    engine.dispose()


# What ends, and how each of the three sockets is then closed (None: it stays open).
TRIGGERS = {
    "sign-out": (Close.SIGNED_OUT, Close.SIGNED_OUT, None),
    "sign-out-everywhere": (Close.SIGNED_OUT, Close.SIGNED_OUT, None),
    "admin-ends-every-sign-in": (Close.SIGNED_OUT, Close.SIGNED_OUT, None),
    "erasure": (Close.NOT_ALLOWED, Close.NOT_ALLOWED, Close.NOT_ALLOWED),
    "deactivation": (Close.NOT_ALLOWED, Close.NOT_ALLOWED, None),
    "clinician-signs-out": (None, None, Close.SIGNED_OUT),
}


def pull_the_trigger(service: Service, trigger: str, client: dict[str, str], client_id: str,
                     clinician: dict[str, str]) -> None:
    base = service.base
    if trigger == "sign-out":
        assert httpx.post(f"{base}/api/auth/sign-out", headers=client).status_code == 204
    elif trigger == "sign-out-everywhere":
        assert httpx.post(f"{base}/api/me/sign-out-everywhere",
                          headers=client).status_code == 204
    elif trigger == "admin-ends-every-sign-in":
        admin = bearer_of(service, "admin@example.org")
        assert httpx.post(f"{base}/api/users/{client_id}/sign-out-everywhere",
                          headers=admin).status_code == 204
    elif trigger == "erasure":
        assert httpx.delete(f"{base}/api/me", headers=client).status_code == 204
    elif trigger == "deactivation":
        deactivate(service, client_id)
    else:
        assert httpx.post(f"{base}/api/auth/sign-out", headers=clinician).status_code == 204


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_socket_closes_when_its_sign_in_ends(service: Service, trigger: str) -> None:
    email, client_id = new_client(service)
    client = bearer_of(service, email, PASSWORD)
    clinician = bearer_of(service, "clinician@example.org")

    async def scenario() -> None:
        sockets = await open_sockets(service, client, clinician)
        pull_the_trigger(service, trigger, client, client_id, clinician)
        expected = dict(zip(("ingest", "live", "observer"), TRIGGERS[trigger], strict=True))
        closing = {name: code for name, code in expected.items() if code is not None}
        results = await asyncio.gather(*(until_closed(getattr(sockets, name), LIMIT_S)
                                         for name in closing))
        for (name, code), (got, reason, after_s) in zip(closing.items(), results, strict=True):
            assert got == code and reason, (name, got, reason)
            assert after_s < LIMIT_S, (name, after_s)
        for name in set(expected) - set(closing):  # a round later, still open
            assert await still_open_after(getattr(sockets, name), CHECK_S * 1.5), name
            await getattr(sockets, name).close()

    asyncio.run(scenario())


def test_renewing_a_page_sign_in_never_closes_its_socket(service: Service) -> None:
    """The page's cookie renewed again and again while its socket is open, past the old
    sign-in's life: the socket stays; signing out with the cookie (and the page's
    anti-forgery header) closes it."""
    email, _ = new_client(service)
    with httpx.Client(base_url=service.base) as page:
        r = page.post("/api/auth/session", data={"username": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        r = page.post("/api/sessions", json={"source": "remote"},
                      headers={"X-CSRF-Token": page.cookies["heartsease_csrf"]})
        assert r.status_code == 201, r.text
        url = f"{service.ws}/api/sessions/{r.json()['id']}/live"
        first_cookie = page.cookies["heartsease_session"]

        async def scenario() -> None:
            cookie = "; ".join(f"{k}={v}" for k, v in page.cookies.items())
            streamer = bearer_of(service, email, PASSWORD)
            async with websockets.connect(url.replace("/live", "/ingest"),
                                          additional_headers=streamer) as strap:
                await strap.send('{"seq": 1, "arrival_s": 1.0, "hr_bpm": 70, '
                                 '"rr_ms": [850.0]}')
                await strap.recv()
                ws = await websockets.connect(url, origin=service.base,
                                              additional_headers={"Cookie": cookie})
                assert '"hello"' in str(await ws.recv())
                for _ in range(3):
                    renewed = page.post("/api/auth/session/renew", headers={
                        "X-CSRF-Token": page.cookies["heartsease_csrf"]})
                    assert renewed.status_code == 200, renewed.text
                    assert await still_open_after(ws, CHECK_S * 1.2)
                assert page.cookies["heartsease_session"] != first_cookie  # renewed
                out = page.post("/api/auth/sign-out",
                                headers={"X-CSRF-Token": page.cookies["heartsease_csrf"]})
                assert out.status_code == 204
                code, _, after_s = await until_closed(ws, LIMIT_S)
                assert code == Close.SIGNED_OUT and after_s < LIMIT_S

        asyncio.run(scenario())


class _Socket:
    """Stands in for a WebSocket in the watch's registry: what the check closes."""

    def __init__(self) -> None:
        self.closed: tuple[int, str] | None = None

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


def test_the_watch_asks_the_same_two_queries_however_many_sockets_are_open(
        tmp_path: Path) -> None:
    """Scale: a round costs two queries whether one socket or 300 are open (not a query
    per socket), and closes exactly the ones whose sign-in ended."""
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    migrate(engine)
    factory = session_factory(engine)
    with factory() as db, db.begin():
        people = [User(email=f"p{i}@example.org", name="P", role=Role.CLIENT,
                       password_hash="x") for i in range(100)]
        db.add_all(people)
        db.flush()
        ids = [p.id for p in people]
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    watch = SignInWatch(factory, every_s=CHECK_S)
    signed_in_at = datetime.now(UTC)

    async def one_round(n_sockets: int) -> tuple[int, list[_Socket]]:
        sockets = [_Socket() for _ in range(n_sockets)]
        holds = [watch.hold(s, HeldSignIn(ids[i % len(ids)], uuid.uuid4().hex, signed_in_at))
                 for i, s in enumerate(sockets)]  # type: ignore[arg-type]
        for hold in holds:
            hold.__enter__()
        statements.clear()
        await watch.check()
        for hold in holds:
            hold.__exit__(None, None, None)
        return len(statements), sockets

    one, _ = asyncio.run(one_round(1))
    many, sockets = asyncio.run(one_round(300))
    assert one == many == 2
    assert not any(s.closed for s in sockets)  # every sign-in holds
    with factory() as db, db.begin():
        db.execute(update(User).where(User.id == ids[0]).values(
            tokens_valid_after=datetime.now(UTC)))
    _, sockets = asyncio.run(one_round(300))
    closed = [i for i, s in enumerate(sockets) if s.closed]
    assert closed == list(range(0, 300, 100))  # the sockets of that one person
    assert sockets[0].closed == (Close.SIGNED_OUT, "every sign-in of this account was ended")
    engine.dispose()


def test_a_sign_out_on_one_worker_closes_a_socket_on_another(tmp_path: Path) -> None:
    """Two workers share only the database (no Redis here): a sign-out answered by one
    closes the sign-in's socket held by the other, within the 5 s."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    first = create_app(Settings(database_url=url, demo_history_days=0))
    second = create_app(Settings(database_url=url, demo_history_days=0, prepare_store=False))
    with TestClient(first) as a, TestClient(second) as b:
        headers = sign_in(a, "client@example.org")
        session = b.post("/api/sessions", headers=headers, json={"source": "remote"}).json()
        with b.websocket_connect(f"/api/sessions/{session['id']}/ingest",
                                 headers=headers) as ws:
            ws.send_json({"seq": 1, "arrival_s": 1.0, "hr_bpm": 70, "rr_ms": [850.0]})
            assert ws.receive_json()["kind"] == "ack"
            closed: list[int] = []

            def until_closed() -> None:
                try:
                    while True:
                        ws.receive_json()
                except WebSocketDisconnect as exc:
                    closed.append(exc.code)

            waiting = threading.Thread(target=until_closed, daemon=True)
            assert a.post("/api/auth/sign-out", headers=headers).status_code == 204
            started = time.monotonic()
            waiting.start()
            waiting.join(LIMIT_S)
            assert closed == [Close.SIGNED_OUT] and time.monotonic() - started < LIMIT_S
