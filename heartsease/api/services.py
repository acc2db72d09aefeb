"""What the routers do, kept out of them: starting sessions, building details, trends."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from heartsease.api.running import RemoteSource, RunningSession, SessionManager
from heartsease.api.schemas import SessionStart
from heartsease.coaching.loop import replay_session
from heartsease.coaching.profile import ClientProfile
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.coaching.summary import session_record
from heartsease.sensors.ble import StrapReader
from heartsease.sensors.files import RRRecording
from heartsease.sensors.replay import replay_recording
from heartsease.simulator.virtual_strap import SimulatedClock, simulated_session_strap
from heartsease.store.models import (
    BreathingSession,
    Role,
    SelfRating,
    SessionEvent,
    SessionStatus,
    User,
)
from heartsease.store.repository import (
    NOT_STORED,
    beats_of,
    can_see_client,
    events_of,
    finish_session,
    insert_beats,
)
from heartsease.store.repository import audit as write_audit

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


def profile_of(client: User) -> ClientProfile:
    return ClientProfile(client.pace_bpm, client.pace_confidence, list(client.baselines or []))


def start_session(db: Session, manager: SessionManager, user: User, body: SessionStart
                  ) -> BreathingSession:
    client = client_for(db, user, body.client_id)
    if any(r.client_id == client.id for r in manager.running.values()):
        raise HTTPException(status.HTTP_409_CONFLICT, "A session is already running.")
    session = coaching_session(client, body)
    protocol = session.protocol
    detail = {"simulated": f"{body.scenario} (seed {body.seed})", "strap": body.device or "",
              "remote": "streamed by the client"}[body.source]
    row = BreathingSession(client_id=client.id, protocol=protocol.name,
                           pace_bpm=session.pace_bpm, source=body.source, source_detail=detail)
    db.add(row)
    db.flush()
    if body.source == "remote":
        # It starts with its first streamed beat, on the worker that receives them.
        row.summary = {"start": body.model_dump(mode="json")}
        db.commit()
        return row
    extra: list[asyncio.Task[Any]] = []
    if body.source == "simulated":
        clock = SimulatedClock(body.speed)
        source, strap_task = simulated_session_strap(
            body.scenario, protocol.schedule(session.pace_bpm), clock, body.seed)
        extra.append(strap_task)
    else:
        if not body.device:
            raise HTTPException(422, "Name the strap.")
        clock = SimulatedClock(1.0)
        source = StrapReader(body.device, clock=clock).stream()
    db.commit()  # the session exists before its first beat is written
    manager.start(row, session, source, clock, None, extra)
    return row


def coaching_session(client: User, body: SessionStart) -> CoachingSession:
    """The coaching session ``body`` asks for, fitted to the client's pace and baseline."""
    protocol = load_protocol(body.protocol).with_stages(body.stages)
    if body.practice_minutes is not None:
        protocol = protocol.with_practice_minutes(body.practice_minutes)
    profile = profile_of(client)
    return CoachingSession(protocol, pace_bpm=body.pace_bpm or profile.pace_bpm,
                           baseline=profile.resting_baseline())


def start_streamed(manager: SessionManager, client: User, row: BreathingSession
                   ) -> RunningSession:
    """A remote client's session, started here as its first beats arrive."""
    body = SessionStart.model_validate((row.summary or {}).get("start", {"source": "remote"}))
    remote = RemoteSource()
    return manager.start(row, coaching_session(client, body), remote,
                         SimulatedClock(1.0), remote)


def session_detail(db: Session, row: BreathingSession, live: bool) -> dict[str, Any]:
    record = session_record(events_of(db, row.id))
    ratings = db.scalars(select(SelfRating).where(SelfRating.session_id == row.id)
                         .order_by(SelfRating.t_s)).all()
    return {**session_out(row, live), "n_beats": len(beats_of(db, row.id)),
            **{k: record[k] for k in ("metrics", "states", "shifts", "backdrafts",
                                      "annotations", "steps", "resonance")},
            "self_ratings": [{"t_s": r.t_s, "scale": r.scale, "value": r.value}
                             for r in ratings]}


def session_out(row: BreathingSession, live: bool) -> dict[str, Any]:
    return {"id": row.id, "client_id": row.client_id, "protocol": row.protocol,
            "pace_bpm": row.pace_bpm, "source": row.source, "source_detail": row.source_detail,
            "status": row.status, "started_at": row.started_at, "ended_at": row.ended_at,
            "summary": row.summary or {}, "live": live}


def header_of(row: BreathingSession) -> dict[str, Any]:
    return {"id": row.id, "client_id": row.client_id, "protocol": row.protocol,
            "pace_bpm": row.pace_bpm, "status": row.status.value,
            "started_at": row.started_at}


async def analyse_upload(db: Session, client: User, recording: RRRecording, name: str,
                         protocol_name: str) -> BreathingSession:
    """An uploaded recording, run through the coaching loop into a stored session."""
    profile = profile_of(client)
    session = CoachingSession(load_protocol(protocol_name), pace_bpm=profile.pace_bpm,
                              baseline=profile.resting_baseline())
    events = await replay_session(replay_recording(recording), session)
    row = BreathingSession(client_id=client.id, protocol=protocol_name,
                           pace_bpm=session.pace_bpm, source="upload",
                           source_detail=f"{name} ({recording.format})")
    db.add(row)
    db.flush()
    store_replayed(db, row, events)
    return row


def store_replayed(db: Session, row: BreathingSession, events: list[Any]) -> None:
    beats = [e.as_dict() for e in events if e.kind == "beat"]
    insert_beats(db, [{"session_id": row.id, "seq": b["seq"], "t_s": b["t_s"],
                       "rr_ms": b["rr_ms"], "arrival_s": b["arrival_s"]} for b in beats])
    db.add_all(SessionEvent(session_id=row.id, t_s=e.t_s, kind=e.kind, data=e.as_dict())
               for e in events if e.kind not in NOT_STORED)
    finish_session(db, row, SessionStatus.COMPLETED, session_record(events))


def trends(db: Session, client_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """Per day: resting ln RMSSD (the quiet start of the day's sessions) against the person's
    own 60-day normal range and its 7-day average (HRV4Training and Elite HRV present it
    so: Plews et al. 2012), resting heart rate, coherence in practice, minutes soothed,
    shifts per session, the self-ratings at the start and end of sessions, and the day's
    sessions."""
    history_start = start - timedelta(days=60)
    rows = db.scalars(select(BreathingSession).where(
        BreathingSession.client_id == client_id,
        BreathingSession.started_at >= datetime.combine(history_start, datetime.min.time(),
                                                        tzinfo=UTC),
        BreathingSession.started_at < datetime.combine(end + timedelta(days=1),
                                                       datetime.min.time(), tzinfo=UTC),
    )).all()
    ratings_of: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in db.scalars(select(SelfRating).where(SelfRating.session_id.in_([x.id for x in rows]))
                        .order_by(SelfRating.id)):
        ratings_of[r.session_id][r.scale].append(r.value)
    by_day: dict[date, list[BreathingSession]] = defaultdict(list)
    for row in rows:
        by_day[row.started_at.date()].append(row)
    daily_ln: dict[date, float] = {}
    for day, sessions in by_day.items():
        values = [s.summary["baseline"]["baseline"]["ln_rmssd"] for s in sessions
                  if (s.summary or {}).get("baseline")]
        if values:
            daily_ln[day] = float(np.mean(values))
    out = []
    day = start
    while day <= end:
        sessions = by_day.get(day, [])
        window60 = [v for d, v in daily_ln.items() if day - timedelta(days=60) <= d < day]
        window7 = [v for d, v in daily_ln.items() if day - timedelta(days=6) <= d <= day]
        mean60, sd60 = (float(np.mean(window60)), float(np.std(window60, ddof=1))) \
            if len(window60) >= 3 else (None, None)
        summaries = [s.summary or {} for s in sessions]
        before, after = _ratings_before_and_after([ratings_of[x.id] for x in sessions])
        baselines = [x["baseline"]["baseline"] for x in summaries if x.get("baseline")]
        coherence = [step["median_coherence_ratio"] for x in summaries
                     for step in x.get("by_step", []) if step["step"] == "practice"
                     and step["median_coherence_ratio"] is not None]
        out.append({
            "day": day, "sessions": len(sessions),
            "resting_ln_rmssd": daily_ln.get(day),
            "ln_rmssd_7d": float(np.mean(window7)) if window7 else None,
            # The normal range: the 60-day mean +/- half its SD, the smallest worthwhile
            # change (Plews et al. 2012; Buchheit 2014).
            "normal_low": None if mean60 is None else mean60 - 0.5 * sd60,
            "normal_high": None if mean60 is None else mean60 + 0.5 * sd60,
            "resting_hr_bpm": float(np.mean([b["hr_bpm"] for b in baselines]))
            if baselines else None,
            "coherence": float(np.median(coherence)) if coherence else None,
            "soothing_minutes": float(sum(x.get("minutes_by_state", {}).get("soothing", 0.0)
                                          for x in summaries)),
            "shifts_per_session": float(np.mean([x.get("threat_to_soothing_shifts", 0)
                                                 for x in summaries])) if summaries else 0.0,
            "ratings_before": before, "ratings_after": after,
            "session_ids": [s.id for s in sorted(sessions, key=lambda s: s.started_at)],
        })
        day += timedelta(days=1)
    return out


def _ratings_before_and_after(sessions: list[dict[str, list[int]]]
                              ) -> tuple[dict[str, float], dict[str, float]]:
    """Per scale, the mean of each session's first rating and of its last (when it has a
    second): how the person felt coming in, and going out. ``sessions`` holds each
    session's ratings by scale, in the order given."""
    before: dict[str, list[int]] = defaultdict(list)
    after: dict[str, list[int]] = defaultdict(list)
    for by_scale in sessions:
        for scale, values in by_scale.items():
            before[scale].append(values[0])
            if len(values) > 1:
                after[scale].append(values[-1])
    return ({k: float(np.mean(v)) for k, v in before.items()},
            {k: float(np.mean(v)) for k, v in after.items()})
