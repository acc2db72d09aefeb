"""The administrator's page (issue 24, item 2), walked as an administrator would: add a
clinician and a client (each sets their own password by the link handed over), assign, the
client sees who can see their practice (and who gave it) and changes their password,
unassign, deactivate, and read the audit log."""

from __future__ import annotations

import re

from tests.e2e.conftest import screenshot
from tests.e2e.test_pages import sign_in
from tests.e2e.test_trends_and_access import assert_accessible


def _sign_in_as(context: object, server: str, email: str, password: str) -> object:
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(f"{server}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    return page


def _add(page: object, name: str, email: str, role: str) -> str:
    """Add a person on the page; the link shown to hand over."""
    page.fill("#name", name)  # type: ignore[attr-defined]
    page.fill("#email", email)  # type: ignore[attr-defined]
    page.select_option("#role", role)  # type: ignore[attr-defined]
    page.click("#add button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector(f"#handover-words:has-text('Give {name} this link')")  # type: ignore[attr-defined]
    assert "It works once" in page.inner_text("#handover-words")  # type: ignore[attr-defined]
    return str(page.input_value("#handover-link"))  # type: ignore[attr-defined]


def _set_password(context: object, link: str, password: str) -> None:
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(link)
    assert "#" not in page.url  # the token leaves the address bar at once
    page.fill("#password", password)
    page.fill("#again", password)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Your password is set.")
    page.close()


def _row(page: object, table: str, words: str) -> object:
    return page.locator(f"#{table} tr", has_text=words)  # type: ignore[attr-defined]


def test_an_administrator_manages_people_and_reads_the_audit_log(server: str,
                                                                 browser: object) -> None:
    admin_ctx = browser.new_context(viewport={"width": 1300, "height": 1100})  # type: ignore[attr-defined]
    person_ctx = browser.new_context(viewport={"width": 1000, "height": 900})  # type: ignore[attr-defined]
    requested: list[str] = []  # nothing may come from anywhere but this server
    admin_ctx.on("request", lambda request: requested.append(request.url))
    try:
        page = sign_in(admin_ctx, server, "admin@example.org")
        page.wait_for_url("**/admin")  # not /docs
        # The clinician's and the client's pages send an administrator back here (/observe
        # sent them to /breathe, which stayed on "Getting ready…"), and trends say why not.
        for other in ("/observe", "/breathe"):
            page.goto(f"{server}{other}")
            page.wait_for_url("**/admin")
        page.goto(f"{server}/trends")
        page.wait_for_selector("#error:has-text('which administrators do not see')")
        assert page.inner_text("h1") == "Trends" and page.locator("#range").is_hidden()
        page.goto(f"{server}/admin")
        page.wait_for_selector("#people tr:has-text('Dr. Rivera')")
        assert "Health" not in page.inner_text("main") and "pace" not in page.inner_text("main")

        okafor_link = _add(page, "Dr. Okafor", "okafor@example.org", "clinician")
        assert _row(page, "people", "Dr. Okafor").inner_text().count(
            "Waiting for them to set a password") == 1
        jo_link = _add(page, "Jo", "jo@example.org", "client")
        assert re.fullmatch(rf"{re.escape(server)}/set-password#[\w-]{{40,}}", jo_link)
        _set_password(person_ctx, okafor_link, "Okafor's own password")
        _set_password(person_ctx, jo_link, "Jo's own secret words")
        page.reload()
        page.wait_for_selector("#people tr:has-text('Jo')")
        assert "Active" in _row(page, "people", "Jo").inner_text()

        # Assign; Jo sees who can see their practice.
        page.select_option("#assign-clinician", label="Dr. Okafor")
        page.select_option("#assign-client", label="Jo")
        page.click("#assign button[type=submit]")
        page.wait_for_selector("#assignments tr:has-text('Dr. Okafor')")
        jo = _sign_in_as(person_ctx, server, "jo@example.org", "Jo's own secret words")
        jo.wait_for_url("**/breathe")
        jo.goto(f"{server}/trends")
        jo.wait_for_selector("text=Who can see your practice: Dr. Okafor.")
        screenshot(jo, "trends-who-can-see")
        # Jo's account: who gave whom access, and a new password (the current one first).
        jo.click("nav >> text=Your account")
        jo.wait_for_selector("#entries tr:has-text('assigned Dr. Okafor')")
        assert "Alex (admin)" in _row(jo, "entries", "assigned Dr. Okafor").inner_text()
        jo.fill("#old", "not my password")
        jo.fill("#password", "Jo's newer secret words")
        jo.fill("#again", "Jo's newer secret words")
        jo.click("#change button[type=submit]")
        jo.wait_for_selector("text=Your current password is not right.")
        jo.fill("#old", "Jo's own secret words")
        jo.fill("#password", "Jo's newer secret words")
        jo.fill("#again", "Jo's newer secret words")
        jo.click("#change button[type=submit]")
        jo.wait_for_selector("text=Your password is changed.")
        assert_accessible(jo, "account")
        jo.goto(f"{server}/trends")

        # Unassign: Jo's view says so.
        page.click("text=Unassign Dr. Okafor from Jo")
        page.wait_for_selector("#assignments tr:has-text('Dr. Okafor')", state="detached")
        jo.reload()
        jo.wait_for_selector("text=No clinician can see your practice.")

        # Deactivate, after a confirmation that says what it does; Jo is signed out.
        page.click("text=Deactivate Jo")
        assert "cannot sign in again" in page.inner_text("#confirm")
        page.click("#confirm-no")
        assert "Active" in _row(page, "people", "Jo").inner_text()
        page.click("text=Deactivate Jo")
        page.click("#confirm-yes")
        page.wait_for_selector("#people tr:has-text('Jo') >> text=/Deactivated/")
        jo.reload()
        jo.wait_for_url("**/login*")
        jo.fill("#email", "jo@example.org")
        jo.fill("#password", "Jo's newer secret words")
        jo.click("button[type=submit]")
        jo.wait_for_selector("text=That email and password don't match an account.")

        # A password link for someone who forgot theirs: shown once to hand over.
        page.click("text=Password link for Dr. Okafor")
        page.wait_for_selector("#handover-words:has-text('Give Dr. Okafor this link')")

        # The audit log, in words, filtered.
        log = page.inner_text("#entries")
        for line in ("deactivated Jo", "unassigned Dr. Okafor", "assigned Dr. Okafor",
                     "added Jo (client)", "set their password by a link"):
            assert line in log, line
        page.select_option("#f-action", label="deactivate")
        page.click("#filters button[type=submit]")
        page.wait_for_function("() => document.querySelectorAll('#entries tr').length === 1")
        assert "Alex (admin)" in page.inner_text("#entries")
        assert "deactivated Jo" in page.inner_text("#entries")
        screenshot(page, "admin")
        assert_accessible(page, "admin")
        assert all(url.startswith(server) for url in requested), requested
    finally:
        admin_ctx.close()
        person_ctx.close()


def test_a_forgotten_password_asks_an_administrator(server: str, browser: object) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{server}/login")
        page.click("text=Forgot your password?")
        # The sign-in page has an #email too: filled before the link's page loads, the
        # address went to the sign-in form (it failed so under load).
        page.wait_for_url("**/forgot-password")
        page.fill("#email", "client@example.org")
        page.click("button[type=submit]")
        page.wait_for_selector("text=Please ask your administrator for a link")
        assert_accessible(page, "forgot-password")
    finally:
        context.close()


def test_the_api_documentation_works_offline(server: str, browser: object) -> None:
    """Before: /docs loaded Swagger UI from a CDN and was blank offline; /redoc loaded web
    fonts. ReDoc still asks for its maker's logo from a CDN: the pages' policy stops that
    in the browser, before it leaves."""
    context = browser.new_context()  # type: ignore[attr-defined]
    requested: list[str] = []
    blocked: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    context.on("requestfailed", lambda request: blocked.append(request.url)
               if request.failure == "csp" else None)
    try:
        page = context.new_page()
        page.goto(f"{server}/docs")
        page.get_by_text("/api/auth/set-password", exact=True).wait_for()
        page.goto(f"{server}/redoc")
        page.get_by_text("Redeem a single-use link").first.wait_for()
        page.wait_for_load_state("networkidle")
        elsewhere = [u for u in requested if not u.startswith((server, "data:", "blob:"))]
        assert elsewhere == blocked, (elsewhere, blocked)
    finally:
        context.close()
