"""The event-loop watch: a stall is timed and logged with the code that caused it."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from fastapi.testclient import TestClient

from heartsease.api.watchdog import EventLoopWatch


def _hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # a blocking call where an await belonged


def test_a_stalled_loop_is_timed_and_logged_with_what_held_it(
        caplog: pytest.LogCaptureFixture) -> None:
    async def run() -> tuple[dict[str, float], dict[str, float]]:
        watch = EventLoopWatch(asyncio.get_running_loop(), ask_every_s=0.02, stall_s=0.2)
        watch.start()
        await asyncio.sleep(0.2)
        before = watch.lag_ms()
        _hold_the_loop(0.6)
        await asyncio.sleep(0.1)
        watch.stop()
        return before, watch.lag_ms()

    with caplog.at_level(logging.WARNING, logger="heartsease.api.watchdog"):
        before, after = asyncio.run(run())
    # An idle loop answers within a few milliseconds; 100 ms leaves room for a busy CI
    # machine. The stall is timed from the first question asked inside it, at most one
    # ask interval (20 ms) plus the thread's wake-up after the hold began, so its answer
    # took between 0.6 s less that and 0.6 s plus the loop's own catching up.
    assert before["max"] < 100
    assert 500 <= after["max"] <= 900
    assert len(caplog.records) == 1
    assert "_hold_the_loop" in caplog.text and "time.sleep(seconds)" in caplog.text


def test_health_says_how_promptly_the_worker_answers(client: TestClient) -> None:
    time.sleep(0.6)  # two questions asked and answered
    lag = client.get("/api/health").json()["event_loop_lag_ms"]
    assert set(lag) == {"p99", "max"}
    assert 0 < lag["p99"] <= lag["max"] < 1000
