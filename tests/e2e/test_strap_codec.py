"""The page decodes and times a strap's notifications exactly as the Python reader does:
the same real payloads and the same Polar H10 recording through ``hrm.js`` /
``beat-timing.js`` in Chromium and through ``sensors/hrm.py`` / ``sensors/ble.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from heartsease.sensors.hrm import MalformedMeasurementError, parse_hrm
from tests.e2e.strap_data import (
    STATIC,
    captured_payloads,
    polar_h10_notifications,
    python_beat_times,
)

ORIGIN = "http://heartsease.test"


@pytest.fixture(scope="module")
def page(browser: object) -> Iterator[object]:
    """A blank page whose origin serves the static modules (no server needed)."""
    context = browser.new_context()  # type: ignore[attr-defined]

    def serve(route: object) -> None:
        path = route.request.url.removeprefix(ORIGIN)  # type: ignore[attr-defined]
        if path.startswith("/static/"):
            route.fulfill(path=str(STATIC / path.removeprefix("/static/")),  # type: ignore[attr-defined]
                          content_type="text/javascript")
        else:
            route.fulfill(body="<!doctype html><title>codec</title>",  # type: ignore[attr-defined]
                          content_type="text/html")

    context.route(f"{ORIGIN}/**", serve)
    page = context.new_page()
    page.goto(f"{ORIGIN}/")
    try:
        yield page
    finally:
        context.close()


def python_decode(hex_payload: str) -> dict[str, object]:
    try:
        m = parse_hrm(bytes.fromhex(hex_payload))
    except MalformedMeasurementError as exc:
        return {"error": str(exc)}
    return {"hrBpm": m.hr_bpm, "contact": m.contact.value,
            "energyExpendedKj": m.energy_expended_kj, "rr1024ths": list(m.rr_1024ths),
            "rrMs": list(m.rr_ms), "hrUint16": m.hr_uint16, "trailingBytes": m.trailing_bytes}


DECODE_IN_PAGE = """async (payloads) => {
  const { parseHrm } = await import("/static/hrm.js");
  return payloads.map((hex) => {
    const bytes = new Uint8Array(hex.length / 2).map((_, k) => parseInt(hex.substr(2 * k, 2), 16));
    try { return parseHrm(new DataView(bytes.buffer)); } catch (e) { return { error: e.message }; }
  });
}"""

# Malformed and edge-case payloads beside the captured ones: empty, a uint16 rate cut short,
# energy cut short, reserved bits set, a uint16 rate with energy and RR.
MADE_UP = ["", "01", "013c", "083c01", "e03c", "193c01d2040004", "1f2c01d204ff01ff010c01"]


def test_the_real_payloads_decode_byte_for_byte_as_in_python(page: object,
                                                             refdata: Path) -> None:
    payloads = captured_payloads(refdata) + MADE_UP
    in_page = page.evaluate(DECODE_IN_PAGE, payloads)  # type: ignore[attr-defined]
    assert len(captured_payloads(refdata)) == 15
    for hex_payload, decoded in zip(payloads, in_page, strict=True):
        assert decoded == python_decode(hex_payload), hex_payload


TIME_IN_PAGE = """async (notifications) => {
  const { NotificationTimer } = await import("/static/beat-timing.js");
  const timer = new NotificationTimer(), times = [];
  for (const [arrival, hex] of notifications) {
    const bytes = new Uint8Array(hex.length / 2).map((_, k) => parseInt(hex.substr(2 * k, 2), 16));
    const m = timer.take(arrival, new DataView(bytes.buffer));
    if (m) times.push(...m.beatTimesS);
  }
  return times;
}"""


def test_the_polar_h10_recording_is_timed_as_the_python_reader_times_it(
        page: object, refdata: Path) -> None:
    notifications = polar_h10_notifications(refdata)
    in_python = python_beat_times(notifications)
    in_page = page.evaluate(TIME_IN_PAGE, notifications)  # type: ignore[attr-defined]
    assert len(in_page) == len(in_python) == 620
    worst_s = max(abs(a - b) for a, b in zip(in_page, in_python, strict=True))
    # The same steps on the same doubles: equal to the nanosecond both round to (the issue
    # asks for 1 ms; anything above a nanosecond would be a step done differently).
    assert worst_s <= 1e-9, worst_s


def test_stale_repeats_and_impossible_intervals_are_dropped_as_in_python(page: object) -> None:
    # 1000 ms twice within half a beat (a stale repeat), then 28 ms and 3100 ms (junk).
    notifications = [(10.020, "163c0004"), (10.030, "163c0004"), (11.0, "163c1c00"),
                     (12.0, "163c0004"), (15.1, "163c340c0004")]
    assert page.evaluate(TIME_IN_PAGE, notifications) == python_beat_times(notifications)  # type: ignore[attr-defined]
