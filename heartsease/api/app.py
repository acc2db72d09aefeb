"""The FastAPI application: ``heartsease serve`` runs :func:`create_app`."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DataError

from heartsease.api import web
from heartsease.api.demo import DemoHistory, fill_demo_history, seed_demo_people
from heartsease.api.fanout import make_hub
from heartsease.api.limits import make_sign_in_limiter
from heartsease.api.live import SessionManager
from heartsease.api.routes import auth, health, live, people, sessions, trends
from heartsease.api.settings import Settings
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
        app.state.sessions = SessionManager(factory, app.state.hub)
        await app.state.sessions.start_background()
        app.state.loop_watch = EventLoopWatch(asyncio.get_running_loop())
        app.state.loop_watch.start()
        async with _collector_on_schedule():
            yield
        app.state.demo_history.stop()
        await app.state.sessions.shutdown()
        app.state.loop_watch.stop()
        engine.dispose()

    app = FastAPI(title="heartsease", version="0.1.0", lifespan=lifespan,
                  description="HRV biofeedback for compassion-focused therapy.")
    app.state.settings = settings
    app.state.sign_in_limiter = make_sign_in_limiter(settings.redis_url)
    for module in (auth, people, sessions, trends, live, health):
        app.include_router(module.router)
    web.mount(app)
    app.add_exception_handler(DataError, _unstorable)
    return app


@asynccontextmanager
async def _collector_on_schedule() -> AsyncIterator[None]:
    """The garbage collector, run by the service at its own checkpoints instead of by
    allocation counts, each pass kept short.

    Every pass stops every live session for as long as it takes, and at a thousand sessions
    (3,000 WebSockets) the collector's own passes were long: what is young at each pass is
    mostly alive (the connections' pending reads, a session's analysis windows), so nothing
    is freed and all of it is walked (measured with bench_load and a probe on
    ``gc.callbacks``: 50-110 ms every 3-4 s; a middle pass 0.35-0.52 s every half minute).
    Reference counting frees almost everything here. So what exists once the service is up
    (modules, the app, the demo) is left out of the passes, and so is whatever survives a
    pass. Every :data:`COLLECT_EVERY_S` there is a pass over what was made since the last
    one, and every :data:`EVERYTHING_EVERY_S` a pass over everything, for cycles among
    objects that were alive at an earlier pass. Sooner, a pass starts once the collector's
    count of objects made since the last pass, less those freed, reaches
    :data:`YOUNG_PASS_OBJECTS`: sessions starting leave that much behind (880 objects each:
    their connections, tasks and state), and a thousand of them starting within five
    minutes made one pass of 0.9-1.2 s (README: the collector by count)."""
    gc.collect()
    gc.freeze()
    gc.disable()

    async def collect() -> None:
        clock = asyncio.get_running_loop().time
        last_pass_s = last_everything_s = clock()
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            now_s = clock()
            due = collection_due(gc.get_count()[0], now_s - last_pass_s,
                                 now_s - last_everything_s)
            if due is not None:
                collect_garbage(everything=due == "everything")
                last_pass_s = now_s
                if due == "everything":
                    last_everything_s = now_s

    task = asyncio.create_task(collect())
    try:
        yield
    finally:
        task.cancel()
        gc.enable()
        gc.unfreeze()


def collection_due(young_objects: int, since_pass_s: float,
                   since_everything_s: float) -> Literal["young", "everything"] | None:
    """Which pass is due, if any: over everything, over what was made since the last pass
    (``young_objects``: the collector's count of objects made since, less those freed),
    or none yet.

    >>> collection_due(100, since_pass_s=2.0, since_everything_s=2.0) is None
    True
    >>> collection_due(YOUNG_PASS_OBJECTS, since_pass_s=2.0, since_everything_s=2.0)
    'young'
    """
    if since_everything_s >= EVERYTHING_EVERY_S:
        return "everything"
    if young_objects >= YOUNG_PASS_OBJECTS or since_pass_s >= COLLECT_EVERY_S:
        return "young"
    return None


def collect_garbage(*, everything: bool) -> int:
    """One pass: collect what was made since the last pass (or, with ``everything``, all
    of it), then leave the survivors out of later passes. Returns the number of
    unreachable objects found."""
    started = time.perf_counter()
    young_objects = gc.get_count()[0]
    if everything:
        gc.unfreeze()
    found = gc.collect()
    gc.freeze()
    took_ms = 1000 * (time.perf_counter() - started)
    # Live sessions stand still while it runs: a pass as long as a beat's whole latency
    # budget is worth an operator's attention.
    logger.log(logging.WARNING if took_ms >= 100 else logging.DEBUG,
               "garbage collector (%s): %d unreachable objects freed in %.0f ms",
               "everything" if everything else f"{young_objects} objects since the last pass",
               found, took_ms)
    return found


# Every pass also walks what is in flight at that moment (at 1,000 sessions about 50,000
# objects: each connection's pending read, its coroutines and futures, about 45 ms), so
# passes are not made more frequent than needed. The count is net of frees, so state a
# session renews in place (its analysis windows) does not start a pass, and 50,000 objects
# left by sessions starting take a pass of about 100 ms, with what is in flight, on a
# machine whose 10-million-step loop takes 0.3 s (bench_load, 1,000 sessions).
YOUNG_PASS_OBJECTS = 50_000
CHECK_EVERY_S = 1.0
COLLECT_EVERY_S = 300.0
EVERYTHING_EVERY_S = 3600.0


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
        if settings.demo_data:
            seed_demo_people(db)
    if settings.demo_data and fill_history:
        await asyncio.to_thread(fill_demo_history, factory, settings.demo_history_days)
