"""Uploaded recordings: analysed away from the event loop that runs the live sessions, a few
at a time per person, their names shown as plain text."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from heartsease.api.app import create_app
from heartsease.api.settings import Settings
from heartsease.api.uploads import MAX_UPLOADS_PER_PERSON
from tests.api.conftest import me, sign_in

pytestmark = pytest.mark.both_databases  # bulk writes into each store


@pytest.fixture
def sqlite_client(tmp_path: Path) -> Iterator[TestClient]:
    """On SQLite only: what is tested here does not depend on the database."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", demo_history_days=0)
    with TestClient(create_app(settings)) as c:
        yield c


def test_an_upload_never_holds_up_the_event_loop(sqlite_client: TestClient,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """A 1 MB recording is over a second of reading and replaying: on the event loop it
    held every live session of the worker that long (the watchdog logs any stall of
    0.5 s, with the stack that caused it)."""
    client = sign_in(sqlite_client, "client@example.org")
    text = "\n".join(["850", "830", "870", "845"] * 60_000)
    with caplog.at_level(logging.WARNING, logger="heartsease.api.watchdog"):
        r = sqlite_client.post("/api/sessions/uploads", headers=client,
                               files={"file": ("day.txt", text.encode(), "text/plain")})
    assert r.status_code == 201, r.text
    assert "has not answered" not in caplog.text, caplog.text


def test_a_person_has_a_few_uploads_in_hand_at_a_time(sqlite_client: TestClient) -> None:
    client = sign_in(sqlite_client, "client@example.org")
    client_id = str(me(sqlite_client, client)["id"])
    analyser = sqlite_client.app.state.uploads
    rest = "\n".join(["850", "830", "870"] * 100).encode()
    with analyser.slot(client_id), analyser.slot(client_id):  # two still being analysed
        assert MAX_UPLOADS_PER_PERSON == 2
        r = sqlite_client.post("/api/sessions/uploads", headers=client,
                               files={"file": ("rest.txt", rest, "text/plain")})
        assert r.status_code == 429
        assert "2 uploads being analysed" in r.json()["detail"]
        assert int(r.headers["Retry-After"]) > 0
    r = sqlite_client.post("/api/sessions/uploads", headers=client,
                           files={"file": ("rest.txt", rest, "text/plain")})
    assert r.status_code == 201, r.text  # and the slots came back


def test_upload_names_lose_control_and_direction_characters(sqlite_client: TestClient
                                                            ) -> None:
    """A right-to-left override made ``rest<RLO>txt.exe`` show as ``restexe.txt``."""
    client = sign_in(sqlite_client, "client@example.org")
    rest = "\n".join(["850", "830", "870"] * 100).encode()
    r = sqlite_client.post("/api/sessions/uploads", headers=client, files={
        "file": ("rest\u202etxt.exe\u2066\u200b\u2028.txt", rest, "text/plain")})
    assert r.status_code == 201, r.text
    assert r.json()["source_detail"] == "resttxt.exe.txt (text)"
    # The answer is made in the worker, from what it stored (the service no longer reads
    # the session back on its event loop): the same as the session listed.
    listed = sqlite_client.get("/api/sessions", headers=client).json()
    assert [s for s in listed if s["id"] == r.json()["id"]] == [r.json()]
    assert r.json()["status"] == "completed" and r.json()["summary"]


def test_a_form_that_cannot_be_read_gets_a_clear_answer(sqlite_client: TestClient) -> None:
    """The form is read in the upload's worker process, not by FastAPI: its refusals say
    what was wrong, as FastAPI's did."""
    client = sign_in(sqlite_client, "client@example.org")
    rest = "\n".join(["850", "830", "870"] * 100).encode()
    garbled = sqlite_client.post("/api/sessions/uploads", content=b"not a form", headers={
        **client, "Content-Type": "multipart/form-data; boundary=b"})
    assert garbled.status_code == 400 and "could not be read" in garbled.json()["detail"]
    no_file = sqlite_client.post("/api/sessions/uploads", headers=client,
                                 data={"protocol": "srb"}, files={"other": ("a", b"1")})
    assert no_file.status_code == 422 and "field file" in no_file.json()["detail"]
    protocol = sqlite_client.post("/api/sessions/uploads", headers=client,
                                  data={"protocol": "box"},
                                  files={"file": ("rest.txt", rest, "text/plain")})
    assert protocol.status_code == 422 and "srb, resonance" in protocol.json()["detail"]
    resonance = sqlite_client.post("/api/sessions/uploads", headers=client,
                                   data={"protocol": "resonance"},
                                   files={"file": ("rest.txt", rest, "text/plain")})
    assert resonance.status_code == 201 and resonance.json()["protocol"] == "resonance"
