"""Demo people and a demo client's weeks of practice, for development only.

``heartsease serve`` in development starts with an admin, a clinician and their client Sam,
so that the pages have something true to show on the first try. Sam's history is made by
the simulator and run through the real coaching loop and store, exactly as a live session
would be: nothing on the trends page is drawn from numbers written by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from heartsease.api.security import hash_password
from heartsease.api.services import store_replayed
from heartsease.coaching.loop import replay_session
from heartsease.coaching.profile import ClientProfile
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.sources import Physiology, beats_as_source, simulate_following
from heartsease.store.models import Assignment, BreathingSession, Role, SelfRating, User

DEMO_PASSWORD = "heartsease-demo"  # development only: Settings refuses demo data otherwise
DEMO_PEOPLE = (("admin@example.org", "Alex (admin)", Role.ADMIN),
               ("clinician@example.org", "Dr. Rivera", Role.CLINICIAN),
               ("client@example.org", "Sam", Role.CLIENT))
DEMO_PACE_BPM = 5.5


async def seed_demo(db: Session, history_days: int, today: date | None = None) -> None:
    """The demo people, and ``history_days`` of the client's practice before ``today``.

    Does nothing if anyone exists already, so a restart never duplicates the demo.
    """
    if db.scalar(select(User).limit(1)) is not None:
        return
    people = {}
    for email, name, role in DEMO_PEOPLE:
        people[role] = User(email=email, name=name, role=role,
                            password_hash=hash_password(DEMO_PASSWORD))
        db.add(people[role])
    db.flush()
    db.add(Assignment(clinician_id=people[Role.CLINICIAN].id, client_id=people[Role.CLIENT].id))
    if history_days > 0:
        await practice_history(db, people[Role.CLIENT], history_days,
                         today or datetime.now(UTC).date())


async def practice_history(db: Session, client: User, days: int, today: date) -> None:
    """Weeks of soothing rhythm breathing for ``client``, ending the day before ``today``.

    The story is a common one in compassion-focused therapy: sessions on most days; early
    on the person often arrives in threat, their resting heart rate a little high and their
    HRV low, with the odd emotional backdraft; over the weeks their resting HRV rises
    slowly, their heart rate falls and the inner critic quietens. Day-to-day noise is the
    simulator's own, deterministic for the day.
    """
    protocol = load_protocol("srb")
    schedule = [*protocol.schedule(), (30.0, None)]  # a little spare: the session ends itself
    profile = ClientProfile(DEMO_PACE_BPM, "moderate", [])
    rng = np.random.default_rng(2026)
    for offset in range(days, 0, -1):
        if rng.random() < 0.3:  # most days, not all
            continue
        progress = 1.0 - offset / days
        seed = int(rng.integers(1 << 31))
        scenario = rng.choice(["threat-then-soothe", "backdraft", "paced-6"],
                              p=[0.45 - 0.35 * progress, 0.1 - 0.08 * progress,
                                 0.45 + 0.43 * progress])
        physiology = Physiology(resting_hr_bpm=74.0 - 6.0 * progress + rng.normal(0, 1.5),
                                rsa_at_12_bpm=1.5 + 0.9 * progress + rng.normal(0, 0.15),
                                resonance_bpm=DEMO_PACE_BPM,
                                spontaneous_breathing_bpm=13.0)
        beats = simulate_following(str(scenario), schedule, seed, physiology=physiology)
        session = CoachingSession(protocol, pace_bpm=DEMO_PACE_BPM,
                                  baseline=profile.resting_baseline())
        events = await replay_session(beats_as_source(beats), session)
        started = datetime.combine(today - timedelta(days=offset),
                                   time(7 + int(rng.integers(0, 13)), int(rng.integers(0, 60))),
                                   tzinfo=UTC)
        row = BreathingSession(client_id=client.id, protocol=protocol.name,
                               pace_bpm=DEMO_PACE_BPM, source="simulated",
                               source_detail=f"demo history: {scenario}", started_at=started)
        db.add(row)
        db.flush()
        store_replayed(db, row, events)
        row.ended_at = started + timedelta(seconds=row.summary["duration_s"])
        if session.learned_baseline is not None:
            profile.add_baseline(session.learned_baseline)
        critic_before = int(np.clip(round(7.5 - 3.0 * progress + rng.normal(0, 1)), 0, 10))
        critic_after = int(np.clip(critic_before - rng.integers(0, 4), 0, 10))
        db.add_all([SelfRating(session_id=row.id, t_s=0.0, scale="inner-critic",
                               value=critic_before),
                    SelfRating(session_id=row.id, t_s=row.summary["duration_s"],
                               scale="inner-critic", value=critic_after)])
    client.pace_bpm, client.pace_confidence = profile.pace_bpm, profile.pace_confidence
    client.baselines = profile.baselines
