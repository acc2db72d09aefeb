"""The FastAPI application: ``heartsease serve`` runs :func:`create_app`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, OperationalError

from heartsease.api import web
from heartsease.api.collector import collector_on_schedule
from heartsease.api.demo import (
    DemoAccountsInProductionError,
    DemoHistory,
    demo_accounts,
    fill_demo_history,
    seed_demo_people,
)
from heartsease.api.fanout import make_hub
from heartsease.api.headers import SecurityHeaders
from heartsease.api.limits import make_sign_in_limiter
from heartsease.api.presence import AwayTimes
from heartsease.api.routes import (
    accounts,
    admin,
    auth,
    care,
    health,
    ingest,
    observe,
    people,
    sessions,
    sources,
    trends,
    voice,
    writing,
)
from heartsease.api.running import SessionManager
from heartsease.api.settings import Settings
from heartsease.api.signin_watch import SignInWatch
from heartsease.api.uploads import UploadAnalyser
from heartsease.api.watchdog import EventLoopWatch
from heartsease.store.db import make_engine, migrate, session_factory
from heartsease.store.repository import mark_interrupted

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        if settings.prepare_store:
            await prepare_store(engine, settings, fill_history=False)
        factory = session_factory(engine)
        app.state.db = factory
        # Made behind the running service: the demo people can sign in meanwhile.
        app.state.demo_history = DemoHistory(factory, settings.demo_history_days if (
            settings.prepare_store and settings.demo_data) else 0)
        app.state.demo_history.start()
        app.state.hub = make_hub(settings.redis_url)
        app.state.sessions = SessionManager(factory, app.state.hub, AwayTimes(
            settings.away_pause_s, settings.away_leave_s))
        await app.state.sessions.start_background()
        app.state.sign_in_watch = SignInWatch(factory, settings.sign_in_check_s)
        app.state.sign_in_watch.start()
        app.state.loop_watch = EventLoopWatch(asyncio.get_running_loop())
        app.state.loop_watch.start()
        app.state.uploads = UploadAnalyser(settings.database_url,
                                            settings.upload_workers)
        async with collector_on_schedule(settings.scheduled_collector):
            yield
        app.state.demo_history.stop()
        await app.state.sign_in_watch.stop()
        await app.state.sessions.shutdown()
        app.state.loop_watch.stop()
        app.state.uploads.close()
        engine.dispose()

    # The documentation pages are the app's own, from files it serves (web.docs): FastAPI's
    # load their script from a CDN.
    app = FastAPI(title="heartsease", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="HRV biofeedback for compassion-focused therapy.")
    app.state.settings = settings
    app.state.sign_in_limiter = make_sign_in_limiter(settings.redis_url)
    for module in (auth, accounts, admin, people, sessions, sources, trends, observe, ingest,
                   health, writing, care, voice):
        app.include_router(module.router)
    web.mount(app)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(OperationalError, _store_away)
    app.add_exception_handler(RequestValidationError, _invalid)
    return app


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, with what was sent cut short: it echoed a 1.9 MB value back whole."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    # The list of errors stays a list of objects, as documented: fewer of them, each cut.
    return JSONResponse({"detail": [_shortened(e) for e in
                                    jsonable_encoder(errors)[:ECHO_ITEMS]]}, status_code=422)


ECHO_CHARS, ECHO_ITEMS = 200, 20  # of what was sent, in a 422


def _shortened(value: Any) -> Any:
    """``value`` with long strings and lists cut, at any depth.

    >>> _shortened({"input": "x" * 1000})["input"][195:]
    'xxxxx… (1000 characters)'
    >>> _shortened(list(range(50)))[-1]
    '… (50 items)'
    """
    if isinstance(value, str) and len(value) > ECHO_CHARS:
        return f"{value[:ECHO_CHARS]}… ({len(value)} characters)"
    if isinstance(value, list):
        kept = [_shortened(v) for v in value[:ECHO_ITEMS]]
        return [*kept, f"… ({len(value)} items)"] if len(value) > ECHO_ITEMS else kept
    if isinstance(value, dict):
        return {k: _shortened(v) for k, v in list(value.items())[:ECHO_ITEMS]}
    return value


async def _store_away(request: Request, exc: Exception) -> JSONResponse:
    """The database unreachable (restarting, the network): the documented 503, in JSON like
    every other error, rather than a bare 500."""
    logger.warning("%s %s: the database is unreachable: %s", request.method,
                   request.url.path, getattr(exc, "orig", exc))
    return JSONResponse({"detail": "The service cannot reach its database just now; try "
                         "again in a minute."}, status_code=503, headers={"Retry-After": "30"})


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    """The last guard for input the schema let through but the database refuses (a NUL in
    an id, a number past the column's range): the sender's mistake, said as one."""
    logger.warning("%s %s: refused what the database cannot store: %s", request.method,
                   request.url.path, getattr(exc, "orig", exc))
    return JSONResponse({"detail": "Some of what was sent cannot be stored (a control "
                         "character, or a number out of range)."}, status_code=422)


async def prepare_store(engine: Engine, settings: Settings, fill_history: bool = True
                        ) -> None:
    """Once per start of the service (by the first process, before any worker): the schema
    brought up to date, sessions a stopped server left active marked interrupted, and the
    demo people in development, with the demo client's history unless ``fill_history`` is
    false (a single process makes it behind the running service: :class:`DemoHistory`)."""
    migrate(engine)
    factory = session_factory(engine)
    with factory() as db, db.begin():
        if not settings.redis_url:  # with Redis, other workers' sessions may be running:
            mark_interrupted(db)    # the session manager's sweep tells which are not
        if settings.environment == "production" and (left := demo_accounts(db)):
            raise DemoAccountsInProductionError(left)
        if settings.demo_data:
            seed_demo_people(db)
    if settings.demo_data and fill_history:
        await asyncio.to_thread(fill_demo_history, factory, settings.demo_history_days)
