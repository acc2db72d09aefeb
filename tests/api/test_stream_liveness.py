"""Streamed sessions whose streamer goes quiet, or never starts, end as interrupted on one
worker without Redis (the sweep that closes a dead worker's sessions needs several)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from heartsease.api import fanout, liveness
from heartsease.store.models import BreathingSession


def status_of(client: TestClient, headers: dict[str, str], session_id: str) -> str:
    return str(client.get(f"/api/sessions/{session_id}", headers=headers).json()["status"])


def test_a_stream_that_stops_ends_its_session_as_interrupted(
        client: TestClient, people, monkeypatch: pytest.MonkeyPatch) -> None:
    """It stayed active for nine minutes and more, and every new session was refused."""
    # Scaled down from 45 s of silence checked every 5 s, so that the test takes seconds.
    monkeypatch.setattr(liveness, "STREAM_SILENT_S", 1.0)
    monkeypatch.setattr(liveness, "ALIVE_EVERY_S", 0.2)
    monkeypatch.setattr(fanout, "ALIVE_EVERY_S", 0.2)
    r = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    session_id = r.json()["id"]
    url = f"/api/sessions/{session_id}/ingest"
    with client.websocket_connect(url, headers=people["client"]) as ws:
        for seq in range(1, 6):
            ws.send_json({"seq": seq, "arrival_s": 0.8 * seq, "hr_bpm": 75,
                          "rr_ms": [800.0], "beat_times_s": [0.8 * seq]})
            assert ws.receive_json() == {"kind": "ack", "seq": seq}
    deadline = time.monotonic() + 15
    while status_of(client, people["client"], session_id) == "active":
        assert time.monotonic() < deadline, "the session is still active"
        time.sleep(0.2)
    detail = client.get(f"/api/sessions/{session_id}", headers=people["client"]).json()
    assert detail["status"] == "interrupted" and detail["n_beats"] == 5
    again = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    assert again.status_code == 201


def test_a_streamed_session_that_never_starts_ends_after_a_while(
        client: TestClient, people) -> None:
    never = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    fresh = client.post("/api/sessions", headers=people["other_client"],
                        json={"source": "remote"})
    manager = client.app.state.sessions
    with client.app.state.db() as db, db.begin():
        row = db.get(BreathingSession, never.json()["id"])
        row.started_at = row.started_at - timedelta(seconds=liveness.NEVER_STARTED_S + 1)
    manager.liveness.end_never_started()
    assert status_of(client, people["client"], never.json()["id"]) == "interrupted"
    assert status_of(client, people["other_client"], fresh.json()["id"]) == "active"
