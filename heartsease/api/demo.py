"""Demo people and a demo client's weeks of practice, for development only.

``heartsease serve`` in development starts with an admin, a clinician and their client Sam,
so that the pages have something true to show on the first try. Sam's history is made by
the simulator and run through the real coaching loop and store, exactly as a live session
would be: nothing on the trends page is drawn from numbers written by hand.

The people are made before the service answers (a fraction of a second); the history (half
a minute on a small machine) is made behind it, in a thread of its own
(:class:`DemoHistory`), and written in one short transaction at the end: a restart while it
is being made makes it again, and it is never made twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import numpy as np
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.closing import store_replayed
from heartsease.api.security import hash_password
from heartsease.coaching.events import Event
from heartsease.coaching.loop import replay_session
from heartsease.coaching.profile import ClientProfile, remember_session
from heartsease.coaching.protocols import load_protocol
from heartsease.coaching.session import CoachingSession
from heartsease.sources import Physiology, beats_as_source, simulate_following
from heartsease.store.models import Assignment, BreathingSession, Role, SelfRating, User
from heartsease.store.personal import erase_person

log = logging.getLogger(__name__)
DEMO_PASSWORD = "heartsease-demo"  # development only: Settings refuses demo data otherwise
DEMO_PEOPLE = (("admin@example.org", "Alex (admin)", Role.ADMIN),
               ("clinician@example.org", "Dr. Rivera", Role.CLINICIAN),
               ("client@example.org", "Sam", Role.CLIENT))
DEMO_CLIENT_EMAIL = DEMO_PEOPLE[2][0]
DEMO_PACE_BPM = 5.5
DEMO_PROTOCOL = "srb"
HISTORY_DETAIL = "demo history"  # how a demo history session's source is described
HistoryState = Literal["filling", "ready", "failed"]


def seed_demo_people(db: Session) -> bool:
    """The demo people, the client assigned to the clinician. Does nothing if anyone exists
    already, so a restart never duplicates them; returns whether they were made."""
    if db.scalar(select(User).limit(1)) is not None:
        return False
    # One hash for the one demo password: argon2 takes a quarter of a second of CPU a
    # hash by design, and the service answers only once the people exist.
    password_hash = hash_password(DEMO_PASSWORD)
    people = {}
    for email, name, role in DEMO_PEOPLE:
        people[role] = User(email=email, name=name, role=role, password_hash=password_hash)
        db.add(people[role])
    db.flush()
    db.add(Assignment(clinician_id=people[Role.CLINICIAN].id, client_id=people[Role.CLIENT].id))
    return True


class DemoAccountsInProductionError(RuntimeError):
    """Production will not start while the demo people, whose password is public, exist."""

    def __init__(self, emails: list[str]) -> None:
        super().__init__(
            f"the demo accounts ({', '.join(emails)}) share a public password and must not "
            "exist in production: remove them with `heartsease admin remove-demo` (their "
            "made-up practice goes with them), then make your first administrator with "
            "`heartsease admin create`")
        self.emails = emails


def demo_accounts(db: Session) -> list[str]:
    """The demo people's emails still in the store."""
    emails = [email for email, _, _ in DEMO_PEOPLE]
    return list(db.scalars(select(User.email).where(User.email.in_(emails))
                           .order_by(User.email)))


def remove_demo_accounts(db: Session) -> list[str]:
    """Delete the demo people and everything about them; the emails removed."""
    removed = []
    for user in db.scalars(select(User).where(
            User.email.in_([email for email, _, _ in DEMO_PEOPLE]))).all():
        erase_person(db, user.id)
        removed.append(user.email)
    return sorted(removed)


@dataclass(frozen=True, slots=True)
class PracticeDay:
    """One simulated session of the demo history, coached, not yet stored."""

    scenario: str
    started_at: datetime
    events: list[Event]
    critic_before: int  # the inner critic's loudness (0-10) before and after
    critic_after: int


def fill_demo_history(factory: sessionmaker[Session], days: int, today: date | None = None,
                      stop: threading.Event | None = None) -> bool:
    """``days`` of the demo client's practice before ``today``, unless there is no demo
    client or their history is there already; returns whether it was made.

    The sessions are simulated and coached first, outside any transaction (that is the
    half minute), then stored in one: the store's writers wait only for the writing.
    Nothing is made when ``stop`` is set before the writing starts (the service is
    stopping: the history is left for its next start).
    """
    with factory() as db:
        if not _needs_history(db) or days <= 0:
            return False
    made = asyncio.run(practice_history(days, today or datetime.now(UTC).date(), stop))
    if made is None:
        return False
    practice, profile = made
    with factory() as db, db.begin():
        if not _needs_history(db):  # another process made it meanwhile
            return False
        client = db.scalars(select(User).where(User.email == DEMO_CLIENT_EMAIL)).one()
        for day in practice:
            _store_day(db, client, day)
        client.pace_bpm, client.pace_confidence = profile.pace_bpm, profile.pace_confidence
        client.baselines = profile.baselines
    return True


def _needs_history(db: Session) -> bool:
    client = db.scalars(select(User).where(User.email == DEMO_CLIENT_EMAIL,
                                           User.role == Role.CLIENT)).first()
    return client is not None and not db.scalar(select(exists().where(
        BreathingSession.client_id == client.id,
        BreathingSession.source_detail.startswith(HISTORY_DETAIL))))


def _store_day(db: Session, client: User, day: PracticeDay) -> None:
    row = BreathingSession(client_id=client.id, protocol=DEMO_PROTOCOL, pace_bpm=DEMO_PACE_BPM,
                           source="simulated",
                           source_detail=f"{HISTORY_DETAIL}: {day.scenario}",
                           started_at=day.started_at)
    db.add(row)
    db.flush()
    record = store_replayed(db, row, day.events)
    row.ended_at = day.started_at + timedelta(seconds=record.duration_s)
    db.add_all([SelfRating(session_id=row.id, t_s=0.0, scale="inner-critic",
                           value=day.critic_before),
                SelfRating(session_id=row.id, t_s=record.duration_s, scale="inner-critic",
                           value=day.critic_after)])


async def practice_history(days: int, today: date, stop: threading.Event | None = None
                           ) -> tuple[list[PracticeDay], ClientProfile] | None:
    """Weeks of soothing rhythm breathing, ending the day before ``today``, and the profile
    they leave (``None`` once ``stop`` is set).

    The story is a common one in compassion-focused therapy: sessions on most days; early
    on the person often arrives in threat, their resting heart rate a little high and their
    HRV low, with the odd emotional backdraft; over the weeks their resting HRV rises
    slowly, their heart rate falls and the inner critic quietens. Day-to-day noise is the
    simulator's own, deterministic for the day.
    """
    protocol = load_protocol(DEMO_PROTOCOL)
    schedule = [*protocol.schedule(), (30.0, None)]  # a little spare: the session ends itself
    profile = ClientProfile(DEMO_PACE_BPM, "moderate", [])
    rng = np.random.default_rng(2026)
    practice = []
    for offset in range(days, 0, -1):
        if stop is not None and stop.is_set():
            return None
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
        remember_session(profile, session.learned_baseline, None)
        critic_before = int(np.clip(round(7.5 - 3.0 * progress + rng.normal(0, 1)), 0, 10))
        critic_after = int(np.clip(critic_before - rng.integers(0, 4), 0, 10))
        practice.append(PracticeDay(str(scenario), started, events, critic_before,
                                    critic_after))
    return practice, profile


class DemoHistory:
    """The demo client's history, made in a thread behind the running service.

    ``state`` is ``"filling"`` while it is being made, ``"ready"`` once it is there (or
    none is wanted), and ``"failed"`` if making it failed (logged; the service runs on
    without it).
    """

    def __init__(self, factory: sessionmaker[Session], days: int) -> None:
        self.factory = factory
        self.days = days
        self.state: HistoryState = "filling" if days > 0 else "ready"
        self._stop = threading.Event()
        # A daemon: a service stopped while the history is being made is not held up by it
        # (nothing of it is written until it is whole).
        self._thread = threading.Thread(target=self._fill, name="demo-history", daemon=True)

    def start(self) -> None:
        if self.days > 0:
            self._thread.start()

    def _fill(self) -> None:
        try:
            fill_demo_history(self.factory, self.days, stop=self._stop)
        except Exception:  # a demo for development: the service runs on without it
            log.exception("the demo client's history could not be made")
            self.state = "failed"
            return
        self.state = "ready"

    def stop(self) -> None:
        """Stop making it: what was made is dropped, and made again on the next start. Not
        waited for (the event loop would stand still): nothing of it is written until it
        is whole, and a write cut off by the process's end is rolled back."""
        self._stop.set()
