"""A client's data rights: everything in their export, notes shown wherever the session is,
valid JSON whatever was stored, erasure that leaves no bytes behind, and deleting one
session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, event, func, or_, select, text
from sqlalchemy.exc import StatementError

from heartsease.simulator.scenarios import simulate
from heartsease.store.models import (
    Annotation,
    AuditEntry,
    Base,
    Beat,
    BreathingSession,
    SelfRating,
    SessionEvent,
)
from heartsease.store.repository import beat_row, insert_beats, insert_events
from tests.api.conftest import me, redeem, sign_in

pytestmark = pytest.mark.both_databases  # what each store keeps and erases


def strict_json(raw: bytes | str) -> Any:
    """JSON as the standard has it: ``NaN`` and ``Infinity`` literals are refused."""
    def refuse(literal: str) -> None:
        raise ValueError(f"{literal} is not JSON")
    return json.loads(raw, parse_constant=refuse)


def upload(client: TestClient, headers: dict[str, str], seed: int = 1) -> str:
    rr = "\n".join(f"{x:.1f}" for x in simulate("rest", 300, seed=seed).rr_ms)
    r = client.post("/api/sessions/uploads", headers=headers,
                    files={"file": ("rest.txt", rr.encode(), "text/plain")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def referring(target: str) -> list[tuple[Table, list[Any]]]:
    """Each table with a foreign key to ``target`` ("users.id", "sessions.id"), as the models
    declare them: a table added later is held to the same rule."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [fk.parent for fk in table.foreign_keys
                   if fk.target_fullname == target and table.name != target.split(".")[0]]
        if columns:
            found.append((table, columns))
    return found


def test_the_export_holds_every_table_that_names_the_client(client: TestClient,
                                                            people) -> None:
    session_id = upload(client, people["client"])
    for value in (7, 3):
        assert client.post(f"/api/sessions/{session_id}/ratings", headers=people["client"],
                           json={"scale": "inner-critic", "value": value}).status_code == 201
    assert client.post(f"/api/sessions/{session_id}/annotations",
                       headers=people["clinician"], json={"text": "steady"}).status_code == 201
    client.get(f"/api/sessions/{session_id}", headers=people["clinician"])  # an audit line
    client_id = me(client, people["client"])["id"]
    export = client.get("/api/me/export", headers=people["client"])
    assert export.status_code == 200
    body = strict_json(export.content)
    assert body["you"]["email"] == "client@example.org" and "password_hash" not in body["you"]
    [session] = body["sessions"]
    assert [r["value"] for r in session["self_ratings"]] == [7, 3]  # 0 before
    assert [a["text"] for a in session["annotations"]] == ["steady"]
    with client.app.state.db() as db:
        for table, columns in referring("users.id"):
            stored = db.scalar(select(func.count()).select_from(table).where(
                or_(*(c == client_id for c in columns))))
            assert len(body[table.name]) == stored, table.name
        for table, columns in referring("sessions.id"):
            stored = db.scalar(select(func.count()).select_from(table).where(
                or_(*(c == session_id for c in columns))))
            assert len(session[table.name]) == stored, table.name
        about = db.scalar(select(func.count()).select_from(AuditEntry).where(
            or_(AuditEntry.subject_id == client_id, AuditEntry.actor_id == client_id)))
    assert len(body["audit_log"]) == about  # the clinician's read, the export itself, ...
    assert {"read-session", "export-all"} <= {a["action"] for a in body["audit_log"]}
    assert body["assignments"] and session["beats"] and session["session_events"]
    assert all(n > 0 for n in (len(body["sessions"]), len(session["self_ratings"])))


def test_a_note_posted_after_the_session_ended_is_shown_wherever_it_is(
        client: TestClient, people) -> None:
    session_id = upload(client, people["client"])
    r = client.post(f"/api/sessions/{session_id}/annotations", headers=people["clinician"],
                    json={"text": "talked about the week after", "t_s": 60.0})
    assert r.status_code == 201 and r.json()["live"] is False
    url = f"/api/sessions/{session_id}"
    for who in ("client", "clinician"):
        detail = client.get(url, headers=people[who]).json()
        assert [(a["text"], a["t_s"], a["author"]) for a in detail["annotations"]] == [
            ("talked about the week after", 60.0, "Dr. Rivera")], who
        if who == "clinician":  # the client's own report is gentle: their words and practice
            assert "talked about the week after" in client.get(
                f"{url}/report?format=html", headers=people[who]).text
        exported = strict_json(client.get(f"{url}/export?format=json",
                                          headers=people[who]).content)
        assert [a["text"] for a in exported["annotations"]] == ["talked about the week after"]
    assert client.get(url, headers=people["other_clinician"]).status_code == 404


def test_non_finite_numbers_are_refused_at_the_store(client: TestClient, people) -> None:
    session_id = upload(client, people["client"])
    factory = client.app.state.db
    nan, inf = float("nan"), float("inf")
    def n_events() -> int:
        with factory() as db:
            return db.scalar(select(func.count()).select_from(SessionEvent).where(
                SessionEvent.session_id == session_id))

    events_before = n_events()
    with factory() as db, db.begin():
        last = db.scalar(select(func.max(Beat.seq)).where(Beat.session_id == session_id))
        insert_beats(db, [beat_row(session_id, last + 1, nan, 800.0, 1.0),
                          beat_row(session_id, last + 2, 1.0, inf, 1.0),
                          beat_row(session_id, last + 3, 2.0, 810.0, 2.0)])
        insert_events(db, [{"session_id": session_id, "t_s": nan, "kind": "cue", "data": {}}])
    with factory() as db:
        seqs = db.scalars(select(Beat.seq).where(Beat.session_id == session_id,
                                                 Beat.seq > last)).all()
        assert seqs == [last + 3]  # the finite one kept, its neighbours refused
    assert n_events() == events_before
    for row in (Annotation(session_id=session_id, t_s=nan, text="x"),
                SelfRating(session_id=session_id, t_s=inf, scale="inner-critic", value=5)):
        with factory() as db, pytest.raises(StatementError, match="not a number"), \
                db.begin():
            db.add(row)
    # Whatever a store written before this rule holds, the exports stay valid JSON.
    with factory() as db, db.begin():
        db.execute(text("INSERT INTO beats (session_id, seq, t_s, rr_ms, arrival_s) VALUES "
                        "(:s, :q, :t, 800.0, 0.0)"), {"s": session_id, "q": last + 9, "t": inf})
        db.execute(text("INSERT INTO session_events (session_id, t_s, kind, data) VALUES "
                        "(:s, :t, 'cue', :d)"), {"s": session_id, "t": -inf, "d": json.dumps(
                            {"kind": "cue", "t_s": 1.0, "cue_kind": "guidance", "text": "x",
                             "step": None})})
    everything = strict_json(client.get("/api/me/export", headers=people["client"]).content)
    assert everything["sessions"][0]["beats"][-1]["t_s"] is None
    strict_json(client.get(f"/api/sessions/{session_id}/export?format=json",
                           headers=people["client"]).content)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_bytes_of_an_erased_client_remain_in_the_files(client: TestClient, people,
                                                          db_url: str) -> None:
    # As on a SQLite built with secure_delete off by default (Python.org's, macOS's);
    # Debian's is built with it on.
    engine = client.app.state.db.kw["bind"]
    event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA secure_delete=OFF"),
                 insert=True)
    engine.dispose()
    name, email = "Quintessa Zebulon-Marsh", "quintessa.zm@example.org"
    r = client.post("/api/users", headers=people["admin"], json={
        "email": email, "name": name, "role": "client"})
    assert r.status_code == 201, r.text
    redeem(client, r.json()["link"], "a long enough password")
    headers = sign_in(client, email, "a long enough password")
    session_ids = [upload(client, headers, seed) for seed in (1, 2)]
    client.post(f"/api/sessions/{session_ids[0]}/ratings", headers=headers,
                json={"scale": "inner-critic", "value": 6})
    client.get(f"/api/sessions/{session_ids[0]}/report", headers=headers)  # audited
    client.get("/api/me/export", headers=headers)
    with client.app.state.db() as db:  # as after a while: some in the file, some in the log
        db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    client.get("/api/me/export", headers=headers)
    files = sorted(Path(db_url.removeprefix("sqlite:///")).parent.glob("heartsease.db*"))
    secrets = [s.encode() for s in (name, email, *session_ids)]
    assert all(any(s in f.read_bytes() for f in files) for s in secrets)  # there before
    assert client.delete("/api/me", headers=headers).status_code == 204
    for f in files:
        content = f.read_bytes()
        assert not [s for s in secrets if s in content], f.name
    with client.app.state.db() as db:  # the audit log keeps what happened, to whom
        actions = db.scalars(select(AuditEntry.action).where(
            AuditEntry.object_id == "erased")).all()
        assert "report" in actions
    assert client.get("/api/me", headers=people["client"]).status_code == 200


def test_a_client_deletes_one_session(client: TestClient, people) -> None:
    kept, gone = upload(client, people["client"], 1), upload(client, people["client"], 2)
    client.post(f"/api/sessions/{gone}/ratings", headers=people["client"],
                json={"scale": "inner-critic", "value": 4})
    client.post(f"/api/sessions/{gone}/annotations", headers=people["clinician"],
                json={"text": "a note"})
    url = f"/api/sessions/{gone}"
    assert client.delete(url, headers=people["other_client"]).status_code == 404
    assert client.delete(url, headers=people["admin"]).status_code == 404
    assert client.delete(url, headers=people["clinician"]).status_code == 403
    assert client.delete(url, headers=people["client"]).status_code == 204
    assert client.get(url, headers=people["client"]).status_code == 404
    assert client.delete(url, headers=people["client"]).status_code == 404
    with client.app.state.db() as db:
        for table in (Beat, SessionEvent, Annotation, SelfRating):
            assert db.scalar(select(func.count()).select_from(table).where(
                table.session_id == gone)) == 0, table.__tablename__
        assert db.scalar(select(func.count()).select_from(Beat).where(
            Beat.session_id == kept)) > 200
        assert db.scalars(select(AuditEntry.action).where(
            AuditEntry.action == "delete-session")).all() == ["delete-session"]
        assert not db.scalars(select(AuditEntry).where(AuditEntry.object_id == gone)).all()
    assert [s["id"] for s in client.get("/api/sessions", headers=people["client"]).json()] \
        == [kept]
    for change in ("object_id = 'erased', detail = 'x'",  # only the id may change,
                   "object_id = 'elsewhere'"):  # only to 'erased'
        with client.app.state.db() as db, pytest.raises(Exception, match="append-only"), \
                db.begin():
            db.execute(text(f"UPDATE audit_log SET {change} WHERE object_type = 'session'"))
    with client.app.state.db() as db, pytest.raises(Exception, match="append-only"), \
            db.begin():  # and only a session's
        db.execute(text("UPDATE audit_log SET object_id = 'erased' "
                        "WHERE object_type <> 'session'"))


def test_deleting_a_running_session_stops_it_first(client: TestClient, people) -> None:
    r = client.post("/api/sessions", headers=people["client"], json={
        "source": "simulated", "scenario": "rest", "speed": 20, "practice_minutes": 1})
    session_id = r.json()["id"]
    with client.websocket_connect(f"/api/sessions/{session_id}/live",
                                  headers=people["client"]) as ws:
        ws.receive_json()
        while ws.receive_json()["kind"] != "beat":
            pass
        assert client.delete(f"/api/sessions/{session_id}",
                             headers=people["client"]).status_code == 204
        while ws.receive_json()["kind"] != "closed":
            pass
    assert client.app.state.sessions.get(session_id) is None
    with client.app.state.db() as db:
        assert db.get(BreathingSession, session_id) is None
        assert db.scalar(select(func.count()).select_from(Beat).where(
            Beat.session_id == session_id)) == 0
