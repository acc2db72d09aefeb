"""Sessions through the service: live streams, notes, ratings, ingest, exports, reports,
uploads, trends, durability and erasure."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import signal
import tempfile
import threading
import time
import types
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import pyedflib
import pytest
import websockets
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from heartsease.api import publishing
from heartsease.sensors.files import parse_rr_text
from heartsease.simulator.scenarios import simulate
from heartsease.store.models import AuditEntry, Beat, BreathingSession, SessionStatus
from tests.api.conftest import me
from tests.conftest import free_port, serve


def run_simulated(client: TestClient, people, **body: object) -> tuple[str, list[dict]]:
    """A fast simulated session watched by the clinician, who annotates it; the client rates
    it. Returns the session id and what the observer received."""
    r = client.post("/api/sessions", headers=people["client"], json={
        "source": "simulated", "scenario": "threat-then-soothe", "speed": 100,
        "practice_minutes": 2, **body})
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    received = []
    with client.websocket_connect(f"/api/sessions/{session_id}/live",
                                  headers=people["clinician"]) as observer, \
            client.websocket_connect(f"/api/sessions/{session_id}/live",
                                     headers=people["client"]) as own:
        assert own.receive_json()["role"] == "client"
        own.send_json({"type": "rating", "scale": "inner-critic", "value": 7})
        hello = observer.receive_json()
        assert hello["kind"] == "hello" and hello["role"] == "observer"
        received.extend(hello["recent"])  # what happened before the observer got in
        observer.send_json({"type": "annotation", "text": "compassionate imagery"})
        with client.websocket_connect(f"/api/sessions/{session_id}/live",
                                      headers=people["clinician"]) as second:
            assert second.receive_json()["role"] == "observer"  # several observers at once
            assert second.receive_json()["kind"]
        observer.send_json({"type": "pause"})  # not the observer's to send
        while True:
            message = observer.receive_json()
            received.append(message)
            if message["kind"] == "closed":
                break
    return session_id, received


def test_a_live_session_watched_annotated_and_stored(client: TestClient, people) -> None:
    session_id, received = run_simulated(client, people)
    kinds = {m["kind"] for m in received}
    assert {"beat", "metrics", "state", "step", "pacer", "pacer-phase", "cue", "annotation",
            "rating", "session-ended", "closed"} <= kinds
    assert any(m["kind"] == "error" and "pause is not yours" in m["detail"] for m in received)
    detail = client.get(f"/api/sessions/{session_id}", headers=people["clinician"]).json()
    assert detail["status"] == "completed" and not detail["live"]
    streamed = [m for m in received if m["kind"] == "beat"]
    assert detail["n_beats"] == len(streamed) > 300  # every beat that arrived, stored
    assert [a["text"] for a in detail["annotations"]] == ["compassionate imagery"]
    assert detail["self_ratings"][0]["value"] == 7
    assert detail["metrics"] and detail["states"] and detail["steps"]
    assert detail["summary"]["minutes_by_state"]["soothing"] > 0


def test_exports_and_reports_read_back(client: TestClient, people) -> None:
    session_id, received = run_simulated(client, people)
    url = f"/api/sessions/{session_id}"
    streamed = [m["rr_ms"] for m in received if m["kind"] == "beat"]
    rr = client.get(f"{url}/export?format=rr", headers=people["client"])
    assert rr.status_code == 200
    assert np.allclose(parse_rr_text(rr.text, "export.txt").rr_ms, streamed, atol=0.001)
    csv = client.get(f"{url}/export?format=csv", headers=people["client"]).text
    lines = csv.strip().splitlines()
    assert len(lines) == len(streamed) + 1 and lines[0] == "seq,t_s,rr_ms,arrival_s,label"
    assert {line.rsplit(",", 1)[1] for line in lines[1:]} <= {"normal", "ectopic", "long",
                                                              "short", "missed", "extra"}
    as_json = client.get(f"{url}/export?format=json", headers=people["client"]).json()
    assert len(as_json["beats"]) == len(streamed) and as_json["metrics"]
    edf = client.get(f"{url}/export?format=edf", headers=people["client"]).content
    with tempfile.NamedTemporaryFile(suffix=".edf") as f:
        f.write(edf)
        f.flush()
        reader = pyedflib.EdfReader(f.name)
        try:
            assert reader.getSignalLabels() == ["RR tachogram", "Heart rate"]
            hr = reader.readSignal(1)
            assert 40 < float(np.median(hr)) < 110
            notes = list(reader.readAnnotations()[2])
            assert "note: compassionate imagery" in notes and "step practice" in notes
        finally:
            reader.close()
    html = client.get(f"{url}/report", headers=people["clinician"])
    assert html.status_code == 200 and "<svg" in html.text and "Shift log" in html.text
    pdf = client.get(f"{url}/report?format=pdf", headers=people["clinician"])
    assert pdf.content.startswith(b"%PDF")


def test_beats_streamed_by_a_remote_client_are_stored_once(client: TestClient,
                                                           people) -> None:
    r = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    session_id = r.json()["id"]
    beats = simulate("rest", 120, seed=4)
    messages = [{"seq": i + 1, "arrival_s": float(t), "hr_bpm": 70, "rr_ms": [float(rr)],
                 "beat_times_s": [float(t)], "contact": "supported, detected"}
                for i, (t, rr) in enumerate(zip(beats.t_s, beats.rr_ms, strict=True))]
    factory = client.app.state.db
    with client.websocket_connect(f"/api/sessions/{session_id}/ingest",
                                  headers=people["client"]) as ws:
        for m in messages[:50]:
            ws.send_json(m)
            assert ws.receive_json() == {"kind": "ack", "seq": m["seq"]}
            with factory() as db:  # acknowledged means on disk
                assert db.scalar(select(func.max(Beat.seq)).where(
                    Beat.session_id == session_id)) == m["seq"]
        for m in messages[40:60]:  # a reconnecting client re-sends what it was not sure of
            ws.send_json(m)
            assert ws.receive_json()["seq"] == max(m["seq"], 50)
        ws.send_json(messages[70])  # 61-70 were never sent
        assert ws.receive_json() == {"kind": "error", "expected_seq": 61,
                                     "detail": "beats from 61 are missing"}
        ws.send_json({"seq": 61, "arrival_s": 1.0, "hr_bpm": 70, "rr_ms": [5000.0]})
        assert "200-3000" in ws.receive_json()["detail"]
        ws.send_json({"nonsense": True})
        assert ws.receive_json()["kind"] == "error"
    client.post(f"/api/sessions/{session_id}/stop", headers=people["client"])
    with factory() as db:
        stored = db.scalars(select(Beat).where(Beat.session_id == session_id)
                            .order_by(Beat.seq)).all()
    assert [b.seq for b in stored] == list(range(1, 61))
    assert np.allclose([b.rr_ms for b in stored], beats.rr_ms[:60])
    other = client.websocket_connect(f"/api/sessions/{session_id}/ingest",
                                     headers=people["clinician"])
    with other as ws:  # only the session's client streams into it
        try:
            ws.receive_json()
            raise AssertionError("the clinician could stream beats")
        except Exception as exc:
            assert "4403" in repr(exc) or getattr(exc, "code", None) == 4403


def test_streamed_beats_reach_the_live_view_without_waiting_for_the_disk(
        client: TestClient, people) -> None:
    """A commit held up (under load one can take seconds) delays only the acknowledgement:
    the next messages are read, and their beats shown, meanwhile."""
    r = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    session_id = r.json()["id"]
    writer = client.app.state.sessions.writer
    disk_open = threading.Event()
    # Opened by the test once the beats are seen, or after 5 s so a server that waits for
    # the disk fails the test below instead of hanging it.
    fallback = threading.Timer(5.0, disk_open.set)
    fallback.start()
    write = writer.write

    async def held_write(*args: object, **kwargs: object) -> None:
        await asyncio.to_thread(disk_open.wait)
        await write(*args, **kwargs)

    writer.write = held_write
    with client.websocket_connect(f"/api/sessions/{session_id}/ingest",
                                  headers=people["client"]) as ws, \
            client.websocket_connect(f"/api/sessions/{session_id}/live",
                                     headers=people["clinician"]) as observer:
        assert observer.receive_json()["kind"] == "hello"
        for seq in (1, 3, 5):
            ws.send_json({"seq": seq, "arrival_s": 0.4 * seq + 0.8, "hr_bpm": 75,
                          "rr_ms": [800.0, 800.0],
                          "beat_times_s": [0.4 * seq, 0.4 * seq + 0.8]})
        while observer.receive_json().get("seq") != 6:
            pass
        assert not disk_open.is_set(), "the live view waited for the disk"
        fallback.cancel()
        disk_open.set()
        acknowledged = 0
        while acknowledged < 6:
            acknowledged = ws.receive_json()["seq"]
    with client.app.state.db() as db:  # acknowledged means on disk
        assert db.scalars(select(Beat.seq).where(Beat.session_id == session_id)
                          .order_by(Beat.seq)).all() == [1, 2, 3, 4, 5, 6]
    client.post(f"/api/sessions/{session_id}/stop", headers=people["client"])


def test_beats_resent_after_a_reconnection_keep_their_times(client: TestClient,
                                                            people) -> None:
    """The first message after a reconnection is the backlog, seconds old: the client's
    clock is placed on the server's by its freshest messages, not by whichever came first
    on a connection (which put every later beat of the session 1.5 s late here, in what
    was stored and what the coaching loop was fed)."""
    r = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    session_id = r.json()["id"]
    url = f"/api/sessions/{session_id}/ingest"

    def message(seq: int, arrival_s: float) -> dict[str, object]:
        return {"seq": seq, "arrival_s": arrival_s, "hr_bpm": 120, "rr_ms": [500.0],
                "beat_times_s": [arrival_s - 0.01], "contact": "supported, detected"}

    arrivals = []
    with client.websocket_connect(url, headers=people["client"]) as ws:
        for seq in range(1, 4):  # sent as they arrive, on a clock of the client's own
            arrivals.append(time.monotonic() - 5000.0)
            ws.send_json(message(seq, arrivals[-1]))
            assert ws.receive_json()["seq"] == seq
            time.sleep(0.5)
    time.sleep(1.5)  # the link is down; beats 4 and 5 wait at the client
    with client.websocket_connect(url, headers=people["client"]) as ws:
        for seq, arrival in ((4, arrivals[-1] + 0.5), (5, arrivals[-1] + 1.0)):
            ws.send_json(message(seq, arrival))
            assert ws.receive_json()["seq"] == seq
    with client.app.state.db() as db:  # acknowledged: stored as the session runs
        times = db.scalars(select(Beat.t_s).where(Beat.session_id == session_id)
                           .order_by(Beat.seq)).all()
    client.post(f"/api/sessions/{session_id}/stop", headers=people["client"])
    # Beat 4 arrived at the client 0.5 s after beat 3; the allowance is how much sooner one
    # of the first messages reached the server than another (the test's threads).
    assert times[3] - times[2] == pytest.approx(0.5, abs=0.05)


@pytest.mark.both_databases
def test_a_server_killed_mid_session_keeps_its_beats(db_url: str) -> None:
    """SIGKILL: no shutdown code runs. On restart the session is interrupted, every
    acknowledged beat is there, and the session can be reviewed."""
    port = free_port()
    server = serve(db_url, port)
    try:
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(f"{base}/api/auth/token", data={
            "username": "client@example.org", "password": "heartsease-demo"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        session_id = httpx.post(f"{base}/api/sessions", headers=headers,
                                json={"source": "remote"}).json()["id"]

        async def stream() -> int:
            url = f"ws://127.0.0.1:{port}/api/sessions/{session_id}/ingest"
            async with websockets.connect(url, additional_headers={
                    "Authorization": f"Bearer {token['access_token']}"}) as ws:
                for seq in range(1, 41):
                    await ws.send(json.dumps({"seq": seq, "arrival_s": seq * 0.9,
                                              "hr_bpm": 66, "rr_ms": [900.0 + seq]}))
                    acked = json.loads(await ws.recv())["seq"]
                return acked

        assert asyncio.run(stream()) == 40
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    server = serve(db_url, port)
    try:
        detail = httpx.get(f"{base}/api/sessions/{session_id}", headers=headers).json()
        assert detail["status"] == SessionStatus.INTERRUPTED.value
        assert detail["n_beats"] == 40
        rr = httpx.get(f"{base}/api/sessions/{session_id}/export?format=rr", headers=headers)
        assert parse_rr_text(rr.text, "x").rr_ms.tolist() == [900.0 + s for s in range(1, 41)]
    finally:
        server.terminate()
        server.wait()


def test_uploads_become_sessions(client: TestClient, people, refdata: Path) -> None:
    path = refdata / "rr_strap/polar_h10/sample_data_ibi.csv"
    r = client.post("/api/sessions/uploads", headers=people["client"],
                    files={"file": (path.name, path.read_bytes(), "text/csv")})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "completed" and r.json()["source"] == "upload"
    detail = client.get(f"/api/sessions/{r.json()['id']}", headers=people["client"]).json()
    assert detail["n_beats"] == 620 and detail["metrics"]
    bad = client.post("/api/sessions/uploads", headers=people["client"],
                      files={"file": ("bad.txt", b"800\nnot a number\n", "text/plain")})
    assert bad.status_code == 422 and "line 2" in bad.json()["detail"]
    binary = client.post("/api/sessions/uploads", headers=people["client"],
                         files={"file": ("x.bin", bytes(range(256)), "application/x")})
    assert binary.status_code == 422
    huge = client.post("/api/sessions/uploads", headers=people["client"],
                       files={"file": ("big.txt", b"800\n" * 600_000, "text/plain")})
    assert huge.status_code == 413


@pytest.mark.both_databases
def test_trends_by_day_against_the_persons_own_normal_range(client: TestClient,
                                                            people) -> None:
    """Ten days of uploaded rest recordings, re-dated; the trend's numbers recomputed here."""
    client_id = me(client, people["client"])["id"]
    factory = client.app.state.db
    today = None
    for day in range(10):
        text = "\n".join(f"{x:.1f}" for x in simulate("rest", 300, seed=day).rr_ms)
        r = client.post("/api/sessions/uploads", headers=people["client"],
                        files={"file": (f"day{day}.txt", text.encode(), "text/plain")})
        for value in (7, 4):  # coming in, going out
            client.post(f"/api/sessions/{r.json()['id']}/ratings", headers=people["client"],
                        json={"scale": "inner-critic", "value": value - day % 2})
        with factory() as db, db.begin():
            row = db.get(BreathingSession, r.json()["id"])
            today = today or row.started_at
            row.started_at = today - timedelta(days=9 - day)
    days = client.get(f"/api/clients/{client_id}/trends?start="
                      f"{(today - timedelta(days=9)).date()}&end={today.date()}",
                      headers=people["clinician"]).json()
    assert len(days) == 10 and all(d["sessions"] == 1 for d in days)
    ln = [d["resting_ln_rmssd"] for d in days]
    assert days[-1]["ln_rmssd_7d"] == np.mean(ln[-7:])
    assert np.isclose(days[-1]["normal_low"], np.mean(ln[:-1]) - 0.5 * np.std(ln[:-1], ddof=1))
    assert 55 < days[-1]["resting_hr_bpm"] < 80
    assert [d["ratings_before"]["inner-critic"] for d in days[:2]] == [7, 6]
    assert [d["ratings_after"]["inner-critic"] for d in days[:2]] == [4, 3]
    assert all(len(d["session_ids"]) == 1 for d in days)
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "read-trends")) == 1


def test_a_client_can_take_all_their_data_and_erase_it(client: TestClient, people) -> None:
    text = "\n".join(f"{x:.1f}" for x in simulate("rest", 300, seed=1).rr_ms)
    r = client.post("/api/sessions/uploads", headers=people["client"],
                    files={"file": ("rest.txt", text.encode(), "text/plain")})
    session_id = r.json()["id"]
    export = client.get("/api/me/export", headers=people["client"])
    body = json.load(io.BytesIO(export.content))
    assert body["sessions"][0]["id"] == session_id and body["sessions"][0]["beats"]
    assert client.delete("/api/me", headers=people["client"]).status_code == 204
    assert client.get("/api/me", headers=people["client"]).status_code == 401
    with client.app.state.db() as db:
        assert db.scalar(select(func.count()).select_from(Beat)) == 0
        assert db.get(BreathingSession, session_id) is None
        assert db.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "erase")) == 1  # the log keeps that it happened


@pytest.mark.both_databases
def test_durable_within_a_second_while_live(client: TestClient, people) -> None:
    r = client.post("/api/sessions", headers=people["client"], json={
        "source": "simulated", "scenario": "rest", "speed": 50, "practice_minutes": 1})
    session_id = r.json()["id"]
    factory = client.app.state.db
    with client.websocket_connect(f"/api/sessions/{session_id}/live",
                                  headers=people["client"]) as ws:
        ws.receive_json()
        seen = 0
        while seen < 120:
            m = ws.receive_json()
            if m["kind"] == "beat":
                seen = m["seq"]
        time.sleep(1.0)
        with factory() as db:
            stored = db.scalar(select(func.max(Beat.seq)).where(Beat.session_id == session_id))
        assert stored >= seen  # what was streamed a second ago is on disk
    client.post(f"/api/sessions/{session_id}/stop", headers=people["client"])


def test_a_viewer_who_leaves_leaves_no_reference_cycle(client: TestClient, people) -> None:
    """The service runs its garbage collector only every few minutes (heartsease.api.app),
    so what a connection leaves behind must be freed by reference counting: a frame of ours
    found in a cycle would be memory held until the next pass, for every viewer who left."""
    r = client.post("/api/sessions", headers=people["client"], json={"source": "simulated"})
    session_id = r.json()["id"]
    gc.collect()  # while the app runs, nothing else collects (its lifespan disables it)
    for who in ("client", "clinician", "clinician"):
        with client.websocket_connect(f"/api/sessions/{session_id}/live",
                                      headers=people[who]) as viewer:
            assert viewer.receive_json()["kind"] == "hello"
    client.post(f"/api/sessions/{session_id}/stop", headers=people["client"])
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        ours = [o.f_code.co_name for o in gc.garbage if isinstance(o, types.FrameType)
                and "heartsease/api" in o.f_code.co_filename]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert ours == []


def test_a_late_viewer_sees_the_story_from_the_start_and_the_last_beats(
        client: TestClient, people, monkeypatch: pytest.MonkeyPatch) -> None:
    """The beats shown to a viewer who joins late are bounded; the steps and states are kept
    apart so that a long session's beats do not push its beginning out."""
    monkeypatch.setattr(publishing, "RECENT_BEATS", 30)
    r = client.post("/api/sessions", headers=people["client"], json={
        "source": "simulated", "scenario": "threat-then-soothe", "speed": 100,
        "practice_minutes": 2})
    session_id = r.json()["id"]
    url = f"/api/sessions/{session_id}/live"
    with client.websocket_connect(url, headers=people["clinician"]) as early:
        early.receive_json()
        beats_seen = 0
        while beats_seen < 200:  # past the first metrics (5 s) and well past 30 beats
            message = early.receive_json()
            beats_seen += message["kind"] == "beat"
            if beats_seen == 1:
                first_beat_seq = message["seq"]
    with client.websocket_connect(url, headers=people["clinician"]) as late:
        hello = late.receive_json()
    client.post(f"/api/sessions/{session_id}/stop", headers=people["client"])
    recent = hello["recent"]
    beats = [m for m in recent if m["kind"] == "beat"]
    story = [m for m in recent if m["kind"] != "beat"]
    assert len(beats) == 30 and beats[0]["seq"] > first_beat_seq + 100
    assert [b["seq"] for b in beats] == list(range(beats[0]["seq"], beats[0]["seq"] + 30))
    assert story[0]["kind"] == "step" and story[0]["t_s"] == 0.0  # the very first step
    assert recent[: len(story)] == story  # the story first, then the beats
    assert hello["metrics"]["kind"] == "metrics"
