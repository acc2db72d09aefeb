"""Request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, EmailStr, Field

from heartsease.simulator.scenarios import SCENARIOS
from heartsease.store.models import Role, SessionStatus

ScenarioName = Literal[tuple(SCENARIOS)]  # type: ignore[valid-type]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in_s: int


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    pace_bpm: float | None = None


class UserCreate(BaseModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=10, max_length=200)


class AssignmentIn(BaseModel):
    clinician_id: str
    client_id: str


class SessionStart(BaseModel):
    """How a session gets its heartbeat: ``simulated`` (a virtual strap), ``strap`` (a chest
    strap near the server, by address or name) or ``remote`` (beats streamed to the ingest
    WebSocket by the client's own device)."""

    source: Literal["simulated", "strap", "remote"] = "simulated"
    scenario: ScenarioName = "threat-then-soothe"  # type: ignore[valid-type]
    seed: int = 0
    device: str | None = Field(None, max_length=200)
    protocol: Literal["srb", "resonance"] = "srb"
    stages: list[Literal["compassionate-imagery", "compassionate-letter"]] = []
    practice_minutes: float | None = Field(None, ge=1, le=60)
    pace_bpm: float | None = Field(None, ge=3, le=10)
    speed: float = Field(1.0, ge=0.1, le=100.0)  # simulated only: faster than real time
    client_id: str | None = None  # a clinician starting a session for an assigned client


class SessionOut(BaseModel):
    id: str
    client_id: str
    protocol: str
    pace_bpm: float
    source: str
    source_detail: str
    status: SessionStatus
    started_at: datetime
    ended_at: datetime | None
    summary: dict[str, Any]
    live: bool = False


class SessionDetail(SessionOut):
    n_beats: int
    metrics: list[dict[str, Any]]
    states: list[dict[str, Any]]
    shifts: list[dict[str, Any]]
    backdrafts: list[dict[str, Any]]
    annotations: list[dict[str, Any]]
    self_ratings: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    resonance: dict[str, Any] | None


class AnnotationIn(BaseModel):
    text: str = Field(min_length=1, max_length=500)
    t_s: float | None = Field(None, ge=0)


class RatingIn(BaseModel):
    scale: Literal["inner-critic", "shame", "self-compassion", "calm"]
    value: int = Field(ge=0, le=10)


class TrendDay(BaseModel):
    day: date
    sessions: int
    resting_ln_rmssd: float | None
    ln_rmssd_7d: float | None
    normal_low: float | None
    normal_high: float | None
    resting_hr_bpm: float | None
    coherence: float | None
    soothing_minutes: float
    shifts_per_session: float
    ratings_before: dict[str, float]  # per scale, the mean of sessions' first ratings
    ratings_after: dict[str, float]  # and of their last, where a session has two
    session_ids: list[str]  # the day's sessions, earliest first
