"""The bleak reader against the simulator's virtual strap, through bleak's own client and
scanner (only the backend classes are virtual), on virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from heartsease.sensors.ble import StrapNotFoundError, StrapReader, scan
from heartsease.sensors.files import record_text
from heartsease.sensors.hrm import MalformedMeasurementError, parse_hrm
from heartsease.sensors.replay import replay
from heartsease.sensors.source import Gap, LiveClock, Measurement
from heartsease.sensors.timing import retime
from heartsease.simulator.radio import VirtualRadio
from heartsease.simulator.scenarios import simulate
from heartsease.simulator.virtual_strap import LinkDrop, VirtualStrap, virtual_time

T = TypeVar("T")


def run_virtual(main: Callable[[], Awaitable[T]]) -> T:
    async def wrapped() -> T:
        with virtual_time():
            return await main()

    return asyncio.run(wrapped())


async def session(
    seconds: float, seed: int, drops: list[LinkDrop] | None = None,
    during: Callable[[VirtualStrap], None] | None = None, drift_ppm: float = 0.0,
) -> tuple[VirtualStrap, StrapReader, list[Measurement | Gap]]:
    """One virtual strap read by name until its recording ends."""
    clock = LiveClock()
    radio = VirtualRadio(clock)
    strap = radio.add(VirtualStrap(simulate("rest", seconds, seed), clock, drops=drops or [],
                                   seed=seed, clock_drift_ppm=drift_ppm))
    reader = StrapReader(strap.name, client_backend=radio.client_backend,
                         scanner_backend=radio.scanner_backend, clock=clock)
    items: list[Measurement | Gap] = []

    async def consume() -> None:
        async for item in reader.stream():
            items.append(item)

    strap_task = asyncio.create_task(strap.run())
    consumer = asyncio.create_task(consume())
    if during is not None:
        await asyncio.sleep(120.0)
        during(strap)
    await strap_task
    await asyncio.sleep(1.0)  # the last notification's latency
    consumer.cancel()
    await asyncio.gather(consumer, return_exceptions=True)
    return strap, reader, items


def delivered_rr(strap: VirtualStrap) -> list[float]:
    return [v * 1000 / 1024 for d in strap.delivered for v in d.rr_1024ths]


def test_scan_finds_straps_by_the_heart_rate_service() -> None:
    async def main():
        clock = LiveClock()
        radio = VirtualRadio(clock)
        radio.add(VirtualStrap(simulate("rest", 60, 0), clock, rssi=-70))
        radio.add(VirtualStrap(simulate("rest", 60, 1), clock, address="E1:5E:A5:E0:00:02",
                               name="Polar H7 SIM02", rssi=-50))
        return await scan(0.5, scanner_backend=radio.scanner_backend)

    found = run_virtual(main)
    assert [(s.name, s.rssi) for s in found] == [("Polar H7 SIM02", -50),
                                                 ("Polar H10 SIM01", -70)]


@pytest.mark.parametrize("drift_ppm", [0.0, 40.0, -60.0])
def test_ten_minutes_arrive_whole_in_order_and_on_time(drift_ppm: float, tmp_path: Path
                                                       ) -> None:
    strap, reader, items = run_virtual(lambda: session(600, seed=2, drift_ppm=drift_ppm))
    measurements = [i for i in items if isinstance(i, Measurement)]
    assert not [i for i in items if isinstance(i, Gap)]
    got = [rr for m in measurements for rr in m.rr_ms]
    assert got == delivered_rr(strap)  # every RR sent, once, in order, exactly
    assert len(got) >= strap.beats.rr_ms.size - 3  # only beats before subscribing missed
    times = np.array([t for m in measurements for t in m.beat_times_s])
    truth = np.array([t for d in strap.delivered for t in d.beat_times_s])
    error_ms = np.abs(times - truth) * 1000
    since = truth - truth[0]
    # The target is 1 ms for every beat; what is reached (measured, seed 2): median
    # 0.30-0.46 ms; after 150 s every beat within 0.78 ms without drift and 1.5-1.6 ms with
    # +40 or -60 ppm; in the first minute up to 4.2 ms, while the lower-envelope line (Moon
    # et al. 1999) learns the link latency and the strap's drift. The floor is the strap's
    # own 1/1024-s stamps (+/-0.49 ms) plus the fastest packet's latency, and with drift the
    # error of a slope fitted to that noise, extrapolated to now.
    assert np.median(error_ms[since > 30]) < 0.6
    assert error_ms[since > 150].max() < (1.0 if drift_ppm == 0 else 2.0)
    assert error_ms.max() < 5.0
    assert (reader.battery_pct, reader.body_location) == (87, "chest")

    # Recorded (`heartsease record`) and read back, the beats are placed from the whole
    # recording (retime_segment), not only from what had arrived: within 1 ms of the model.
    # Measured over seeds 0-9 with this test's method: at most 0.49-0.68 ms without drift,
    # 0.55-1.02 ms with +40 or -60 ppm, where the drift is a slope fitted to the lowest
    # points and its error tilts the line by up to a few tenths of a millisecond at the
    # ends (live, the same seeds reach 1.5 to 38 ms in their first seconds).
    path = tmp_path / "strap.csv"
    path.write_text("".join(record_text(i) for i in items))
    replayed = [m for m in asyncio.run(_collect(replay(path))) if isinstance(m, Measurement)]
    assert [rr for m in replayed for rr in m.rr_ms] == pytest.approx(got, abs=5e-4)
    since_replay_start = measurements[0].arrival_s - replayed[0].arrival_s
    placed = np.array([t for m in replayed for t in m.beat_times_s]) + since_replay_start
    assert np.abs(placed - truth).max() * 1000 < (1.0 if drift_ppm == 0 else 1.1)


async def _collect(source: AsyncIterator[T]) -> list[T]:
    return [item async for item in source]


def test_twenty_link_drops_in_thirty_minutes() -> None:
    rng = np.random.default_rng(5)
    starts = np.sort(rng.choice(np.arange(30, 1770, 80), size=20, replace=False)) + rng.uniform(
        0, 20, 20)
    drops = [LinkDrop(float(s), float(d)) for s, d in zip(starts, rng.uniform(2, 45, 20),
                                                          strict=True)]
    strap, reader, items = run_virtual(lambda: session(1800, seed=3, drops=drops))
    gaps = [i for i in items if isinstance(i, Gap)]
    measurements = [i for i in items if isinstance(i, Measurement)]
    assert reader.connections == 21
    assert len(gaps) == 20
    for gap, drop in zip(gaps, drops, strict=True):
        assert gap.start_s == pytest.approx(drop.start_s, abs=1e-6)
        assert gap.end_s >= drop.start_s + drop.duration_s  # reconnected after it came back
    # Every RR delivered while connected arrives exactly once and in order; none invented.
    assert [rr for m in measurements for rr in m.rr_ms] == delivered_rr(strap)
    assert strap.discarded_beats > 0
    # Placed afterwards, stretch by stretch between the gaps (as a stored session is when
    # it ends): measured, every beat within 2.93 ms of the model's, median 0.33 ms; live,
    # 34.8 ms and 0.49 ms. Each reconnection starts a stretch that knows nothing of the
    # link's latency; the shortest stretches, a few notifications long, set the largest.
    placed = retime([m.arrival_s for m in measurements for _ in m.rr_ms],
                    [rr for m in measurements for rr in m.rr_ms], [g.start_s for g in gaps])
    error_ms = np.abs(placed - [t for d in strap.delivered for t in d.beat_times_s]) * 1000
    assert error_ms.max() < 3.5
    assert np.median(error_ms) < 0.4


def test_junk_packets_are_reported_and_skipped() -> None:
    def misbehave(strap: VirtualStrap) -> None:
        strap.inject(b"")  # malformed: no flags byte
        strap.inject(bytes.fromhex("10 3c 00 00"))  # RR of 0
        strap.inject(bytes.fromhex("10 3c 1c 00"))  # RR of 27 ms: absurd
        strap.inject(bytes.fromhex("16 00"))  # HR 0 just after contact returns, no RR

    strap, reader, items = run_virtual(lambda: session(180, seed=4, during=misbehave))
    measurements = [i for i in items if isinstance(i, Measurement)]
    assert reader.malformed == 1
    assert [rr for m in measurements for rr in m.rr_ms] == delivered_rr(strap)
    with pytest.raises(MalformedMeasurementError):
        parse_hrm(b"")


def test_unknown_strap_is_a_clear_error() -> None:
    async def main():
        clock = LiveClock()
        radio = VirtualRadio(clock)
        reader = StrapReader("Nobody's Strap", client_backend=radio.client_backend,
                             scanner_backend=radio.scanner_backend, clock=clock)
        async for _ in reader.stream():
            pass

    with pytest.raises(StrapNotFoundError, match="no strap named \"Nobody's Strap\""):
        run_virtual(main)
