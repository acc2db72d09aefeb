"""A whole practice as a client meets it (issue 25): breathing safely before the first one,
a rating that needs a touch, the letter written with the guide resting and read back with it,
"This is a lot" and carrying on, the one closing, the check-in; and the clinician's queue and
the shared letter beside the heart's trace, until the client stops sharing it."""

from __future__ import annotations

from tests.e2e.conftest import screenshot
from tests.e2e.test_pages import sign_in

SPEED = 75  # the letter stage's 10 minutes in 8 s
FETCH = """async (path) => (await fetch(path)).json()"""  # the page's sign-in: its cookie


def test_a_practice_with_a_letter_and_a_moment_that_was_a_lot(server: str,
                                                              browser: object) -> None:
    client_ctx = browser.new_context(viewport={"width": 900, "height": 1400})  # type: ignore[attr-defined]
    clinician_ctx = browser.new_context()  # type: ignore[attr-defined]
    try:
        client = sign_in(client_ctx, server, "client@example.org")
        client.wait_for_url("**/breathe")
        client.goto(f"{server}/breathe?speed={SPEED}&practice=1&stage=compassionate-letter")
        client.wait_for_selector("#before details.safety")
        # Open before the first practice (this worker's service may have had none yet),
        # otherwise one click away.
        if not client.evaluate("() => document.querySelector('#before details.safety').open"):
            client.click("#before details.safety summary")
        assert "dizzy, light-headed or tingly" in client.inner_text("#before details.safety")
        client.check("input[name=source][value=demo]")
        client.click("#critic-before button[data-value='6']")
        client.click("#begin")
        client.wait_for_selector("#this-is-a-lot")
        # Quiet by default: the plan is not confirmed, so no state words and no numbers.
        assert client.locator("#state").is_hidden()
        assert client.locator("#during .numbers").is_hidden()
        client.wait_for_selector("#letter-the-pain", timeout=60_000)
        assert "The guide rests while you write" in client.inner_text("#cue")
        client.fill("#letter-the-pain", "It has been a hard week.")
        client.fill("#letter-one-step", "A slow walk after work.")
        client.wait_for_selector("#letter-saved:has-text('Saved.')")
        client.click("#this-is-a-lot")
        client.wait_for_selector("#ready:visible")
        assert "the chair under you" in client.inner_text("#cue")
        assert "safe here" not in client.inner_text("#during")
        screenshot(client, "practice-this-is-a-lot")
        client.click("#ready")
        client.wait_for_selector("#cue:has-text('Welcome back')")
        client.wait_for_selector("#workspace:has-text('Your letter, to read back')",
                                 timeout=60_000)
        assert "A slow walk after work." in client.inner_text("#workspace")
        client.click("#workspace button:has-text('Share with my clinician')")
        client.wait_for_selector("#workspace button:has-text('stop sharing')")
        client.wait_for_selector("#after:has-text('You gave yourself this time. What did "
                                 "you notice?')", timeout=60_000)
        closing = client.inner_text("#after")
        for score in ("soothed", "shift", "%", "minutes"):
            assert score not in closing.lower(), score
        client.fill("#check-in", "Better now, a bit shaky.")
        client.click("#after button:has-text('Send to my clinician')")
        client.wait_for_selector("#after:has-text('Sent.')")
        screenshot(client, "practice-closing")

        clinician = sign_in(clinician_ctx, server, "clinician@example.org")
        clinician.wait_for_url("**/observe")
        queue = clinician.evaluate(FETCH, "/api/clinician/backdrafts")
        moment = next(m for m in queue if m["check_in"] == "Better now, a bit shaky.")
        assert moment["raised_by"] == "client" and moment["step"] == "compassionate-letter"
        client_id = moment["client_id"]
        letters = clinician.evaluate(FETCH, f"/api/clients/{client_id}/writings")
        assert any(w["body"].get("the-pain") == "It has been a hard week." for w in letters)
        # The clinician reads the shared letter beside the heart's trace of its moments;
        # once the client stops sharing it, it is gone from their page.
        clinician.click("nav >> text=Shared letters")
        clinician.wait_for_selector(".shared-letter figure")
        shown = clinician.inner_text(".shared-letter")
        assert "A compassionate letter" in shown and "It has been a hard week." in shown
        assert "written from" in shown and "read back from" in shown
        screenshot(clinician, "practice-shared-letter")
        client.click("nav >> text=Your account")
        mine = client.locator("#writing-list li", has_text="It has been a hard week.")
        mine.locator("button:has-text('Stop sharing')").click()
        mine.locator("text=Private.").wait_for()
        clinician.reload()
        clinician.wait_for_selector("#none:has-text('has not shared a letter with you')")
    finally:
        client_ctx.close()
        clinician_ctx.close()
