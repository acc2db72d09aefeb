"""A practice plan per client (issue 24, item 1), walked as the clinician and the client
would: the clinician opens a client's plan from the observation room and sets it; the
client's next practice follows it (its length, pace, in:out ratio with holds, stage and what
they see); the clinician changes it to the resonance assessment, which the client runs from
the breathing page on the demo heart; its pick is within 0.5/min of the simulated person's
resonance, and the clinician confirms it as the pace.

A client of its own (Robin, unassigned again at the end), so the demo client's plan and
Dr. Rivera's list of clients stay as the other journeys expect."""

from __future__ import annotations

import re

import httpx

from tests.e2e.conftest import screenshot
from tests.e2e.test_pages import sign_in
from tests.e2e.test_trends_and_access import assert_accessible

SPEED = 100  # the assessment's 14 minutes in 8.4 s
SIMULATED_RESONANCE_BPM = 5.5  # the demo heart's person (simulator.scenarios.person)
ROBIN = ("robin.plan@example.org", "Robin's own long password")


def _robin(server: str) -> tuple[dict[str, str], dict[str, str]]:
    """An administrator adds Robin, who sets a password, and assigns them to Dr. Rivera:
    the administrator's headers and the assignment."""
    token = httpx.post(f"{server}/api/auth/token", data={
        "username": "admin@example.org", "password": "heartsease-demo"}).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    added = httpx.post(f"{server}/api/users", headers=admin, json={
        "email": ROBIN[0], "name": "Robin", "role": "client"})
    assert added.status_code == 201, added.text
    assert httpx.post(f"{server}/api/auth/set-password", json={
        "token": added.json()["link"].split("#", 1)[1], "password": ROBIN[1]}
    ).status_code == 204
    rivera = next(u for u in httpx.get(f"{server}/api/users", headers=admin).json()
                  if u["email"] == "clinician@example.org")
    assignment = {"clinician_id": rivera["id"], "client_id": added.json()["user"]["id"]}
    assert httpx.post(f"{server}/api/assignments", headers=admin,
                      json=assignment).status_code == 201
    return admin, assignment


def _begin(page: object, server: str) -> None:
    page.goto(f"{server}/breathe?speed={SPEED}")  # type: ignore[attr-defined]
    page.wait_for_selector("#before:not(.hidden)")  # type: ignore[attr-defined]


def _start(page: object) -> None:
    page.check("input[name=source][value=demo]")  # type: ignore[attr-defined]
    page.click("#critic-before button[data-value='4']")  # type: ignore[attr-defined]
    page.click("#begin")  # type: ignore[attr-defined]
    page.wait_for_selector("#during:not(.hidden)")  # type: ignore[attr-defined]
    # every word the guide says, and the pace it draws at
    page.evaluate("""() => { window.parts = new Set(); window.rates = new Set();
      new MutationObserver(() => {
        window.parts.add(document.getElementById('part').textContent);
        window.rates.add(document.getElementById('shape').dataset.rate);
      }).observe(document.getElementById('during'), {subtree: true, childList: true,
        characterData: true, attributes: true, attributeFilter: ['data-rate']}); }""")  # type: ignore[attr-defined]


def test_a_clinician_sets_and_changes_a_plan_and_the_client_follows_it(
        server: str, browser: object) -> None:
    admin, assignment = _robin(server)
    clinician_ctx = browser.new_context(viewport={"width": 1100, "height": 1000})  # type: ignore[attr-defined]
    client_ctx = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    try:
        clinician = sign_in(clinician_ctx, server, "clinician@example.org")
        clinician.wait_for_url("**/observe")
        clinician.click("a[aria-label='Practice plan of Robin']")
        clinician.wait_for_selector("#summary:has-text(\"Robin's next practice\")")
        summary = clinician.inner_text("#summary")
        assert "Soothing rhythm breathing" in summary and "at 6 breaths a minute" in summary
        assert "the quiet view" in summary
        # A pace outside the limits is refused in words.
        clinician.check("input[name=pacemaker][value=no]")
        clinician.check("input[name=pressure][value=yes]")
        # A half-written number reads as empty, which is the default: said so, not saved.
        clinician.type("#pace", "5e")
        clinician.click("#save")
        clinician.wait_for_selector(
            "#save-error:has-text('Pace: write a number, or leave it empty.')")
        clinician.fill("#pace", "2")  # outside any plan: in the form's words, not pydantic's
        clinician.click("#save")
        clinician.wait_for_selector("#save-error:has-text('Pace: at least 3, not 2.')")
        clinician.fill("#pace", "5")
        clinician.click("#save")
        clinician.wait_for_selector("#save-error:has-text('outside this plan')")
        assert "5.5 to 7" in clinician.inner_text("#save-error")
        clinician.check("input[name=pressure][value=no]")
        clinician.fill("#practice-minutes", "1")
        clinician.fill("#hold-in", "1")
        clinician.fill("#hold-out", "2")
        clinician.check("#stages input[value=safe-place]")
        clinician.check("#show-states")
        clinician.click("#save")
        clinician.wait_for_selector("#saved:has-text(\"Saved. Robin's next practice\")")
        assert "with safe place, about 10 minutes, at 5 breaths a minute, in 4 : hold 1 : " \
            "out 6 : rest 2. They see state words." in clinician.inner_text("#summary")
        screenshot(clinician, "plan-set")
        assert_accessible(clinician, "plan")

        client = client_ctx.new_page()
        client.goto(f"{server}/login")
        client.fill("#email", ROBIN[0])
        client.fill("#password", ROBIN[1])
        client.click("button[type=submit]")
        client.wait_for_url("**/breathe")
        _begin(client, server)
        assert client.inner_text("#before-length").startswith(
            "About 10 minutes, at 5 breaths a minute (in 4, hold 1, out 6, rest 2).")
        _start(client)
        # The practice lasted the plan's minute; the stage came after it.
        client.wait_for_selector("#timeline:has-text('4:30 · A safe place')", timeout=20_000)
        timeline = client.inner_text("#timeline")
        assert "3:30 · Soothing rhythm" in timeline
        assert client.locator("#state").is_visible()  # state words: on
        assert client.locator("#during .numbers").is_hidden()  # numbers: not
        assert client.locator("#numbers-hint").is_hidden()  # nor the words about them
        assert client.inner_text("details:has(#state) summary") == "Your heart in words"
        screenshot(client, "plan-followed-phone")
        parts = set(client.evaluate("() => [...window.parts]"))
        assert {"Breathe in", "Hold gently", "Breathe out", "Rest"} <= parts, parts
        rates = {float(r) for r in client.evaluate("() => [...window.rates]") if r}
        assert 5.0 in rates and min(rates) == 5.0, rates  # glides down to the pace, no lower
        client.click("#end")
        client.wait_for_selector("#after-title")

        # The clinician changes the plan: the assessment, with numbers shown too.
        clinician.select_option("#protocol", "resonance")
        clinician.check("#show-numbers")
        clinician.click("#save")
        clinician.wait_for_selector("#summary:has-text('Finding your breathing pace')")
        assert "at the assessment's own rates" in clinician.inner_text("#summary")

        _begin(client, server)
        assert client.inner_text("#before-title") == "Finding your breathing pace"
        assert client.input_value("#scenario") == "resonance-sweep"  # a steady demo person
        _start(client)
        client.wait_for_selector("#step:has-text('6.5 breaths a minute')")
        assert client.locator("#during .numbers").is_visible()
        assert client.inner_text("#numbers-hint") == (
            "Your breathing rate is read from your heartbeat over the last two minutes. It "
            "shows here once the heartbeat makes it clear.")
        client.wait_for_selector("#after:has-text('What it found goes to your clinician')",
                                 timeout=30_000)
        rates = {float(r) for r in client.evaluate("() => [...window.rates]") if r}
        assert {6.5, 6.0, 5.5, 5.0, 4.5} <= rates, rates

        clinician.reload()
        clinician.wait_for_selector("#resonance:has-text('found')")
        found = re.search(r"found ([\d.]+) breaths a minute", clinician.inner_text("#resonance"))
        assert found is not None, clinician.inner_text("#resonance")
        pick = float(found[1])
        assert abs(pick - SIMULATED_RESONANCE_BPM) <= 0.5, pick
        screenshot(clinician, "plan-resonance-pick")
        clinician.click(f"#use-pick:has-text(\"Use {found[1]}/min as Robin's pace\")")
        clinician.wait_for_selector(f"#saved:has-text(\"{found[1]} a minute is now Robin's "
                                    "pace\")")
        assert f"Soothing rhythm breathing, about 16 minutes, at {found[1]} breaths a minute" \
            in clinician.inner_text("#summary")
        assert "since you confirmed it" in clinician.inner_text("#resonance")
        _begin(client, server)
        assert f"at {found[1]} breaths a minute" in client.inner_text("#before-length")
    finally:
        clinician_ctx.close()
        client_ctx.close()
        httpx.request("DELETE", f"{server}/api/assignments", headers=admin, json=assignment)
