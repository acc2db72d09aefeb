"""How the service is doing, for a load balancer, a monitor and the pages' status line."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from heartsease.api.deps import DemoHistoryDep, Factory, Hub, LoopWatch
from heartsease.api.schemas import Health

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
def health(factory: Factory, hub: Hub, loop_watch: LoopWatch,
           demo_history: DemoHistoryDep) -> Health:
    """Whether the database answers, how live views reach viewers, and how busy this worker
    is."""
    try:
        with factory() as db:
            db.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unreachable"
    live = (f"this worker only ({hub.degraded})" if hub.degraded is not None
            else "every worker, through Redis" if hub.distributed else "in-process")
    return Health(status="ok" if database == "ok" and hub.degraded is None else "degraded",
                  database=database, live=live,
                  event_loop_lag_ms=loop_watch.lag_ms(), demo_history=demo_history.state)
