"""A clinician's clients, and a client's own data (GDPR)."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Response, status

from heartsease.api.accounts import stop_sessions_of
from heartsease.api.deps import Clinician, CurrentUser, Factory, Hub, Manager, SessionDep
from heartsease.api.schemas import UserOut, problems
from heartsease.store.models import Role
from heartsease.store.repository import (
    assigned_clients,
    audit,
    beats_of,
    delete_client_data,
    events_of,
    sessions_of,
)

router = APIRouter(prefix="/api", tags=["people"], responses=problems(400, 401, 403, 422))


@router.get("/clients")
def my_clients(db: SessionDep, clinician: Clinician) -> list[UserOut]:
    audit(db, clinician, "list-clients", "clinician", clinician.id, None)
    return [UserOut.model_validate(c, from_attributes=True)
            for c in assigned_clients(db, clinician.id)]


@router.get("/me/export")
def export_my_data(db: SessionDep, user: CurrentUser) -> Response:
    """Everything heartsease holds about the signed-in client, as one JSON file."""
    if user.role is not Role.CLIENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only a client's own data is exported.")
    sessions = []
    for row in sessions_of(db, [user.id], limit=100_000):
        sessions.append({
            "id": row.id, "protocol": row.protocol, "status": row.status.value,
            "started_at": row.started_at.isoformat(), "summary": row.summary,
            "beats": [{"seq": b.seq, "t_s": b.t_s, "rr_ms": b.rr_ms} for b in
                      beats_of(db, row.id)],
            "events": events_of(db, row.id),
        })
    audit(db, user, "export-all", "client", user.id, user.id)
    body = {"you": {"email": user.email, "name": user.name, "pace_bpm": user.pace_bpm,
                    "baselines": user.baselines}, "sessions": sessions}
    return Response(json.dumps(body, default=str), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="heartsease.json"'})


@router.delete("/me", status_code=204)
async def delete_me(db: SessionDep, user: CurrentUser, factory: Factory, manager: Manager,
                    hub: Hub) -> Response:
    """A client erases their account and every beat, session and note about them; their
    running sessions stop first (nothing of theirs is left streaming or in memory)."""
    if user.role is not Role.CLIENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Ask an administrator to close a "
                            "clinician's or administrator's account.")
    db.commit()
    await stop_sessions_of(factory, manager, hub, user.id)
    audit(db, user, "erase", "client", user.id, user.id)
    delete_client_data(db, user.id)
    return Response(status_code=204)
