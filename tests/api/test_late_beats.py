"""Beats a streamer kept (a page reloaded, a network lost, a lid closed) reach their session
after it ended: stored at their own times, with their gaps, without reopening it."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from heartsease.store.models import Beat, BreathingSession, SessionEvent

pytestmark = pytest.mark.both_databases  # writes into an ended session, in each store


def message(seq: int, arrival_s: float) -> dict[str, object]:
    return {"seq": seq, "arrival_s": arrival_s, "hr_bpm": 60, "rr_ms": [1000.0],
            "beat_times_s": [arrival_s - 0.01], "contact": "supported, detected"}


def test_beats_kept_past_the_sessions_end_are_stored_without_reopening_it(
        client: TestClient, people) -> None:
    r = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    session_id = r.json()["id"]
    url = f"/api/sessions/{session_id}/ingest"
    t0 = time.monotonic() - 1000.0  # the streamer's clock: its own
    with client.websocket_connect(url, headers=people["client"]) as ws:
        for seq in (1, 2, 3):
            ws.send_json(message(seq, t0 + seq))
            assert ws.receive_json()["seq"] == seq
            time.sleep(0.2)
    stopped = client.post(f"/api/sessions/{session_id}/stop", headers=people["client"]).json()
    assert stopped["status"] == "stopped"
    with client.app.state.db() as db:
        third = db.scalars(select(Beat.t_s).where(Beat.session_id == session_id,
                                                  Beat.seq == 3)).one()
    # The link dropped after beat 3; beats 4 and 5 came 10 s later and waited at the client.
    with client.websocket_connect(url, headers=people["client"]) as ws:
        ws.send_json({"gap_start_s": t0 + 3.5, "gap_end_s": t0 + 12.5, "reason": "link lost"})
        for seq in (4, 5):
            ws.send_json(message(seq, t0 + 9 + seq))
            assert ws.receive_json() == {"kind": "ack", "seq": seq}
    with client.app.state.db() as db:
        row = db.get(BreathingSession, session_id)
        times = db.scalars(select(Beat.t_s).where(Beat.session_id == session_id)
                           .order_by(Beat.seq)).all()
        gaps = db.scalars(select(SessionEvent.t_s).where(
            SessionEvent.session_id == session_id, SessionEvent.kind == "gap")).all()
    assert (row.status.value, row.ended_at is not None) == ("stopped", True)
    assert client.app.state.sessions.get(session_id) is None  # not reopened
    assert len(times) == 5
    # Beat 4 ends 10 s after beat 3 on the streamer's clock, and is stored so, not chained
    # one interval after it. The allowance: the session's end re-placed beat 3 from its
    # whole stretch (at most the link's latency here, the test's threads).
    assert times[3] - third == pytest.approx(10.0, abs=0.05)
    assert gaps == [pytest.approx(third + 0.51, abs=0.05)]


def test_another_person_cannot_stream_into_an_ended_session(client: TestClient,
                                                            people) -> None:
    r = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    session_id = r.json()["id"]
    client.post(f"/api/sessions/{session_id}/stop", headers=people["client"])
    url = f"/api/sessions/{session_id}/ingest"
    with client.websocket_connect(url, headers=people["other_client"]) as ws, \
            pytest.raises(Exception) as refused:
        ws.receive_json()
    assert getattr(refused.value, "code", None) == 4403
