"""The client's own writing, their plan and the clinician's queue of hard moments, kept out
of the routers: who may see what, and what is audit-logged.

Letters and reflections belong to the client: a clinician reads one only while the client
shares it, beside the heart's trace of the moments it was written and read back, and every
such read is audit-logged. Backdraft moments (the body's, or the
client's "this is a lot") wait in the queue of each clinician assigned to the client until
one of them has reviewed it, live or after the session.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from heartsease.api.running import SessionManager
from heartsease.api.schemas import PlanIn, ResonancePick
from heartsease.api.services import plan_of, stored_record
from heartsease.coaching.plan import PracticePlan
from heartsease.coaching.protocols import ProtocolError, protocol_from_text
from heartsease.store.models import (
    Assignment,
    BackdraftReview,
    Beat,
    BreathingSession,
    CheckIn,
    ClientPlan,
    Role,
    SessionEvent,
    SessionStatus,
    User,
    Writing,
)
from heartsease.store.repository import audit, can_see_client, events_of

WRITING_NOT_FOUND = "No such writing, or it is not yours to see."


def session_time_s(manager: SessionManager, row: BreathingSession, now: datetime) -> float:
    """Where a session is now: its live time, or (on another worker, or over) the time since
    it began."""
    running = manager.get(row.id)
    return running.loop.now_s() if running is not None else \
        (now - row.started_at).total_seconds()


def own_session(db: Session, user: User, session_id: str) -> BreathingSession:
    row = db.get(BreathingSession, session_id)
    if row is None or row.client_id != user.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such session of yours.")
    return row


def own_writing(db: Session, user: User, writing_id: str) -> Writing:
    row = db.get(Writing, writing_id)
    if row is None or row.client_id != user.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, WRITING_NOT_FOUND)
    return row


def writing_out(row: Writing) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind.value, "session_id": row.session_id,
            "body": row.body, "from_t_s": row.from_t_s, "to_t_s": row.to_t_s,
            "created_at": row.created_at, "updated_at": row.updated_at,
            "shared": row.shared_at is not None, "shared_at": row.shared_at}


def shared_writings(db: Session, clinician: User, client_id: str) -> list[Writing]:
    """The writings a client shares, for an assigned clinician (each read audit-logged)."""
    if not can_see_client(db, clinician, client_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such client, or not yours to see.")
    rows = list(db.scalars(select(Writing).where(Writing.client_id == client_id,
                                                 Writing.shared_at.is_not(None))
                           .order_by(Writing.created_at)))
    for row in rows:
        audit(db, clinician, "read-writing", "writing", row.id, client_id, row.kind.value)
    return rows


TRACE_MARGIN_S = 30.0  # the heart's trace a little before the writing and after the read-back


def with_trace(db: Session, clinician: User, row: Writing) -> dict[str, Any]:
    """A shared writing (its read audit-logged by :func:`shared_writings`) with the heart's
    trace of the moments it was written and read back: heart rate beat by beat from the
    session's stored beats, whose read is audit-logged too."""
    out = {**writing_out(row), "moments": [], "trace": []}
    if row.session_id is None or row.from_t_s is None or row.to_t_s is None:
        return out
    audit(db, clinician, "read-session", "session", row.session_id, row.client_id, "letter")
    # Written over the letter's workspace step (from its first words back to the step's
    # start: the prompts were read and thought over before anything was saved), then read
    # back over the read-back step that followed.
    written = {"name": "written", "from_s": row.from_t_s, "to_s": row.to_t_s}
    moments = [written]
    steps = events_of(db, row.session_id, ["step"])
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        end = following["t_s"] if following is not None else step["t_s"] + step["seconds"]
        if step.get("workspace") and step["t_s"] <= row.from_t_s < end:
            written["from_s"], written["to_s"] = step["t_s"], max(end, row.to_t_s)
        elif step["name"].endswith("read-back") and step["t_s"] >= row.from_t_s:
            moments.append({"name": "read back", "from_s": step["t_s"], "to_s": end})
            break
    start = max(min(m["from_s"] for m in moments) - TRACE_MARGIN_S, 0.0)
    end = max(m["to_s"] for m in moments) + TRACE_MARGIN_S
    beats = db.execute(select(Beat.t_s, Beat.rr_ms, Beat.label).where(
        Beat.session_id == row.session_id, Beat.t_s >= start, Beat.t_s <= end)
        .order_by(Beat.seq)).all()
    # Artifacts left out (labelled once the session is complete): a missed beat would draw
    # a plunge the heart never made.
    out["moments"] = moments
    out["trace"] = [[round(t, 2), round(60000.0 / rr, 1)] for t, rr, label in beats
                    if rr > 0 and label in (None, "normal")]
    return out


def _queue_query(clinician: User, reviewed: bool | None) -> Select[Any]:
    query = (select(SessionEvent, BreathingSession, User, CheckIn, BackdraftReview)
             .join(BreathingSession, BreathingSession.id == SessionEvent.session_id)
             .join(User, User.id == BreathingSession.client_id)
             .join(Assignment, (Assignment.client_id == User.id)
                   & (Assignment.clinician_id == clinician.id))
             .outerjoin(CheckIn, CheckIn.session_id == BreathingSession.id)
             .outerjoin(BackdraftReview, BackdraftReview.event_id == SessionEvent.id)
             .where(SessionEvent.kind == "backdraft"))
    if reviewed is not None:
        query = query.where(BackdraftReview.event_id.is_not(None) if reviewed
                            else BackdraftReview.event_id.is_(None))
    return query


def queue_tag(db: Session, clinician: User, reviewed: bool | None) -> str:
    """What a queue holds, as an entity tag: which moments, their check-ins' words and
    reviews, and who is assigned. Read without any client's data, so that the observation
    room can ask every few seconds whether anything changed and read (and audit-log) the
    queue itself only when it has."""
    query = (_queue_query(clinician, reviewed)
             .with_only_columns(SessionEvent.id, User.id, CheckIn.sent_at,
                                BackdraftReview.reviewed_at)
             .order_by(SessionEvent.id))
    digest = hashlib.sha256(repr([tuple(r) for r in db.execute(query)]).encode())
    return '"' + digest.hexdigest()[:32] + '"'


def backdraft_queue(db: Session, clinician: User, reviewed: bool | None
                    ) -> list[dict[str, Any]]:
    """The backdraft moments of the clinician's assigned clients, newest first: reviewed
    ones, not yet reviewed ones, or (``None``) both. Each client's read is audit-logged."""
    rows = db.execute(_queue_query(clinician, reviewed).order_by(BreathingSession.started_at.desc(),
                                     SessionEvent.t_s.desc())).all()
    for client_id in sorted({client.id for _, _, client, _, _ in rows}):
        audit(db, clinician, "read-backdrafts", "client", client_id, client_id)
    return [_moment(event, session, client, check_in, review)
            for event, session, client, check_in, review in rows]


def _moment(event: SessionEvent, session: BreathingSession, client: User,
            check_in: CheckIn | None, review: BackdraftReview | None) -> dict[str, Any]:
    data = event.data
    return {"id": event.id, "client_id": client.id, "client_name": client.name,
            "session_id": session.id, "session_started_at": session.started_at,
            "session_demo": session.demo,
            "t_s": event.t_s, "onset_s": data.get("onset_s"), "step": data.get("step"),
            "raised_by": data.get("raised_by", "body"),
            "preceded_by": data.get("preceded_by", []),
            "delta_hr_bpm": data.get("delta_hr_bpm"),
            "delta_ln_rmssd": data.get("delta_ln_rmssd"),
            "check_in": None if check_in is None else check_in.words,
            "reviewed_at": None if review is None else review.reviewed_at}


def review_moment(db: Session, clinician: User, event_id: int) -> None:
    found = db.execute(select(SessionEvent, BreathingSession)
                       .join(BreathingSession, BreathingSession.id == SessionEvent.session_id)
                       .where(SessionEvent.id == event_id,
                              SessionEvent.kind == "backdraft")).first()
    if found is None or not can_see_client(db, clinician, found[1].client_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such moment, or not yours to see.")
    if db.get(BackdraftReview, event_id) is None:
        db.add(BackdraftReview(event_id=event_id, reviewer_id=clinician.id,
                               reviewed_at=datetime.now(UTC)))
    audit(db, clinician, "review-backdraft", "session", found[1].id, found[1].client_id,
          str(event_id))


def plan_row(db: Session, user: User, client_id: str) -> ClientPlan:
    """A client's plan (made empty when there is none yet), for the client or an assigned
    clinician."""
    if not can_see_client(db, user, client_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such client, or not yours to see.")
    row = db.get(ClientPlan, client_id)
    if row is None:
        client = db.get(User, client_id)
        if client is None or client.role is not Role.CLIENT:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such client.")
        row = ClientPlan(client_id=client_id, show_states=False)
        db.add(row)
        db.flush()
    return row


ASSESSMENT_NOT_SUITED = (
    "The resonance assessment paces down to 4.5 breaths a minute and reads the heart's "
    "rhythm: it needs the heart's feedback (no pacemaker or frequent arrhythmia) and the "
    "usual limits (no low blood pressure or medication for it).")


def check_plan(row: ClientPlan, body: PlanIn) -> PracticePlan:
    """The plan ``body`` sets, checked as it will be practised (422, in words, when it
    cannot be): the custom protocol as a protocol file is checked, the stages and minutes
    against the protocol, the pattern, and the pace within the limits."""
    plan = PracticePlan(
        confirmed=True, pacemaker_or_arrhythmia=body.pacemaker_or_arrhythmia,
        low_blood_pressure_or_medication=body.low_blood_pressure_or_medication,
        min_pace_bpm=body.min_pace_bpm, max_pace_bpm=body.max_pace_bpm,
        show_states=body.show_states, show_numbers=body.show_numbers,
        chosen_pace_bpm=row.chosen_pace_bpm, protocol_name=body.protocol,
        custom_protocol=body.custom_protocol, plan_pace_bpm=body.pace_bpm,
        inhale=body.inhale, exhale=body.exhale, hold_in=body.hold_in, hold_out=body.hold_out,
        practice_minutes=body.practice_minutes, stages=tuple(body.stages))
    try:
        if body.custom_protocol:  # kept with the plan, so checked even while not in use
            protocol_from_text(body.custom_protocol, "the custom protocol")
        protocol = plan.protocol()
    except ProtocolError as exc:
        raise HTTPException(422, str(exc)) from None
    low, high = plan.pace_limits_bpm()
    if body.pace_bpm is not None and not low <= body.pace_bpm <= high:
        raise HTTPException(422, f"A pace of {body.pace_bpm:g} a minute is outside this "
                            f"plan's limits ({low:g} to {high:g} a minute).")
    if any(step.assess for step in protocol.steps) and not plan.assessment_allowed:
        raise HTTPException(422, ASSESSMENT_NOT_SUITED)
    try:
        plan.check_rates(protocol)
    except ProtocolError as exc:
        raise HTTPException(422, str(exc)) from None
    return plan


def _assessments(db: Session, client_id: str) -> list[BreathingSession]:
    return list(db.scalars(
        select(BreathingSession)
        .where(BreathingSession.client_id == client_id,
               BreathingSession.protocol == "resonance",
               BreathingSession.status == SessionStatus.COMPLETED)
        .order_by(BreathingSession.started_at.desc())))


def resonance_pick(db: Session, row: ClientPlan) -> ResonancePick | None:
    """The latest completed resonance assessment's pick (none: no assessment yet)."""
    found = _assessments(db, row.client_id)
    if not found:
        return None
    session = found[0]
    result = stored_record(db, session).resonance
    if result is None:
        return None
    return ResonancePick(session_id=session.id, ended_at=session.ended_at,
                         resonance_bpm=result.resonance_bpm, confidence=result.confidence,
                         explanation=result.explanation,
                         confirmed=row.resonance_session_id == session.id)


def confirm_resonance(db: Session, row: ClientPlan, session_id: str) -> None:
    """The pick of the client's assessment ``session_id`` becomes the plan's pace (and a
    plan that was the assessment becomes soothing rhythm breathing at that pace)."""
    session = next((s for s in _assessments(db, row.client_id) if s.id == session_id), None)
    if session is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            "No such resonance assessment of this client.")
    result = stored_record(db, session).resonance
    if result is None or result.resonance_bpm is None:
        raise HTTPException(422, "That assessment found no rate that stood out, so there is "
                            "no pick to use as the pace.")
    plan = plan_of(db, row.client_id)
    low, high = plan.pace_limits_bpm()
    if not low <= result.resonance_bpm <= high:
        raise HTTPException(422, f"The pick, {result.resonance_bpm:g} a minute, is outside "
                            f"this plan's limits ({low:g} to {high:g} a minute).")
    row.pace_bpm, row.chosen_pace_bpm = result.resonance_bpm, None
    row.resonance_session_id = session.id
    if row.protocol == "resonance":  # assessed: the practice at the pace it found follows
        row.protocol = "srb"
    db.flush()
