"""Request and response bodies."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from heartsease.sources import SCENARIO_NAMES
from heartsease.store.models import Role, SessionStatus

ScenarioName = Literal[SCENARIO_NAMES]  # type: ignore[valid-type]


# Text a person typed: line breaks and tabs, but no other control characters (PostgreSQL
# cannot store NUL, and none of them belongs in a name or a note).
PlainText = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]


RatingScale = Literal["inner-critic", "shame", "self-compassion", "calm"]


class Problem(BaseModel):
    """Every error: what went wrong, in words a person can act on (for a request that
    failed validation, FastAPI's list of what was wrong where)."""

    detail: str | list[dict[str, Any]]


_PROBLEMS = {
    400: "The body is not well-formed (JSON or form data that cannot be parsed).",
    401: "Not signed in, or the sign-in has expired or was signed out.",
    403: "Signed in, but this is not open to your role.",
    404: "No such thing, or it is not yours to see (which of the two is not said).",
    409: "It conflicts with the current state (say, a session already running).",
    413: "Too large.",
    415: "Not a kind of file this endpoint takes.",
    422: "The request is not one this endpoint can act on; the detail says why.",
    429: "Too many attempts; Retry-After says when to try again.",
    503: "The service cannot do this just now (its database is away); try again shortly.",
}


def _iso_date(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date as YYYY-MM-DD")
    return value


# A date as the schema states it: pydantic would also take a number as seconds since 1970.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error codes, each a :class:`Problem`."""
    return {code: {"model": Problem, "description": _PROBLEMS[code]} for code in codes}


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in_s: int


class StreamCodeOut(BaseModel):
    """A one-time code for ``heartsease breathe --server URL --code CODE``."""

    code: str
    expires_at: datetime


class StreamCodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=40)


class PageSignIn(BaseModel):
    """A page's sign-in, kept in a cookie: who, and when to renew it (while in use)."""

    role: Role
    expires_in_s: int
    idle_s: int  # how long it lasts unused
    renew_in_s: int  # when the page should renew it, if the person is still there


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    pace_bpm: float | None = None
    time_zone: str | None = Field(None, description="The person's IANA time zone, which "
                                  "their trend days follow (none: UTC).")


class TimeZoneIn(BaseModel):
    time_zone: str = Field(max_length=64, examples=["Pacific/Auckland"],
                           description="An IANA time zone, as the browser knows it")

    @field_validator("time_zone")
    @classmethod
    def _known(cls, value: str) -> str:
        return known_zone(value)


def known_zone(name: str) -> str:
    """``name`` if it is an IANA time zone this server knows; a ``ValueError`` if not."""
    try:
        ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        raise ValueError("Not a time zone I know (an IANA name such as Europe/Paris).") from None
    return name


class UserCreate(BaseModel):
    """A new person. No password: they set their own by a single-use link."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    name: PlainText = Field(min_length=1, max_length=200)
    role: Role


class AdminUserOut(BaseModel):
    """A person as an administrator sees them: the account, no health data."""

    id: str
    email: str
    name: str
    role: Role
    created_at: datetime
    deactivated_at: datetime | None
    password_set: bool


class PasswordLinkOut(BaseModel):
    """A single-use link to set a password: mailed to the person when mail is configured
    (``link`` then null), otherwise shown here once for the administrator to hand over."""

    mailed: bool
    link: str | None
    expires_in_hours: int


class NewAccount(PasswordLinkOut):
    user: AdminUserOut


Password = Annotated[str, Field(min_length=10, max_length=200)]


class SetPasswordIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    password: Password


class PasswordChangeIn(BaseModel):
    old_password: str = Field(max_length=200)
    new_password: Password


class ForgotPasswordIn(BaseModel):
    email: EmailStr


class ForgotPasswordOut(BaseModel):
    """The same whatever the email: whether it has an account is not said."""

    mailed: bool = Field(description="whether this service mails links (otherwise an "
                         "administrator hands one over)")
    detail: str


class AssignmentOut(BaseModel):
    clinician_id: str
    clinician_name: str
    client_id: str
    client_name: str


class CareTeamMember(BaseModel):
    name: str
    role: Role


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: str | None
    actor_name: str | None
    action: str
    object_type: str
    object_id: str
    object_name: str | None = Field(description="the person's name when the object is one")
    subject_id: str | None
    subject_name: str | None
    detail: str
    detail_name: str | None = Field(description="the person's name when the detail is one "
                                    "(the clinician assigned or unassigned)")


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_before_id: int | None = Field(description="pass as before_id for older entries; "
                                       "null on the last page")


class AssignmentIn(BaseModel):
    clinician_id: str
    client_id: str


class SessionStart(BaseModel):
    """How a session gets its heartbeat: ``simulated`` (a virtual strap), ``strap`` (a chest
    strap near the server, by address or name) or ``remote`` (beats streamed to the ingest
    WebSocket by the client's own device)."""

    source: Literal["simulated", "strap", "remote"] = "simulated"
    scenario: ScenarioName = "threat-then-soothe"  # type: ignore[valid-type]
    seed: int = Field(0, ge=0, le=2**32 - 1, strict=True)  # numpy's seeds
    device: PlainText | None = Field(None, max_length=200)
    protocol: Literal["srb", "resonance"] | None = Field(
        None, description="none: the client's plan decides (its protocol, minutes, stages)")
    stages: list[Literal["safe-place", "compassionate-colour", "compassionate-self",
                         "compassionate-other", "compassionate-letter"]] | None = None
    practice_minutes: float | None = Field(None, ge=1, le=60, strict=True)
    pace_bpm: float | None = Field(None, ge=3, le=10, strict=True)
    speed: float = Field(1.0, ge=0.1, le=100.0, strict=True)  # simulated: faster than real
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
    demo: bool = Field(False, description="practice with a demo heart (the simulator's), "
                       "kept out of the client's trends")


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
    text: PlainText = Field(min_length=1, max_length=500)
    t_s: float | None = Field(None, ge=0, strict=True)


class RatingIn(BaseModel):
    """A rating the client gave by touching the scale, or chose to skip: never a value they
    did not give."""

    scale: RatingScale
    value: Annotated[int, Field(strict=True)] | Literal["skipped"]

    @property
    def given(self) -> int | None:
        return None if self.value == "skipped" else self.value

    @model_validator(mode="after")
    def _on_the_scale(self) -> RatingIn:
        if self.value != "skipped" and not 0 <= int(self.value) <= 10:
            raise ValueError("a rating is 0 to 10, or \"skipped\"")
        return self


class TrendDay(BaseModel):
    day: date
    sessions: int
    resting_ln_rmssd: float | None
    ln_rmssd_7d: float | None
    normal_low: float | None
    normal_high: float | None
    resting_hr_bpm: float | None
    # The clinical detail: null for the client themselves, whose trends show their practice
    # and their own ratings, never a count to strive for.
    coherence: float | None
    soothing_minutes: float | None
    shifts_per_session: float | None
    ratings_before: dict[str, float]  # per scale, the mean of sessions' first ratings
    ratings_after: dict[str, float]  # and of their last, where a session has two
    session_ids: list[str]  # the day's sessions, earliest first


class Health(BaseModel):
    """How this worker is doing, for a load balancer, a monitor and the pages' status line."""

    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    live: str = Field(description="how live views reach viewers: in-process, every worker "
                      "through Redis, or degraded to this worker and why")
    event_loop_lag_ms: dict[Literal["p99", "max"], float] = Field(
        description="how long this worker's event loop took to take up new work over the "
        "last minute: a floor under every live latency on it")
    demo_history: Literal["filling", "ready", "failed"] = Field(
        "ready", description="in development, the demo client's weeks of practice: still "
        "being made behind the running service, there, or failed (the service runs on)")


# A letter's parts, by its prompts' names (or "text" for a reflection): a few, each up to
# about ten pages.
WritingPart = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]
WritingBody = Annotated[dict[WritingPart, Annotated[PlainText, Field(max_length=20_000)]],
                        Field(max_length=12)]


class WritingIn(BaseModel):
    """A letter or reflection begun: saved as the client writes, private unless shared."""

    kind: Literal["letter", "reflection"]
    session_id: str | None = Field(None, max_length=32)
    body: WritingBody = {}


class WritingUpdate(BaseModel):
    body: WritingBody


class CheckInIn(BaseModel):
    """The words a client chooses to send their clinician at a check-in."""

    words: PlainText = Field(min_length=1, max_length=2000)


PatternPart = Annotated[float | None, Field(ge=0, le=30)]


class PlanIn(BaseModel):
    """The clinician confirms the client's suitability and sets their plan: what they
    practise and what they see. What is left out takes the protocol's own value (its
    pattern, minutes) or the default (soothing rhythm breathing at 6 a minute, quiet)."""

    pacemaker_or_arrhythmia: bool
    low_blood_pressure_or_medication: bool
    min_pace_bpm: float | None = Field(None, ge=3, le=10)
    max_pace_bpm: float | None = Field(None, ge=3, le=10)
    show_states: bool = False
    show_numbers: bool = False
    protocol: Literal["srb", "resonance", "custom"] = "srb"
    custom_protocol: PlainText | None = Field(
        None, max_length=100_000,
        description="the custom protocol's TOML (a copy of a built-in one, edited), checked "
        "as a protocol file is checked")
    pace_bpm: float | None = Field(None, ge=3, le=10,
                                   description="none: 6 a minute")
    inhale: PatternPart = None
    exhale: PatternPart = None
    hold_in: PatternPart = None
    hold_out: PatternPart = None
    practice_minutes: float | None = Field(None, ge=1, le=60)
    stages: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]] = Field(
        [], max_length=12)

    @model_validator(mode="after")
    def _limits_in_order(self) -> PlanIn:
        if None not in (self.min_pace_bpm, self.max_pace_bpm) \
                and self.min_pace_bpm > self.max_pace_bpm:  # type: ignore[operator]
            raise ValueError("the slowest pace must not be above the fastest")
        return self


class PaceIn(BaseModel):
    """The client's own choice of pace, within their plan's limits (null: the plan's pace,
    or 6 a minute)."""

    pace_bpm: float | None = Field(ge=3, le=10)


class PatternOut(BaseModel):
    inhale: float
    exhale: float
    hold_in: float
    hold_out: float


class ResonancePick(BaseModel):
    """The latest resonance assessment's pick, for the clinician to confirm as the pace."""

    session_id: str
    ended_at: datetime | None
    resonance_bpm: float | None = Field(description="none: no rate stood out")
    confidence: str
    explanation: str
    confirmed: bool = Field(description="the plan's pace is this pick")


class ProtocolText(BaseModel):
    """A protocol's TOML, as a clinician edits a copy of a built-in one."""

    text: PlainText = Field(max_length=100_000)


class ProtocolOut(BaseModel):
    """A protocol as checked: what a session of it is, and its file."""

    name: str
    title: str
    minutes: float
    stage_names: list[str]
    text: str


class ResonanceConfirm(BaseModel):
    session_id: str = Field(max_length=32)


class PlanOut(BaseModel):
    client_name: str
    confirmed: bool
    pacemaker_or_arrhythmia: bool | None
    low_blood_pressure_or_medication: bool | None
    heart_feedback: bool = Field(description="the heart's rhythm may be shown and lead; "
                                 "otherwise the pacer and cues only")
    states_shown: bool = Field(description="state words during practice (off by default)")
    min_pace_bpm: float
    max_pace_bpm: float
    chosen_pace_bpm: float | None
    pace_bpm: float = Field(description="the pace a session now breathes at")
    plan_pace_bpm: float | None = Field(description="the clinician's pace, or the resonance "
                                        "rate they confirmed (none: 6 a minute)")
    numbers_shown: bool = Field(description="heart rate, coherence and breathing rate during "
                                "practice (off by default)")
    show_states: bool
    show_numbers: bool
    protocol: Literal["srb", "resonance", "custom"]
    custom_protocol: str | None
    title: str = Field(description="the practice's title, as the client reads it")
    minutes: float = Field(description="how long a session lasts")
    pattern: PatternOut = Field(description="the breath's pattern a session uses")
    set_pattern: dict[str, float | None] = Field(description="the parts the clinician set "
                                                 "(none: the protocol's own)")
    set_limits_bpm: dict[str, float | None] = Field(
        description="the pace limits the clinician set (none: those suitability sets)")
    practice_minutes: float | None
    stages: list[str]
    stage_names: list[str] = Field(description="the optional stages the protocol offers")
    resonance: ResonancePick | None = Field(
        None, description="for the clinician: the latest resonance assessment's pick")


class Safety(BaseModel):
    """What every breathing screen links to, and what comes before the first practice."""

    title: str
    points: list[str]
    crisis_contact: str
