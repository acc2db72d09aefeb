"""A clinician's clients, and a client's own data (GDPR)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select

from heartsease.api import voice
from heartsease.api.accounts import stop_sessions_of
from heartsease.api.deps import (
    Clinician,
    CurrentUser,
    Factory,
    Hub,
    Manager,
    SessionDep,
    SignInWatchDep,
)
from heartsease.api.schemas import UserOut, problems
from heartsease.store.db import finite_json, forget_erased
from heartsease.store.models import Role, User
from heartsease.store.personal import as_dict, erase_person, personal_data
from heartsease.store.repository import assigned_clients, audit

router = APIRouter(prefix="/api", tags=["people"], responses=problems(400, 401, 403, 422))


@router.get("/clients")
def my_clients(db: SessionDep, clinician: Clinician) -> list[UserOut]:
    audit(db, clinician, "list-clients", "clinician", clinician.id, None)
    return [UserOut.model_validate(c, from_attributes=True)
            for c in assigned_clients(db, clinician.id)]


@router.get("/me/export")
def export_my_data(db: SessionDep, user: CurrentUser) -> Response:
    """Everything heartsease holds about the signed-in client, as one JSON file: every table
    that names them or their sessions (:func:`heartsease.store.personal.personal_data`). For
    a clinician, their account and the cues they recorded in their own voice (their notes
    and reviews are about their clients, and stay with the clients' data)."""
    if user.role is Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "A client's or a clinician's own data "
                            "is exported.")
    audit(db, user, "export-all", user.role.value, user.id,
          user.id if user.role is Role.CLIENT else None)
    db.flush()
    data = personal_data(db, user.id) if user.role is Role.CLIENT else {
        "you": as_dict(User.__table__, db.execute(select(User.__table__).where(
            User.id == user.id)).one()),
        "voice_recordings": voice.exported(db, user.id)}
    body = finite_json(data, default=_plain)
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="heartsease.json"'})


def _plain(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@router.delete("/me", status_code=204)
async def delete_me(db: SessionDep, user: CurrentUser, factory: Factory, manager: Manager,
                    hub: Hub, watch: SignInWatchDep) -> Response:
    """A client erases their account and every beat, session and note about them; their
    running sessions stop first (nothing of theirs is left streaming or in memory), and no
    copy is left in the database's files (:func:`heartsease.store.db.forget_erased`)."""
    if user.role is not Role.CLIENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Ask an administrator to close a "
                            "clinician's or administrator's account.")
    db.commit()
    await watch.close_erased(user.id)
    await stop_sessions_of(factory, manager, hub, user.id)
    audit(db, user, "erase", "client", user.id, user.id)
    erase_person(db, user.id)
    db.commit()
    forget_erased(db.get_bind())
    return Response(status_code=204)
