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


# A token's scope when it may do less than its person: a streamer started with a one-time
# code may start that person's streamed sessions and stream into them, nothing more.
STREAM_SCOPE = "stream"


def create_token(user_id: str, secret: str, minutes: int, scope: str | None = None) -> str:
    now = datetime.now(UTC)
    # iat to the microsecond, so "sign out everywhere" refuses a token from earlier in the
    # same second and accepts the next sign-in.
    claims: dict[str, object] = {"sub": user_id, "iat": now.timestamp(),
                                 "exp": now + timedelta(minutes=minutes),
                                 "jti": uuid.uuid4().hex}
    if scope is not None:
        claims["scope"] = scope
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    token_id: str
    issued_at: datetime
    expires_at: datetime
    scope: str | None = None  # None: everything its person may do


def token_claims(token: str, secret: str) -> TokenClaims | None:
    """What a validly signed, unexpired token says; ``None`` for anything else. Whether it
    was revoked since is for the caller, who holds the database."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "iat", "sub", "jti"]})
    except jwt.PyJWTError:
        return None
    scope = claims.get("scope")
    if not isinstance(claims["jti"], str) or not isinstance(scope, str | None):
        return None
    return TokenClaims(claims["sub"], claims["jti"],
                       datetime.fromtimestamp(claims["iat"], UTC),
                       datetime.fromtimestamp(claims["exp"], UTC), scope)
