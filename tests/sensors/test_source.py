"""The live clock that sources run on."""

from __future__ import annotations

import asyncio

import pytest

from heartsease.sensors.source import LiveClock
from heartsease.simulator.virtual_strap import virtual_time


def test_a_faster_live_clock_sleeps_its_own_seconds_in_fewer_of_the_loops() -> None:
    async def main() -> tuple[float, float, float]:
        with virtual_time():
            loop = asyncio.get_running_loop()
            clock = LiveClock(speed=10.0)
            start = loop.time()
            await clock.sleep(30.0)
            await clock.sleep_until(50.0)
            await clock.sleep(-5.0)  # the past: no wait
            return clock.now(), loop.time() - start, LiveClock().now()

    now_s, loop_s, fresh_s = asyncio.run(main())
    assert now_s == pytest.approx(50.0, abs=1e-6)
    assert loop_s == pytest.approx(5.0, abs=1e-6)
    assert fresh_s == 0.0  # time 0 is when the clock was made
