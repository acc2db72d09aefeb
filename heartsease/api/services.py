"""What the routers do, kept out of them: starting sessions, building details, trends."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from heartsease.api.closing import session_out
from heartsease.api.running import RemoteSource, RunningSession, SessionManager
from heartsease.api.schemas import SessionStart
from heartsease.coaching import events as ev
from heartsease.coaching.plan import PracticePlan
from heartsease.coaching.profile import profile_of
from heartsease.coaching.protocols import Protocol, ProtocolError, load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.coaching.summary import SessionRecord, session_record
from heartsease.coaching.trends import HISTORY_DAYS, SessionFacts, trend_days
from heartsease.reports.gentle import GivenRating, OwnWords
from heartsease.reports.report import ReportClient
from heartsease.reports.session import SessionHeader
from heartsease.sources import RemoteStream, SimulatedHeart, Strap, open_source
from heartsease.store import repository
from heartsease.store.models import (
    Annotation,
    BreathingSession,
    ClientPlan,
    Role,
    SelfRating,
    SessionStatus,
    User,
    Writing,
)
from heartsease.store.repository import audit as write_audit
from heartsease.store.repository import beats_of, can_see_client, events_of

NOT_FOUND = "No such session, or it is not yours to see."


def visible_session(db: Session, user: User, session_id: str, action: str | None = None
                    ) -> BreathingSession:
    """The session if ``user`` may see it (404 otherwise, never revealing it exists); a
    clinician's read is audit-logged as ``action``."""
    row = db.get(BreathingSession, session_id)
    if row is None or not can_see_client(db, user, row.client_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    if action is not None and user.role is Role.CLINICIAN:
        write_audit(db, user, action, "session", row.id, row.client_id)
    return row


def client_for(db: Session, user: User, client_id: str | None) -> User:
    """Whose session a user may start: their own, or (a clinician) an assigned client's."""
    if user.role is Role.CLIENT and client_id in (None, user.id):
        return user
    if user.role is Role.CLINICIAN and client_id is not None and can_see_client(
            db, user, client_id):
        client = db.get(User, client_id)
        if client is not None:
            return client
    raise HTTPException(status.HTTP_403_FORBIDDEN, "You can start sessions only for yourself "
                        "or, as a clinician, for a client assigned to you.")


def start_session(db: Session, manager: SessionManager, user: User, body: SessionStart
                  ) -> BreathingSession:
    client = client_for(db, user, body.client_id)
    if running_session(db, manager, client.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "A session is already running.")
    plan = plan_of(db, client.id)
    session = coaching_session(client, body, plan)
    heart = source_of(body)
    detail = RemoteStream.label if heart is None else heart.label
    row = BreathingSession(client_id=client.id, protocol=session.protocol.name,
                           pace_bpm=session.pace_bpm, source=body.source, source_detail=detail,
                           demo=isinstance(heart, SimulatedHeart))
    db.add(row)
    db.flush()
    if heart is None:
        # It starts with its first streamed beat, on the worker that receives them, with
        # the pace and plan as they were when it was asked for.
        start = body.model_copy(update={"pace_bpm": session.pace_bpm})
        row.summary = {"start": start.model_dump(mode="json"), "heart_led": session.heart_led,
                       "plan": dataclasses.asdict(plan)}
        db.commit()
        return row
    opened = open_source(heart, session.protocol.schedule(session.pace_bpm))
    db.commit()  # the session exists before its first beat is written
    manager.start(row, session, opened)
    return row


def running_session(db: Session, manager: SessionManager, client_id: str
                    ) -> BreathingSession | None:
    """The client's running session, on this worker or another: there is at most one."""
    # Active and running: a session just ended is stored as such a moment before this
    # worker lets it go.
    return next((row for row in repository.active_sessions_of(db, client_id)
                 if manager.is_live(row.id)), None)


def source_of(body: SessionStart) -> SimulatedHeart | Strap | None:
    """The heart ``body`` names, started here (``None``: the client streams it in)."""
    if body.source == "simulated":
        return SimulatedHeart(body.scenario, body.seed, body.speed)
    if body.source == "remote":
        return None
    if not body.device:
        raise HTTPException(422, "Name the strap.")
    return Strap(body.device)


def plan_of(db: Session, client_id: str) -> PracticePlan:
    """The client's plan as their clinician set it (none yet: pacer and cues only, at
    gentle limits)."""
    row = db.get(ClientPlan, client_id)
    if row is None:
        return PracticePlan()
    return PracticePlan(
        confirmed=row.confirmed_at is not None,
        pacemaker_or_arrhythmia=row.pacemaker_or_arrhythmia,
        low_blood_pressure_or_medication=row.low_blood_pressure_or_medication,
        min_pace_bpm=row.min_pace_bpm, max_pace_bpm=row.max_pace_bpm,
        show_states=row.show_states, chosen_pace_bpm=row.chosen_pace_bpm,
        protocol_name=row.protocol, custom_protocol=row.custom_protocol,
        plan_pace_bpm=row.pace_bpm, inhale=row.inhale, exhale=row.exhale,
        hold_in=row.hold_in, hold_out=row.hold_out, practice_minutes=row.practice_minutes,
        stages=tuple(row.stages or ()), show_numbers=row.show_numbers)


def session_protocol(body: SessionStart, plan: PracticePlan) -> Protocol:
    """What ``body`` asks to practise: the plan's protocol, minutes and stages for what it
    leaves out (a page that names none practises the plan), always in the plan's pattern."""
    try:
        if body.protocol is None:
            protocol = plan.base_protocol()
            stages = plan.stages if body.stages is None else body.stages
            minutes = plan.practice_minutes
        else:
            protocol = load_protocol(body.protocol)
            stages, minutes = body.stages or (), None
        protocol = protocol.with_stages(stages)
        minutes = minutes if body.practice_minutes is None else body.practice_minutes
        if minutes is not None:
            protocol = protocol.with_practice_minutes(minutes)
        return replace(protocol, pattern=plan.pattern(protocol))
    except ProtocolError as exc:  # a stage or a practice the protocol does not have
        raise HTTPException(422, str(exc)) from None


def coaching_session(client: User, body: SessionStart, plan: PracticePlan
                     ) -> CoachingSession:
    """The coaching session ``body`` asks for, fitted to the client's plan (what they
    practise, their pace within its limits, whether the heart may lead) and their
    baseline."""
    protocol = session_protocol(body, plan)
    if any(step.assess for step in protocol.steps) and not plan.assessment_allowed:
        raise HTTPException(422, "The resonance assessment waits until the clinician has "
                            "confirmed in the plan that it suits this client.")
    try:
        plan.check_rates(protocol)
    except ProtocolError as exc:
        raise HTTPException(422, str(exc)) from None
    profile = profile_of(client)
    if body.pace_bpm is not None:
        plan = replace(plan, chosen_pace_bpm=body.pace_bpm)
    return CoachingSession(protocol, pace_bpm=plan.pace_bpm(),
                           baseline=profile.resting_baseline(), heart_led=plan.heart_feedback)


def start_streamed(manager: SessionManager, client: User, row: BreathingSession
                   ) -> RunningSession:
    """A remote client's session, started here as its first beats arrive."""
    summary = row.summary or {}
    body = SessionStart.model_validate(summary.get("start", {"source": "remote"}))
    # The plan as it was when the session was asked for (what to practise; its pace, in
    # ``body``, was fitted within that plan's limits).
    kept = summary.get("plan")
    plan = PracticePlan(**{**kept, "stages": tuple(kept["stages"])}) if kept else \
        PracticePlan(confirmed=True, pacemaker_or_arrhythmia=not summary.get("heart_led"),
                     low_blood_pressure_or_medication=False)  # asked for before 0005_plan
    remote = RemoteSource()
    opened = open_source(RemoteStream(remote))
    return manager.start(row, coaching_session(client, body, plan), opened, remote)


def session_detail(db: Session, row: BreathingSession, live: bool) -> dict[str, Any]:
    record = stored_record(db, row).as_dict()
    ratings = db.scalars(select(SelfRating).where(SelfRating.session_id == row.id)
                         .order_by(SelfRating.t_s)).all()
    return {**session_out(row, live), "n_beats": len(beats_of(db, row.id)),
            **{k: record[k] for k in ("metrics", "states", "shifts", "backdrafts",
                                      "annotations", "steps", "resonance")},
            "self_ratings": [{"t_s": r.t_s, "scale": r.scale, "value": r.value}
                             for r in ratings]}


def own_words_of(db: Session, row: BreathingSession
                 ) -> tuple[list[GivenRating], list[OwnWords]]:
    """The client's ratings (as given, skipped ones too) and writings of a session, for
    their own report."""
    ratings = given_ratings(db, row)
    words = [OwnWords(w.kind.value, dict(w.body)) for w in db.scalars(
        select(Writing).where(Writing.session_id == row.id, Writing.client_id == row.client_id)
        .order_by(Writing.created_at))]
    return ratings, words


def given_ratings(db: Session, row: BreathingSession) -> list[GivenRating]:
    """A session's ratings as the client gave them (skipped ones too), in order."""
    return [GivenRating(r.t_s, r.scale, r.value) for r in db.scalars(
        select(SelfRating).where(SelfRating.session_id == row.id).order_by(SelfRating.t_s))]


def report_client(db: Session, row: BreathingSession) -> ReportClient:
    """Whom a clinician's report is about: their name, their time zone and their ratings of
    the session (never their writing, which is theirs unless shared)."""
    client = db.get(User, row.client_id)
    return ReportClient(name="(erased)" if client is None else client.name,
                        zone=ZoneInfo("UTC") if client is None else zone_of(client),
                        ratings=given_ratings(db, row))


def header_of(row: BreathingSession) -> SessionHeader:
    return SessionHeader(row.id, row.client_id, row.protocol, row.pace_bpm, row.status.value,
                         row.started_at, row.demo)


def stored_record(db: Session, row: BreathingSession) -> SessionRecord:
    """A stored session's record, from its stored events, with its notes from the notes
    table: every note is written there, however it came (a note posted after the session
    ended has no event)."""
    notes = db.execute(
        select(Annotation.t_s, Annotation.text, User.name)
        .outerjoin(User, User.id == Annotation.author_id)
        .where(Annotation.session_id == row.id).order_by(Annotation.t_s, Annotation.id))
    return dataclasses.replace(
        session_record(events_of(db, row.id)),
        annotations=[ev.Annotation(t_s=t_s, author=author or "", text=text)
                     for t_s, text, author in notes])


def zone_of(person: User) -> ZoneInfo:
    """The person's time zone (UTC until their browser has told it)."""
    return ZoneInfo(person.time_zone or "UTC")


def trends(db: Session, client_id: str, start: date, end: date, zone: ZoneInfo
           ) -> list[dict[str, Any]]:
    """Per day from ``start`` to ``end``, each day the client's own (midnight to midnight in
    ``zone``): :func:`heartsease.coaching.trends.trend_days` over the client's sessions of
    those days and the 60 before."""
    # A day either side: zones are within 14 hours of UTC, and trend_days keeps to the
    # days asked for (and the history before them) by the local date.
    rows = repository.sessions_between(
        db, client_id,
        datetime.combine(start - timedelta(days=HISTORY_DAYS + 1), datetime.min.time(),
                         tzinfo=UTC),
        datetime.combine(end + timedelta(days=2), datetime.min.time(), tzinfo=UTC))
    # Practice with a demo heart is not the client's heart, and a session they left is not
    # practice: neither is in their trends.
    rows = [r for r in rows if not r.demo and r.status is not SessionStatus.LEFT]
    ratings = repository.ratings_of(db, [r.id for r in rows])
    sessions = [SessionFacts.from_summary(r.id, r.started_at.astimezone(zone), r.summary,
                                          ratings.get(r.id, {}))
                for r in rows]
    return [day.as_dict() for day in trend_days(sessions, start, end)]
