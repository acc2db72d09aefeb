"""The live protocol: the messages on a session's ``/live`` and ``/ingest`` WebSockets and the
codes they close with, defined once.

The server (``heartsease.api``) and the Python streamer (``heartsease.remote``) import this
module; the pages mirror it in ``api/web/static/wire.js``, and a test fails when the two
differ.

``/live`` (a viewer: the client breathing, or an observing clinician): the server sends JSON
objects named by ``kind`` (:class:`Kind`: the coaching loop's events as they happen, and the
server's own ``hello``, ``rating``, ``source-error``, ``error`` and ``closed``); the viewer
sends objects named by ``type`` (:class:`Command`).

``/ingest`` (a remote client's strap): the streamer sends one :class:`MeasurementMessage` per
notification, its ``seq`` numbering the first of its beats, or a :class:`GapMessage` when the
strap was away. The server answers :class:`Ack` once the beats are on disk, or an
:class:`ErrorReply` (with ``expected_seq`` when beats before the message are missing: the
streamer sends everything unacknowledged again). A beat sent twice is stored once.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any, NotRequired, TypedDict

from heartsease.sensors.source import Gap, Measurement


class Close(IntEnum):
    """Why the server closed a WebSocket."""

    NOT_TEXT = 1003  # a binary message: every message is a JSON text
    NOT_READABLE = 1007  # not JSON, nested too deep, or numbers that are no times (NaN, 1e300)
    TOO_FAST = 1008  # policy violation: more messages than a person or a strap sends
    TOO_BIG = 1009  # a message larger than the server takes (the server's ws_max_size)
    NOT_STORED = 1011  # beats could not be stored just now: the streamer tries again
    TOO_MANY_VIEWS = 1013  # try again later: the person holds as many live views as allowed
    SIGNED_OUT = 4401  # the sign-in ended: signed out, every sign-in ended, or too old
    NOT_ALLOWED = 4403  # not yours to see or stream, or the account erased or closed
    NOT_LIVE = 4404  # the session is not running (or not taking streamed beats)
    ELSEWHERE = 4409  # the session streams over another connection


# A streamer gives up on these (sending the same again would only be refused again); on any
# other close it reconnects and resends.
FINAL_CLOSES = frozenset({Close.SIGNED_OUT, Close.NOT_ALLOWED, Close.NOT_LIVE, Close.NOT_TEXT,
                          Close.NOT_READABLE})


class Kind(StrEnum):
    """The ``kind`` of a message from the server."""

    # The coaching loop's events (heartsease.coaching.events), as they happen.
    SESSION_STARTED = "session-started"
    STEP = "step"
    PACER = "pacer"
    PACER_PHASE = "pacer-phase"
    BEAT = "beat"
    METRICS = "metrics"
    STATE = "state"
    SHIFT = "shift"
    BACKDRAFT = "backdraft"
    BACKDRAFT_EASED = "backdraft-eased"
    CUE = "cue"
    GAP = "gap"
    ANNOTATION = "annotation"
    PAUSED = "paused"
    RESONANCE = "resonance"
    BASELINE = "baseline"
    SESSION_ENDED = "session-ended"
    # The server's own.
    HELLO = "hello"  # to a viewer joining: where the session is, and its story so far
    # Whether the client's page is with the session (``presence``: connected or away) and
    # whether it is paused; also the control by which a worker's /live route says so.
    PRESENCE = "presence"
    RATING = "rating"  # a self-rating the client gave
    SOURCE_ERROR = "source-error"  # the heart source failed; the session ends
    CLOSED = "closed"  # the session is over: nothing more comes
    ERROR = "error"  # a message the server did not take
    ACK = "ack"  # on /ingest: beats up to ``seq`` are on disk


class Command(StrEnum):
    """The ``type`` of a message a viewer sends on ``/live``."""

    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    THIS_IS_A_LOT = "this-is-a-lot"  # these four only from the session's client
    RATING = "rating"  # ``scale`` and ``value`` (0-10), only from the client
    ANNOTATION = "annotation"  # ``text``, only from an observing clinician


CLIENT_CONTROLS = frozenset({Command.PAUSE, Command.RESUME, Command.STOP,
                             Command.THIS_IS_A_LOT})


class HelloStep(TypedDict):
    name: str
    title: str
    seconds: float
    elapsed_s: float


class HelloPacer(TypedDict):
    rate_bpm: float
    breaths: float
    anchors: dict[str, list[list[float]]]  # BreathPacer.anchors: the same pacer, rebuilt


# What a viewer is shown on joining (``"for"`` is a Python keyword, hence this form): where
# the session is and, as ``recent``, its story so far (steps, states, shifts, notes) and
# last beats, each as it was sent live.
Hello = TypedDict("Hello", {
    "kind": str,  # Kind.HELLO
    "role": str,  # "client" or "observer"
    "session_id": str,
    "t_s": float,
    "protocol": str,
    "pace_bpm": float,
    "step": HelloStep | None,
    "pacer": HelloPacer | None,
    "pattern": list[float],  # the breath's shares: inhale, hold-in, exhale, hold-out
    "state": str,
    "metrics": dict[str, Any] | None,  # the last Kind.METRICS message
    "paused": bool,
    "presence": str | None,  # the client's page: "connected", "away", or None (never came)
    "for": NotRequired[str],  # the viewer it welcomes, when it crosses between workers
    "recent": NotRequired[list[dict[str, Any]]],
})


class MeasurementMessage(TypedDict):
    """A strap's notification, streamed: ``seq`` numbers the first of its beats."""

    seq: int
    arrival_s: float
    hr_bpm: int
    rr_ms: list[float]
    beat_times_s: list[float]
    contact: str


class GapMessage(TypedDict):
    """A stretch without beats (the strap was away), on the streamer's clock."""

    gap_start_s: float
    gap_end_s: float
    reason: str


class Ack(TypedDict):
    kind: str  # Kind.ACK
    seq: int  # the last beat on disk


class ErrorReply(TypedDict):
    kind: str  # Kind.ERROR
    detail: str
    seq: NotRequired[int]  # the message refused
    expected_seq: NotRequired[int]  # beats from this one are missing: resend them


def measurement_message(seq: int, measurement: Measurement) -> MeasurementMessage:
    """``measurement`` as the streamer sends it, its first beat numbered ``seq``."""
    return {"seq": seq, "arrival_s": measurement.arrival_s, "hr_bpm": measurement.hr_bpm,
            "rr_ms": list(measurement.rr_ms), "beat_times_s": list(measurement.beat_times_s),
            "contact": measurement.contact.value}


def gap_message(gap: Gap) -> GapMessage:
    return {"gap_start_s": gap.start_s, "gap_end_s": gap.end_s, "reason": gap.reason}


def is_gap(message: Any) -> bool:
    """Whether a message on ``/ingest`` tells of a gap rather than beats."""
    return isinstance(message, dict) and "gap_start_s" in message


def ack(upto_seq: int) -> Ack:
    return {"kind": Kind.ACK, "seq": upto_seq}


def error(detail: str, **about: int) -> ErrorReply:
    """An :class:`ErrorReply`; ``about`` is ``seq`` or ``expected_seq``."""
    return {"kind": Kind.ERROR, "detail": detail, **about}  # type: ignore[typeddict-item]


def last_seq(message: MeasurementMessage) -> int:
    """The number of the last beat in ``message``."""
    return message["seq"] + len(message["rr_ms"]) - 1
