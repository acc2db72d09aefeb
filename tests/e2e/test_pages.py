"""A client breathes and a clinician watches, in two real browser contexts."""

from __future__ import annotations

from tests.e2e.conftest import screenshot, shape_sizes

SPEED = 20  # the simulated strap runs twenty times faster; the pages do not change
LOCAL = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")


def sign_in(context: object, server: str, email: str) -> object:
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(f"{server}/login")
    page.fill("#email", email)
    page.fill("#password", "heartsease-demo")
    page.click("button[type=submit]")
    return page


def test_breathing_with_a_clinician_watching(server: str, browser: object) -> None:
    client_ctx = browser.new_context(viewport={"width": 900, "height": 1100})  # type: ignore[attr-defined]
    clinician_ctx = browser.new_context(viewport={"width": 1400, "height": 1100})  # type: ignore[attr-defined]
    requested: list[str] = []  # nothing may come from anywhere but this server
    for context in (client_ctx, clinician_ctx):
        context.on("request", lambda request: requested.append(request.url))
    try:
        bad = client_ctx.new_page()
        bad.goto(f"{server}/login")
        bad.fill("#email", "client@example.org")
        bad.fill("#password", "wrong")
        bad.click("button[type=submit]")
        bad.wait_for_selector("#error:has-text(\"don't match\")")
        screenshot(bad, "login-error")

        client = sign_in(client_ctx, server, "client@example.org")
        client.wait_for_url("**/breathe")
        # A long practice: the session must still run when the clinician joins on a slow machine.
        client.goto(f"{server}/breathe?speed={SPEED}&practice=10")
        screenshot(client, "breathe-before")
        client.check("input[name=source][value=demo]")
        client.click("#critic-before button[data-value='7']")
        client.click("#begin")
        client.wait_for_selector("#during:not(.hidden)")
        client.wait_for_function("() => document.getElementById('hr').textContent !== '\u2013'",
                                 timeout=30_000)
        first_hr = client.text_content("#hr")
        # The pacer, not the free swell before it (which moves only a step or two near its turn).
        client.wait_for_selector("#shape[data-part]:not([data-part=''])", timeout=60_000)
        assert client.inner_text("#part") in ("Breathe in", "Breathe out")
        assert len(shape_sizes(client, 2.4)) >= 4  # the breathing shape moves
        assert client.inner_text("#status") == "Connected"
        # Past the minute or so that the rhythm chart shows, the page keeps no more beats.
        client.wait_for_function(
            "() => document.getElementById('rhythm').chart.data[0].length >= 90")
        client.wait_for_timeout(2_000)
        assert client.evaluate("document.getElementById('rhythm').chart.data[0].length") == 90

        clinician = sign_in(clinician_ctx, server, "clinician@example.org")
        clinician.wait_for_url("**/observe")
        # The demo heart is not the client's, and the clinician reads so (its sessions and a
        # simulated backdraft read as the client's own before).
        clinician.wait_for_selector("#clients:has-text('in a session (a demo heart, not theirs)')")
        clinician.click("text=Watch the live session")
        clinician.wait_for_selector(".room .tacho canvas", timeout=30_000)
        assert "A demo heart, not theirs." in clinician.inner_text(".room .name")
        # The clinician is told before writing that the client reads the notes.
        assert "sees each note on their breathing page as you add it." in clinician.inner_text(
            ".room .shared-notes")
        clinician.click(".room [data-note='compassionate imagery']")
        clinician.wait_for_selector(".room .notes li:has-text('compassionate imagery')")
        client.wait_for_selector("#timeline li:has-text('Dr. Rivera noted: compassionate imagery')")
        assert client.text_content("#hr") != "" and first_hr
        screenshot(client, "breathe-during")
        screenshot(clinician, "observe")
        # A reload keeps the room open (it closed every room before), and its notes with it.
        clinician.reload()
        clinician.wait_for_selector(".room .tacho canvas", timeout=30_000)
        clinician.wait_for_selector(".room .notes li:has-text('compassionate imagery')")
        assert clinician.locator(".room").count() == 1
        client.click("#end")
        client.wait_for_selector("#after:not(.hidden)", timeout=30_000)
        client.wait_for_selector("#after:has-text('You gave yourself this time.')")
        screenshot(client, "breathe-after")
        assert not [url for url in requested if not url.startswith(LOCAL)], requested
    finally:
        client_ctx.close()
        clinician_ctx.close()


def test_a_run_of_the_same_read_is_one_row_of_the_record(server: str, browser: object
                                                         ) -> None:
    """The observation room lists the sessions every 5 s, each read audit-logged: a client's
    own record showed about 50 rows of it in 4 minutes, and a live view as "observe"."""
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{server}/login")
        cells, same, watched = page.evaluate("""async () => {
            const { auditRow, sameDoing, what } = await import('/static/audit-words.js');
            const entry = (id, at, action) => ({ id, at, action, actor_id: 'c1',
              actor_name: 'Dr. Rivera', subject_name: 'Sam', detail: null, object_id: null });
            const newest = entry(3, '2026-12-05T11:34:18Z', 'list-sessions');
            const row = auditRow(newest, [entry(2, '2026-12-05T11:32:00Z', 'list-sessions'),
                                          entry(1, '2026-12-05T11:30:05Z', 'list-sessions')]);
            return [Array.from(row.cells, (c) => c.textContent),
                    [sameDoing(newest, entry(2, '2026-12-05T11:32:00Z', 'list-sessions')),
                     sameDoing(newest, entry(4, '2026-12-05T11:35:00Z', 'observe'))],
                    what(entry(5, '2026-12-05T11:36:00Z', 'observe'))];
        }""")
        assert " to " in cells[0] and cells[0].startswith("Dec 5, 2026"), cells
        assert cells[1:] == ["Dr. Rivera", "listed the sessions (3 times)", "Sam"]
        assert same == [True, False]
        assert watched == "watched a session live"
        # A moment's body change that rounds to nothing read "heart rate \u22120 beats/min".
        assert page.evaluate("""async () => {
            const { signed } = await import('/static/common.js');
            return [signed(-0.3, 0), signed(0.4, 0), signed(-1.86, 2), signed(10.2, 0)];
        }""") == ["±0", "±0", "\u22121.86", "+10"]
    finally:
        context.close()


def test_the_words_about_the_body_hold_before_they_change(server: str, browser: object
                                                          ) -> None:
    """The client's words followed every 5-s estimate: "protect you", "steady", "listening"
    and "settling" within one minute. A new estimate shows once it holds 15 s, not knowing
    once it lasts a minute."""
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{server}/login")
        shown = page.evaluate("""async () => {
            const { steadyState } = await import('/static/practice.js');
            const said = [['threat', 0], ['neutral', 5], ['threat', 10], ['neutral', 15],
                          ['neutral', 20], ['neutral', 25], ['neutral', 30], ['unknown', 35],
                          ['soothing', 40], ['unknown', 45], ['unknown', 100],
                          ['unknown', 105]];
            return said.map(([state, t]) => steadyState(state, t));
        }""")
        assert shown == ["threat", "threat", "threat", "threat", "threat", "threat",
                         "neutral", "neutral", "neutral", "neutral", "neutral", "unknown"]
    finally:
        context.close()


def test_a_live_list_keeps_only_its_window(server: str, browser: object) -> None:
    """The observation room keeps the last minutes of each list it draws (and the state or
    pace still in effect when they start), however long the session runs."""
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{server}/login")
        kept = page.evaluate("""async () => {
            const { keepFrom } = await import('/static/charts.js');
            const beats = Array.from({ length: 5000 }, (_, i) => ({ t: i * 0.8 }));
            const states = [{ t: 0 }, { t: 100 }, { t: 3000 }];
            keepFrom(beats, 3100);
            keepFrom(states, 3100, { keepOneBefore: true });
            return [beats.length, beats[0].t, states.map((s) => s.t)];
        }""")
        assert kept == [1125, 3100, [3000]]
    finally:
        context.close()
