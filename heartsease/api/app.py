"""The FastAPI application: ``heartsease serve`` runs :func:`create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from heartsease.api import web
from heartsease.api.demo import seed_demo
from heartsease.api.live import LiveHub, SessionManager
from heartsease.api.routes import auth, live, people, sessions, trends
from heartsease.api.settings import Settings
from heartsease.store.db import make_engine, migrate, session_factory
from heartsease.store.repository import mark_interrupted


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
                await seed_demo(db, settings.demo_history_days)
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
