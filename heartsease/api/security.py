"""Passwords (argon2id) and short-lived access tokens (signed JWT)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_token(user_id: str, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    # iat to the microsecond, so "sign out everywhere" refuses a token from earlier in the
    # same second and accepts the next sign-in.
    claims = {"sub": user_id, "iat": now.timestamp(), "exp": now + timedelta(minutes=minutes),
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    token_id: str
    issued_at: datetime
    expires_at: datetime


def token_claims(token: str, secret: str) -> TokenClaims | None:
    """What a validly signed, unexpired token says; ``None`` for anything else. Whether it
    was revoked since is for the caller, who holds the database."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "iat", "sub", "jti"]})
    except jwt.PyJWTError:
        return None
    if not isinstance(claims["jti"], str):
        return None
    return TokenClaims(claims["sub"], claims["jti"],
                       datetime.fromtimestamp(claims["iat"], UTC),
                       datetime.fromtimestamp(claims["exp"], UTC))
