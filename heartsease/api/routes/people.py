"""People, assignments, a clinician's clients, and a client's own data (GDPR)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from heartsease.api.deps import Admin, Clinician, CurrentUser, SessionDep
from heartsease.api.schemas import AssignmentIn, UserCreate, UserOut, problems
from heartsease.api.security import hash_password
from heartsease.store.db import finite_json, forget_erased
from heartsease.store.models import Assignment, Role, User
from heartsease.store.personal import erase_person, personal_data
from heartsease.store.repository import assigned_clients, audit

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
    """Everything heartsease holds about the signed-in client, as one JSON file: every table
    that names them or their sessions (:func:`heartsease.store.personal.personal_data`)."""
    if user.role is not Role.CLIENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only a client's own data is exported.")
    audit(db, user, "export-all", "client", user.id, user.id)
    db.flush()
    body = finite_json(personal_data(db, user.id), default=_plain)
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="heartsease.json"'})


def _plain(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@router.delete("/me", status_code=204)
def delete_me(db: SessionDep, user: CurrentUser) -> Response:
    """A client erases their account and every beat, session and note about them; no copy
    is left in the database's files (:func:`heartsease.store.db.forget_erased`)."""
    if user.role is not Role.CLIENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Ask an administrator to close a "
                            "clinician's or administrator's account.")
    audit(db, user, "erase", "client", user.id, user.id)
    erase_person(db, user.id)
    db.commit()
    forget_erased(db.get_bind())
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
