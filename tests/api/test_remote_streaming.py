"""``heartsease breathe --server``'s streamer against a real server process that is killed
(SIGKILL) and restarted mid-session: every beat is stored exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import websockets

from heartsease.remote import StreamStats, sign_in, start_remote_session, stream_to_server
from heartsease.sensors.files import parse_rr_text
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Measurement
from heartsease.simulator.scenarios import simulate
from tests.conftest import free_port, serve


async def paced_beats(rr_ms: np.ndarray, every_s: float) -> AsyncIterator[Measurement]:
    t = 0.0
    for i in range(0, rr_ms.size, 2):  # two beats a notification, as straps often send
        values = tuple(float(x) for x in rr_ms[i:i + 2])
        times = tuple(t + float(np.sum(rr_ms[i:i + k + 1])) / 1000 for k in range(len(values)))
        t = times[-1]
        yield Measurement(t, 70, values, times, SensorContact.DETECTED)
        await asyncio.sleep(every_s)


def test_the_streamer_resends_what_a_killed_server_never_acknowledged(db_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    servers = [serve(db_url, port)]
    rr = simulate("rest", 240, seed=11).rr_ms
    try:
        token = sign_in(base, "client@example.org", "heartsease-demo")
        session_id = start_remote_session(base, token, protocol="srb")
        killed = threading.Event()

        def kill_and_restart() -> None:
            servers[0].send_signal(signal.SIGKILL)
            servers[0].wait()
            servers.append(serve(db_url, port))

        def progress(stats: StreamStats) -> None:
            if stats.acknowledged >= 60 and not killed.is_set():
                killed.set()
                threading.Thread(target=kill_and_restart).start()

        # The streamer retries for as long as its user waits: here a server that did not
        # come back would hang the suite, so it has two minutes (it needs about ten seconds).
        stats = asyncio.run(asyncio.wait_for(stream_to_server(
            paced_beats(rr, 0.01), base, token, session_id, progress), timeout=120))
        assert killed.is_set() and stats.reconnects >= 1
        assert stats.acknowledged == rr.size and not stats.unacknowledged
        headers = {"Authorization": f"Bearer {token}"}
        detail = httpx.get(f"{base}/api/sessions/{session_id}", headers=headers).json()
        assert detail["n_beats"] == rr.size
        exported = httpx.get(f"{base}/api/sessions/{session_id}/export?format=rr",
                             headers=headers).text
        assert np.allclose(parse_rr_text(exported, "x").rr_ms, rr, atol=0.001)
    finally:
        for server in servers:
            server.terminate()
            server.wait()


def test_an_oversized_ingest_message_is_refused(db_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(db_url, port)
    try:
        token = sign_in(base, "client@example.org", "heartsease-demo")
        session_id = start_remote_session(base, token, protocol="srb")

        async def flood() -> int:
            url = f"ws://127.0.0.1:{port}/api/sessions/{session_id}/ingest"
            async with websockets.connect(url, max_size=None, additional_headers={
                    "Authorization": f"Bearer {token}"}) as ws:
                await ws.send(json.dumps({"seq": 1, "note": "x" * 100_000}))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                return closed.value.rcvd.code

        assert asyncio.run(flood()) == 1009  # message too big
    finally:
        server.terminate()
        server.wait()


@pytest.mark.parametrize("how", ["ctrl-c", "q"])
def test_quitting_the_streamer_ends_its_session_and_says_so(
        tmp_path: Path, how: str) -> None:
    """``q`` did nothing and Ctrl-C printed a traceback, the session left active on the
    server. Now either stops reading the strap, waits for what was sent to be stored, ends
    the session and says so."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(f"sqlite:///{tmp_path / 'h.db'}", port)
    primary, secondary = pty.openpty()  # a terminal, read key by key as a person types
    try:
        streamer = subprocess.Popen(
            [sys.executable, "-m", "heartsease.cli", "breathe", "--server", base, "--email",
             "client@example.org", "--simulate", "rest", "--speed", "10"],
            env={**os.environ, "HEARTSEASE_PASSWORD": "heartsease-demo", "COLUMNS": "200"},
            stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        token = sign_in(base, "client@example.org", "heartsease-demo")
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(600):  # until beats are stored
            listed = httpx.get(f"{base}/api/sessions", headers=headers).json()
            if listed and httpx.get(f"{base}/api/sessions/{listed[0]['id']}",
                                    headers=headers).json()["n_beats"] > 10:
                break
            time.sleep(0.1)
        if how == "q":
            os.write(primary, b"q")
        else:
            streamer.send_signal(signal.SIGINT)
        out, _ = streamer.communicate(timeout=60)
        said = out.decode(errors="replace")
        assert streamer.returncode == 0, said
        assert "Traceback" not in said and "You ended the session" in said, said
        detail = httpx.get(f"{base}/api/sessions/{listed[0]['id']}", headers=headers).json()
        assert detail["status"] == "stopped" and not detail["live"]
        assert f"{detail['n_beats']} heartbeats are stored" in said
    finally:
        os.close(primary)
        os.close(secondary)
        server.terminate()
        server.wait()
