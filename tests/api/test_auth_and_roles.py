"""Sign-in, tokens, settings, and who may see what (every check audit-logged)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select, text
from starlette.websockets import WebSocketDisconnect

from heartsease.api.app import create_app
from heartsease.api.demo import DEMO_PASSWORD
from heartsease.api.limits import MAX_FAILED_SIGN_INS, SIGN_IN_PREFIX, RedisSignInLimiter
from heartsease.api.security import create_token
from heartsease.api.settings import DEVELOPMENT_SECRET, Settings
from heartsease.store.models import AuditEntry
from tests.api.conftest import bearer, me, sign_in, token_of


def test_sign_in_and_tokens(client: TestClient) -> None:
    bad = client.post("/api/auth/token", data={"username": "client@example.org",
                                               "password": "wrong"})
    assert bad.status_code == 401 and "don't match" in bad.json()["detail"]
    headers = sign_in(client, "client@example.org")
    assert me(client, headers)["role"] == "client"
    expired = create_token(me(client, headers)["id"], DEVELOPMENT_SECRET, minutes=-1)
    r = client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    forged = create_token(me(client, headers)["id"], "x" * 40, minutes=5)
    assert client.get("/api/me", headers={"Authorization": f"Bearer {forged}"}).status_code \
        == 401
    assert client.get("/api/me").status_code == 401


def test_tokens_can_be_signed_out(client: TestClient, people) -> None:
    phone, laptop = people["client"], sign_in(client, "client@example.org")
    assert client.post("/api/auth/sign-out", headers=phone).status_code == 204
    r = client.get("/api/me", headers=phone)
    assert r.status_code == 401 and r.json()["detail"] == "You have been signed out."
    assert client.get("/api/me", headers=laptop).status_code == 200  # only that token
    with client.websocket_connect("/api/sessions/x/live", headers=phone) as ws, \
            pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 4403

    # Everywhere: every token issued before, this one too; the next sign-in works.
    assert client.post("/api/me/sign-out-everywhere", headers=laptop).status_code == 204
    assert client.get("/api/me", headers=laptop).status_code == 401
    assert me(client, sign_in(client, "client@example.org"))["role"] == "client"

    # An administrator ends someone else's sign-ins (audited); nobody else may.
    clinician_id = me(client, people["clinician"])["id"]
    url = f"/api/users/{clinician_id}/sign-out-everywhere"
    for who in ("other_clinician", "other_client"):
        assert client.post(url, headers=people[who]).status_code == 403
    assert client.get("/api/me", headers=people["clinician"]).status_code == 200
    assert client.post(url, headers=people["admin"]).status_code == 204
    assert client.get("/api/me", headers=people["clinician"]).status_code == 401
    assert client.post("/api/users/nobody/sign-out-everywhere", headers=people["admin"]
                       ).status_code == 404
    with client.app.state.db() as db:
        assert db.scalar(select(AuditEntry).where(AuditEntry.action == "revoke-tokens")
                         ).object_id == clinician_id


def test_a_running_session_is_shown_only_to_its_client_and_their_clinician(
        client: TestClient, people) -> None:
    """The WebSocket's one-query check (user, revocation, session and assignment at once)
    against each way of not being allowed."""
    r = client.post("/api/sessions", headers=people["client"], json={
        "source": "simulated", "scenario": "rest", "speed": 20, "practice_minutes": 2})
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    url = f"/api/sessions/{session_id}/live"
    signed_out = sign_in(client, "client@example.org")
    assert client.post("/api/auth/sign-out", headers=signed_out).status_code == 204
    expired = create_token(me(client, people["client"])["id"], DEVELOPMENT_SECRET, minutes=-1)
    before_everywhere = token_of(sign_in(client, "clinician@example.org"))
    assert client.post("/api/me/sign-out-everywhere",
                       headers={"Authorization": f"Bearer {before_everywhere}"}
                       ).status_code == 204
    clinician = sign_in(client, "clinician@example.org")

    for allowed, role in ((people["client"], "client"), (clinician, "observer")):
        with client.websocket_connect(url, headers=allowed) as ws:
            hello = ws.receive_json()
            assert (hello["kind"], hello["role"]) == ("hello", role)
    for refused in (token_of(people["other_client"]), token_of(people["other_clinician"]),
                    token_of(people["admin"]), token_of(signed_out), expired,
                    before_everywhere, "not a token"):
        with client.websocket_connect(url, headers=bearer(refused)) as ws, \
                pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403, refused
    with client.websocket_connect(f"/api/sessions/{session_id}/ingest",
                                  headers=clinician) as ws, \
            pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 4403  # only the client streams beats into their session
    client.post(f"/api/sessions/{session_id}/stop", headers=people["client"])
    with client.app.state.db() as db:
        observed = db.scalars(select(AuditEntry).where(AuditEntry.object_id == session_id)
                              ).all()
    assert [(e.action, e.actor_id) for e in observed] == [
        ("observe", me(client, clinician)["id"]), ("ingest", me(client, clinician)["id"])]


def test_password_guessing_is_slowed(client: TestClient) -> None:
    for _ in range(5):
        client.post("/api/auth/token", data={"username": "client@example.org",
                                             "password": "guess"})
    r = client.post("/api/auth/token", data={"username": "Client@example.org",
                                              "password": DEMO_PASSWORD})
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 300
    assert "wait" in r.json()["detail"]
    sign_in(client, "clinician@example.org")  # another person is not held up


def test_password_guessing_is_counted_across_workers(db_url: str, redis_url: str) -> None:
    """Two workers sharing Redis count one guesser's failures together; with Redis away a
    worker still counts its own."""
    import redis

    redis.Redis.from_url(redis_url).delete(
        f"{SIGN_IN_PREFIX}testclient:client@example.org")
    settings = Settings(database_url=db_url, redis_url=redis_url, demo_history_days=0)
    with TestClient(create_app(settings)) as first, \
            TestClient(create_app(settings.model_copy(update={"prepare_store": False}))) \
            as second:
        for worker in (first, second, first, second, first):
            assert worker.post("/api/auth/token", data={
                "username": "client@example.org", "password": "guess"}).status_code == 401
        r = second.post("/api/auth/token", data={"username": "client@example.org",
                                                  "password": DEMO_PASSWORD})
        assert r.status_code == 429
    away = RedisSignInLimiter("redis://127.0.0.1:1/0")
    for _ in range(MAX_FAILED_SIGN_INS):
        away.failed(("a@example.org", "x"), now=100.0)
    assert away.retry_after_s(("a@example.org", "x"), now=160.0) == 240.0


def test_settings_refuse_default_secrets_outside_development() -> None:
    with pytest.raises(ValidationError, match="HEARTSEASE_SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", secret_key="short")
    production = Settings(environment="production", secret_key="s" * 40)
    assert production.demo_data is False


def start(client: TestClient, headers: dict[str, str], **body: object) -> str:
    body = {"source": "remote", **body}
    r = client.post("/api/sessions", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_each_person_sees_only_what_is_theirs(client: TestClient, people) -> None:
    session_id = start(client, people["client"])
    other_id = start(client, people["other_client"])
    url = f"/api/sessions/{session_id}"
    assert client.get(url, headers=people["client"]).status_code == 200
    assert client.get(url, headers=people["clinician"]).status_code == 200  # assigned
    for who in ("other_client", "other_clinician", "admin"):  # 404: not even that it exists
        assert client.get(url, headers=people[who]).status_code == 404, who
        assert client.get(f"{url}/export", headers=people[who]).status_code == 404, who
    assert client.get(f"/api/sessions/{other_id}", headers=people["clinician"]).status_code \
        == 404
    listed = client.get("/api/sessions", headers=people["clinician"]).json()
    assert {s["id"] for s in listed} == {session_id}
    assert [c["email"] for c in client.get("/api/clients", headers=people["clinician"]
                                           ).json()] == ["client@example.org"]
    client_id = me(client, people["client"])["id"]
    assert client.get(f"/api/clients/{client_id}/trends",
                      headers=people["other_clinician"]).status_code == 404
    # Roles: only clinicians annotate, only the client rates, only admins manage people.
    assert client.post(f"{url}/annotations", headers=people["client"],
                       json={"text": "x"}).status_code == 403
    assert client.post(f"{url}/ratings", headers=people["clinician"],
                       json={"scale": "shame", "value": 3}).status_code == 403
    assert client.post("/api/users", headers=people["clinician"], json={
        "email": "x@example.org", "name": "x", "role": "admin"}).status_code == 403
    assert client.post("/api/sessions", headers=people["other_clinician"], json={
        "source": "remote", "client_id": client_id}).status_code == 403
    for sid in (session_id, other_id):
        client.post(f"/api/sessions/{sid}/stop", headers=people["admin"])  # 404, no effect
    client.post(f"{url}/stop", headers=people["client"])
    client.post(f"/api/sessions/{other_id}/stop", headers=people["other_client"])


def test_every_clinician_read_annotation_and_export_is_audited(client: TestClient,
                                                               people) -> None:
    session_id = start(client, people["client"])
    url = f"/api/sessions/{session_id}"
    client.get(url, headers=people["clinician"])
    client.post(f"{url}/annotations", headers=people["clinician"], json={"text": "grounding"})
    client.get(f"{url}/export?format=csv", headers=people["clinician"])
    client.get("/api/sessions", headers=people["clinician"])
    client.post(f"{url}/stop", headers=people["client"])
    factory = client.app.state.db
    clinician_id = me(client, people["clinician"])["id"]
    with factory() as db:
        actions = [a.action for a in db.scalars(select(AuditEntry).where(
            AuditEntry.actor_id == clinician_id).order_by(AuditEntry.id))]
        assert {"read-session", "annotate", "export", "list-sessions"} <= set(actions)
        entry = db.scalars(select(AuditEntry)).first()
        assert entry is not None
    with factory() as db, pytest.raises(Exception, match="append-only"), db.begin():
        db.execute(text("UPDATE audit_log SET action = 'nothing'"))
