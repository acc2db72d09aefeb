"""How the service is doing, for a load balancer, a monitor and the pages' status line."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from heartsease.api.schemas import Health

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
def health(request: Request) -> Health:
    """Whether the database answers, how live views reach viewers, and how busy this worker
    is."""
    try:
        with request.app.state.db() as db:
            db.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unreachable"
    hub = request.app.state.hub
    live = (f"this worker only ({hub.degraded})" if hub.degraded is not None
            else "every worker, through Redis" if hub.distributed else "in-process")
    return Health(status="ok" if database == "ok" and hub.degraded is None else "degraded",
                  database=database, live=live,
                  event_loop_lag_ms=request.app.state.loop_watch.lag_ms(),
                  demo_history=request.app.state.demo_history.state)
