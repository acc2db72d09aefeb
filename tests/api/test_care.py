"""The client's own words, their plan, the clinician's queue of hard moments, ratings as
given, and the safety notes, through the service (issue 25)."""

from __future__ import annotations

import io
import json
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from heartsease.api.app import create_app
from heartsease.api.settings import Settings
from heartsease.simulator.scenarios import simulate
from heartsease.store.models import AuditEntry, ClientPlan, SelfRating, Writing
from tests.api.conftest import me


def audited(client: TestClient, action: str) -> int:
    with client.app.state.db() as db:
        return int(db.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == action)) or 0)


def uploaded_session(client: TestClient, headers: dict[str, str]) -> str:
    text = "\n".join(f"{x:.1f}" for x in simulate("rest", 200, seed=1).rr_ms)
    r = client.post("/api/sessions/uploads", headers=headers,
                    files={"file": ("rest.txt", text.encode(), "text/plain")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_letter_is_saved_as_written_private_until_shared_and_can_be_unshared(
        client: TestClient, people) -> None:
    session_id = uploaded_session(client, people["client"])
    r = client.post("/api/me/writings", headers=people["client"], json={
        "kind": "letter", "session_id": session_id, "body": {"the-pain": "It has been"}})
    assert r.status_code == 201, r.text
    letter = r.json()
    assert not letter["shared"] and letter["from_t_s"] > 0
    saved = client.put(f"/api/me/writings/{letter['id']}", headers=people["client"], json={
        "body": {"the-pain": "It has been hard.", "one-step": "A walk."}}).json()
    assert saved["body"]["one-step"] == "A walk." and saved["to_t_s"] >= saved["from_t_s"]
    # A reload finds it as it was last saved.
    mine = client.get("/api/me/writings", headers=people["client"]).json()
    assert [w["body"] for w in mine] == [saved["body"]]
    client_id = me(client, people["client"])["id"]
    shared_url = f"/api/clients/{client_id}/writings"
    assert client.get(shared_url, headers=people["clinician"]).json() == []
    client.post(f"/api/me/writings/{letter['id']}/share", headers=people["client"])
    seen = client.get(shared_url, headers=people["clinician"]).json()
    assert [w["body"]["the-pain"] for w in seen] == ["It has been hard."]
    assert seen[0]["session_id"] == session_id  # to read beside the heart's trace
    assert audited(client, "read-writing") == 1
    assert client.get(shared_url, headers=people["other_clinician"]).status_code == 404
    client.delete(f"/api/me/writings/{letter['id']}/share", headers=people["client"])
    assert client.get(shared_url, headers=people["clinician"]).json() == []
    # Nobody else writes in it, or learns that it exists.
    assert client.put(f"/api/me/writings/{letter['id']}", headers=people["other_client"],
                      json={"body": {}}).status_code == 404
    assert client.post("/api/me/writings", headers=people["clinician"], json={
        "kind": "reflection"}).status_code == 403
    assert client.post("/api/me/writings", headers=people["other_client"], json={
        "kind": "letter", "session_id": session_id}).status_code == 404


def test_the_plan_sets_suitability_and_pace_limits_and_the_session_follows_it(
        client: TestClient, people) -> None:
    plan = client.get("/api/me/plan", headers=people["client"]).json()
    # Until the clinician confirms suitability: pacer and cues only, at gentle limits.
    assert not plan["confirmed"] and not plan["heart_feedback"]
    assert (plan["min_pace_bpm"], plan["max_pace_bpm"]) == (5.5, 7.0)
    assert client.put("/api/me/pace", headers=people["client"],
                      json={"pace_bpm": 5.0}).status_code == 422
    assert client.put("/api/me/pace", headers=people["client"],
                      json={"pace_bpm": 6.5}).json()["pace_bpm"] == 6.5
    assert client.post("/api/sessions", headers=people["client"], json={
        "protocol": "resonance", "speed": 100}).status_code == 422
    client_id = me(client, people["client"])["id"]
    url = f"/api/clients/{client_id}/plan"
    assert client.put(url, headers=people["client"], json={
        "pacemaker_or_arrhythmia": False, "low_blood_pressure_or_medication": False
    }).status_code == 403
    assert client.put(url, headers=people["other_clinician"], json={
        "pacemaker_or_arrhythmia": False, "low_blood_pressure_or_medication": False
    }).status_code == 404
    set_plan = client.put(url, headers=people["clinician"], json={
        "pacemaker_or_arrhythmia": False, "low_blood_pressure_or_medication": False,
        "min_pace_bpm": 5.0, "max_pace_bpm": 6.0})
    assert set_plan.status_code == 200, set_plan.text
    plan = client.get("/api/me/plan", headers=people["client"]).json()
    assert plan["heart_feedback"] and not plan["states_shown"]
    assert (plan["min_pace_bpm"], plan["max_pace_bpm"], plan["pace_bpm"]) == (5.0, 6.0, 6.0)
    # Blood-pressure medication: no slower than 5.5 a minute, whatever else was set.
    client.put(url, headers=people["clinician"], json={
        "pacemaker_or_arrhythmia": False, "low_blood_pressure_or_medication": True,
        "min_pace_bpm": 4.5})
    plan = client.get(url, headers=people["clinician"]).json()
    assert plan["min_pace_bpm"] == 5.5 and audited(client, "read-plan") == 1
    assert audited(client, "set-plan") == 2
    r = client.post("/api/sessions", headers=people["client"], json={
        "source": "remote", "pace_bpm": 4.0})
    assert r.status_code == 201 and r.json()["pace_bpm"] == 5.5  # within the limits
    assert client.put(url, headers=people["clinician"], json={
        "pacemaker_or_arrhythmia": False, "low_blood_pressure_or_medication": False,
        "min_pace_bpm": 6.0, "max_pace_bpm": 5.0}).status_code == 422


def test_this_is_a_lot_reaches_the_clinicians_queue_with_the_words_sent(
        client: TestClient, people) -> None:
    r = client.post("/api/sessions", headers=people["client"], json={
        "source": "simulated", "scenario": "paced-6", "speed": 100, "practice_minutes": 1})
    session_id = r.json()["id"]
    seen: list[dict] = []
    live_queue: list[dict] = []
    with client.websocket_connect(f"/api/sessions/{session_id}/live",
                                  headers=people["client"]) as own:
        raised = False
        while True:
            message = own.receive_json()
            seen.append(message)
            if message["kind"] == "step" and message["name"] == "practice" and not raised:
                own.send_json({"type": "this-is-a-lot"})
                raised = True
            if message["kind"] == "backdraft":
                # In the clinician's queue while the session still runs (stored within 0.5 s).
                deadline = time.monotonic() + 3.0
                while not live_queue and time.monotonic() < deadline:
                    live_queue = client.get("/api/clinician/backdrafts",
                                            headers=people["clinician"]).json()
                    time.sleep(0.1)
                assert client.get(f"/api/sessions/{session_id}",
                                  headers=people["clinician"]).json()["live"]
                own.send_json({"type": "resume"})  # ready to carry on
            if message["kind"] == "closed":
                break
    assert [m["raised_by"] for m in live_queue] == ["client"]
    moment = next(m for m in seen if m["kind"] == "backdraft")
    assert moment["raised_by"] == "client"
    assert any(m["kind"] == "pacer" and m["rate_bpm"] is None and m["t_s"] == moment["t_s"]
               for m in seen)
    check_in = [m for m in seen if m["kind"] == "cue" and m["cue_kind"] == "check-in"]
    assert len(check_in) == 1
    assert client.post(f"/api/sessions/{session_id}/check-in", headers=people["other_client"],
                       json={"words": "x"}).status_code == 404
    assert client.post(f"/api/sessions/{session_id}/check-in", headers=people["client"],
                       json={"words": "Better now, thank you."}).status_code == 201
    queue = client.get("/api/clinician/backdrafts", headers=people["clinician"]).json()
    assert len(queue) == 1
    assert queue[0]["raised_by"] == "client" and queue[0]["step"] == "practice"
    assert queue[0]["check_in"] == "Better now, thank you."
    assert [p["label"] for p in queue[0]["preceded_by"] if p["kind"] == "step"] == ["practice"]
    assert audited(client, "read-backdrafts") == 2  # each read that showed Sam's moments
    # The room asks every few seconds: unchanged, a 304 that reads and logs nothing.
    tag = client.get("/api/clinician/backdrafts", headers=people["clinician"]).headers["ETag"]
    unchanged = client.get("/api/clinician/backdrafts",
                           headers={**people["clinician"], "If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert audited(client, "read-backdrafts") == 3
    assert client.get("/api/clinician/backdrafts",
                      headers=people["other_clinician"]).json() == []
    assert client.get("/api/clinician/backdrafts", headers=people["client"]).status_code == 403
    assert client.post(f"/api/clinician/backdrafts/{queue[0]['id']}/reviewed",
                       headers=people["other_clinician"]).status_code == 404
    assert client.post(f"/api/clinician/backdrafts/{queue[0]['id']}/reviewed",
                       headers=people["clinician"]).status_code == 204
    assert client.get("/api/clinician/backdrafts", headers={
        **people["clinician"], "If-None-Match": tag}).json() == []  # reviewed: changed
    reviewed = client.get("/api/clinician/backdrafts?show=reviewed",
                          headers=people["clinician"]).json()
    assert [m["id"] for m in reviewed] == [queue[0]["id"]] and reviewed[0]["reviewed_at"]


def test_a_rating_needs_a_touch_or_a_skip_and_keeps_its_moment(client: TestClient,
                                                               people) -> None:
    session_id = uploaded_session(client, people["client"])
    url = f"/api/sessions/{session_id}/ratings"
    assert client.post(url, headers=people["client"],
                       json={"scale": "inner-critic"}).status_code == 422
    assert client.post(url, headers=people["client"],
                       json={"scale": "inner-critic", "value": 11}).status_code == 422
    skipped = client.post(url, headers=people["client"],
                          json={"scale": "inner-critic", "value": "skipped"})
    assert skipped.status_code == 201, skipped.text
    given = client.post(url, headers=people["client"],
                        json={"scale": "inner-critic", "value": 3}).json()
    assert given["t_s"] > 0.0  # when it was given, not the session's start
    with client.app.state.db() as db:
        rows = db.scalars(select(SelfRating).order_by(SelfRating.id)).all()
        assert [r.value for r in rows] == [None, 3] and all(r.given_at for r in rows)


def test_the_safety_notes_name_the_clinics_crisis_contact(db_url: str) -> None:
    settings = Settings(database_url=db_url, demo_history_days=0,
                        crisis_contact="Out of hours: call 0800 000 000.")
    with TestClient(create_app(settings)) as client:
        notes = client.get("/api/safety").json()
    text = " ".join(notes["points"])
    assert "dizzy, light-headed or tingly" in text and "breathe normally" in text
    assert "not for emergencies" in text
    assert notes["crisis_contact"] == "Out of hours: call 0800 000 000."


def test_writing_and_plan_are_in_the_export_and_gone_after_erasure(client: TestClient,
                                                                  people) -> None:
    client.post("/api/me/writings", headers=people["client"], json={
        "kind": "reflection", "body": {"text": "I noticed my shoulders."}})
    client_id = me(client, people["client"])["id"]
    client.put(f"/api/clients/{client_id}/plan", headers=people["clinician"], json={
        "pacemaker_or_arrhythmia": True, "low_blood_pressure_or_medication": False})
    body = json.load(io.BytesIO(client.get("/api/me/export", headers=people["client"]).content))
    assert body["writings"][0]["body"] == {"text": "I noticed my shoulders."}
    assert body["client_plans"][0]["pacemaker_or_arrhythmia"] is True
    assert client.delete("/api/me", headers=people["client"]).status_code == 204
    with client.app.state.db() as db:
        assert db.scalar(select(func.count()).select_from(Writing)) == 0
        assert db.scalar(select(func.count()).select_from(ClientPlan)) == 0
