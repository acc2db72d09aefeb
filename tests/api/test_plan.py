"""A practice plan per client, set by their clinician (issue 24, item 1): what the client
practises and sees, checked in words; only the assigned clinician reads or changes it, each
read and change audit-logged; a session the page starts without a protocol follows it; the
resonance assessment's pick becomes the pace once the clinician confirms it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from heartsease.coaching import events as ev
from heartsease.coaching.protocols import builtin_text
from heartsease.store.models import AuditEntry, BreathingSession, SessionEvent, SessionStatus
from tests.api.conftest import me

SUITS = {"pacemaker_or_arrhythmia": False, "low_blood_pressure_or_medication": False}


def audit_lines(client: TestClient, action: str) -> list[AuditEntry]:
    with client.app.state.db() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def short_srb() -> str:
    """A clinician's copy of soothing rhythm breathing with a shorter arrival."""
    text = builtin_text("srb")
    assert 'seconds = 120\npacer = "off"\nbaseline = true' in text
    return text.replace('seconds = 120\npacer = "off"\nbaseline = true',
                        'seconds = 105\npacer = "off"\nbaseline = true').replace(
        'title = "Soothing rhythm breathing"', 'title = "Sam\'s shorter breathing"', 1)


def test_the_default_plan_who_may_change_it_and_the_resonance_pick_confirmed(
        client: TestClient, people) -> None:
    # Until a clinician sets one: soothing rhythm breathing at 6 a minute, quiet.
    plan = client.get("/api/me/plan", headers=people["client"]).json()
    assert (plan["protocol"], plan["title"], plan["pace_bpm"]) == (
        "srb", "Soothing rhythm breathing", 6.0)
    assert not plan["states_shown"] and not plan["numbers_shown"] and plan["stages"] == []
    assert plan["pattern"] == {"inhale": 4.0, "exhale": 6.0, "hold_in": 0.0, "hold_out": 0.0}
    assert plan["minutes"] == 16.0 and plan["resonance"] is None
    # Each read and change by the assigned clinician is audited; no one else's gets in.
    client_id = me(client, people["client"])["id"]
    url = f"/api/clients/{client_id}/plan"
    for who in ("other_clinician", "admin", "client", "other_client"):
        read = client.get(url, headers=people[who])
        change = client.put(url, headers=people[who], json=SUITS)
        confirm = client.post(f"{url}/resonance", headers=people[who],
                              json={"session_id": "0" * 32})
        assert {read.status_code, change.status_code, confirm.status_code} <= {403, 404}, who
    assert client.get("/api/protocols/srb", headers=people["client"]).status_code == 403
    assert audit_lines(client, "read-plan") == [] and audit_lines(client, "set-plan") == []
    assert client.get(url, headers=people["clinician"]).status_code == 200
    assert client.put(url, headers=people["clinician"], json=SUITS).status_code == 200
    clinician_id = me(client, people["clinician"])["id"]
    for action in ("read-plan", "set-plan"):
        [line] = audit_lines(client, action)
        assert (line.actor_id, line.subject_id) == (clinician_id, client_id)

    # The latest assessment's pick becomes the pace once the clinician confirms it.
    assert client.put(url, headers=people["clinician"],
                      json={**SUITS, "protocol": "resonance"}).status_code == 200
    client.put("/api/me/pace", headers=people["client"], json={"pace_bpm": 6.5})
    session_id = _stored_assessment(client, client_id, 5.5)
    plan = client.get(url, headers=people["clinician"]).json()
    assert plan["resonance"]["resonance_bpm"] == 5.5 and not plan["resonance"]["confirmed"]
    # Not the pace until confirmed; the client's own sees no pick.
    assert client.get("/api/me/plan", headers=people["client"]).json()["resonance"] is None
    assert plan["pace_bpm"] == 6.5
    other = client.post(f"{url}/resonance", headers=people["other_clinician"],
                        json={"session_id": session_id})
    assert other.status_code == 404
    r = client.post(f"{url}/resonance", headers=people["clinician"],
                    json={"session_id": session_id})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert (plan["pace_bpm"], plan["plan_pace_bpm"], plan["chosen_pace_bpm"]) == (5.5, 5.5, None)
    assert plan["protocol"] == "srb" and plan["resonance"]["confirmed"]
    [line] = audit_lines(client, "confirm-resonance")
    assert (line.object_id, line.subject_id, line.detail) == (session_id, client_id, "5.5/min")
    flat = _stored_assessment(client, client_id, None)
    r = client.post(f"{url}/resonance", headers=people["clinician"], json={"session_id": flat})
    assert r.status_code == 422 and "no rate that stood out" in r.json()["detail"]
    # Another client's assessment is not this client's to confirm.
    other_id = me(client, people["other_client"])["id"]
    theirs = _stored_assessment(client, other_id, 5.0)
    r = client.post(f"{url}/resonance", headers=people["clinician"], json={"session_id": theirs})
    assert r.status_code == 404


def test_a_plan_that_cannot_be_practised_is_refused_in_words_and_one_that_can_is_run(
        client: TestClient, people) -> None:
    client_id = me(client, people["client"])["id"]
    url = f"/api/clients/{client_id}/plan"
    good = {**SUITS, "protocol": "custom", "custom_protocol": short_srb(), "pace_bpm": 5.5}
    assert client.put(url, headers=people["clinician"], json=good).status_code == 200
    refused = {
        "is not valid TOML": {"custom_protocol": "name = 'srb\n[[steps]"},
        "step 1 (baseline): seconds must be a positive number": {
            "custom_protocol": short_srb().replace("seconds = 105", "seconds = -5", 1)},
        "unknown key colour": {
            "custom_protocol": short_srb().replace("baseline = true", "colour = 1", 1)},
        "has no optional stage beach": {"stages": ["beach"]},
        "outside this plan's limits (5.5 to 7": {"pace_bpm": 5.0,
                                                 "low_blood_pressure_or_medication": True},
        "inhale and exhale must be positive": {"exhale": 0},
        "has no practice step": {"protocol": "resonance", "practice_minutes": 3},
        "needs the heart's feedback": {"protocol": "resonance",
                                       "pacemaker_or_arrhythmia": True},
        "The custom protocol is empty": {"custom_protocol": None},
        # a copy may name any rate, but not one slower than the client's limits allow
        "Step practice paces 4 breaths a minute, slower than this plan allows": {
            "custom_protocol": short_srb().replace(
                'seconds = 600\npacer = "pace"', 'seconds = 600\npacer = 4', 1)},
    }
    for words, change in refused.items():
        r = client.put(url, headers=people["clinician"], json={**good, **change})
        assert r.status_code == 422 and words in r.json()["detail"], (words, r.text)
    plan = client.get(url, headers=people["clinician"]).json()
    assert (plan["title"], plan["plan_pace_bpm"]) == ("Sam's shorter breathing", 5.5)
    # The form's own check gives the same words before saving.
    checked = client.post("/api/protocols/check", headers=people["clinician"],
                          json={"text": refused["step 1 (baseline): seconds must be a "
                                                "positive number"]["custom_protocol"]})
    assert checked.status_code == 422 and "seconds must be a positive" in checked.json()["detail"]
    copy = client.get("/api/protocols/srb", headers=people["clinician"]).json()
    assert copy["text"] == builtin_text("srb") and "safe-place" in copy["stage_names"]
    # A plan that can be practised, with its breath, minutes, stage and numbers shown, is
    # what the next session the page starts (naming no protocol) runs.
    assert client.put(url, headers=people["clinician"], json={
        **good, "pace_bpm": 5.0, "inhale": 4, "hold_in": 1, "exhale": 6, "hold_out": 2,
        "practice_minutes": 2, "stages": ["safe-place"], "show_numbers": True}
    ).status_code == 200
    plan = client.get("/api/me/plan", headers=people["client"]).json()
    assert plan["numbers_shown"] and not plan["states_shown"]
    # 105 + 90 + 120 + 180 (the safe place) + 90 + 60 seconds
    assert plan["minutes"] == 10.75 and plan["title"] == "Sam's shorter breathing"
    r = client.post("/api/sessions", headers=people["client"], json={
        "source": "simulated", "scenario": "paced-6", "speed": 100})
    assert r.status_code == 201, r.text
    assert r.json()["pace_bpm"] == 5.0
    session_id = r.json()["id"]
    # What the session runs: the plan's protocol, minutes, stage and pattern.
    running = client.app.state.sessions.get(session_id).loop.session.protocol
    assert [(s.name, s.seconds) for s in running.steps] == [
        ("baseline", 105.0), ("settling", 90.0), ("practice", 120.0), ("safe-place", 180.0),
        ("keeping-rhythm", 90.0), ("recovery", 60.0)]
    pacer = None
    with client.websocket_connect(f"/api/sessions/{session_id}/live",
                                  headers=people["client"]) as live:
        hello = live.receive_json()
        assert hello["pattern"] == [4 / 13, 1 / 13, 6 / 13, 2 / 13]
        while pacer is None:  # the settling step's pacer, with the plan's holds
            m = live.receive_json()
            if m["kind"] == "pacer" and m["rate_bpm"] is not None:
                pacer = m
        live.send_json({"type": "stop"})
    assert (pacer["rate_bpm"], pacer["hold_in_share"], pacer["hold_out_share"]) == (
        5.0, 1 / 13, 2 / 13)


def _stored_assessment(client: TestClient, client_id: str, pick: float | None) -> str:
    """A finished resonance assessment as the service stores one."""
    result = ev.ResonanceResult(t_s=840.0, resonance_bpm=pick,
                                confidence="clear" if pick else "flat", margin=0.4,
                                explanation="The heart rhythm swung most.", rates=())
    with client.app.state.db() as db:
        row = BreathingSession(client_id=client_id, protocol="resonance", pace_bpm=6.0,
                               source="simulated", source_detail="resonance-sweep",
                               status=SessionStatus.COMPLETED, ended_at=datetime.now(UTC))
        db.add(row)
        db.flush()
        db.add(SessionEvent(session_id=row.id, t_s=840.0, kind=result.kind,
                            data=result.as_dict()))
        db.commit()
        return row.id
