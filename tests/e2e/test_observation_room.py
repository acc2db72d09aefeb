"""The observation room as a clinician meets it (issue 24): moments that were a lot for two
of their clients reach them in one place while neither is being watched, the tab's title
counting them, with the words each client sent at the check-in; marked reviewed, they
leave the queue."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from tests.e2e.conftest import bearer, screenshot
from tests.e2e.test_pages import sign_in

PASSWORD = "heartsease-demo"
SPEED = 100.0


@pytest.fixture
def second_client(server: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A second client of Dr. Rivera's (named to sort after Sam, whom other tests pick
    first), unassigned again afterwards: their name and headers."""
    admin = bearer(server, "admin@example.org")
    email, name = f"zoe-{uuid.uuid4().hex[:8]}@example.org", "Zoe"
    r = httpx.post(f"{server}/api/users", headers=admin,
                   json={"email": email, "name": name, "role": "client"})
    assert r.status_code == 201, r.text
    zoe_id = r.json()["user"]["id"]
    token = r.json()["link"].split("#", 1)[1]
    assert httpx.post(f"{server}/api/auth/set-password", json={
        "token": token, "password": "a long enough password"}).status_code == 204
    users = httpx.get(f"{server}/api/users", headers=admin).json()
    rivera = next(u["id"] for u in users if u["email"] == "clinician@example.org")
    pair = {"clinician_id": rivera, "client_id": zoe_id}
    assert httpx.post(f"{server}/api/assignments", headers=admin, json=pair).status_code == 201
    try:
        yield name, bearer(server, email, "a long enough password")
    finally:
        httpx.request("DELETE", f"{server}/api/assignments", headers=admin, json=pair)


def a_lot_then_words(server: str, headers: dict[str, str], words: str) -> None:
    """A practice on the demo heart in which the client says "This is a lot", then sends
    ``words`` at the check-in, and stops."""
    r = httpx.post(f"{server}/api/sessions", headers=headers, json={
        "source": "simulated", "scenario": "paced-6", "speed": SPEED, "practice_minutes": 1})
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    ws_url = server.replace("http://", "ws://") + f"/api/sessions/{session_id}/live"
    with connect(ws_url, additional_headers=headers) as own:
        own.send(json.dumps({"type": "this-is-a-lot"}))
        while json.loads(own.recv())["kind"] != "backdraft":
            pass
    assert httpx.post(f"{server}/api/sessions/{session_id}/check-in", headers=headers,
                      json={"words": words}).status_code == 201
    assert httpx.post(f"{server}/api/sessions/{session_id}/stop",
                      headers=headers).status_code == 200


def waiting_count(page: object) -> int:
    found = re.match(r"\((\d+)\) ", page.title())  # type: ignore[attr-defined]
    return int(found.group(1)) if found else 0


def test_moments_from_two_clients_reach_one_clinician(server: str, browser: object,
                                                     second_client) -> None:
    zoe, zoe_headers = second_client
    context = browser.new_context(viewport={"width": 1280, "height": 1000})  # type: ignore[attr-defined]
    try:
        room = sign_in(context, server, "clinician@example.org")
        room.wait_for_url("**/observe")
        room.wait_for_selector("#clients li:has-text('Zoe')")
        room.wait_for_function("() => document.querySelector('#waiting li')"
                               " || !document.getElementById('moments-none').hidden"
                               " && document.getElementById('moments-none').className === ''")
        before = waiting_count(room)
        assert room.title().endswith("Observation room · heartsease")

        sam_words, zoe_words = f"Shaky, but here ({uuid.uuid4().hex[:4]}).", "Too much today."
        a_lot_then_words(server, bearer(server, "client@example.org"), sam_words)
        a_lot_then_words(server, zoe_headers, zoe_words)
        # Neither was being watched: both reach the room, the title counting them.
        room.wait_for_function(f"() => document.title.startsWith('({before + 2}) ')")
        room.wait_for_selector(f"#waiting li:has-text('{zoe_words}')")
        waiting = room.inner_text("#waiting")
        assert f"Their words at the check-in: \u201c{sam_words}\u201d" in waiting
        assert "Sam said \u201cThis is a lot\u201d" in waiting
        assert f"{zoe} said \u201cThis is a lot\u201d" in waiting
        screenshot(room, "observe-moments")

        zoe_moment = room.locator(f"#waiting li:has-text('{zoe_words}')")
        zoe_moment.get_by_role("button", name=re.compile("Mark Zoe's moment")).click()
        room.wait_for_function(f"() => document.title.startsWith('({before + 1}) ')")
        assert zoe_words not in room.inner_text("#waiting")
        room.click("#reviewed-box summary")
        assert zoe_words in room.inner_text("#reviewed")
        # After the session, as well as live: the queue is there on coming back.
        room.reload()
        room.wait_for_function(f"() => document.title.startsWith('({before + 1}) ')")
        assert sam_words in room.inner_text("#waiting")
    finally:
        context.close()
