"""The client's plan (suitability, pace limits, whether state words show), the clinician's
queue of hard moments, and the breathing safety notes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Path, Response
from sqlalchemy.orm import Session

from heartsease.api import care, services
from heartsease.api.deps import Clinician, CurrentUser, SessionDep, SettingsDep
from heartsease.api.schemas import PaceIn, PlanIn, PlanOut, Safety, problems
from heartsease.coaching.profile import profile_of
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


def _plan_out(db: Session, row: ClientPlan, client: User) -> PlanOut:
    plan = services.plan_of(db, row.client_id)
    low, high = plan.pace_limits_bpm()
    return PlanOut(confirmed=plan.confirmed,
                   pacemaker_or_arrhythmia=plan.pacemaker_or_arrhythmia,
                   low_blood_pressure_or_medication=plan.low_blood_pressure_or_medication,
                   heart_feedback=plan.heart_feedback, states_shown=plan.states_shown,
                   min_pace_bpm=low, max_pace_bpm=high, chosen_pace_bpm=plan.chosen_pace_bpm,
                   pace_bpm=plan.pace_bpm(profile_of(client).pace_bpm))


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


@router.get("/clients/{client_id}/plan")
def client_plan(client_id: str, db: SessionDep, clinician: Clinician) -> PlanOut:
    row = care.plan_row(db, clinician, client_id)
    audit(db, clinician, "read-plan", "client", client_id, client_id)
    client = db.get(User, client_id)
    assert client is not None  # plan_row found them
    return _plan_out(db, row, client)


@router.put("/clients/{client_id}/plan")
def set_client_plan(client_id: str, body: PlanIn, db: SessionDep, clinician: Clinician
                    ) -> PlanOut:
    """The clinician confirms suitability and sets the limits: the client's next session
    follows them."""
    row = care.plan_row(db, clinician, client_id)
    for field, value in body.model_dump().items():
        setattr(row, field, value)
    row.confirmed_by, row.confirmed_at = clinician.id, datetime.now(UTC)
    db.flush()
    audit(db, clinician, "set-plan", "client", client_id, client_id)
    client = db.get(User, client_id)
    assert client is not None and client.role is Role.CLIENT
    return _plan_out(db, row, client)


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
