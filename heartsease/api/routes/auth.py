"""Signing in, and who am I."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import delete, select

from heartsease.api import stream_codes
from heartsease.api.deps import CurrentUser, SessionDep, SettingsDep, SignInLimiterDep, oauth2
from heartsease.api.schemas import StreamCodeIn, StreamCodeOut, Token, UserOut, problems
from heartsease.api.security import STREAM_SCOPE, create_token, token_claims, verify_password
from heartsease.store.models import RevokedToken, Role, User
from heartsease.store.repository import audit

router = APIRouter(prefix="/api", tags=["auth"], responses=problems(400, 401, 422))


@router.post("/auth/token", responses=problems(429))
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request,
            db: SessionDep, settings: SettingsDep, limiter: SignInLimiterDep) -> Token:
    key = (form.username.lower(), request.client.host if request.client else "")
    wait_s = limiter.retry_after_s(key, time.time())
    if wait_s > 0:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"Too many attempts. Please wait {math.ceil(wait_s / 60)} "
                            "minute(s) and try again.",
                            headers={"Retry-After": str(math.ceil(wait_s))})
    user = db.scalar(select(User).where(User.email == form.username.lower()))
    if user is None or not verify_password(form.password, user.password_hash) \
            or user.deactivated_at is not None:
        limiter.failed(key, time.time())
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "That email and password don't match an account.")
    audit(db, user, "sign-in", "user", user.id, None)
    return Token(access_token=create_token(user.id, settings.secret_key,
                                           settings.token_minutes),
                 expires_in_s=settings.token_minutes * 60)


@router.post("/auth/stream-code", responses=problems(429))
def redeem_stream_code(body: StreamCodeIn, request: Request, db: SessionDep,
                       settings: SettingsDep, limiter: SignInLimiterDep) -> Token:
    """A one-time code from the breathing page, exchanged by ``heartsease breathe --server
    URL --code CODE`` for a sign-in that may stream its person's practice and nothing
    more. Wrong codes count against the same limit as wrong passwords."""
    key = ("stream-code", request.client.host if request.client else "")
    wait_s = limiter.retry_after_s(key, time.time())
    if wait_s > 0:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"Too many attempts. Please wait {math.ceil(wait_s / 60)} "
                            "minute(s) and try again.",
                            headers={"Retry-After": str(math.ceil(wait_s))})
    user = stream_codes.redeem(db, body.code)
    if user is None:
        limiter.failed(key, time.time())
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "That code does not work: it was used already, has expired or "
                            "was mistyped. Ask the breathing page for a new one.")
    return Token(access_token=create_token(user.id, settings.secret_key,
                                           settings.token_minutes, STREAM_SCOPE),
                 expires_in_s=settings.token_minutes * 60)


@router.post("/me/stream-code", status_code=201, responses=problems(403))
def issue_stream_code(user: CurrentUser, db: SessionDep) -> StreamCodeOut:
    """A single-use code, valid for a few minutes, that lets the Python streamer on another
    computer stream this client's practice without their password (audit-logged)."""
    if user.role is not Role.CLIENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only a client streams a practice.")
    code, row = stream_codes.issue(db, user)
    return StreamCodeOut(code=code, expires_at=row.expires_at)


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.post("/auth/sign-out", status_code=204)
def sign_out(token: Annotated[str, Depends(oauth2)], user: CurrentUser, db: SessionDep,
             settings: SettingsDep) -> Response:
    """This token stops working now, not when it expires (a shared or lost device)."""
    claims = token_claims(token, settings.secret_key)
    assert claims is not None  # CurrentUser has checked it
    now = datetime.now(UTC)
    db.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    db.add(RevokedToken(jti=claims.token_id, expires_at=claims.expires_at))
    return Response(status_code=204)


@router.post("/me/sign-out-everywhere", status_code=204)
def sign_out_everywhere(user: CurrentUser) -> Response:
    """Every token this person holds stops working, on every device (this one too)."""
    user.tokens_valid_after = datetime.now(UTC)
    return Response(status_code=204)
