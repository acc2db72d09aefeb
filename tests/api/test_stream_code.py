"""The one-time streaming code: the breathing page shows it, ``heartsease breathe --server
URL --code CODE`` exchanges it; single-use, short-lived, for that person's practice only,
and audit-logged."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from heartsease.api.demo import DEMO_PASSWORD
from heartsease.store.models import AuditEntry, StreamCode, utcnow
from tests.conftest import free_port, serve


def redeem(client: TestClient, code: str) -> httpx.Response:
    return client.post("/api/auth/stream-code", json={"code": code})


def test_a_code_is_used_once_and_streams_only_its_persons_practice(client: TestClient,
                                                                   people) -> None:
    issued = client.post("/api/me/stream-code", headers=people["client"])
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    assert len(code) == 14 and code.count("-") == 2
    r = redeem(client, code.lower().replace("-", " "))  # as a person might type it
    assert r.status_code == 200, r.text
    streamer = {"Authorization": f"Bearer {r.json()['access_token']}"}
    again = redeem(client, code)
    assert again.status_code == 401 and "used already" in again.json()["detail"]

    started = client.post("/api/sessions", headers=streamer, json={"source": "remote"})
    assert started.status_code == 201, started.text
    session_id = started.json()["id"]
    with client.websocket_connect(f"/api/sessions/{session_id}/ingest",
                                  headers=streamer) as ws:
        ws.send_json({"seq": 1, "arrival_s": 5.0, "hr_bpm": 60, "rr_ms": [1000.0]})
        assert ws.receive_json() == {"kind": "ack", "seq": 1}
    # Nothing else: not the person's data, not a demo heart, not their account.
    for method, path in (("GET", "/api/me"), ("GET", "/api/sessions"),
                         ("GET", f"/api/sessions/{session_id}"), ("GET", "/api/me/export"),
                         ("DELETE", "/api/me"), ("POST", "/api/me/stream-code"),
                         ("POST", "/api/me/sign-out-everywhere")):
        refused = client.request(method, path, headers=streamer)
        assert refused.status_code == 403, (method, path, refused.text)
        assert "stream their practice, nothing more" in refused.json()["detail"]
    simulated = client.post("/api/sessions", headers=streamer, json={"source": "simulated"})
    assert simulated.status_code == 403
    client.post(f"/api/sessions/{session_id}/stop", headers=people["client"])
    other = client.get("/api/sessions", headers=people["other_client"]).json()
    assert session_id not in {s["id"] for s in other}
    with client.app.state.db() as db:
        actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if "stream-code" in a] == ["issue-stream-code",
                                                          "redeem-stream-code"]


def test_a_code_lives_minutes_only_clients_get_one_and_no_other_code_works(
        client: TestClient, people) -> None:
    code = client.post("/api/me/stream-code", headers=people["client"]).json()["code"]
    with client.app.state.db() as db:
        row = db.scalars(select(StreamCode)).one()
        assert row.code_hash != code and code not in row.code_hash  # only its hash is kept
        lifetime = row.expires_at - row.created_at
    assert timedelta(minutes=1) <= lifetime <= timedelta(minutes=10)
    for role in ("clinician", "admin"):
        assert client.post("/api/me/stream-code", headers=people[role]).status_code == 403
    with client.app.state.db() as db, db.begin():
        db.execute(update(StreamCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert redeem(client, code).status_code == 401  # expired
    assert redeem(client, "ABCD-EFGH-JKMN").status_code == 401
    assert redeem(client, "").status_code == 422


def test_the_streamer_started_with_a_code_streams_without_a_password(tmp_path: Path) -> None:
    port = free_port()
    server = serve(f"sqlite:///{tmp_path / 'heartsease.db'}", port)
    base = f"http://127.0.0.1:{port}"
    try:
        signed_in = httpx.post(f"{base}/api/auth/token", data={
            "username": "client@example.org", "password": DEMO_PASSWORD}).json()
        headers = {"Authorization": f"Bearer {signed_in['access_token']}"}
        code = httpx.post(f"{base}/api/me/stream-code", headers=headers).json()["code"]
        recording = tmp_path / "beats.txt"
        recording.write_text("800\n" * 40)
        command = [sys.executable, "-m", "heartsease.cli", "breathe", "--file", str(recording),
                   "--speed", "100", "--server", base, "--code", code]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Done: 40 heartbeats are stored" in done.stdout
        # Quiet, as the breathing page is: the cues, no state words, one closing.
        assert "You gave yourself this time. What did you notice?" in done.stdout
        assert "your body seems" not in done.stdout
        sessions = httpx.get(f"{base}/api/sessions", headers=headers).json()
        assert [s["source"] for s in sessions] == ["remote"]
        again = subprocess.run(command, capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL)
        assert again.returncode != 0
        assert "used already" in again.stdout + again.stderr
    finally:
        server.terminate()
        server.wait()
