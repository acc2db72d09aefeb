"""People's accounts: single-use links to set one's own password, deactivation, and
stopping a person's running sessions (kept out of the routers)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from heartsease.api.fanout import LocalHub
from heartsease.api.running import SessionManager
from heartsease.api.security import hash_password
from heartsease.api.settings import Settings
from heartsease.store.models import (
    BreathingSession,
    PasswordLink,
    SessionStatus,
    User,
    VoiceRecording,
)
from heartsease.store.repository import audit
from heartsease.wire import Command

# A password that no one holds: argon2 refuses it as a hash, so no password matches it.
NO_PASSWORD = ""
MIN_PASSWORD_LENGTH = 10
LINK_PATH = "/set-password"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password_link(db: Session, user: User, purpose: str, settings: Settings) -> str:
    """A link (its token after ``#``: a fragment never reaches a server or a proxy's log)
    by which ``user`` sets their own password once, before it expires. Any earlier unused
    link of theirs stops working."""
    db.execute(delete(PasswordLink).where(PasswordLink.user_id == user.id,
                                          PasswordLink.used_at.is_(None)))
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    db.add(PasswordLink(token_sha256=_digest(token), user_id=user.id, purpose=purpose,
                        created_at=now,
                        expires_at=now + timedelta(hours=settings.password_link_hours)))
    return f"{(settings.public_url or '').rstrip('/')}{LINK_PATH}#{token}"


def redeem_password_link(db: Session, token: str, password: str) -> User | None:
    """Set the password of the person a usable link is for, and end their other sign-ins;
    ``None`` (and nothing changed) for a link unknown, used, expired or of a deactivated
    account."""
    link = db.get(PasswordLink, _digest(token), with_for_update=True)
    now = datetime.now(UTC)
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    user = db.get(User, link.user_id)
    if user is None or user.deactivated_at is not None:
        return None
    link.used_at = now
    set_password(user, password, now)
    audit(db, user, "set-password", "user", user.id, None, link.purpose)
    return user


def set_password(user: User, password: str, now: datetime) -> None:
    """A new password; every sign-in from before it ends."""
    user.password_hash = hash_password(password)
    user.tokens_valid_after = now


def link_message(user: User, link: str, purpose: str, settings: Settings) -> tuple[str, str]:
    """The subject and body of the mail that carries a link."""
    why = ("An account on heartsease has been made for you." if purpose == "welcome" else
           "Someone asked to set a new password for your heartsease account. If it was not "
           "you, ignore this message: your password stays as it is.")
    return ("Set your heartsease password",
            f"Hello {user.name},\n\n{why}\n\nSet your password here (the link works once, "
            f"within {settings.password_link_hours} hours):\n\n{link}\n")


async def stop_sessions_of(factory: sessionmaker[Session], manager: SessionManager,
                           hub: LocalHub, client_id: str) -> None:
    """Stop every running session of a client: here, on other workers, and those waiting
    for a first streamed beat (stopped, as nothing runs them yet). Call it with no
    transaction of the caller's open on those sessions: stopping one stores it."""
    for running in [r for r in manager.running.values() if r.client_id == client_id]:
        await manager.stop(running.session_id)
    with factory() as db, db.begin():
        active = db.scalars(select(BreathingSession).where(
            BreathingSession.client_id == client_id,
            BreathingSession.status == SessionStatus.ACTIVE)).all()
        for row in active:
            if manager.is_live(row.id):
                hub.control(row.id, {"type": Command.STOP})
            else:
                row.status, row.ended_at = SessionStatus.STOPPED, datetime.now(UTC)


def deactivate(db: Session, user: User) -> None:
    """Close an account: no sign-in from now on, unused links void, and a clinician's voice
    no longer played to anyone (their recordings erased). Kept, as the audit log names it."""
    now = datetime.now(UTC)
    user.deactivated_at = now
    user.tokens_valid_after = now
    db.execute(delete(PasswordLink).where(PasswordLink.user_id == user.id,
                                          PasswordLink.used_at.is_(None)))
    db.execute(delete(VoiceRecording).where(VoiceRecording.clinician_id == user.id))
