"""A client's trends over weeks, day by day in the client's own time zone, and where a person
tells the service their time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, HTTPException, status

from heartsease.api import services
from heartsease.api.deps import CurrentUser, SessionDep
from heartsease.api.schemas import IsoDate, TimeZoneIn, TrendDay, UserOut, problems
from heartsease.store.models import Role, User
from heartsease.store.repository import audit, can_see_client

router = APIRouter(prefix="/api", tags=["trends"], responses=problems(400, 401, 404, 422))
MAX_DAYS = 731
# Far enough either way for any practice, near enough that the 60-day history before a
# range and the day after it are still dates.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
# What only the clinician's trends show: none of it reaches the client's own page.
CLINICAL = ("coherence", "soothing_minutes", "shifts_per_session")


@router.put("/me/time-zone")
def set_time_zone(body: TimeZoneIn, db: SessionDep, user: CurrentUser) -> UserOut:
    """The person's time zone, as their browser knows it (the pages send it when it
    changes): their trend days run from midnight to midnight there."""
    # Written at the commit, not flushed here: a flush would take SQLite's write lock
    # across the hop back to the event loop, which a write there would then wait on.
    user.time_zone = body.time_zone
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/clients/{client_id}/trends")
def client_trends(client_id: str, db: SessionDep, user: CurrentUser,
                  start: IsoDate | None = None, end: IsoDate | None = None) -> list[TrendDay]:
    """Day by day, ``start`` to ``end`` (by default the 60 days to the client's today),
    each day the client's own: midnight to midnight in their time zone."""
    client = db.get(User, client_id)
    if client is None or not can_see_client(db, user, client_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such client, or not yours to see.")
    for day in (start, end):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise HTTPException(422, f"Choose dates from {FIRST_DAY} to {LAST_DAY}.")
    zone = services.zone_of(client)
    end = end or datetime.now(zone).date()
    start = start or end - timedelta(days=59)
    if start > end or (end - start).days >= MAX_DAYS:
        raise HTTPException(422,
                            f"Choose a range of 1 to {MAX_DAYS} days, start before end.")
    if user.role is Role.CLINICIAN:
        audit(db, user, "read-trends", "client", client_id, client_id, f"{start}..{end}")
    days = services.trends(db, client_id, start, end, zone)
    if user.role is Role.CLIENT:
        days = [{**d, **dict.fromkeys(CLINICAL)} for d in days]
    return [TrendDay(**d) for d in days]
