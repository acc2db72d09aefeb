"""Trends drawn from the demo client's weeks of practice, the session report, the error
pages, and accessibility (axe-core's WCAG 2 A/AA rules, the keyboard, reduced motion, a
phone's width) in Chromium."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_pages import sign_in

# Every page a person can reach, checked by axe-core (shipped inside the
# axe-playwright-python wheel) against the WCAG 2.0/2.1 A and AA rules, contrast included.
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# The trends pages draw weeks of practice: this module's tests share the service that has
# them, on one xdist worker, as making those weeks takes 20-40 s.
pytestmark = pytest.mark.xdist_group("history")


@pytest.fixture(scope="module")
def server(server_with_history: str) -> str:
    return server_with_history


# Where, in the page, the last day's point of the HRV chart (its 4th series) is drawn.
LAST_DAY_ON_THE_HRV_CHART = """() => {
    const u = document.querySelector('#hrv-chart').chart, days = u.data[4];
    let i = days.length - 1;
    while (days[i] === null) i -= 1;
    const plot = u.over.getBoundingClientRect();
    return { x: plot.left + u.valToPos(u.data[0][i], 'x'), y: plot.top + u.valToPos(days[i], 'y') };
}"""


def assert_accessible(page: object, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def test_a_clients_trends_are_drawn_from_their_sessions(server: str, browser: object) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 1000})  # type: ignore[attr-defined]
    try:
        page = sign_in(context, server, "client@example.org")
        page.wait_for_url("**/breathe")
        page.click("nav >> text=Trends")
        page.wait_for_selector("body[data-drawn=yes]", timeout=30_000)
        # The demo's 6 weeks: a resting value on most days, the usual-range band, the
        # 7-day average, and every other chart with its points.
        # (Each chart keeps its uPlot on its element: data[0] the days, then one array per
        # series, null on the days without a value.)
        counts = page.evaluate("""() => Object.fromEntries(
            [...document.querySelectorAll('.chart')].map((c) => [c.id, c.chart.data.slice(1).map(
                (y) => y.filter((v) => v !== null && v !== undefined).length)]))""")
        band_high, band_low, average, daily = counts["hrv-chart"]
        assert daily >= 20 and average >= daily and band_low == band_high >= daily - 3
        assert all(n >= 20 for name, traces in counts.items() if name != "hrv-chart"
                   for n in traces), counts
        assert page.locator("#hrv-chart canvas").count() >= 1
        assert "You practised on" in page.inner_text("#summary")
        # Their practice and their own ratings: no minutes soothed, shifts or coherence
        # numbers to strive for (the clinician's page has them).
        shown = page.inner_text("main")
        for score in ("soothed", "Soothed", "Shifts", "shifts", "Coherence", "%"):
            assert score not in shown, score
        assert page.locator("#sessions tr:visible").count() == 10
        page.click("#all-sessions")
        assert page.locator("#sessions tr:visible").count() == page.locator("#sessions tr").count()
        assert page.locator("#sessions tr").count() >= daily
        screenshot(page, "trends")
        assert_accessible(page, "trends")

        # A day on the chart opens its session's report.
        page.locator("#hrv-chart").scroll_into_view_if_needed()
        point = page.evaluate(LAST_DAY_ON_THE_HRV_CHART)
        page.mouse.click(point["x"], point["y"])
        page.wait_for_url("**/report?session=*")
        report = page.frame_locator("#report")
        # The client's own report: their practice and words, gently; no chart of states.
        report.locator("h1:has-text('Your session')").wait_for()
        assert "You gave yourself this time." in report.locator("body").inner_text()
        screenshot(page, "report")
        assert_accessible(page, "report")
        with page.expect_download() as download:
            page.click("text=RR intervals (Kubios)")
        assert download.value.suggested_filename.endswith(".txt")
        page.go_back()
        page.wait_for_selector("body[data-drawn=yes]")
        # Days in the address that are not days give way to the usual weeks ("Something went
        # wrong." before).
        page.goto(page.url.split("/trends")[0] + "/trends?start=garbage&end=2026-13-45")
        page.wait_for_selector("body[data-drawn=yes]")
        assert page.inner_text("#error") == ""
        assert page.input_value("#start") < page.input_value("#end")
    finally:
        context.close()


def test_clinician_sees_assigned_trends_and_no_one_elses(server: str, browser: object) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 1000})  # type: ignore[attr-defined]
    try:
        page = sign_in(context, server, "clinician@example.org")
        page.wait_for_url("**/observe")
        page.wait_for_selector("#clients a:has-text('trends')")
        assert_accessible(page, "observe")
        page.click("#clients a:has-text('trends')")
        page.wait_for_selector("body[data-drawn=yes]", timeout=30_000)
        assert page.locator("#client option").first.inner_text() == "Sam"
        # Spoken of the client here, not to them ("your own usual range" before).
        assert "the band is the client's own usual range" in page.inner_text("#hrv-caption")
        assert page.inner_text("#ratings-caption").startswith("The client's own ratings")
        page.click(".presets >> text=4 weeks")
        page.wait_for_function(
            "() => document.querySelector('#hrv-chart').chart.data[0].length <= 28")
        page.goto(f"{server}/trends?client=not-a-client-of-yours")
        page.wait_for_selector("#error:has-text('not yours to see')")
        assert page.locator("#charts").is_hidden()
        screenshot(page, "trends-no-access")
    finally:
        context.close()


def test_error_pages_say_what_happened(server: str, browser: object) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{server}/no-such-page")
        assert page.inner_text("h1") == "This page isn't here"
        assert_accessible(page, "not found")
        context.add_cookies([{"name": "heartsease_session", "value": "expired-or-forged",
                              "url": server}])
        page.goto(f"{server}/trends")
        page.wait_for_url("**/login?reason=expired&next=%2Ftrends")
        assert "signed out after a while" in page.inner_text("#reason")
        # A report's link opened signed out: signing in comes back to it (it landed on the
        # role's own page), and an empty form is asked to be filled, not refused.
        page.goto(f"{server}/report?session=nothing-here")
        page.wait_for_url("**/login?reason=expired&next=%2Freport%3Fsession%3Dnothing-here")
        page.click("button[type=submit]")
        page.wait_for_selector("#error:has-text('Please write your email and your password.')")
        page.fill("#email", "client@example.org")
        page.fill("#password", "heartsease-demo")
        page.click("button[type=submit]")
        page.wait_for_url("**/report?session=nothing-here")
        page.wait_for_selector("#error:has-text(\"isn't here\")")
        assert page.locator(".downloads").is_hidden()  # nothing to download from no session
        # Only this site's own pages: another's address is never followed.
        page.click("nav >> text=Sign out")
        page.wait_for_url("**/login")
        page.goto(f"{server}/login?next=//example.org/")
        page.fill("#email", "client@example.org")
        page.fill("#password", "heartsease-demo")
        page.click("button[type=submit]")
        page.wait_for_url("**/breathe")
    finally:
        context.close()


def test_signing_out_ends_the_token_on_the_server(server: str, browser: object) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = sign_in(context, server, "clinician@example.org")
        page.wait_for_url("**/observe")
        cookie = next(c["value"] for c in context.cookies() if c["name"] == "heartsease_session")
        headers = {"Cookie": f"heartsease_session={cookie}"}  # kept, as a thief would
        assert httpx.get(f"{server}/api/me", headers=headers).status_code == 200
        page.click("nav >> text=Sign out")
        page.wait_for_url("**/login")  # once the sign-out has landed
        assert httpx.get(f"{server}/api/me", headers=headers).status_code == 401
        assert not [c for c in context.cookies() if c["name"] == "heartsease_session"]
    finally:
        context.close()


def test_keyboard_only_sign_in_with_visible_focus(server: str, browser: object) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{server}/login")
        assert_accessible(page, "login")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "email"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"  # focus is visible, not only present
        page.keyboard.type("client@example.org")
        page.keyboard.press("Tab")
        page.keyboard.type("heartsease-demo")
        page.keyboard.press("Enter")
        page.wait_for_url("**/breathe")
        assert_accessible(page, "breathe")
        page.wait_for_selector("#critic-before button")
        for _ in range(40):  # the rating and Begin are reachable by Tab alone
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.value") == "0":
                break
        for _ in range(4):
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # a rating is given only by a touch (or a key)
        assert page.get_attribute("#critic-before button[data-value='4']",
                                  "aria-pressed") == "true"
        assert "Thank you." in page.inner_text("#critic-before")
    finally:
        context.close()


@pytest.mark.parametrize("path", ["breathe", "trends"])
def test_readable_on_a_phone_with_reduced_motion(server: str, browser: object,
                                                 path: str) -> None:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
        has_touch=True, reduced_motion="reduce")
    try:
        page = sign_in(context, server, "client@example.org")
        page.wait_for_url("**/breathe")
        page.goto(f"{server}/{path}")
        if path == "trends":
            page.wait_for_selector("body[data-drawn=yes]", timeout=30_000)
            page.click("text=The numbers, day by day")
            # Every table reads whole: no column cut off at the screen's edge, none
            # needing a sideways scroll inside its box.
            clipped = page.eval_on_selector_all(".table-wrap", """ws => ws.filter(
                (w) => w.scrollWidth > w.clientWidth).map((w) => w.scrollWidth)""")
            assert clipped == [], clipped
            assert page.locator("#days td:visible").count() >= 8
        else:
            page.wait_for_selector("#begin")
        # Nothing wider than the screen: no sideways scrolling to read a page.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
        screenshot(page, f"{path}-phone")
        if path == "breathe":  # the gentler pacer: a bar that fills, not a shape that moves
            page.goto(f"{server}/breathe?speed=5")
            page.check("input[name=source][value=demo]")
            page.click("#critic-before .skip")
            page.click("#begin")
            page.wait_for_selector("#shape[data-style=bar]")
            page.wait_for_selector("#part:has-text('Breathe')", timeout=60_000)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            screenshot(page, "breathe-phone-reduced-motion")
            page.click("#end")
            page.wait_for_selector("#after:not(.hidden)", timeout=30_000)
    finally:
        context.close()
