"""Reading the audit log (an administrator's view of everyone, a client's of their own
record), and recording refused attempts on health data."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from heartsease.api.credentials import credential
from heartsease.api.schemas import AuditEntryOut, AuditPage
from heartsease.api.security import token_claims
from heartsease.store.models import AuditEntry, BreathingSession, Role, User
from heartsease.store.repository import audit

log = logging.getLogger(__name__)
# Paths that read or change a client's health data: a refusal there is worth a line.
_HEALTH_PATH = re.compile(r"^/api/(sessions|clients|me/export)(/|$)")
_SESSION_ID = re.compile(r"^/api/sessions/([^/]+)")
_CLIENT_ID = re.compile(r"^/api/clients/([^/]+)")
DENIED_STATUSES = (401, 403, 404)
MAX_ENTRY_ID = 2**31 - 1  # the audit log's ids are 32-bit integers on PostgreSQL


def read_audit(db: Session, *, actor_id: str | None = None, subject_id: str | None = None,
               action: str | None = None, since: datetime | None = None,
               until: datetime | None = None, before_id: int | None = None,
               limit: int = 50) -> AuditPage:
    """The newest entries matching every filter given, ``limit`` at most, each with the
    names of who acted and whose data it was."""
    query = select(AuditEntry)
    for column, value in ((AuditEntry.actor_id, actor_id), (AuditEntry.subject_id, subject_id),
                          (AuditEntry.action, action)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = db.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).all()
    page, more = rows[:limit], len(rows) > limit
    ids = {i for r in page for i in (r.actor_id, r.subject_id, r.object_id, r.detail) if i}
    names = dict(db.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    return AuditPage(entries=[AuditEntryOut(
        id=r.id, at=r.at, actor_id=r.actor_id, actor_name=names.get(r.actor_id or ""),
        action=r.action, object_type=r.object_type, object_id=r.object_id,
        object_name=names.get(r.object_id) if r.object_type == "user" else None,
        subject_id=r.subject_id, subject_name=names.get(r.subject_id or ""), detail=r.detail,
        detail_name=names.get(r.detail)) for r in page],
        next_before_id=page[-1].id if more else None)


def worth_recording(request: Request, status_code: int) -> bool:
    """A refusal on health data, by someone who presented a sign-in (a request that
    presents none is anyone's, and a line for each would let anyone fill the log)."""
    presented = "authorization" in request.headers or "cookie" in request.headers
    return (status_code in DENIED_STATUSES and _HEALTH_PATH.match(request.url.path) is not None
            and (presented or status_code != 401))


def record_denied(factory: sessionmaker[Session], request: Request, status_code: int,
                  secret_key: str) -> None:
    """One line for a refused request on health data, in a transaction of its own (the
    request's own was rolled back): who tried (if their sign-in says), what, and whose
    data it would have been, when that can be told."""
    sent = credential(request)
    claims = None if sent is None else token_claims(sent.token, secret_key)
    path = request.url.path
    try:
        with factory() as db, db.begin():
            actor = None if claims is None else db.get(User, claims.user_id)
            audit(db, actor, "denied", "request", path[:64], _subject_of(db, path),
                  f"{request.method} {status_code}")
    except SQLAlchemyError as exc:  # the refusal is still answered; the database is away
        log.warning("a refused request could not be audited: %s", type(exc).__name__)



def _subject_of(db: Session, path: str) -> str | None:
    if (found := _SESSION_ID.match(path)) is not None:
        row = db.get(BreathingSession, found.group(1)[:32])
        return None if row is None else row.client_id
    if (found := _CLIENT_ID.match(path)) is not None:
        user = db.get(User, found.group(1)[:32])
        return user.id if user is not None and user.role is Role.CLIENT else None
    return None
