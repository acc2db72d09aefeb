"""Recordings replayed as sources, and the scan/record commands on the virtual strap."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from heartsease.cli import app
from heartsease.sensors.files import read_rr_file
from heartsease.sensors.replay import replay
from heartsease.sensors.source import Gap, Measurement


def collect(path: Path, **kwargs) -> list[Measurement | Gap]:
    async def main() -> list[Measurement | Gap]:
        return [item async for item in replay(path, **kwargs)]

    return asyncio.run(main())


def test_polar_h10_replays_notification_by_notification(refdata: Path) -> None:
    items = collect(refdata / "rr_strap/polar_h10/sample_data_ibi.csv")
    measurements = [i for i in items if isinstance(i, Measurement)]
    # 620 RRs arrived in 587 notifications: rows microseconds apart came together.
    assert sum(len(m.rr_ms) for m in measurements) == 620
    assert len(measurements) == 587
    for m in measurements:
        assert all(t <= m.arrival_s + 1e-9 for t in m.beat_times_s)  # never in the future
        assert np.all(np.diff(m.beat_times_s) > 0)


def test_plain_recording_replays_one_beat_per_notification(refdata: Path) -> None:
    path = refdata / "rr_reference/kubios/SampleSeries_rr_ms.txt"
    items = collect(path)
    assert [m.rr_ms[0] for m in items] == list(read_rr_file(path).rr_ms)
    assert items[-1].beat_times_s[0] == items[-1].arrival_s


def test_gaps_in_a_recording_are_reported(tmp_path: Path) -> None:
    rows = [f"{t:.3f},{800}" for t in np.arange(1, 60, 0.8)]
    rows += [f"{t:.3f},{800}" for t in np.arange(120, 150, 0.8)]  # 60 s without beats
    path = tmp_path / "strap.csv"
    path.write_text("\n".join(rows))
    gaps = [i for i in collect(path) if isinstance(i, Gap)]
    assert len(gaps) == 1 and gaps[0].end_s - gaps[0].start_s > 50


def test_real_time_replay_waits_for_each_beat(tmp_path: Path) -> None:
    path = tmp_path / "rr.txt"
    path.write_text("1000\n1000\n1000\n")
    loop_time = []

    async def main() -> None:
        async for _ in replay(path, speed=4.0):
            loop_time.append(asyncio.get_running_loop().time())

    asyncio.run(main())
    # Beats 1 s apart at four times the speed: 0.5 s from the first to the last (2 s at the
    # recording's own). A busy machine only delays: 0.2-0.35 s for a 0.2-s wait once read
    # 0.354 with the test suite's four workers on two cores, so the bounds are far apart.
    assert 0.45 < loop_time[-1] - loop_time[0] < 1.5


def test_scan_and_record_on_the_virtual_strap(tmp_path: Path) -> None:
    runner = CliRunner()
    scanned = runner.invoke(app, ["scan", "--simulate", "--seconds", "0.3"])
    assert scanned.exit_code == 0 and "Polar H10 SIM01" in scanned.output
    out = tmp_path / "rec.csv"
    recorded = runner.invoke(app, ["record", "--device", "Polar H10 SIM01", "--simulate",
                                   "rest", "--seconds", "4", "--out", str(out)])
    assert recorded.exit_code == 0, recorded.output
    lines = [ln for ln in out.read_text().splitlines() if not ln.startswith("#")]
    assert len(lines) >= 2
    assert read_rr_file(out).format == "timed-csv"  # analyse-able as it stands


def test_a_long_recording_is_replayed_as_far_as_it_is_taken() -> None:
    """An upload's session ends with its protocol, some minutes in: a 2 MB file of RR lines
    (330,000 beats) was made into measurements whole first, 1.2 s of the upload worker's
    CPU and 200 MB (issue 22). Memory, not time, is asserted: tracemalloc counts what is
    allocated (numpy's arrays too) the same on any machine. Replayed as far as it is
    taken, the peak is the replay's arrays of the whole recording, 8 bytes a beat each
    (19 MB here); every beat's measurement made first peaked at 110 MB, and its lists
    alone at 53 MB."""
    import tracemalloc

    from heartsease.sensors.files import RRRecording
    from heartsease.sensors.replay import replay_recording

    n = 330_000
    recording = RRRecording(rr_ms=850.0 + 40.0 * np.sin(np.arange(n) / 1.6),
                            source_lines=np.arange(1, n + 1), format="text")

    async def first_thousand() -> list[Measurement | Gap]:
        items = []
        async for item in replay_recording(recording):
            items.append(item)
            if len(items) == 1000:
                break
        return items

    tracemalloc.start()
    try:
        items = asyncio.run(first_thousand())
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [m.rr_ms[0] for m in items] == recording.rr_ms[:1000].tolist()
    assert peak_bytes < 40_000_000
