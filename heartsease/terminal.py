"""The terminal front end of a breathing session: ``heartsease breathe``.

A calm screen drawn with rich: a breathing bar that fills on the in-breath and empties on
the out-breath, drawn from the pacer's phase at every frame (so a late beat never makes it
stutter); the heart's rhythm as a small, gentle line under it; and the latest cue. Quiet by
default, as the breathing page is: heart rate, RMSSD, coherence, breathing rate and the
state in words (an estimate of arousal and settling relative to the person's own baseline)
only with ``--show-states``. ``p`` pauses and resumes, ``l`` says this is a lot, ``q`` (or
Ctrl-C) ends the session kindly, with one closing for everyone.

Every event, raw beats included, is appended to a JSON-lines file as it happens and synced
to disk every second, so a crash loses at most the last second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from heartsease.coaching.events import Event
from heartsease.coaching.summary import SessionRecord, session_record
from heartsease.colours import STATE_COLOURS

if TYPE_CHECKING:
    from heartsease.coaching.loop import CoachingLoop

BAR_WIDTH = 44
SPARK = "▁▂▃▄▅▆▇█"
RHYTHM_S = 40.0
FSYNC_EVERY_S = 1.0
FRAMES_PER_S = 20

# Words for the states, shown only with --show-states (a clinician's choice, as the plan's
# on the page): what the body seems to be doing, described by its function, never a score
# (CFT: no part of this can be done wrong). An estimate relative to the person's baseline.
STATE_WORDS = {
    "threat": ("your body seems ", "to be working to protect you", STATE_COLOURS["threat"]),
    "neutral": ("your body seems ", "steady", STATE_COLOURS["neutral"]),
    "soothing": ("your body seems ", "to be settling", STATE_COLOURS["soothing"]),
    "unknown": ("", "listening to your heart…", STATE_COLOURS["unknown"]),
}
# One closing for everyone, as on the breathing page.
CLOSING_WORDS = "You gave yourself this time. What did you notice?"
PART_WORDS = {"inhale": "breathe in", "hold-in": "hold gently", "exhale": "breathe out",
              "hold-out": "rest"}


class EventLog:
    """Appends events as JSON lines; flushed at once, synced to disk every second."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._synced = time.monotonic()

    def write(self, event: Event) -> None:
        self._file.write(json.dumps(event.as_dict(), default=_jsonable) + "\n")
        self._file.flush()
        if time.monotonic() - self._synced >= FSYNC_EVERY_S:
            os.fsync(self._file.fileno())
            self._synced = time.monotonic()

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class BreathingScreen:
    """What the screen shows, updated from events and drawn at any moment."""

    def __init__(self, loop: CoachingLoop, title: str, show_states: bool = False) -> None:
        self.loop = loop
        self.title = title
        self.show_states = show_states
        self.step_title = ""
        self.step_seconds = 0.0
        self.cues: list[tuple[float, str]] = []
        self.state = "unknown"
        self.metrics: dict[str, Any] = {}
        self.rhythm: deque[tuple[float, float]] = deque()
        self.paused = False
        self.alert = ""
        self.last_beat_s: float | None = None

    def apply(self, event: Event) -> None:
        d = event.as_dict()
        kind = event.kind
        if kind == "step":
            self.step_title, self.step_seconds = d["title"], d["seconds"]
        elif kind == "cue":
            # cues said together (a grounding cue and an offer to pause) stay together
            self.cues = [c for c in self.cues if c[0] == event.t_s] + [(event.t_s, d["text"])]
        elif kind == "metrics":
            self.metrics = d
            self.state = d["state"]
        elif kind == "state":
            self.state = d["state"]
        elif kind == "beat":
            self.last_beat_s = event.t_s
            self.rhythm.append((event.t_s, 60000.0 / d["rr_ms"]))
            while self.rhythm and self.rhythm[0][0] < event.t_s - RHYTHM_S:
                self.rhythm.popleft()
        elif kind == "paused":
            self.paused = d["paused"]
        elif kind == "backdraft":
            self.alert = ("The guide has stopped. There's no hurry; press r when you'd like to "
                          "carry on, or q to stop for today.")
        elif kind == "backdraft-eased":
            self.alert = ""
        elif kind == "gap":
            self.rhythm.clear()

    def render(self) -> RenderableType:
        now = self.loop.now_s()
        pacer = self.loop.session.pacer
        if self.paused:
            breath = Text("Paused. Press p when you'd like to carry on.", style="grey70")
        elif pacer is None:
            breath = Text("Breathe however feels natural.", style="grey70")
        else:
            phase = pacer.phase(now)
            filled = round(phase.lungs * BAR_WIDTH)
            colour = "light_sky_blue1" if phase.part.value.startswith(("inhale", "hold-in")) \
                else "plum2"
            breath = Text.assemble(
                (f"{PART_WORDS[phase.part.value]:<12}", "bold " + colour),
                ("█" * filled, colour), ("░" * (BAR_WIDTH - filled), "grey23"),
                (f"  {phase.rate_bpm:.1f} breaths/min", "grey58"))
        lead, words, colour = STATE_WORDS.get(self.state, STATE_WORDS["unknown"])
        m = self.metrics
        numbers = Text.assemble(
            ("heart ", "grey58"), (_num(m.get("hr_bpm"), "{:.0f}"), "bold"), (" bpm   ", "grey58"),
            ("RMSSD ", "grey58"), (_num(m.get("rmssd_ms"), "{:.0f}"), "bold"), (" ms   ", "grey58"),
            ("coherence ", "grey58"), (_num(m.get("coherence_ratio"), "{:.1f}"), "bold"),
            ("   breathing ", "grey58"), (_num(m.get("breathing_rate_bpm"), "{:.1f}"), "bold"),
            ("/min", "grey58"))
        body = Text.assemble((lead, "grey58"), (words, "bold " + colour))
        elapsed = self.loop.session.step_elapsed_s(now)
        header = f"{self.title} · {self.step_title} · {_clock(elapsed)} of " \
                 f"{_clock(self.step_seconds)}"
        # Quiet by default: the pacer, the cues and the heart as a gentle line.
        shown = [numbers, body] if self.show_states else []
        parts: list[RenderableType] = [breath, Text(""), self._rhythm_line(now), *shown,
                                       Text(""),
                                       *(Text(text, style="italic") for _, text in self.cues)]
        if self.alert:
            parts.append(Text(self.alert, style="light_salmon1"))
        if self.last_beat_s is None:
            parts.append(Text("Connecting to the strap…", style="grey58"))
        elif now - self.last_beat_s > 5.0:
            parts.append(Text("Waiting for the heartbeat… (is the strap on and moist?)",
                              style="grey58"))
        return Panel(Group(*parts), title=header, subtitle="p pause · l this is a lot · q end",
                     border_style="grey42", padding=(1, 2))

    def _rhythm_line(self, now: float) -> Text:
        if len(self.rhythm) < 3:
            return Text("heart rhythm will appear here", style="grey42")
        hr = [h for _, h in self.rhythm]
        low, high = min(hr), max(hr)
        span = max(high - low, 4.0)
        cells = [SPARK[min(int((h - low) / span * (len(SPARK) - 1) + 0.5), len(SPARK) - 1)]
                 for h in hr[-BAR_WIDTH:]]
        return Text.assemble(("rhythm      ", "grey58"), ("".join(cells), "aquamarine3"))


def _num(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


@contextlib.contextmanager
def _keys(loop: CoachingLoop) -> Iterator[None]:
    """p pauses or resumes, l says "this is a lot", r carries on after it, q ends; only when
    the terminal can be read key by key."""
    if not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    aio = asyncio.get_running_loop()

    def on_key() -> None:
        key = os.read(fd, 1).decode(errors="ignore").lower()
        if key == "p":
            (loop.resume if loop.session.paused else loop.pause)()
        elif key == "l":
            loop.this_is_a_lot()
        elif key == "r":
            loop.resume()
        elif key == "q":
            loop.stop()

    aio.add_reader(fd, on_key)
    try:
        yield
    finally:
        aio.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


async def run_breathing_session(
    loop: CoachingLoop, log: EventLog, console: Console, title: str, show_states: bool = False
) -> list[Event]:
    """Show a live session until it ends; every event is logged as it comes."""
    screen = BreathingScreen(loop, title, show_states)
    events: list[Event] = []
    # Drawn from the event loop (not rich's refresh thread), so the screen reads the
    # session only between its updates.
    with _keys(loop), Live(console=console, auto_refresh=False, transient=True,
                           get_renderable=screen.render) as live:

        async def draw() -> None:
            while True:
                live.refresh()
                await asyncio.sleep(1.0 / FRAMES_PER_S)

        drawing = asyncio.create_task(draw())
        try:
            async for event in loop.events():
                events.append(event)
                log.write(event)
                screen.apply(event)
        finally:
            drawing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drawing
    return events


def print_summary(console: Console, events: list[Event], show_states: bool = False
                  ) -> SessionRecord:
    """The end of a session, in plain words: one closing for everyone; the time estimated
    in each state and the shifts only with ``show_states`` (a clinician's view)."""
    record = session_record(events)
    s = record.summary
    minutes = s.minutes_by_state
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="grey58")
    table.add_column()
    table.add_row("Session", f"{record.duration_s / 60:.1f} minutes")
    if show_states:
        table.add_row("Heartbeats", str(record.n_beats))
        table.add_row("Estimated settled", f"{minutes['soothing']:.1f} minutes")
        table.add_row("Steady", f"{minutes['neutral']:.1f} minutes")
        table.add_row("Estimated aroused", f"{minutes['threat']:.1f} minutes")
        table.add_row("Shifts into settling", str(s.threat_to_soothing_shifts))
    if s.backdrafts:
        table.add_row("", "Earlier, things felt like a lot, and the guide stopped for you. "
                      "Go gently for the rest of the day.")
    if s.gaps:
        table.add_row("Strap gaps", f"{s.gaps} (nothing was filled in)")
    resonance = record.resonance
    if resonance is not None:
        table.add_row("Your breathing pace", resonance.explanation)
    console.print(Panel(table, title=CLOSING_WORDS, border_style="grey42"))
    if show_states and resonance is not None and resonance.rates:
        rates = Table("breaths/min", "heart-rate swing", "LF peak", "coherence",
                      title="How your heart answered each pace",
                      box=None, title_style="grey58")
        for r in resonance.rates:
            mark = " ◆" if r["pacer_rate_bpm"] == resonance.resonance_bpm else ""
            rates.add_row(f"{r['pacer_rate_bpm']:g}{mark}", f"{r['hr_swing_bpm']:.1f} bpm",
                          f"{r['lf_peak_power_ms2']:,.0f} ms²",
                          _num(r["coherence_ratio"], "{:.1f}"))
        console.print(rates)
    return record
