"""The client's plan (suitability, pace limits, what they practise and what they see), the
confirmation of a resonance assessment's pick, the clinician's queue of hard moments, and the
breathing safety notes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Path, Response
from sqlalchemy.orm import Session

from heartsease.api import care, services
from heartsease.api.deps import Clinician, CurrentUser, SessionDep, SettingsDep
from heartsease.api.schemas import (
    PaceIn,
    PatternOut,
    PlanIn,
    PlanOut,
    ProtocolOut,
    ProtocolText,
    ResonanceConfirm,
    Safety,
    problems,
)
from heartsease.coaching.protocols import (
    Protocol,
    ProtocolError,
    builtin_text,
    load_protocol,
    protocol_from_text,
)
from heartsease.store.models import ClientPlan, Role, User
from heartsease.store.repository import audit

router = APIRouter(prefix="/api", tags=["care"],
                   responses=problems(400, 401, 403, 404, 422))

EVENT_ID_MAX = 2**31 - 1  # the events' integer key, on PostgreSQL
SAFETY_TITLE = "Breathing safely"
SAFETY_POINTS = [
    "Slow breathing should feel comfortable. Breathe gently, never forcing the breath.",
    "If you feel dizzy, light-headed or tingly, stop following the guide and breathe "
    "normally. It usually passes within a minute or two.",
    "You can pause or stop at any time, and choose \u201cThis is a lot\u201d whenever you "
    "need to.",
    "heartsease is a biofeedback and wellness aid used alongside your therapy. What it "
    "shows is an estimate of arousal and settling relative to your own baseline; it is not "
    "a diagnosis or a treatment, and it is not for emergencies.",
]


@router.get("/safety")
def safety(settings: SettingsDep) -> Safety:
    """Open to anyone: before the first practice and from every breathing screen."""
    return Safety(title=SAFETY_TITLE, points=SAFETY_POINTS,
                  crisis_contact=settings.crisis_contact)


def _plan_out(db: Session, row: ClientPlan, client: User, for_clinician: bool = False
              ) -> PlanOut:
    plan = services.plan_of(db, row.client_id)
    low, high = plan.pace_limits_bpm()
    protocol = plan.protocol()
    return PlanOut(client_name=client.name, confirmed=plan.confirmed,
                   pacemaker_or_arrhythmia=plan.pacemaker_or_arrhythmia,
                   low_blood_pressure_or_medication=plan.low_blood_pressure_or_medication,
                   heart_feedback=plan.heart_feedback, states_shown=plan.states_shown,
                   numbers_shown=plan.numbers_shown, show_states=plan.show_states,
                   show_numbers=plan.show_numbers,
                   min_pace_bpm=low, max_pace_bpm=high, chosen_pace_bpm=plan.chosen_pace_bpm,
                   pace_bpm=plan.pace_bpm(), plan_pace_bpm=plan.plan_pace_bpm,
                   protocol=row.protocol, custom_protocol=plan.custom_protocol,
                   title=protocol.title, minutes=protocol.duration_s() / 60.0,
                   pattern=PatternOut(**dataclasses.asdict(protocol.pattern)),
                   set_pattern={"inhale": plan.inhale, "exhale": plan.exhale,
                                "hold_in": plan.hold_in, "hold_out": plan.hold_out},
                   set_limits_bpm={"min": plan.min_pace_bpm, "max": plan.max_pace_bpm},
                   practice_minutes=plan.practice_minutes, stages=list(plan.stages),
                   stage_names=list(protocol.stage_names),
                   resonance=care.resonance_pick(db, row) if for_clinician else None)


@router.get("/me/plan")
def my_plan(db: SessionDep, user: CurrentUser) -> PlanOut:
    return _plan_out(db, care.plan_row(db, user, user.id), user)


@router.put("/me/pace")
def choose_pace(body: PaceIn, db: SessionDep, user: CurrentUser) -> PlanOut:
    """The client nudges their pace, within the limits their plan sets."""
    row = care.plan_row(db, user, user.id)
    if body.pace_bpm is not None:
        low, high = services.plan_of(db, user.id).pace_limits_bpm()
        if not low <= body.pace_bpm <= high:
            raise HTTPException(422, f"Choose a pace from {low:g} to {high:g} breaths a "
                                "minute: the limits your clinician set with you.")
    row.chosen_pace_bpm = body.pace_bpm
    db.flush()
    return _plan_out(db, row, user)


def _assigned_client(db: Session, clinician: User, client_id: str) -> tuple[ClientPlan, User]:
    row = care.plan_row(db, clinician, client_id)
    client = db.get(User, client_id)
    assert client is not None and client.role is Role.CLIENT  # plan_row found them
    return row, client


@router.get("/clients/{client_id}/plan")
def client_plan(client_id: str, db: SessionDep, clinician: Clinician) -> PlanOut:
    """The plan as the client's assigned clinician sees it, with the latest resonance
    assessment's pick to confirm."""
    row, client = _assigned_client(db, clinician, client_id)
    audit(db, clinician, "read-plan", "client", client_id, client_id)
    return _plan_out(db, row, client, for_clinician=True)


@router.put("/clients/{client_id}/plan")
def set_client_plan(client_id: str, body: PlanIn, db: SessionDep, clinician: Clinician
                    ) -> PlanOut:
    """The clinician confirms suitability and sets the plan: the client's next session
    follows it. A plan that cannot be practised (a custom protocol that fails the check a
    protocol file gets, a stage it does not have, a pace outside the limits) is refused with
    the reason in words, and the plan stays as it was."""
    row, client = _assigned_client(db, clinician, client_id)
    care.check_plan(row, body)
    if body.pace_bpm != row.pace_bpm:  # a new pace from the clinician replaces the
        row.chosen_pace_bpm = None    # client's own nudge from the old one
        row.resonance_session_id = None
    for field, value in body.model_dump().items():
        setattr(row, field, value)
    row.confirmed_by, row.confirmed_at = clinician.id, datetime.now(UTC)
    db.flush()
    audit(db, clinician, "set-plan", "client", client_id, client_id)
    return _plan_out(db, row, client, for_clinician=True)


@router.post("/clients/{client_id}/plan/resonance")
def confirm_resonance(client_id: str, body: ResonanceConfirm, db: SessionDep,
                      clinician: Clinician) -> PlanOut:
    """The clinician confirms a resonance assessment's pick: it becomes the plan's pace."""
    row, client = _assigned_client(db, clinician, client_id)
    care.confirm_resonance(db, row, body.session_id)
    audit(db, clinician, "confirm-resonance", "session", body.session_id, client_id,
          f"{row.pace_bpm:g}/min")
    return _plan_out(db, row, client, for_clinician=True)


def _protocol_out(protocol: Protocol, text: str) -> ProtocolOut:
    return ProtocolOut(name=protocol.name, title=protocol.title,
                       minutes=protocol.duration_s() / 60.0,
                       stage_names=list(protocol.stage_names), text=text)


@router.get("/protocols/{name}")
def builtin_protocol(name: Literal["srb", "resonance"], clinician: Clinician) -> ProtocolOut:
    """A built-in protocol's file, for the clinician to copy and edit for a client."""
    return _protocol_out(load_protocol(name), builtin_text(name))


@router.post("/protocols/check")
def check_protocol(body: ProtocolText, clinician: Clinician) -> ProtocolOut:
    """A protocol's text checked as a protocol file is checked (422 with the reason)."""
    try:
        return _protocol_out(protocol_from_text(body.text, "the custom protocol"), body.text)
    except ProtocolError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/clinician/backdrafts", response_model=list[dict[str, Any]],
            responses={304: {"description": "Nothing changed since the tag given."}})
def backdraft_queue(db: SessionDep, clinician: Clinician, response: Response,
                    show: Literal["waiting", "reviewed", "all"] = "waiting",
                    if_none_match: Annotated[str | None, Header()] = None) -> Any:
    """The moments that were a lot for the clinician's clients (raised by the body or by
    the client), with what preceded each, the body's change and the words the client chose
    to send: live, and after the session. With the ``ETag`` of the last answer in
    ``If-None-Match``, a 304 while nothing changed (and nothing read, so nothing logged)."""
    reviewed = {"waiting": False, "reviewed": True, "all": None}[show]
    tag = care.queue_tag(db, clinician, reviewed)
    if if_none_match == tag:
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "no-store"
    return care.backdraft_queue(db, clinician, reviewed)


@router.post("/clinician/backdrafts/{event_id}/reviewed", status_code=204)
def review_backdraft(event_id: Annotated[int, Path(ge=1, le=EVENT_ID_MAX)], db: SessionDep,
                     clinician: Clinician) -> Response:
    care.review_moment(db, clinician, event_id)
    return Response(status_code=204)
