"""The client's own words: letters and reflections saved as they are written, shared with
their clinicians only by choice (and unshared); the words sent at a check-in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select

from heartsease.api import care
from heartsease.api.deps import Clinician, CurrentUser, Manager, SessionDep
from heartsease.api.schemas import CheckInIn, WritingIn, WritingUpdate, problems
from heartsease.store.models import CheckIn, Role, User, Writing, WritingKind

router = APIRouter(prefix="/api", tags=["writing"],
                   responses=problems(400, 401, 403, 404, 422))


def _client(user: User) -> User:
    if user.role is not Role.CLIENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Letters and reflections are the "
                            "client's own.")
    return user


@router.post("/me/writings", status_code=201)
async def begin_writing(body: WritingIn, db: SessionDep, user: CurrentUser,
                        manager: Manager) -> dict[str, Any]:
    """A letter or reflection begun (in a session, or on its own)."""
    client, now = _client(user), datetime.now(UTC)
    at_s = None
    if body.session_id is not None:
        at_s = care.session_time_s(manager, care.own_session(db, client, body.session_id), now)
    row = Writing(client_id=client.id, session_id=body.session_id, kind=WritingKind(body.kind),
                  body=body.body, from_t_s=at_s, to_t_s=at_s, created_at=now, updated_at=now)
    db.add(row)
    db.flush()
    return care.writing_out(row)


@router.put("/me/writings/{writing_id}")
async def save_writing(writing_id: str, body: WritingUpdate, db: SessionDep,
                       user: CurrentUser, manager: Manager) -> dict[str, Any]:
    """The writing as it now stands (saved as the client writes: nothing lost on a
    reload)."""
    row, now = care.own_writing(db, _client(user), writing_id), datetime.now(UTC)
    row.body, row.updated_at = body.body, now
    if row.session_id is not None:
        session = care.own_session(db, user, row.session_id)
        row.to_t_s = care.session_time_s(manager, session, now)
    return care.writing_out(row)


@router.get("/me/writings")
def my_writings(db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    rows = db.scalars(select(Writing).where(Writing.client_id == _client(user).id)
                      .order_by(Writing.created_at))
    return [care.writing_out(r) for r in rows]


@router.post("/me/writings/{writing_id}/share")
def share_writing(writing_id: str, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Share it with the clinicians assigned to the client."""
    row = care.own_writing(db, _client(user), writing_id)
    row.shared_at = row.shared_at or datetime.now(UTC)
    return care.writing_out(row)


@router.delete("/me/writings/{writing_id}/share")
def unshare_writing(writing_id: str, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = care.own_writing(db, _client(user), writing_id)
    row.shared_at = None
    return care.writing_out(row)


@router.delete("/me/writings/{writing_id}", status_code=204)
def delete_writing(writing_id: str, db: SessionDep, user: CurrentUser) -> Response:
    db.delete(care.own_writing(db, _client(user), writing_id))
    return Response(status_code=204)


@router.get("/clients/{client_id}/writings")
def shared_writings(client_id: str, db: SessionDep, clinician: Clinician,
                    traces: bool = False) -> list[dict[str, Any]]:
    """What the client has chosen to share (only while they share it), each with the
    session times it was written over; with ``traces``, also the heart's trace of those
    moments: ``moments`` (``written``, ``read back``: session seconds) and ``trace``
    (``[t_s, heart rate]`` a beat). Every read audit-logged."""
    rows = care.shared_writings(db, clinician, client_id)
    return [care.with_trace(db, clinician, r) if traces else care.writing_out(r) for r in rows]


@router.post("/sessions/{session_id}/check-in", status_code=201)
def check_in(session_id: str, body: CheckInIn, db: SessionDep, user: CurrentUser
             ) -> dict[str, Any]:
    """The words the client chose to send their clinician, after a moment that was a lot
    (sent again, they replace the earlier ones)."""
    row = care.own_session(db, _client(user), session_id)
    stored = db.get(CheckIn, row.id)
    if stored is None:
        db.add(CheckIn(session_id=row.id, words=body.words))
    else:
        stored.words, stored.sent_at = body.words, datetime.now(UTC)
    return {"session_id": row.id, "words": body.words}
