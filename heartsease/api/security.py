"""Passwords (argon2id) and signed sign-in tokens (JWT).

A token's ``jti`` names the sign-in and its ``iat`` is when the person signed in: renewing a
page's sign-in issues a new token with the same two and a later ``exp``, so a sign-out, a
revocation ("sign out everywhere") and the absolute limit apply to every renewal of it, and
what belongs to the sign-in (an open WebSocket) outlives its renewals.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

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


@cache
def _dummy_hash() -> str:
    return _hasher.hash(uuid.uuid4().hex)


def check_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches; with no account (``None``) a dummy hash is verified
    all the same, so an unknown email costs the hasher what a wrong password does and the
    answer's timing does not tell which emails have accounts."""
    if password_hash is None:
        verify_password(password, _dummy_hash())
        return False
    return verify_password(password, password_hash)


def create_token(user_id: str, secret: str, minutes: float,
                 renewing: TokenClaims | None = None, until: datetime | None = None,
                 scope: str | None = None) -> str:
    """A token for ``minutes`` (or ``until``, if sooner); ``renewing`` an earlier token of
    the same sign-in keeps its ``jti`` and ``iat``."""
    now = datetime.now(UTC)
    expires = now + timedelta(minutes=minutes)
    if until is not None:
        expires = min(expires, until)
    # iat to the microsecond, so "sign out everywhere" refuses a token from earlier in the
    # same second and accepts the next sign-in.
    claims: dict[str, object] = {
        "sub": user_id, "exp": expires,
        "iat": renewing.issued_at.timestamp() if renewing else now.timestamp(),
        "jti": renewing.token_id if renewing else uuid.uuid4().hex}
    if scope is not None:
        claims["scope"] = scope
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    token_id: str  # the sign-in's id, kept by its renewals
    issued_at: datetime  # when the person signed in, kept by renewals
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
    if not isinstance(claims["jti"], str) or not isinstance(claims["sub"], str) \
            or not isinstance(scope, str | None):
        return None
    return TokenClaims(claims["sub"], claims["jti"],
                       datetime.fromtimestamp(claims["iat"], UTC),
                       datetime.fromtimestamp(claims["exp"], UTC), scope)


def csrf_token(sign_in_id: str, secret: str) -> str:
    """The page's anti-forgery token for a sign-in: the pages send it back in a header with
    every change they ask for, which a page on another site cannot read to forge."""
    return hmac.new(secret.encode(), b"csrf:" + sign_in_id.encode(),
                    hashlib.sha256).hexdigest()
