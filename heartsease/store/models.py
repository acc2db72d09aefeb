"""The tables: people and their roles, sessions, every raw beat, the loop's events, notes,
self-ratings, the client's own writing and plan, a clinician's recorded cues, and an
append-only audit log (SQLAlchemy 2,
portable to SQLite and PostgreSQL).
"""

from __future__ import annotations

import enum
import math
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in UTC, read back with its zone on every database: SQLite keeps no zone, and
    a naive time reaches a browser as the viewer's local time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect
                             ) -> datetime | None:
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class FiniteFloat(TypeDecorator[float]):
    """A number that is one: NaN and infinities are refused on the way in. PostgreSQL would
    keep them (SQLite turns NaN into NULL), and every JSON answer carrying one is invalid."""

    impl = Float
    cache_ok = True

    def process_bind_param(self, value: float | None, dialect: Dialect) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{value!r} is not a number the store keeps")
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON, datetime: UTCDateTime()}


def _enum(kind: type[enum.Enum]) -> Enum:
    """An enum stored as its value, as a plain string column on every database."""
    return Enum(kind, native_enum=False, length=16,
                values_callable=lambda members: [m.value for m in members])


class Role(enum.StrEnum):
    CLIENT = "client"
    CLINICIAN = "clinician"
    ADMIN = "admin"


class SessionStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"  # the server stopped while it ran; its beats are kept
    LEFT = "left"  # the client's page went and did not come back: not practice


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The client's pace (resonance rate) and recent resting baselines (coaching.profile).
    pace_bpm: Mapped[float | None] = mapped_column(FiniteFloat)
    pace_confidence: Mapped[str | None] = mapped_column(String(16))
    baselines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Tokens issued before this moment are refused ("sign out everywhere", an account closed
    # by an administrator); None: every unexpired token counts.
    tokens_valid_after: Mapped[datetime | None] = mapped_column()
    # An account closed by an administrator: kept (the audit log names it), never signed in,
    # and its open connections close.
    deactivated_at: Mapped[datetime | None] = mapped_column()
    # Where the person lives (an IANA zone, as their browser tells it): their days, in their
    # trends, are midnight to midnight there. None: UTC.
    time_zone: Mapped[str | None] = mapped_column(String(64))


class RevokedToken(Base):
    """A token signed out before it expired. Kept until then, and then forgotten."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PasswordLink(Base):
    """A single-use link by which a person sets their own password (a new account, a reset):
    only its hash is kept, so the database alone does not let anyone in."""

    __tablename__ = "password_links"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # welcome, reset
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class StreamCode(Base):
    """A single-use code that lets the Python streamer stream one person's practice without
    their password (shown on the page, typed after ``--code``). Only its hash is kept."""

    __tablename__ = "stream_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class Assignment(Base):
    """A clinician may see this client's data."""

    __tablename__ = "assignments"

    clinician_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                              primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                           primary_key=True)


class BreathingSession(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                           index=True)
    protocol: Mapped[str] = mapped_column(String(64))
    pace_bpm: Mapped[float] = mapped_column(FiniteFloat)
    source: Mapped[str] = mapped_column(String(32))  # simulated, strap, remote, upload
    source_detail: Mapped[str] = mapped_column(String(200), default="")
    # Practice with a demo heart (the simulator's, not the client's): kept, but out of the
    # client's trends and reports.
    demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[SessionStatus] = mapped_column(_enum(SessionStatus),
                                                  default=SessionStatus.ACTIVE)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column()
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A streamed session's time minus its streamer's clock, kept when a streaming connection
    # closes: beats that arrive after the session ended are placed with it.
    stream_offset_s: Mapped[float | None] = mapped_column(Float)


class Beat(Base):
    """One raw RR interval exactly as delivered, before any correction."""

    __tablename__ = "beats"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    t_s: Mapped[float] = mapped_column(FiniteFloat)
    rr_ms: Mapped[float] = mapped_column(FiniteFloat)
    arrival_s: Mapped[float] = mapped_column(FiniteFloat)
    # The artifact label once the session is complete (None while it runs, or if it was
    # interrupted before its end was processed).
    label: Mapped[str | None] = mapped_column(String(16))


class SessionEvent(Base):
    """One event of the coaching loop (metrics, state, shift, backdraft, cue, ...)."""

    __tablename__ = "session_events"
    __table_args__ = (Index("ix_session_events_session_kind", "session_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    t_s: Mapped[float] = mapped_column(FiniteFloat)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column()


class Annotation(Base):
    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                            index=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    t_s: Mapped[float] = mapped_column(FiniteFloat)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SelfRating(Base):
    """A client's own 0-10 rating during a session (e.g. how harsh the inner critic is), or
    their choice to skip it (``value`` None): never a value they did not give. ``t_s`` is the
    session time when it was given, ``given_at`` the moment."""

    __tablename__ = "self_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                            index=True)
    t_s: Mapped[float] = mapped_column(FiniteFloat)
    scale: Mapped[str] = mapped_column(String(32))
    value: Mapped[int | None] = mapped_column(Integer)
    given_at: Mapped[datetime | None] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only: who read, annotated or exported whose data, and when. The database
    refuses every change but one: an erased session's id replaced by ``erased``
    (:mod:`heartsease.store.personal`)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(32), index=True)  # whose data
    detail: Mapped[str] = mapped_column(Text, default="")


class WritingKind(enum.StrEnum):
    LETTER = "letter"  # a compassionate letter, written in the letter stage
    REFLECTION = "reflection"  # what the client noticed, at the session's close


class Writing(Base):
    """A client's own words: private unless they share it with their clinicians (and they
    may unshare it). Saved as it is written; ``from_t_s``/``to_t_s`` are the session times
    it was written over, so a shared letter is seen beside the heart's trace."""

    __tablename__ = "writings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                           index=True)
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True)
    kind: Mapped[WritingKind] = mapped_column(_enum(WritingKind))
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)  # text per prompt name
    from_t_s: Mapped[float | None] = mapped_column(Float)
    to_t_s: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    shared_at: Mapped[datetime | None] = mapped_column()


class ClientPlan(Base):
    """What the clinician set for a client: the suitability answers (until confirmed: pacer
    and cues only, at gentle limits), the pace limits, what the client practises (protocol,
    pace, pattern, minutes, stages) and what they see (state words, numbers).
    The client's own choice of pace, within the limits, is kept here too."""

    __tablename__ = "client_plans"

    client_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                           primary_key=True)
    pacemaker_or_arrhythmia: Mapped[bool | None] = mapped_column(Boolean)
    low_blood_pressure_or_medication: Mapped[bool | None] = mapped_column(Boolean)
    confirmed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column()
    min_pace_bpm: Mapped[float | None] = mapped_column(Float)
    max_pace_bpm: Mapped[float | None] = mapped_column(Float)
    show_states: Mapped[bool] = mapped_column(Boolean, default=False)
    chosen_pace_bpm: Mapped[float | None] = mapped_column(Float)
    # What the client practises (all empty: soothing rhythm breathing at 6 a minute, quiet).
    protocol: Mapped[str] = mapped_column(String(16), default="srb")
    custom_protocol: Mapped[str | None] = mapped_column(Text)  # TOML, checked as a file is
    pace_bpm: Mapped[float | None] = mapped_column(Float)
    inhale: Mapped[float | None] = mapped_column(Float)
    exhale: Mapped[float | None] = mapped_column(Float)
    hold_in: Mapped[float | None] = mapped_column(Float)
    hold_out: Mapped[float | None] = mapped_column(Float)
    practice_minutes: Mapped[float | None] = mapped_column(Float)
    stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    show_numbers: Mapped[bool] = mapped_column(Boolean, default=False)
    # The resonance assessment whose pick the clinician confirmed as the pace.
    resonance_session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"))


class CheckIn(Base):
    """The words a client chose to send their clinician at a session's check-in, after a
    moment that was a lot."""

    __tablename__ = "check_ins"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    words: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class BackdraftReview(Base):
    """A clinician has looked at a backdraft moment (a ``backdraft`` session event): it
    leaves their queue."""

    __tablename__ = "backdraft_reviews"

    event_id: Mapped[int] = mapped_column(ForeignKey("session_events.id", ondelete="CASCADE"),
                                          primary_key=True)
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id",
                                                               ondelete="SET NULL"))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)


class VoiceRecording(Base):
    """A cue's words in a clinician's own voice, played to their clients with the eyes
    closed in place of the browser's speech. Found by the cue's text (its SHA-256), so a
    cue whose words change in a protocol is spoken again until it is recorded anew. A
    person's voice is personal data: in their export, erased with their account."""

    __tablename__ = "voice_recordings"
    __table_args__ = (Index("ix_voice_recordings_clinician_cue", "clinician_id", "cue_sha256",
                            unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    clinician_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    cue_sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(64))
    audio: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
