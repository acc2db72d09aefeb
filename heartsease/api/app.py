"""The FastAPI application: ``heartsease serve`` runs :func:`create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import select

from heartsease.api import web
from heartsease.api.live import LiveHub, SessionManager
from heartsease.api.routes import auth, live, people, sessions, trends
from heartsease.api.security import hash_password
from heartsease.api.settings import Settings
from heartsease.store.db import make_engine, migrate, session_factory
from heartsease.store.models import Assignment, Role, User
from heartsease.store.repository import mark_interrupted

DEMO_PASSWORD = "heartsease-demo"  # development only: Settings refuses demo data otherwise
DEMO_PEOPLE = (("admin@example.org", "Alex (admin)", Role.ADMIN),
               ("clinician@example.org", "Dr. Rivera", Role.CLINICIAN),
               ("client@example.org", "Sam", Role.CLIENT))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        migrate(engine)
        factory = session_factory(engine)
        with factory() as db, db.begin():
            mark_interrupted(db)
            if settings.demo_data:
                _demo_people(db)
        app.state.db = factory
        app.state.hub = LiveHub()
        app.state.sessions = SessionManager(factory, app.state.hub)
        yield
        await app.state.sessions.shutdown()
        engine.dispose()

    app = FastAPI(title="heartsease", version="0.1.0", lifespan=lifespan,
                  description="HRV biofeedback for compassion-focused therapy.")
    app.state.settings = settings
    for module in (auth, people, sessions, trends, live):
        app.include_router(module.router)
    web.mount(app)
    return app


def _demo_people(db) -> None:
    if db.scalar(select(User).limit(1)) is not None:
        return
    people = {}
    for email, name, role in DEMO_PEOPLE:
        people[role] = User(email=email, name=name, role=role,
                            password_hash=hash_password(DEMO_PASSWORD))
        db.add(people[role])
    db.flush()
    db.add(Assignment(clinician_id=people[Role.CLINICIAN].id, client_id=people[Role.CLIENT].id))
