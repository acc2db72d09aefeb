"""An administrator's work: people (add, deactivate, a link to set a password, sign-out
everywhere), assignments, and the audit log. No health data is shown here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from heartsease.api import accounts
from heartsease.api.audit_log import MAX_ENTRY_ID, read_audit
from heartsease.api.deps import Admin, Factory, Hub, Manager, SessionDep, SettingsDep
from heartsease.api.mail import send_mail
from heartsease.api.schemas import (
    AdminUserOut,
    AssignmentIn,
    AssignmentOut,
    AuditPage,
    NewAccount,
    PasswordLinkOut,
    UserCreate,
    problems,
)
from heartsease.api.settings import Settings
from heartsease.store.models import Assignment, Role, User
from heartsease.store.repository import audit

router = APIRouter(prefix="/api", tags=["administration"],
                   responses=problems(400, 401, 403, 422))
NO_SUCH_PERSON = "No such person."


def admin_view(user: User) -> AdminUserOut:
    return AdminUserOut(id=user.id, email=user.email, name=user.name, role=user.role,
                        created_at=user.created_at, deactivated_at=user.deactivated_at,
                        password_set=user.password_hash != accounts.NO_PASSWORD)


def _hand_over(user: User, link: str, purpose: str, settings: Settings,
               background: BackgroundTasks) -> PasswordLinkOut:
    """Mail the link (after the response: a slow mail server holds no one up), or give it
    to the administrator to hand over."""
    if settings.mail_configured:
        subject, body = accounts.link_message(user, link, purpose, settings)
        background.add_task(send_mail, settings, user.email, subject, body)
    return PasswordLinkOut(mailed=settings.mail_configured,
                           link=None if settings.mail_configured else link,
                           expires_in_hours=settings.password_link_hours)


def _person(db: SessionDep, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_PERSON)
    return user


@router.post("/users", status_code=201, responses=problems(409))
def create_user(body: UserCreate, db: SessionDep, admin: Admin, settings: SettingsDep,
                background: BackgroundTasks) -> NewAccount:
    """A new person, with no password until they set one by the link returned (or mailed)."""
    user = User(email=body.email.lower(), name=body.name, role=body.role,
                password_hash=accounts.NO_PASSWORD)
    db.add(user)
    try:
        db.flush()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, "That email is already in use.") from None
    link = accounts.new_password_link(db, user, "welcome", settings)
    audit(db, admin, "create-user", "user", user.id, None, body.role.value)
    handed = _hand_over(user, link, "welcome", settings, background)
    return NewAccount(user=admin_view(user), **handed.model_dump())


@router.get("/users")
def list_users(db: SessionDep, admin: Admin) -> list[AdminUserOut]:
    return [admin_view(u) for u in db.scalars(select(User).order_by(User.role, User.name))]


@router.post("/users/{user_id}/password-link", status_code=201, responses=problems(404, 409))
def password_link(user_id: str, db: SessionDep, admin: Admin, settings: SettingsDep,
                  background: BackgroundTasks) -> PasswordLinkOut:
    """A new single-use link for a person to set a new password (a forgotten one). Their
    current password works until they use it; an earlier unused link stops working."""
    user = _person(db, user_id)
    if user.deactivated_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "This account is deactivated.")
    link = accounts.new_password_link(db, user, "reset", settings)
    audit(db, admin, "password-link", "user", user.id, None)
    return _hand_over(user, link, "reset", settings, background)


@router.delete("/users/{user_id}", status_code=204, responses=problems(404, 409))
async def deactivate_user(user_id: str, db: SessionDep, admin: Admin, factory: Factory,
                          manager: Manager, hub: Hub) -> Response:
    """Deactivate an account: every sign-in ends, no new one is possible, and a client's
    running sessions stop (their data is kept: erasure is the client's own choice)."""
    user = _person(db, user_id)
    if user.id == admin.id:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            "You cannot deactivate your own account.")
    if user.deactivated_at is None:
        accounts.deactivate(db, user)
        audit(db, admin, "deactivate", "user", user.id,
              user.id if user.role is Role.CLIENT else None)
    db.commit()
    if user.role is Role.CLIENT:
        await accounts.stop_sessions_of(factory, manager, hub, user.id)
    return Response(status_code=204)


@router.post("/users/{user_id}/sign-out-everywhere", status_code=204,
             responses=problems(404))
def revoke_tokens(user_id: str, db: SessionDep, admin: Admin) -> Response:
    """An administrator ends every sign-in of a person (a lost phone, someone who left)."""
    user = _person(db, user_id)
    user.tokens_valid_after = datetime.now(UTC)
    audit(db, admin, "revoke-tokens", "user", user.id, user.id if user.role is Role.CLIENT
          else None)
    return Response(status_code=204)


def _pair(db: SessionDep, body: AssignmentIn) -> tuple[User, User]:
    clinician, client = db.get(User, body.clinician_id), db.get(User, body.client_id)
    if clinician is None or clinician.role is not Role.CLINICIAN or client is None \
            or client.role is not Role.CLIENT:
        raise HTTPException(422, "Assign a clinician to a client.")
    return clinician, client


@router.get("/assignments")
def list_assignments(db: SessionDep, admin: Admin) -> list[AssignmentOut]:
    names = dict(db.execute(select(User.id, User.name)).all())
    return [AssignmentOut(clinician_id=a.clinician_id, clinician_name=names[a.clinician_id],
                          client_id=a.client_id, client_name=names[a.client_id])
            for a in db.scalars(select(Assignment))]


@router.post("/assignments", status_code=201, responses=problems(409))
def assign(body: AssignmentIn, db: SessionDep, admin: Admin) -> dict[str, str]:
    """A clinician may see a client's data from now on; the client sees who (recorded in
    the audit log, with who made it)."""
    clinician, client = _pair(db, body)
    if clinician.deactivated_at is not None or client.deactivated_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "That account is deactivated.")
    if db.get(Assignment, (clinician.id, client.id)) is None:
        db.add(Assignment(clinician_id=clinician.id, client_id=client.id))
        audit(db, admin, "assign", "client", client.id, client.id, clinician.id)
    return {"clinician_id": clinician.id, "client_id": client.id}


@router.delete("/assignments", status_code=204, responses=problems(404))
def unassign(body: AssignmentIn, db: SessionDep, admin: Admin) -> Response:
    """The clinician no longer sees the client's data (audited, with who did it)."""
    clinician, client = _pair(db, body)
    assignment = db.get(Assignment, (clinician.id, client.id))
    if assignment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "They are not assigned.")
    db.delete(assignment)
    audit(db, admin, "unassign", "client", client.id, client.id, clinician.id)
    return Response(status_code=204)


@router.get("/audit")
def audit_log(db: SessionDep, admin: Admin,
              actor_id: Annotated[str | None, Query(max_length=32)] = None,
              subject_id: Annotated[str | None, Query(max_length=32)] = None,
              action: Annotated[str | None, Query(max_length=32)] = None,
              since: datetime | None = None, until: datetime | None = None,
              before_id: Annotated[int | None, Query(ge=1, le=MAX_ENTRY_ID)] = None,
              limit: Annotated[int, Query(ge=1, le=200)] = 50) -> AuditPage:
    """Who did what, newest first: filter by who acted, whose data, the action or a time
    range; page with ``before_id``."""
    return read_audit(db, actor_id=actor_id, subject_id=subject_id, action=action,
                      since=since, until=until, before_id=before_id, limit=limit)
