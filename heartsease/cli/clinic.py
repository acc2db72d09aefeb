"""``heartsease breathe --server``: the beats streamed to a clinic's server, which coaches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import termios
import tty
from collections.abc import Iterator
from typing import Any

import typer
from rich.markup import escape

from heartsease.cli.common import NO_ADAPTER_HELP, console, err_console, refuse
from heartsease.coaching.protocols import DEFAULT_PACE_BPM, Protocol
from heartsease.remote import (
    ServerError,
    StreamStats,
    authorization,
    redeem_code,
    sign_in,
    start_remote_session,
    stop_remote_session,
    stream_to_server,
    warn_if_plain,
)
from heartsease.sensors.ble import StrapNotFoundError
from heartsease.sources import SourceDescription, open_source


def stream_to_clinic(
    server: str, email: str | None, protocol: Protocol, rate: float | None, stages: list[str],
    practice_minutes: float | None, heart: SourceDescription, code: str | None = None,
) -> None:
    """Sign in (with a password, or the one-time ``code`` the breathing page showed), start
    a session on ``server`` and stream ``heart`` to it until it ends."""
    if (email is None) == (code is None):
        err_console.print("With --server, give --code (the one-time code your breathing page "
                          "shows) or --email to sign in with your password.")
        raise typer.Exit(code=2)
    warn_if_plain(server)  # before a password is asked for
    options = {"protocol": protocol.name, "stages": stages,
               "practice_minutes": practice_minutes, "pace_bpm": rate}
    try:
        token = redeem_code(server, code) if code is not None else sign_in(
            server, str(email), os.environ.get("HEARTSEASE_PASSWORD")
            or typer.prompt("Password", hide_input=True))
        session_id, stats, quit_ = asyncio.run(_breathe_with_server(
            server, token, protocol, rate, heart, options))
        if quit_.requested:
            stop_remote_session(server, token, session_id)
    except ServerError as exc:
        refuse(f"The clinic's server said: {escape(str(exc))}")
    except StrapNotFoundError as exc:
        refuse(f"Cannot start: {escape(str(exc))}. {NO_ADAPTER_HELP}")
    from heartsease.terminal import CLOSING_WORDS

    console.print(CLOSING_WORDS, style="bold")
    ending = "You ended the session" if quit_.requested else "Done"
    unsent = (f"; {len(stats.unacknowledged)} messages of beats were not stored, as you "
              "asked twice to stop at once" if stats.unacknowledged else "")
    console.print(f"{ending}: {stats.acknowledged} heartbeats are stored on the clinic's "
                  f"server (session {session_id}){unsent}.")


class _Quit:
    """``q`` or Ctrl-C: the streamer stops reading the strap, waits for what it sent to be
    stored, and ends the session; Ctrl-C again stops at once."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.requested = False
        self.streaming: asyncio.Task[StreamStats] | None = None
        self.stats = StreamStats()

    def __call__(self) -> None:
        if self.requested and self.streaming is not None:
            self.streaming.cancel()
            return
        self.requested = True
        console.print("Ending the session once what was sent is stored "
                      "(Ctrl-C again to stop at once)…")
        self.stop.set()

    @contextlib.contextmanager
    def listening(self) -> Iterator[None]:
        """Ctrl-C, and ``q`` when the terminal can be read key by key."""
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self)
        keys = sys.stdin.isatty()
        if keys:
            fd = sys.stdin.fileno()
            saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
            loop.add_reader(fd, lambda: self() if os.read(fd, 1).lower() == b"q" else None)
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            if keys:
                loop.remove_reader(fd)
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)


async def _breathe_with_server(
    server: str, token: str, protocol: Protocol, pace: float | None,
    heart: SourceDescription, options: dict[str, Any],
) -> tuple[str, StreamStats, _Quit]:
    session_id = start_remote_session(server, token, **options)
    opened = open_source(heart, protocol.schedule(pace or DEFAULT_PACE_BPM))
    status_line = console.status("Connecting to the clinic…")
    status_line.start()

    def progress(stats: StreamStats) -> None:
        status_line.update(f"Streaming to the clinic: {stats.sent} heartbeats sent, "
                           f"{stats.acknowledged} safely stored"
                           + (f" ({stats.reconnects} reconnections)" if stats.reconnects
                              else ""))

    ended = asyncio.Event()
    quit_ = _Quit(ended)
    watcher = asyncio.create_task(_watch_session(server, token, session_id, ended))
    try:
        with quit_.listening():
            quit_.streaming = asyncio.create_task(stream_to_server(
                opened.source, server, token, session_id, progress, stop=ended,
                stats=quit_.stats))
            try:
                await quit_.streaming
            except asyncio.CancelledError:
                if not quit_.requested:
                    raise
        return session_id, quit_.stats, quit_
    finally:
        status_line.stop()
        opened.close()
        watcher.cancel()


async def _watch_session(server: str, token: str, session_id: str,
                         ended: asyncio.Event) -> None:
    """The session as the server coaches it: its cues as they come (quiet, as the breathing
    page is by default: no state words; the clinician sees them in the observation room);
    sets ``ended`` when it is over."""
    import websockets

    url = (server.replace("http://", "ws://").replace("https://", "wss://")
           + f"/api/sessions/{session_id}/live")
    while not ended.is_set():
        try:
            async with websockets.connect(url, additional_headers=authorization(token)) as ws:
                async for raw in ws:
                    event = json.loads(raw)
                    if event["kind"] == "cue":
                        console.print(escape(event["text"]), style="italic")
                    elif event["kind"] in ("session-ended", "closed"):
                        ended.set()
                        return
        except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake):
            await asyncio.sleep(1.0)
