"""One-time streaming codes: the page shows one, and ``heartsease breathe --server URL --code
CODE`` exchanges it for a sign-in that may stream that person's practice and nothing more,
so no password is typed into a terminal (for browsers without Web Bluetooth).

A code is single-use, expires within minutes, is kept only as its hash, and is audit-logged
when issued and when redeemed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from heartsease.store.models import StreamCode, User, utcnow
from heartsease.store.repository import audit

CODE_MINUTES = 5
# No 0/O, 1/I/L: read off a screen and typed. 12 of 31 symbols, about 59 bits: no guessing
# within the minutes a code lives, with sign-in's own limit on attempts on top.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH, GROUP = 12, 4


def _hash(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def issue(db: Session, user: User) -> tuple[str, StreamCode]:
    """A new code for ``user`` (shown once, as ``XXXX-XXXX-XXXX``) and its row."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    code = "-".join(symbols[k:k + GROUP] for k in range(0, LENGTH, GROUP))
    now = utcnow()
    row = StreamCode(code_hash=_hash(code), user_id=user.id, created_at=now,
                     expires_at=now + timedelta(minutes=CODE_MINUTES))
    db.add(row)
    db.flush()
    audit(db, user, "issue-stream-code", "user", user.id, user.id,
          f"expires {row.expires_at.isoformat(timespec='seconds')}")
    return code, row


def redeem(db: Session, code: str) -> User | None:
    """The person whose unexpired, unused code this is, the code used up; else ``None``.
    One statement marks it used, so two redemptions at once cannot both succeed."""
    now = utcnow()
    used = db.execute(update(StreamCode)
                      .where(StreamCode.code_hash == _hash(code), StreamCode.used_at.is_(None),
                             StreamCode.expires_at > now)
                      .values(used_at=now).returning(StreamCode.user_id)).first()
    if used is None:
        return None
    user = db.get(User, used.user_id)
    if user is not None:
        audit(db, user, "redeem-stream-code", "user", user.id, user.id)
    return user
