"""Signing in as a person does it, in Chromium (issue 22 item 11, issue 23 item 4): one
sign-in for every tab, a practice that outlasts the old token's life, and signing out in one
tab ends another tab's live view with a calm word. A service of its own, whose sign-ins last
4 s unrenewed, so "a therapy hour" (two and a half lives and more) passes in seconds."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import free_port, serve
from tests.e2e.conftest import screenshot
from tests.e2e.test_pages import sign_in

LIFE_S = 4  # HEARTSEASE_IDLE_MINUTES and HEARTSEASE_TOKEN_MINUTES, in seconds
SPEED = 30  # the simulated strap runs thirty times faster; the pages do not change
# The srb protocol at SPEED with its shortest practice, a minute: (120 + 90 + 60 + 60) s / 30.
SESSION_S = 11


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    db = tmp_path_factory.mktemp("e2e-sign-in") / "heartsease.db"
    process: subprocess.Popen[bytes] = serve(
        f"sqlite:///{db}", port, HEARTSEASE_IDLE_MINUTES=str(LIFE_S / 60),
        HEARTSEASE_TOKEN_MINUTES=str(LIFE_S / 60))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


def test_one_sign_in_serves_every_tab_and_never_shows_in_a_script(short_lived: str,
                                                                   browser: object) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = sign_in(context, short_lived, "client@example.org")
        page.wait_for_url("**/breathe")
        assert page.evaluate("document.cookie").count("heartsease_session") == 0  # httpOnly
        assert page.evaluate("sessionStorage.length + localStorage.length") == 0
        other = context.new_page()
        other.goto(f"{short_lived}/trends")
        other.wait_for_selector("nav >> text=Sign out")
        assert "/trends" in other.url and other.locator("#signin").count() == 0
        screenshot(other, "sign-in-second-tab")
    finally:
        context.close()


def test_a_practice_outlasts_the_old_sign_in_life(short_lived: str, browser: object) -> None:
    """Two and a half sign-in lives (4 s each) of practice, the page untouched: still signed
    in, the socket never closed, and the closing words at the end."""
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = sign_in(context, short_lived, "client@example.org")
        page.wait_for_url("**/breathe")
        page.goto(f"{short_lived}/breathe?speed={SPEED}&practice=1")
        statuses: list[str] = []
        page.expose_function("noteStatus", lambda text: statuses.append(text))
        page.evaluate("""() => new MutationObserver(() => window.noteStatus(
            document.getElementById('status').textContent)).observe(
            document.getElementById('status'), {childList: true, characterData: true,
                                                subtree: true})""")
        page.check("input[name=source][value=demo]")
        page.click("#critic-before .skip")
        page.click("#begin")
        page.wait_for_selector("#during:not(.hidden)")
        started = time.monotonic()
        page.wait_for_selector("#after:not(.hidden)", timeout=(SESSION_S + 60) * 1000)
        assert time.monotonic() - started > 2.5 * LIFE_S  # well past the old life
        page.wait_for_selector("#after:has-text('You gave yourself this time.')")
        assert page.url.endswith(f"/breathe?speed={SPEED}&practice=1")  # never sent away
        assert "Connection lost, reconnecting…" not in statuses, statuses
        screenshot(page, "sign-in-long-practice")
    finally:
        context.close()


def test_signing_out_in_one_tab_ends_the_live_view_in_another(short_lived: str,
                                                              browser: object) -> None:
    client = httpx.post(f"{short_lived}/api/auth/token", data={
        "username": "client@example.org", "password": "heartsease-demo"}).json()
    r = httpx.post(f"{short_lived}/api/sessions", json={
        "source": "simulated", "scenario": "rest", "speed": SPEED, "practice_minutes": 10},
        headers={"Authorization": f"Bearer {client['access_token']}"})
    assert r.status_code == 201, r.text
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    try:
        watching = sign_in(context, short_lived, "clinician@example.org")
        watching.wait_for_url("**/observe")
        watching.click("text=Watch the live session")
        watching.wait_for_selector(".room .tacho canvas", timeout=30_000)
        other = context.new_page()
        other.goto(f"{short_lived}/trends")
        other.click("nav >> text=Sign out")
        other.wait_for_url("**/login")
        signed_out = time.monotonic()
        watching.wait_for_url("**/login?reason=signed-out&next=%2Fobserve", timeout=10_000)
        assert time.monotonic() - signed_out < 5.0
        assert "You have been signed out" in watching.inner_text("#reason")
        screenshot(watching, "sign-in-signed-out-elsewhere")
    finally:
        context.close()
        httpx.post(f"{short_lived}/api/sessions/{r.json()['id']}/stop",
                   headers={"Authorization": f"Bearer {client['access_token']}"})


def test_a_forged_client_in_the_address_builds_no_path(short_lived: str,
                                                       browser: object) -> None:
    """``/trends?client=`` with a path in it (issue 22 item 14): no request leaves the
    trends API's own shape."""
    context = browser.new_context()  # type: ignore[attr-defined]
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    try:
        page = sign_in(context, short_lived, "clinician@example.org")
        page.wait_for_url("**/observe")
        page.goto(f"{short_lived}/trends?client=..%2Fsessions%2Fx%2Freport%3Fformat%3Dpdf%23")
        page.wait_for_load_state("networkidle")
        api = [url.removeprefix(short_lived) for url in requested if "/api/" in url]
        assert api and not [url for url in api if ".." in url or "%2F" in url
                            or "report" in url], api
        page.goto(f"{short_lived}/report?session=..%2F..%2Fapi%2Fme%2Fexport")
        page.wait_for_selector("#error:has-text(\"isn't here\")")
        assert not [url for url in requested if "/api/" in url and "export" in url]
    finally:
        context.close()
