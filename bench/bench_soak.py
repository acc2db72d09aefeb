"""A two-hour session on a noisy strap whose link keeps dropping, run by the service's own
session manager faster than real time: does what the server holds for one session, and what
each minute of it costs, stay flat as the session goes on?

Run::

    python bench/bench_soak.py --hours 2 --drops 20 --speed 60

The strap is the simulator's virtual one, read through the bleak reader (which reconnects
after every drop); the session runs the live analysis and the coaching loop, its recorder
writes every beat to a SQLite file, and a viewer takes every live message as JSON, as the
WebSocket would. Every 10 simulated minutes it prints the beats stored, the gaps, the memory
the server's code holds (tracemalloc, the simulator's own allocations left out: it makes
the whole recording up front) and the process's RSS, and the CPU time per simulated minute.
The summary compares the last half hour with the half hour after minute 40 (by when the
buffers a late-joining viewer is replayed from are full): a ratio near 1 is flat.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from heartsease.api.fanout import LocalHub
from heartsease.api.running import SessionManager
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.simulator.virtual_strap import LinkDrop
from heartsease.sources import SimulatedHeart, open_source
from heartsease.store.db import make_engine, migrate, session_factory
from heartsease.store.models import Beat, BreathingSession, Role, User

BLOCK_MIN = 10.0
# By then the late joiner's replay (the last 600 beats, about ten minutes) is full, as are
# the analysis windows: what grows after that grows with the session.
SETTLED_MIN = 40.0
SERVER_CODE = ("heartsease/api", "heartsease/coaching", "heartsease/signal",
               "heartsease/sensors", "heartsease/store")


def server_memory_mib() -> float:
    """What the server's own code holds now (not the simulator's, not the libraries')."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, f"*{part}/*") for part in SERVER_CODE])
    return sum(s.size for s in snapshot.statistics("filename")) / 2**20


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(hours: float, n_drops: int, speed: float, seed: int) -> list[dict[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="heartsease-soak-"))
    engine = make_engine(f"sqlite:///{folder / 'soak.db'}")
    migrate(engine)
    factory = session_factory(engine)
    with factory() as db, db.begin():
        client = User(email="soak@example.org", name="Soak", role=Role.CLIENT,
                      password_hash="-")
        db.add(client)
        db.flush()
        protocol = load_protocol("srb").with_practice_minutes(hours * 60)
        session = CoachingSession(protocol, pace_bpm=6.0)
        row = BreathingSession(client_id=client.id, protocol=protocol.name, pace_bpm=6.0,
                               source="simulated", source_detail="noisy-strap soak")
        db.add(row)
        db.flush()
        db.expunge(row)
    rng = np.random.default_rng(seed)
    total_s = sum(seconds for seconds, _ in protocol.schedule(6.0))
    starts = np.sort(rng.uniform(120, total_s - 120, n_drops))
    drops = [LinkDrop(float(t), float(rng.uniform(5, 40))) for t in starts]
    hub = LocalHub()
    manager = SessionManager(factory, hub)
    await manager.start_background()
    heart = open_source(SimulatedHeart("noisy-strap", seed, speed, drops=tuple(drops)),
                        protocol.schedule(6.0))
    clock = heart.clock
    viewer_queue = hub.subscribe(row.id)
    sent_bytes = 0

    async def viewer() -> None:
        nonlocal sent_bytes
        while (outgoing := await viewer_queue.get()) is not None:
            sent_bytes += len(outgoing.text)

    watching = asyncio.create_task(viewer())
    running = manager.start(row, session, heart)
    rows: list[dict[str, float]] = []
    cpu_before = time.process_time()
    block = 1
    while not running.task.done():
        await asyncio.sleep(0.05)
        if clock.now() < block * BLOCK_MIN * 60 and not running.task.done():
            continue
        cpu_now = time.process_time()
        with factory() as db:
            stored = db.scalar(select(func.count()).where(Beat.session_id == row.id))
        rows.append({"minute": clock.now() / 60, "beats": stored,
                     "server_mib": server_memory_mib(), "rss_mib": rss_mib(),
                     "cpu_ms_per_min": 1000 * (cpu_now - cpu_before) / BLOCK_MIN,
                     "viewer_mib": sent_bytes / 2**20})
        cpu_before = time.process_time()  # the memory snapshot is not the session's cost
        block += 1
    await running.task
    watching.cancel()
    await manager.shutdown()
    with factory() as db:
        n_beats = db.query(Beat).filter(Beat.session_id == row.id).count()
        finished = db.get(BreathingSession, row.id)
        assert finished is not None
        gaps = finished.summary.get("gaps")
    engine.dispose()
    print(f"session {finished.status.value}: {n_beats} beats stored, {gaps} gaps recorded "
          f"for {n_drops} link drops")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--speed", type=float, default=60.0,
                        help="simulated seconds per second (the CPU per minute is the same)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    tracemalloc.start()
    started = time.monotonic()
    rows = asyncio.run(soak(args.hours, args.drops, args.speed, args.seed))
    print(f"{'minute':>6} {'beats':>6} {'server MiB':>10} {'RSS MiB':>8} "
          f"{'CPU ms/min':>10} {'to viewer MiB':>13}")
    for r in rows:
        print(f"{r['minute']:>6.0f} {r['beats']:>6.0f} {r['server_mib']:>10.2f} "
              f"{r['rss_mib']:>8.0f} {r['cpu_ms_per_min']:>10.1f} {r['viewer_mib']:>13.1f}")
    full = rows[:-1]  # the last block is cut short by the end of the session
    early = [r for r in full if SETTLED_MIN < r["minute"] <= SETTLED_MIN + 30]
    late = full[-3:]
    if early and late:
        def mean(rs: list[dict[str, float]], key: str) -> float:
            return float(np.mean([r[key] for r in rs]))

        growth = (late[-1]["server_mib"] - early[0]["server_mib"]) / (
            (late[-1]["minute"] - early[0]["minute"]) / 60)
        print(f"last half hour / first (after minute {SETTLED_MIN:.0f}): server memory "
              f"x{mean(late, 'server_mib') / mean(early, 'server_mib'):.2f}, RSS "
              f"x{mean(late, 'rss_mib') / mean(early, 'rss_mib'):.2f}, CPU per minute "
              f"x{mean(late, 'cpu_ms_per_min') / mean(early, 'cpu_ms_per_min'):.2f}; "
              f"server memory grows {growth:.2f} MiB per hour of session")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"wall {time.monotonic() - started:.0f} s, CPU {usage.ru_utime + usage.ru_stime:.0f} s"
          " (tracemalloc makes Python slower; the ratios are what to read)")


if __name__ == "__main__":
    main()
