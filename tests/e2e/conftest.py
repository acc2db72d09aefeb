"""Browser tests: Debian's Chromium (``/usr/bin/chromium``, installed by ``.ci/run``) driven
by Playwright against ``heartsease serve`` started here on 127.0.0.1. Without Chromium they
skip and say so, except in CI, where that is a failure. Screenshots go to
``.e2e-screenshots/`` for a person to look at."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from heartsease.api.settings import Settings
from tests.conftest import free_port, serve

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".e2e-screenshots"
# The flags a closed network needs: no background fetches, no update checks, no sync.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service the browser tests share (one per xdist worker), its demo people without
    weeks of history: they start at once."""
    yield from _service(tmp_path_factory, history_days=0)


@pytest.fixture(scope="session")
def server_with_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service with the demo client's weeks of practice, which the trends pages draw."""
    yield from _service(tmp_path_factory,
                        history_days=Settings.model_fields["demo_history_days"].default)


def _service(tmp_path_factory: pytest.TempPathFactory, history_days: int) -> Iterator[str]:
    port = free_port()
    db = tmp_path_factory.mktemp("e2e") / "heartsease.db"
    process: subprocess.Popen[bytes] = serve(f"sqlite:///{db}", port,
                                             HEARTSEASE_DEMO_HISTORY_DAYS=str(history_days))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_demo_history(base)
        yield base
    finally:
        process.terminate()
        process.wait()


def wait_for_demo_history(base: str, timeout_s: float = 300.0) -> None:
    """The server answers at once; the demo client's weeks of practice, which the trends
    pages draw, are made behind it (20-40 s on a 2-core machine)."""
    deadline = time.monotonic() + timeout_s
    while (state := httpx.get(f"{base}/api/health", timeout=5).json()["demo_history"]
           ) == "filling":
        if time.monotonic() > deadline:
            raise AssertionError(f"the demo history was not ready in {timeout_s:.0f} s")
        time.sleep(0.5)
    assert state == "ready", f"the demo history: {state}"


# Per module: Playwright's sync API keeps an event loop running while it is open, which
# the asyncio tests that follow cannot share.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Chromium at {CHROMIUM} (.ci/run installs it)")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; CI runs these)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def shape_sizes(page: object, seconds: float) -> set[str]:
    """The sizes the breathing shape was painted at over ``seconds``: the page writes each on
    the shape when it paints it (the free swell before the pacer, a few pixels, is painted
    each half pixel, so a look every few hundred ms may see it twice at one size)."""
    page.evaluate("""() => { window.shapeSizes = new Set(); new MutationObserver(() =>
        window.shapeSizes.add(document.getElementById('shape').dataset.lungs)).observe(
        document.getElementById('shape'), { attributes: true, attributeFilter: ['data-lungs'] });
    }""")  # type: ignore[attr-defined]
    page.wait_for_timeout(seconds * 1000)  # type: ignore[attr-defined]
    return set(page.evaluate("() => [...window.shapeSizes]"))  # type: ignore[attr-defined]


def bearer(server: str, email: str, password: str = "heartsease-demo") -> dict[str, str]:
    """An API sign-in of a demo person's (their password is the demo one unless given)."""
    r = httpx.post(f"{server}/api/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
