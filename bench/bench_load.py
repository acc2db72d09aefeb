"""Many sessions at once: simulated straps streaming into the ingest WebSocket, each session
watched by its client and by a clinician, against a real ``heartsease serve``.

Run (PostgreSQL and Redis on 127.0.0.1, as on this project's machines)::

    python bench/bench_load.py --sessions 50 200 500 1000 --seconds 150 --workers 2

Sessions start one after another over ``--ramp`` seconds, and each one's two pages join as
it starts. For each step it prints the sessions, beats/s stored, the latency from a beat
leaving its strap to its arrival at the clinician's page (p50, p99, max) once every page
has joined, and over the whole run; beats lost (sent but never acknowledged as stored, and
stored but never seen by the clinician); when the last page was welcomed and how often pages
had to connect again; the CPU of the server's processes and of the benchmark; and the
server's memory over time. The strap side and the server share this machine's cores, so
the figures are a floor for what the server alone would do. The straps and pages run in
``--client-processes`` processes of their own, and the p99 of how late their event loops
wake ("bench lag") says how much of each latency is the benchmark's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import queue
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets
from sqlalchemy import create_engine, text

from heartsease.api.security import create_token, hash_password
from heartsease.api.settings import DEVELOPMENT_SECRET
from heartsease.remote import authorization
from heartsease.store.db import make_engine, migrate, session_factory
from heartsease.store.models import Assignment, Role, User

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
# A database of its own: the tests drop and make again the schema of the database `test`,
# and a benchmark sharing it would lose its sessions halfway through a run.
POSTGRES = f"{POSTGRES_SERVER}/heartsease_bench"
REDIS = "redis://127.0.0.1:6379/0"


# A clinician's caseload: a person may hold 40 live views on a worker (the server closes the
# next with 1013), so one clinician watching every session would be refused past that.
CLIENTS_PER_CLINICIAN = 20


@dataclass
class Session:
    client_id: str
    token: str
    clinician_token: str  # the clinician who watches it
    session_id: str = ""
    sent_at: dict[int, float] = field(default_factory=dict)
    acknowledged: int = 0
    latencies_s: list[tuple[float, float]] = field(default_factory=list)  # (sent, latency)
    seen: set[int] = field(default_factory=set)
    watched_from: float = float("inf")  # when the clinician's view was welcomed
    reconnects: int = 0  # of either viewer, after its connection was closed


def prepare(db_url: str, clients: int) -> list[Session]:
    """A clean database with ``clients`` clients, each assigned to one of a clinician per
    :data:`CLIENTS_PER_CLINICIAN`, and their tokens."""
    if db_url.startswith("postgresql"):
        server = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with server.connect() as c:
            # FORCE: a server of an interrupted run may still hold connections to it.
            c.execute(text(f"DROP DATABASE IF EXISTS {db_url.rsplit('/', 1)[1]} WITH (FORCE)"))
            c.execute(text(f"CREATE DATABASE {db_url.rsplit('/', 1)[1]}"))
        server.dispose()
    engine = make_engine(db_url)
    migrate(engine)
    password = hash_password("bench-only")  # one hash: argon2 per person would take minutes
    with session_factory(engine)() as db, db.begin():
        clinicians = [User(email=f"clinician{k}@bench.example", name=f"Bench clinician {k}",
                           role=Role.CLINICIAN, password_hash=password)
                      for k in range(-(-clients // CLIENTS_PER_CLINICIAN))]
        people = [User(email=f"c{i}@bench.example", name=f"client {i}", role=Role.CLIENT,
                       password_hash=password) for i in range(clients)]
        db.add_all(clinicians + people)
        db.flush()
        watching = [clinicians[i // CLIENTS_PER_CLINICIAN] for i in range(clients)]
        db.add_all(Assignment(clinician_id=c.id, client_id=p.id)
                   for c, p in zip(watching, people, strict=True))
        tokens = {c.id: create_token(c.id, DEVELOPMENT_SECRET, 600) for c in clinicians}
        sessions = [Session(p.id, create_token(p.id, DEVELOPMENT_SECRET, 600), tokens[c.id])
                    for c, p in zip(watching, people, strict=True)]
    engine.dispose()
    return sessions


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        for path in (f"/proc/{pid}/status", *(f"/proc/{c}/status" for c in _children(pid))):
            try:
                for line in Path(path).read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
    return total / 1024


def cpu_s(pids: list[int]) -> float:
    """CPU seconds used so far by the server's processes (its workers included)."""
    total = 0
    for pid in pids:
        for path in (f"/proc/{pid}/stat", *(f"/proc/{c}/stat" for c in _children(pid))):
            try:
                fields = Path(path).read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                pass
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


async def strap(base: str, s: Session, seconds: float, seed: int, delay_s: float) -> None:
    """One strap: an RR series (resting heart with slow breathing) sent beat by beat in real
    time, each beat's send time kept for the latency."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 1.3)
    t = np.arange(n)
    rr = 850 + 60 * np.sin(2 * np.pi * t / 10 + rng.uniform(0, 6)) + rng.normal(0, 15, n)
    ws_url = base.replace("http", "ws") + f"/api/sessions/{s.session_id}/ingest"
    await asyncio.sleep(delay_s)  # a person starts a session, then their strap connects
    async with websockets.connect(ws_url, max_queue=None,
                                  additional_headers=authorization(s.token)) as ws:
        async def acks() -> None:
            async for raw in ws:
                reply = json.loads(raw)
                if reply.get("kind") == "ack":
                    s.acknowledged = max(s.acknowledged, reply["seq"])

        reader = asyncio.create_task(acks())
        start = time.monotonic()
        beat_s = 0.0
        for i, value in enumerate(rr, start=1):
            beat_s += value / 1000
            if beat_s > seconds:
                break
            await asyncio.sleep(max(0.0, start + beat_s - time.monotonic()))
            s.sent_at[i] = time.monotonic()
            await ws.send(json.dumps({"seq": i, "arrival_s": beat_s, "hr_bpm": 70,
                                      "rr_ms": [float(value)], "beat_times_s": [beat_s]}))
        deadline = time.monotonic() + 10
        while s.acknowledged < len(s.sent_at) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        reader.cancel()


async def flooder(ws_url: str, token: str, stop_at: float, answered: Any) -> None:
    """A client stuck resending the same 16 beats as fast as the connection takes them
    (duplicates, so its session never runs out), reconnecting whenever it is closed, until
    ``stop_at``; the replies it got are counted in ``answered``."""
    message = json.dumps({"seq": 1, "arrival_s": 12.8, "hr_bpm": 75, "rr_ms": [800.0] * 16,
                          "beat_times_s": [0.8 * i for i in range(1, 17)]})
    while time.monotonic() < stop_at:
        try:
            async with websockets.connect(ws_url, max_queue=None,
                                          additional_headers=authorization(token)) as ws:
                async def replies() -> None:
                    with contextlib.suppress(websockets.ConnectionClosed):
                        async for _ in ws:
                            with answered.get_lock():
                                answered.value += 1

                reader = asyncio.create_task(replies())
                while time.monotonic() < stop_at and not reader.done():
                    await ws.send(message)
                    await asyncio.sleep(0)
                reader.cancel()
        except (OSError, websockets.ConnectionClosed):
            await asyncio.sleep(0.5)


def flood_process(ws_urls: list[tuple[str, str]], seconds: float, answered: Any) -> None:
    """The flooders, in a process of their own: a client that floods spends its own CPU,
    not the benchmark's (whose straps and viewers measure the latency)."""
    stop_at = time.monotonic() + seconds

    async def run() -> None:
        await asyncio.gather(*(flooder(url, token, stop_at, answered) for url, token in ws_urls))

    asyncio.run(run())


async def viewer(base: str, s: Session, token: str, stop: asyncio.Event,
                 measure: bool, delay_s: float) -> None:
    """A page watching the session from ``delay_s``; like the observation room, it connects
    again when its connection is closed (a worker too busy to welcome it in time closes it)."""
    url = base.replace("http", "ws") + f"/api/sessions/{s.session_id}/live"
    await asyncio.sleep(delay_s)
    backoff_s = 0.5  # as the page's: doubling to 8 s, from 0.5 s again once connected
    while not stop.is_set():
        try:
            async with websockets.connect(url, max_queue=None,
                                          additional_headers=authorization(token)) as ws:
                backoff_s = 0.5
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 0.5)
                    except TimeoutError:
                        continue
                    if not measure:
                        continue
                    message = json.loads(raw)
                    if message.get("kind") == "hello":
                        # After a reconnection, what was missed comes in the welcome.
                        s.seen.update(e["seq"] for e in message.get("recent", ())
                                      if e.get("kind") == "beat")
                        s.watched_from = min(s.watched_from, time.monotonic())
                    if message.get("kind") == "beat" and message["seq"] in s.sent_at:
                        s.seen.add(message["seq"])
                        sent = s.sent_at[message["seq"]]
                        s.latencies_s.append((sent, time.monotonic() - sent))
        except (OSError, websockets.ConnectionClosed):
            s.reconnects += 1
            await asyncio.sleep(backoff_s)
            backoff_s = min(2 * backoff_s, 8.0)


def clients_process(base: str, sessions: list[Session], seeds: list[int],
                    delays: list[float], seconds: float, out: Any) -> None:
    """The straps and pages of ``sessions``, in a process of their own; puts the sessions
    (what each sent, what its clinician saw and when), this loop's lag and its CPU seconds
    on ``out``."""
    # The benchmark's own thousands of connections would make its collector stop it for
    # hundreds of milliseconds, counted as the server's latency: it is held off here, as
    # the server holds off its own (heartsease.api.collector).
    gc.disable()
    lags_s: list[float] = []

    async def run() -> None:
        stop = asyncio.Event()
        straps = [asyncio.create_task(strap(base, s, seconds, seed, delay))
                  for s, seed, delay in zip(sessions, seeds, delays, strict=True)]
        # Sessions start when people do, and their client and clinician open their pages
        # once it runs (it starts with its first beat).
        viewers = [asyncio.create_task(viewer(base, s, token, stop, measure, delay + 3.0))
                   for s, delay in zip(sessions, delays, strict=True)
                   for token, measure in ((s.token, False), (s.clinician_token, True))]
        lag = asyncio.create_task(loop_lag(lags_s, stop))
        for outcome in await asyncio.gather(*straps, return_exceptions=True):
            if isinstance(outcome, BaseException):
                print("  strap failed:", outcome, flush=True)
        await asyncio.sleep(2.0)  # the last beats reach the viewers
        stop.set()
        await asyncio.gather(*viewers, lag, return_exceptions=True)

    asyncio.run(run())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put((sessions, lags_s, usage.ru_utime + usage.ru_stime))


async def loop_lag(lags_s: list[float], stop: asyncio.Event) -> None:
    """How late this process's event loop wakes from a 100-ms sleep: the part of a measured
    latency that is the benchmark's own, not the server's."""
    while not stop.is_set():
        asleep_at = time.monotonic()
        await asyncio.sleep(0.1)
        lags_s.append(time.monotonic() - asleep_at - 0.1)


def event_loop_lag_ms(base: str) -> dict[str, float] | None:
    """The server's own figure for how late its event loop took up work over the last
    minute (with several workers, of whichever one answers); None when it did not answer."""
    try:
        return httpx.get(base + "/api/health", timeout=5).json()["event_loop_lag_ms"]
    except (httpx.HTTPError, KeyError, ValueError):
        return None


def step(base: str, sessions: list[Session], seconds: float,
         pids: list[int], flooding: list[Session], ramp_s: float,
         processes: int) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=60) as http:
        for s in sessions + flooding:  # one by one: a clinic's sessions do not start at once
            # Practice long enough that no session completes its protocol (about 15 minutes
            # by default) while its strap still streams: the pages would be closed.
            body = {"source": "remote", "practice_minutes": min(60.0, seconds / 60 + 2)}
            r = http.post("/api/sessions", json=body,
                          headers={"Authorization": f"Bearer {s.token}"})
            r.raise_for_status()
            s.session_id = r.json()["id"]
    spawn = multiprocessing.get_context("spawn")
    answered = spawn.Value("i", 0)
    flood = spawn.Process(target=flood_process, args=(
        [(base.replace("http", "ws") + f"/api/sessions/{s.session_id}/ingest", s.token)
         for s in flooding], seconds + 8, answered), daemon=True)
    if flooding:
        flood.start()
    # Sessions start one after another over the ramp; each process takes every k-th.
    delays = np.random.default_rng(0).uniform(0, ramp_s, len(sessions))
    results = spawn.Queue()
    clients = [spawn.Process(target=clients_process, args=(
        base, sessions[k::processes], list(range(k, len(sessions), processes)),
        list(delays[k::processes]), seconds, results)) for k in range(processes)]
    server_cpu_start = cpu_s(pids)
    started = time.monotonic()
    for process in clients:
        process.start()
    memory, finished, server_lag_ms = [], [], []
    while len(finished) < processes:
        memory.append((time.monotonic() - started, rss_mib(pids)))
        server_lag_ms.append(event_loop_lag_ms(base))
        with contextlib.suppress(queue.Empty):  # read before joining: a child with a big
            while len(finished) < processes:    # result waits for it to be read
                finished.append(results.get(timeout=10))
    elapsed = time.monotonic() - started
    server_cpu = cpu_s(pids) - server_cpu_start
    for process in clients:
        process.join()
    if flooding:
        flood.join()
    sessions = [s for done, _, _ in finished for s in done]
    lags_ms = 1000 * np.array([lag for _, lags, _ in finished for lag in lags])
    with httpx.Client(base_url=base, timeout=120) as http, ThreadPoolExecutor(8) as pool:
        # Several at a time: a stop writes the session's record, and one by one a thousand
        # took five minutes.
        list(pool.map(lambda s: http.post(f"/api/sessions/{s.session_id}/stop", headers={
            "Authorization": f"Bearer {s.token}"}), sessions + flooding))
    sent = sum(len(s.sent_at) for s in sessions)
    stored = sum(s.acknowledged for s in sessions)
    # Beats sent once the clinician was watching that never reached them.
    unseen = sum(1 for s in sessions for seq, t in s.sent_at.items()
                 if t > s.watched_from and seq not in s.seen)
    pairs = np.array([x for s in sessions for x in s.latencies_s]).reshape(-1, 2)
    of_session = np.array([k for k, s in enumerate(sessions) for _ in s.latencies_s])
    latencies = pairs[:, 1] * 1000
    # Steady state: once every viewer has joined (the ramp, while sessions start and their
    # pages connect, is in the "all" column).
    ready = max(s.watched_from for s in sessions) + 2.0
    steady = latencies[pairs[:, 0] > ready]
    if steady.size == 0:  # the viewers were still connecting when the straps stopped
        steady = np.array([np.nan])
    if latencies.size == 0:  # no clinician saw a beat
        latencies = np.array([np.nan])
    return {"sessions": len(sessions), "beats_per_s": stored / seconds, "sent": sent,
            "unacknowledged": sent - stored, "unseen": unseen,
            "p50_ms": float(np.percentile(steady, 50)),
            "p99_ms": float(np.percentile(steady, 99)), "max_ms": float(steady.max()),
            "p99_all_ms": float(np.percentile(latencies, 99)),
            "flood_per_s": answered.value / elapsed,
            "ready_s": ready - 2.0 - started,
            "reconnects": sum(s.reconnects for s in sessions),
            "server_cpu_pct": 100 * server_cpu / elapsed,
            "bench_cpu_pct": 100 * sum(cpu for _, _, cpu in finished) / elapsed,
            "bench_lag_p99_ms": float(np.percentile(lags_ms, 99)) if lags_ms.size else 0.0,
            "server_lag_ms": {k: max((lag[k] for lag in server_lag_ms if lag), default=np.nan)
                              for k in ("p99", "max")},
            "memory": memory,
            "raw": {"session": of_session, "sent_s": pairs[:, 0] - started,
                    "latency_ms": pairs[:, 1] * 1000,
                    "server_lag_ms": np.array([[lag["p99"], lag["max"]] if lag else
                                               [np.nan, np.nan] for lag in server_lag_ms])},
            "p99_by_window_ms": [
                float(np.percentile(latencies[(pairs[:, 0] - started) // WINDOW_S == w], 99))
                for w in np.unique((pairs[:, 0] - started) // WINDOW_S)]}


WINDOW_S = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--ramp", type=float, default=20.0, metavar="S",
                        help="sessions start one after another over S seconds (default 20)")
    parser.add_argument("--client-processes", type=int, default=2, metavar="K",
                        help="the straps and pages run in K processes (default 2): one "
                        "event loop for thousands of connections adds its own lag")
    parser.add_argument("--sqlite", action="store_true", help="the embedded store instead")
    parser.add_argument("--flood", type=int, default=0, metavar="K",
                        help="run each step twice, the second time with K more clients "
                        "sending beats as fast as the server takes them")
    parser.add_argument("--server-log", type=Path, metavar="FILE",
                        help="the server's log (its collector's passes, say); none without")
    parser.add_argument("--latencies", type=Path, metavar="FILE",
                        help="save each step's latencies (numpy .npz: per beat its session, "
                        "when it was sent and how long it took; the server's loop lag over "
                        "time), to see when and where the slow ones were")
    args = parser.parse_args()
    print(f"this machine: a 10-million-step Python loop takes {machine_speed_s():.2f} s "
          "(to compare runs on other machines)")
    print("latency: a beat leaving its strap to the clinician's view, in steady state; "
          "p99 all: including the ramp, while sessions start and their viewers join")
    print("ready: seconds from the straps' start until the last viewer was welcomed; CPU: "
          "percent of one core, the server's processes and the benchmark's own; bench lag: "
          "p99 ms of the benchmark's event loops waking late (part of every latency); "
          "server lag: the server's event loop, p99 of its worst minute and max ms (from "
          "/api/health)")
    print(f"{'sessions':>8} {'beats/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'p99 all':>7} "
          f"{'unacked':>7} {'unseen':>7} {'ready s':>7} {'reconn':>6} {'server CPU':>10} "
          f"{'bench CPU':>9} {'bench lag':>9} {'server lag':>13}"
          "  server memory (MiB) over time")
    for n in args.sessions:
        baseline = None
        for flood in ([0, args.flood] if args.flood else [0]):
            r = run_step(n, flood, args)
            if args.latencies:
                np.savez(args.latencies.with_suffix(f".{n}-{flood}.npz"), **r["raw"])
            memory = " ".join(f"{m:.0f}" for _, m in r["memory"])
            print(f"{r['sessions']:>8} {r['beats_per_s']:>8.0f} {r['p50_ms']:>7.1f} "
                  f"{r['p99_ms']:>7.1f} {r['max_ms']:>7.0f} {r['p99_all_ms']:>7.0f} "
                  f"{r['unacknowledged']:>7} "
                  f"{r['unseen']:>7} {r['ready_s']:>7.0f} {r['reconnects']:>6} "
                  f"{r['server_cpu_pct']:>9.0f}% "
                  f"{r['bench_cpu_pct']:>8.0f}% {r['bench_lag_p99_ms']:>9.1f} "
                  f"{r['server_lag_ms']['p99']:>6.0f} {r['server_lag_ms']['max']:>6.0f}  "
                  f"{memory}",
                  flush=True)
            if len(r["p99_by_window_ms"]) > 1:
                print(f"{'':>8} p99 ms by {WINDOW_S / 60:.0f} minutes: " + " ".join(
                    f"{p:.0f}" for p in r["p99_by_window_ms"]), flush=True)
            if flood:
                assert baseline is not None
                print(f"{'':>8} with {flood} flooding client(s), each answered "
                      f"{r['flood_per_s'] / flood:.0f} messages/s: the others' p50 "
                      f"x{r['p50_ms'] / baseline['p50_ms']:.2f}, p99 "
                      f"x{r['p99_ms'] / baseline['p99_ms']:.2f} of the run without",
                      flush=True)
            baseline = r


def machine_speed_s() -> float:
    """Seconds for a fixed pure-Python loop: the same server is several times slower on
    one 2-core machine than on another of the same kind."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def run_step(n: int, flood: int, args: argparse.Namespace) -> dict[str, Any]:
    """One step against a fresh server and database: ``n`` sessions, ``flood`` flooders."""
    db_url = (f"sqlite:///{Path('/tmp/heartsease-bench.db')}" if args.sqlite else POSTGRES)
    if args.sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(f"/tmp/heartsease-bench.db{suffix}").unlink(missing_ok=True)
    everyone = prepare(db_url, n + flood)
    sessions, flooding = everyone[:n], everyone[n:]
    port = 8700 + n % 100
    env = {**os.environ, "HEARTSEASE_DATABASE_URL": db_url, "HEARTSEASE_DEMO_DATA": "false"}
    if args.workers > 1:
        env["HEARTSEASE_REDIS_URL"] = REDIS
    log = args.server_log.open("a") if args.server_log else subprocess.DEVNULL
    server = subprocess.Popen([sys.executable, "-m", "heartsease.cli", "serve", "--port",
                               str(port), "--workers", str(args.workers)], env=env,
                              stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        return step(base, sessions, args.seconds, [server.pid], flooding,
                    args.ramp, args.client_processes)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
