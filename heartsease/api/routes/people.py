"""People, assignments, a clinician's clients, and a client's own data (GDPR)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from heartsease.api.deps import Admin, Clinician, CurrentUser, SessionDep
from heartsease.api.schemas import AssignmentIn, UserCreate, UserOut, problems
from heartsease.api.security import hash_password
from heartsease.store.models import Assignment, Role, User
from heartsease.store.repository import (
    assigned_clients,
    audit,
    beats_of,
    delete_client_data,
    events_of,
    practice_data_of,
    sessions_of,
)

router = APIRouter(prefix="/api", tags=["people"], responses=problems(400, 401, 403, 422))


@router.post("/users", status_code=201, responses=problems(409))
def create_user(body: UserCreate, db: SessionDep, admin: Admin) -> UserOut:
    user = User(email=body.email.lower(), name=body.name, role=body.role,
                password_hash=hash_password(body.password))
    db.add(user)
    try:
        db.flush()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, "That email is already in use.") from None
    audit(db, admin, "create-user", "user", user.id, None, body.role.value)
    return UserOut.model_validate(user, from_attributes=True)


@router.post("/assignments", status_code=201)
def assign(body: AssignmentIn, db: SessionDep, admin: Admin) -> dict[str, str]:
    clinician, client = db.get(User, body.clinician_id), db.get(User, body.client_id)
    if clinician is None or clinician.role is not Role.CLINICIAN or client is None \
            or client.role is not Role.CLIENT:
        raise HTTPException(422,
                            "Assign a clinician to a client.")
    if db.get(Assignment, (clinician.id, client.id)) is None:
        db.add(Assignment(clinician_id=clinician.id, client_id=client.id))
        audit(db, admin, "assign", "client", client.id, client.id, clinician.id)
    return {"clinician_id": clinician.id, "client_id": client.id}


@router.get("/clients")
def my_clients(db: SessionDep, clinician: Clinician) -> list[UserOut]:
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
                    "baselines": user.baselines}, "sessions": sessions,
            **practice_data_of(db, user.id)}
    return Response(json.dumps(body, default=str), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="heartsease.json"'})


@router.delete("/me", status_code=204)
def delete_me(db: SessionDep, user: CurrentUser) -> Response:
    """A client erases their account and every beat, session and note about them."""
    if user.role is not Role.CLIENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Ask an administrator to close a "
                            "clinician's or administrator's account.")
    audit(db, user, "erase", "client", user.id, user.id)
    delete_client_data(db, user.id)
    return Response(status_code=204)


@router.post("/users/{user_id}/sign-out-everywhere", status_code=204,
             responses=problems(404))
def revoke_tokens(user_id: str, db: SessionDep, admin: Admin) -> Response:
    """An administrator ends every sign-in of a person (a lost phone, someone who left)."""
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such person.")
    user.tokens_valid_after = datetime.now(UTC)
    audit(db, admin, "revoke-tokens", "user", user.id, user.id if user.role is Role.CLIENT
          else None)
    return Response(status_code=204)


@router.get("/users")
def list_users(db: SessionDep, admin: Admin) -> list[UserOut]:
    return [UserOut.model_validate(u, from_attributes=True)
            for u in db.scalars(select(User).order_by(User.role, User.name))]
