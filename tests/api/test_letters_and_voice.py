"""A shared letter beside the heart's trace, for the client's clinician only while it is
shared; cues recorded in a clinician's own voice, heard by their clients only, kept within
limits, audit-logged, in the clinician's export and gone with their account (issue 25)."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from heartsease.api.voice import LOOP_CUES, cue_key
from heartsease.coaching.backdraft import CUE_GROUNDING
from heartsease.store.models import AuditEntry, SessionEvent, VoiceRecording, Writing
from tests.api.conftest import me
from tests.api.test_care import audited, uploaded_session

WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 200  # how a WebM file begins, then anything
SETTLING_CUE = ("If you like, let the shape guide your breath: in as it grows, out as it "
                "softens. Smooth and even, low in the belly.")


def record(client: TestClient, headers: dict[str, str], text: str, audio: bytes = WEBM,
           media_type: str = "audio/webm;codecs=opus") -> object:
    return client.put(f"/api/clinician/cues/{cue_key(text)}/recording", headers=headers,
                      files={"audio": ("cue", audio, media_type)})


def test_a_shared_letter_comes_with_the_hearts_trace_of_its_moments_until_unshared(
        client: TestClient, people) -> None:
    session_id = uploaded_session(client, people["client"])
    letter = client.post("/api/me/writings", headers=people["client"], json={
        "kind": "letter", "session_id": session_id,
        "body": {"the-pain": "It has been hard."}}).json()
    with client.app.state.db() as db, db.begin():
        row = db.get(Writing, letter["id"])
        assert row is not None
        row.from_t_s, row.to_t_s = 40.0, 90.0  # as if written over those seconds
        for t_s, name, seconds, workspace in ((30.0, "compassionate-letter", 70.0, "letter"),
                                              (100.0, "letter-read-back", 60.0, None)):
            db.add(SessionEvent(session_id=session_id, t_s=t_s, kind="step", data={
                "kind": "step", "t_s": t_s, "name": name, "seconds": seconds,
                "workspace": workspace}))
    client_id = me(client, people["client"])["id"]
    url = f"/api/clients/{client_id}/writings?traces=true"
    # Private until shared: not even its clinician finds it.
    assert client.get(url, headers=people["clinician"]).json() == []
    client.post(f"/api/me/writings/{letter['id']}/share", headers=people["client"])
    before = audited(client, "read-writing"), audited(client, "read-session")
    [seen] = client.get(url, headers=people["clinician"]).json()
    assert seen["body"] == {"the-pain": "It has been hard."}
    assert [(m["name"], m["from_s"], m["to_s"]) for m in seen["moments"]] == [
        ("written", 30.0, 100.0), ("read back", 100.0, 160.0)]
    times = [t for t, _ in seen["trace"]]
    assert 0.0 <= times[0] < 5.0 and 185.0 < times[-1] <= 190.0 and len(times) > 100
    assert all(30 < hr < 200 for _, hr in seen["trace"])
    # One audit line for the letter, one for the session's beats.
    assert (audited(client, "read-writing"), audited(client, "read-session")) == (
        before[0] + 1, before[1] + 1)
    # Nobody else's clinician, and no client, reads it.
    assert client.get(url, headers=people["other_clinician"]).status_code == 404
    for who in ("client", "other_client"):
        assert client.get(url, headers=people[who]).status_code == 403, who
    client.delete(f"/api/me/writings/{letter['id']}/share", headers=people["client"])
    assert client.get(url, headers=people["clinician"]).json() == []


def test_cues_in_a_clinicians_voice_reach_their_clients_only_within_limits(client: TestClient,
                                                             people) -> None:
    cues = client.get("/api/clinician/cues", headers=people["clinician"]).json()
    texts = [c["text"] for c in cues]
    # The protocols' cues in the order a client meets them, optional stages too, then the
    # loop's own (grounding among them).
    assert texts[0].startswith("Welcome. You might sit upright")
    assert SETTLING_CUE in texts and CUE_GROUNDING in texts
    assert "A compassionate colour" in {c["step"] for c in cues}
    assert texts[-len(LOOP_CUES):] == list(LOOP_CUES)
    assert all(c["recording"] is None for c in cues)
    assert client.get("/api/clinician/cues", headers=people["client"]).status_code == 403

    r = record(client, people["clinician"], SETTLING_CUE)
    assert r.status_code == 200, r.text
    recording = r.json()
    assert recording["media_type"] == "audio/webm" and recording["bytes"] == len(WEBM)
    heard = client.get("/api/me/voice", headers=people["client"]).json()
    assert heard == [{"text": SETTLING_CUE, "url": f"/api/voice/{recording['id']}"}]
    played = client.get(heard[0]["url"], headers=people["client"])
    assert played.status_code == 200 and played.content == WEBM
    assert played.headers["content-type"] == "audio/webm"
    # Not another clinician's client, nor another clinician.
    assert client.get("/api/me/voice", headers=people["other_client"]).json() == []
    for who in ("other_client", "other_clinician"):
        assert client.get(heard[0]["url"], headers=people[who]).status_code == 404, who
    # Recorded again: replaced, not added.
    again = record(client, people["clinician"], SETTLING_CUE, WEBM + b"more").json()
    assert again["id"] == recording["id"] and again["bytes"] == len(WEBM) + 4
    assert client.get(heard[0]["url"], headers=people["client"]).content == WEBM + b"more"
    assert audited(client, "record-voice") == 2

    assert client.delete(f"/api/clinician/cues/{cue_key(SETTLING_CUE)}/recording",
                         headers=people["clinician"]).status_code == 204
    assert client.get("/api/me/voice", headers=people["client"]).json() == []
    assert client.get(heard[0]["url"], headers=people["client"]).status_code == 404
    assert audited(client, "erase-voice") == 1

    # Sound of a kind pages play, whose bytes say so, within the limit, of a cue there is.
    clinician = people["clinician"]
    assert record(client, clinician, SETTLING_CUE, b"<html>hello</html>",
                  "audio/webm").status_code == 415
    assert record(client, clinician, SETTLING_CUE, WEBM, "text/html").status_code == 415
    assert record(client, clinician, SETTLING_CUE, b"RIFF" + b"\x00" * 1_000_000,
                  "audio/wav").status_code == 413
    assert record(client, clinician, "Words no protocol says.").status_code == 404
    assert record(client, people["client"], SETTLING_CUE).status_code == 403
    assert record(client, clinician, SETTLING_CUE, b"OggS" + b"\x00" * 10,
                  "audio/ogg").status_code == 200


def test_recordings_are_in_the_clinicians_export_and_go_with_their_account(
        client: TestClient, people) -> None:
    record(client, people["clinician"], SETTLING_CUE)
    record(client, people["clinician"], CUE_GROUNDING)
    export = client.get("/api/me/export", headers=people["clinician"])
    assert export.status_code == 200
    body = json.loads(export.content)
    assert body["you"]["email"] == "clinician@example.org" and "password_hash" not in body["you"]
    assert sorted(r["cue"] for r in body["voice_recordings"]) == sorted(
        [SETTLING_CUE, CUE_GROUNDING])
    assert base64.b64decode(body["voice_recordings"][0]["audio_base64"]) == WEBM
    assert set(body) == {"you", "voice_recordings"}  # no client's data in it
    assert client.get("/api/me/export", headers=people["admin"]).status_code == 403

    # The clinician erases them all, or (with whatever is left) they go when the account
    # is closed.
    assert client.delete("/api/clinician/recordings",
                         headers=people["clinician"]).status_code == 204
    record(client, people["clinician"], SETTLING_CUE)
    clinician_id = me(client, people["clinician"])["id"]
    assert client.delete(f"/api/users/{clinician_id}",
                         headers=people["admin"]).status_code == 204
    with client.app.state.db() as db:
        assert db.scalars(select(VoiceRecording)).all() == []
        actions = db.scalars(select(AuditEntry.action).where(
            AuditEntry.actor_id == clinician_id)).all()
    assert actions.count("record-voice") == 3 and "erase-voice" in actions
    assert "export-all" in actions
    assert client.get("/api/me/voice", headers=people["client"]).json() == []
