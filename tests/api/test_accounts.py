"""People and their accounts (issue 22, items 3, 8 and 15): passwords set only by their
owner through single-use links, changing and forgetting one's password, deactivating,
unassigning, who can see a client's practice, the audit log's readers, and production
without the demo people."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from heartsease.api.app import create_app
from heartsease.api.demo import DemoAccountsInProductionError
from heartsease.api.limits import MAX_FAILED_SIGN_INS
from heartsease.api.settings import Settings
from heartsease.store.models import AuditEntry, BreathingSession, PasswordLink, SessionStatus
from tests.api.conftest import add_person, me, redeem, sign_in
from tests.conftest import free_port

STRONG_SECRET = "x" * 40


def _admin(client: TestClient) -> dict[str, str]:
    return sign_in(client, "admin@example.org")


def _id_of(client: TestClient, admin: dict[str, str], email: str) -> str:
    return next(u["id"] for u in client.get("/api/users", headers=admin).json()
                if u["email"] == email)


def _actions(client: TestClient, action: str) -> list[AuditEntry]:
    with client.app.state.db() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_new_person_sets_their_own_password_by_a_single_use_link(client: TestClient
                                                                   ) -> None:
    """Before: the administrator chose the person's password (and so held it)."""
    admin = _admin(client)
    assert client.post("/api/users", headers=admin, json={
        "email": "kim@example.org", "name": "Kim", "role": "client",
        "password": "the admin's choice"}).status_code == 422
    r = client.post("/api/users", headers=admin, json={
        "email": "kim@example.org", "name": "Kim", "role": "client"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["mailed"] is False and made["link"].startswith("/set-password#")
    assert made["user"]["password_set"] is False and "pace_bpm" not in made["user"]
    token = made["link"].split("#", 1)[1]
    with client.app.state.db() as db:  # only a hash of it is kept
        assert token not in {link.token_sha256 for link in db.scalars(select(PasswordLink))}
    for guess in ("", "the admin's choice"):
        assert client.post("/api/auth/token", data={"username": "kim@example.org",
                                                    "password": guess}).status_code in (401, 422)
    assert client.post("/api/auth/set-password", json={"token": token, "password": "short"}
                       ).status_code == 422
    redeem(client, made["link"], "Kim's own password")
    assert me(client, sign_in(client, "kim@example.org", "Kim's own password"))["name"] == "Kim"
    again = client.post("/api/auth/set-password", json={"token": token, "password": "x" * 12})
    assert again.status_code == 400 and "used already" in again.json()["detail"]
    assert [e.actor_id for e in _actions(client, "set-password")] == [made["user"]["id"]]


def test_a_reset_link_expires_and_replaces_the_last_one(client: TestClient) -> None:
    admin = _admin(client)
    clinician_id = _id_of(client, admin, "clinician@example.org")
    url = f"/api/users/{clinician_id}/password-link"
    first, second = (client.post(url, headers=admin).json()["link"] for _ in range(2))
    assert client.post("/api/auth/set-password", json={
        "token": first.split("#")[1], "password": "a new password"}).status_code == 400
    with client.app.state.db() as db, db.begin():
        db.execute(update(PasswordLink).values(expires_at=datetime.now(UTC) - timedelta(1)))
    assert client.post("/api/auth/set-password", json={
        "token": second.split("#")[1], "password": "a new password"}).status_code == 400
    sign_in(client, "clinician@example.org")  # the old password still works
    assert [e.object_id for e in _actions(client, "password-link")] == [clinician_id] * 2


def test_people_change_their_own_password_and_their_other_sign_ins_end(client: TestClient
                                                                       ) -> None:
    phone, laptop = sign_in(client, "client@example.org"), sign_in(client, "client@example.org")
    wrong = client.post("/api/me/password", headers=phone, json={
        "old_password": "not it", "new_password": "my new password"})
    assert wrong.status_code == 403
    r = client.post("/api/me/password", headers=phone, json={
        "old_password": "heartsease-demo", "new_password": "my new password"})
    assert r.status_code == 200, r.text
    assert client.get("/api/me", headers=laptop).status_code == 401
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert me(client, fresh)["email"] == "client@example.org"
    assert client.post("/api/auth/token", data={"username": "client@example.org",
                                                "password": "heartsease-demo"}
                       ).status_code == 401
    sign_in(client, "client@example.org", "my new password")


def test_the_current_password_is_guessed_no_faster_than_at_sign_in(client: TestClient
                                                                    ) -> None:
    """A stolen sign-in must not become a way to guess the password (and so keep the
    account after a sign-out everywhere)."""
    sam = sign_in(client, "client@example.org")
    codes = [client.post("/api/me/password", headers=sam, json={
        "old_password": f"guess {i}", "new_password": "my new password"}).status_code
        for i in range(MAX_FAILED_SIGN_INS + 1)]
    assert codes == [403] * MAX_FAILED_SIGN_INS + [429]
    assert client.post("/api/me/password", headers=sam, json={
        "old_password": "heartsease-demo", "new_password": "my new password"}
                       ).status_code == 429
    assert client.post("/api/auth/token", data={"username": "client@example.org",
                                                "password": "heartsease-demo"}
                       ).status_code == 429  # one budget with signing in


def test_a_forgotten_password_without_mail_asks_an_administrator(client: TestClient) -> None:
    """The answer is the same whether or not the email has an account."""
    answers = [client.post("/api/auth/forgot-password", json={"email": email})
               for email in ("client@example.org", "nobody@example.org")]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["mailed"] is False and "administrator" in answers[0].json()["detail"]
    requests = _actions(client, "password-help")
    assert len(requests) == 1 and requests[0].detail == "asks an administrator"
    # Asking again and again for one email (a flooded inbox, with mail) is slowed.
    answers = [client.post("/api/auth/forgot-password", json={"email": "client@example.org"})
               for _ in range(MAX_FAILED_SIGN_INS)]
    assert [a.status_code for a in answers] == [202] * (MAX_FAILED_SIGN_INS - 1) + [429]


class _Inbox:
    """An SMTP server on loopback that keeps what it is sent."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Any:
    from aiosmtpd.controller import Controller

    port = free_port()
    box = _Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def test_links_go_by_mail_when_smtp_is_configured(tmp_path, inbox) -> None:
    box, port = inbox
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", demo_history_days=0,
                        smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                        public_url="https://care.example.org/")
    with TestClient(create_app(settings)) as client:
        r = client.post("/api/users", headers=_admin(client), json={
            "email": "kim@example.org", "name": "Kim", "role": "clinician"})
        assert r.status_code == 201 and r.json()["mailed"] is True and r.json()["link"] is None
        welcome = box.messages[-1]
        assert welcome["To"] == "kim@example.org"
        link = next(line for line in welcome.get_payload(decode=True).decode().splitlines()
                    if line.startswith("https://care.example.org/set-password#"))
        redeem(client, link, "Kim's own password")
        for email in ("kim@example.org", "nobody@example.org"):
            assert client.post("/api/auth/forgot-password", json={"email": email}).json()[
                "mailed"] is True
        assert [m["To"] for m in box.messages] == ["kim@example.org", "kim@example.org"]
        reset = box.messages[-1].get_payload(decode=True).decode()
        assert "If it was not you" in reset


def _start_simulated(client: TestClient, who: dict[str, str]) -> str:
    r = client.post("/api/sessions", headers=who, json={
        "source": "simulated", "scenario": "rest", "speed": 1})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_a_deactivated_person_cannot_sign_in_and_their_sessions_stop(client: TestClient
                                                                     ) -> None:
    """Before: DELETE /api/users/{id} was 404 and signed-out people could sign in again."""
    admin, sam = _admin(client), sign_in(client, "client@example.org")
    sam_id = me(client, sam)["id"]
    session_id = _start_simulated(client, sam)
    assert client.app.state.sessions.get(session_id) is not None
    assert client.delete(f"/api/users/{sam_id}", headers=sign_in(
        client, "clinician@example.org")).status_code == 403
    assert client.delete(f"/api/users/{sam_id}", headers=admin).status_code == 204
    assert client.app.state.sessions.get(session_id) is None
    with client.app.state.db() as db:
        assert db.get(BreathingSession, session_id).status is SessionStatus.STOPPED
    assert client.get("/api/me", headers=sam).status_code == 401
    assert client.post("/api/auth/token", data={"username": "client@example.org",
                                                "password": "heartsease-demo"}
                       ).status_code == 401
    entry = _actions(client, "deactivate")[0]
    assert (entry.actor_id, entry.object_id) == (me(client, admin)["id"], sam_id)
    listed = {u["id"]: u for u in client.get("/api/users", headers=admin).json()}
    assert listed[sam_id]["deactivated_at"] is not None
    assert client.delete(f"/api/users/{me(client, admin)['id']}", headers=admin
                         ).status_code == 409
    assert client.post(f"/api/users/{sam_id}/password-link", headers=admin).status_code == 409


def test_unassigning_ends_a_clinicians_view_and_is_audited(client: TestClient) -> None:
    """Before: DELETE /api/assignments was 405."""
    admin, rivera = _admin(client), sign_in(client, "clinician@example.org")
    pair = {"clinician_id": me(client, rivera)["id"],
            "client_id": _id_of(client, admin, "client@example.org")}
    trends = f"/api/clients/{pair['client_id']}/trends"
    assert client.get(trends, headers=rivera).status_code == 200
    assert client.get("/api/assignments", headers=admin).json() == [
        {**pair, "clinician_name": "Dr. Rivera", "client_name": "Sam"}]
    assert client.request("DELETE", "/api/assignments", headers=rivera, json=pair
                          ).status_code == 403
    assert client.request("DELETE", "/api/assignments", headers=admin, json=pair
                          ).status_code == 204
    assert client.get(trends, headers=rivera).status_code == 404
    assert client.get("/api/clients", headers=rivera).json() == []
    assert client.request("DELETE", "/api/assignments", headers=admin, json=pair
                          ).status_code == 404
    entry = _actions(client, "unassign")[0]
    assert (entry.actor_id, entry.subject_id, entry.detail) == (
        me(client, admin)["id"], pair["client_id"], pair["clinician_id"])


def test_a_client_sees_who_can_see_their_practice_and_who_assigned_them(client: TestClient
                                                                        ) -> None:
    admin, sam = _admin(client), sign_in(client, "client@example.org")
    assert client.get("/api/me/clinicians", headers=sam).json() == [
        {"name": "Dr. Rivera", "role": "clinician"}]
    lee_id = add_person(client, admin, "lee@example.org", "clinician", "Lee's own password")
    assert client.post("/api/assignments", headers=admin, json={
        "clinician_id": lee_id, "client_id": me(client, sam)["id"]}).status_code == 201
    assert [c["name"] for c in client.get("/api/me/clinicians", headers=sam).json()] == [
        "Dr. Rivera", "lee"]
    record = client.get("/api/me/audit", headers=sam).json()["entries"]
    assert (record[0]["action"], record[0]["actor_name"], record[0]["detail"]) == (
        "assign", "Alex (admin)", lee_id)


def test_administrators_see_no_health_data(client: TestClient) -> None:
    """Before: /api/users gave each client's pace_bpm."""
    people = client.get("/api/users", headers=_admin(client)).json()
    assert {"email", "role", "deactivated_at"} <= set(people[0])
    assert all("pace_bpm" not in p and "baselines" not in p for p in people)


def test_the_audit_log_records_sign_ins_refusals_and_client_lists(client: TestClient) -> None:
    """Before: none of these was logged, and nobody could read the log."""
    admin, sam = _admin(client), sign_in(client, "client@example.org")
    rivera = sign_in(client, "clinician@example.org")
    sam_id = me(client, sam)["id"]
    add_person(client, admin, "lee@example.org", "clinician", "Lee's own password")
    lee = sign_in(client, "lee@example.org", "Lee's own password")
    session_id = client.post("/api/sessions", headers=sam, json={"source": "remote"}).json()["id"]
    assert client.get(f"/api/sessions/{session_id}", headers=lee).status_code == 404
    assert client.get(f"/api/clients/{sam_id}/trends", headers=admin).status_code == 404
    assert client.get("/api/sessions", headers={"Authorization": "Bearer forged"}
                      ).status_code == 401
    assert client.get("/api/sessions").status_code == 401  # nobody's: not a line each
    assert client.get("/api/clients", headers=rivera).status_code == 200

    assert client.get("/api/audit", headers=rivera).status_code == 403
    denied = client.get("/api/audit", headers=admin, params={"action": "denied"}).json()
    assert [(e["actor_name"], e["subject_name"], e["detail"]) for e in denied["entries"]] == [
        (None, None, "GET 401"), ("Alex (admin)", "Sam", "GET 404"), ("lee", "Sam", "GET 404")]
    signed_in = client.get("/api/audit", headers=admin, params={
        "action": "sign-in", "actor_id": sam_id}).json()["entries"]
    assert len(signed_in) == 1
    lists = client.get("/api/audit", headers=admin, params={"action": "list-clients"}).json()
    assert lists["entries"][0]["actor_name"] == "Dr. Rivera"

    # Paging: newest first, each page older than the last, until there is no more.
    seen, before = [], None
    while True:
        page = client.get("/api/audit", headers=admin, params={
            "limit": 3, **({"before_id": before} if before else {})}).json()
        seen += [e["id"] for e in page["entries"]]
        if (before := page["next_before_id"]) is None:
            break
    everything = client.get("/api/audit", headers=admin, params={"limit": 200}).json()
    assert seen == [e["id"] for e in everything["entries"]] == sorted(seen, reverse=True)

    # Sam reads their own record: who tried to read their data, and nobody else's lines.
    record = client.get("/api/me/audit", headers=sam).json()["entries"]
    assert {e["subject_id"] for e in record} == {sam_id}
    assert ("lee", "denied") in {(e["actor_name"], e["action"]) for e in record}


def test_erasure_stops_the_running_session_first_and_logs_nothing_about_the_person(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """Before: the erased client's session ran on in memory, streaming, unstoppable."""
    sam = sign_in(client, "client@example.org")
    sam_id = me(client, sam)["id"]
    session_id = _start_simulated(client, sam)
    with caplog.at_level(logging.DEBUG):
        assert client.delete("/api/me", headers=sam).status_code == 204
        assert client.app.state.sessions.get(session_id) is None
    with client.app.state.db() as db:
        assert db.get(BreathingSession, session_id) is None
    said = "\n".join(r.getMessage() for r in caplog.records)
    for trace in (sam_id, session_id, "client@example.org", "Sam"):
        assert trace not in said


def test_production_refuses_to_start_while_the_demo_people_exist(tmp_path) -> None:
    """Before: a store started once in development kept admin@example.org and its public
    password in production, without a word."""
    from typer.testing import CliRunner

    from heartsease.cli import app as cli

    url = f"sqlite:///{tmp_path / 'h.db'}"
    with TestClient(create_app(Settings(database_url=url, demo_history_days=0))):
        pass  # development made the demo people
    production = Settings(database_url=url, environment="production", secret_key=STRONG_SECRET)
    with pytest.raises(DemoAccountsInProductionError, match="heartsease admin remove-demo"), \
            TestClient(create_app(production)):
        pass
    runner = CliRunner()
    refused = runner.invoke(cli, ["serve"], env={
        "HEARTSEASE_DATABASE_URL": url, "HEARTSEASE_ENVIRONMENT": "production",
        "HEARTSEASE_SECRET_KEY": STRONG_SECRET})
    assert refused.exit_code == 2 and "remove-demo" in refused.output

    removed = runner.invoke(cli, ["admin", "remove-demo", "--database-url", url])
    assert removed.exit_code == 0, removed.output
    assert "admin@example.org" in removed.output
    made = runner.invoke(cli, ["admin", "create", "--email", "Root@Example.org", "--name",
                               "Robin", "--database-url", url],
                         input="the first admin's password\nthe first admin's password\n")
    assert made.exit_code == 0, made.output
    assert "the first admin's password" not in made.output  # typed hidden
    with TestClient(create_app(production)) as client:
        robin = sign_in(client, "root@example.org", "the first admin's password")
        assert [u["email"] for u in client.get("/api/users", headers=robin).json()] == [
            "root@example.org"]
        assert client.post("/api/auth/token", data={"username": "admin@example.org",
                                                    "password": "heartsease-demo"}
                           ).status_code == 401
    mismatch = runner.invoke(cli, ["admin", "create", "--email", "b@example.org", "--name",
                                   "B", "--database-url", url],
                             input="one long password\nanother long one\n"
                                   "short\nshort\n")
    assert mismatch.exit_code == 2 and "at least 10" in mismatch.output


def test_the_api_documentation_loads_nothing_from_elsewhere(client: TestClient) -> None:
    """Before: /docs loaded Swagger UI from a CDN (floating version, no integrity check) and
    /redoc web fonts."""
    import re

    for page in ("/docs", "/redoc"):
        r = client.get(page)
        html = r.text
        # ReDoc asks for its maker's logo from a CDN whatever its options: the policy stops it.
        assert "img-src 'self' data:;" in r.headers["content-security-policy"]
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets and all(a.startswith("/") or a == "data:," for a in assets), assets
        for asset in (a for a in assets if a.startswith("/")):
            assert client.get(asset).status_code == 200, asset
        assert "<script>" not in html  # no inline script, for the pages' CSP
