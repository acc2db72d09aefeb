"""One running session per client, which the page finds again; a session whose client's page
has gone pauses and then ends as "left"; practice with a demo heart stays out of the trends;
the heart sources the page may offer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from heartsease.api.app import create_app
from heartsease.api.presence import AwayTimes, Presence
from heartsease.api.routes.sources import has_ble_adapter
from heartsease.api.settings import Settings
from tests.api.conftest import me, sign_in

# Short enough for a test, long enough that a page reconnecting at once is not "away" long.
AWAY_PAUSE_S, AWAY_LEAVE_S = 0.4, 0.8


@pytest.fixture
def quick(db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, demo_history_days=0, ble_adapter=True,
                        away_pause_s=AWAY_PAUSE_S, away_leave_s=AWAY_LEAVE_S)
    with TestClient(create_app(settings)) as c:
        yield c


def start(client: TestClient, headers: dict[str, str], **body: object) -> dict:
    r = client.post("/api/sessions", headers=headers, json={
        "source": "simulated", "scenario": "threat-then-soothe", **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_one_running_session_per_client_which_the_page_finds_again(client: TestClient,
                                                                    people) -> None:
    client_id = me(client, people["client"])["id"]
    assert client.get("/api/sessions/running", headers=people["client"]).status_code == 204
    session = start(client, people["client"])
    assert session["demo"] is True
    found = client.get("/api/sessions/running", headers=people["client"])
    assert found.status_code == 200 and found.json()["id"] == session["id"]
    assert found.json()["live"] is True
    again = client.post("/api/sessions", headers=people["client"], json={"source": "simulated"})
    assert again.status_code == 409 and again.json()["detail"] == "A session is already running."
    assert client.get("/api/sessions/running",
                      headers=people["other_client"]).status_code == 204
    assert client.get(f"/api/sessions/running?client_id={client_id}",
                      headers=people["clinician"]).json()["id"] == session["id"]
    assert client.get(f"/api/sessions/running?client_id={client_id}",
                      headers=people["other_clinician"]).status_code == 403
    assert client.get("/api/sessions/running", headers=people["admin"]).status_code == 403
    client.post(f"/api/sessions/{session['id']}/stop", headers=people["client"])
    assert client.get("/api/sessions/running", headers=people["client"]).status_code == 204


def watch_until_closed(observer) -> list[dict]:
    received = []
    while (message := observer.receive_json())["kind"] != "closed":
        received.append(message)
    return received


def test_a_session_whose_page_has_gone_pauses_then_ends_as_left(quick: TestClient) -> None:
    client, clinician = sign_in(quick, "client@example.org"), sign_in(quick,
                                                                      "clinician@example.org")
    session = start(quick, client)
    live = f"/api/sessions/{session['id']}/live"
    with quick.websocket_connect(live, headers=clinician) as observer:
        assert observer.receive_json()["presence"] is None  # no page of the client's yet
        with quick.websocket_connect(live, headers=client) as page:
            assert page.receive_json()["kind"] == "hello"
        received = watch_until_closed(observer)
    told = [(m["kind"], m.get("presence"), m.get("paused"), m.get("reason")) for m in received
            if m["kind"] in ("presence", "paused", "session-ended")]
    assert told == [("presence", "connected", False, None), ("presence", "away", False, None),
                    ("paused", None, True, None), ("session-ended", None, None, "left")]
    went_s, paused_s, ended_s = (m["t_s"] for m in received if m["kind"] == "session-ended"
                                 or m.get("presence") == "away" or m["kind"] == "paused")
    # Each wait as long as set, give or take the event loop's wake-up (the session clock
    # runs in real time here; 0.25 s covers a busy 2-core machine).
    assert AWAY_PAUSE_S - 0.01 <= paused_s - went_s < AWAY_PAUSE_S + 0.25
    assert AWAY_LEAVE_S - 0.01 <= ended_s - paused_s < AWAY_LEAVE_S + 0.25
    stored = quick.get(f"/api/sessions/{session['id']}", headers=client).json()
    assert stored["status"] == "left"
    # Not practice: nothing of it in the trends.
    today = date.today().isoformat()
    days = quick.get(f"/api/clients/{me(quick, client)['id']}/trends?start={today}"
                     f"&end={today}", headers=client).json()
    assert days[-1]["sessions"] == 0


def test_a_page_that_comes_back_in_time_keeps_the_session_going(quick: TestClient) -> None:
    client = sign_in(quick, "client@example.org")
    session = start(quick, client)
    live = f"/api/sessions/{session['id']}/live"
    # a reload: one page goes, the next comes
    with quick.websocket_connect(live, headers=client) as page:
        assert page.receive_json()["kind"] == "hello"
    with quick.websocket_connect(live, headers=client) as page:
        assert page.receive_json()["presence"] in ("connected", "away")
        time.sleep(AWAY_PAUSE_S + AWAY_LEAVE_S + 0.3)
        assert quick.get("/api/sessions/running", headers=client).json()["id"] == session["id"]
        kinds = set()
        page.send_json({"type": "stop"})
        while (message := page.receive_json())["kind"] != "closed":
            kinds.add((message["kind"], message.get("paused", False)))
    assert ("paused", True) not in kinds
    assert quick.get(f"/api/sessions/{session['id']}", headers=client).json()["status"] \
        == "stopped"


def test_practice_with_a_demo_heart_stays_out_of_the_trends(client: TestClient,
                                                            people) -> None:
    session = start(client, people["client"], speed=100, practice_minutes=1)
    with client.websocket_connect(f"/api/sessions/{session['id']}/live",
                                  headers=people["client"]) as page:
        watch_until_closed(page)
    stored = client.get(f"/api/sessions/{session['id']}", headers=people["client"]).json()
    assert stored["status"] == "completed" and stored["demo"] is True
    today = date.today().isoformat()
    days = client.get(f"/api/clients/{stored['client_id']}/trends?start={today}&end={today}",
                      headers=people["client"]).json()
    assert days[-1]["sessions"] == 0 and days[-1]["session_ids"] == []


def test_the_heart_sources_the_page_may_offer(quick: TestClient, tmp_path: Path) -> None:
    client = sign_in(quick, "client@example.org")
    sources = quick.get("/api/sources", headers=client).json()
    assert sources["clinic_strap"] is True and "threat-then-soothe" in sources["scenarios"]
    assert quick.get("/api/sources").status_code == 401
    assert not has_ble_adapter(tmp_path / "none", "linux")
    assert not has_ble_adapter(tmp_path, "linux")  # a class directory with no adapter in it
    (tmp_path / "hci0").mkdir()
    assert has_ble_adapter(tmp_path, "linux")


def test_presence_timers_start_only_once_the_last_page_has_gone() -> None:
    async def main() -> list[str]:
        said: list[str] = []
        presence = Presence(AwayTimes(0.05, 0.05), lambda: said.append("pause"),
                            lambda: said.append("leave"), said.append)
        presence.went("never-came")  # not a page of this session: nothing happens
        presence.arrived("a")
        presence.arrived("b")
        presence.went("a")  # b is still there
        await asyncio.sleep(0.08)
        presence.went("b")
        await asyncio.sleep(0.03)
        presence.arrived("c")  # back before the pause
        presence.went("c")
        await asyncio.sleep(0.15)
        presence.close()
        return said

    assert asyncio.run(main()) == ["connected", "connected", "away", "connected", "away",
                                   "pause", "leave"]


def test_pages_coming_and_going_after_the_end_are_not_told() -> None:
    """A clinician's room read "away · paused" under "The session has ended" once the
    client's page left its closing words: the end closes the presence."""
    async def main() -> list[str]:
        said: list[str] = []
        presence = Presence(AwayTimes(0.01, 0.01), lambda: said.append("pause"),
                            lambda: said.append("leave"), said.append)
        presence.arrived("a")
        presence.close()
        presence.went("a")
        presence.arrived("b")
        await asyncio.sleep(0.05)  # no timer started by the page that went
        return said

    assert asyncio.run(main()) == ["connected"]
