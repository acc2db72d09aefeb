"""Signing in, and who am I."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import delete, select

from heartsease.api.deps import CurrentUser, SessionDep, SettingsDep, SignInLimiterDep, oauth2
from heartsease.api.schemas import Token, UserOut, problems
from heartsease.api.security import create_token, token_claims, verify_password
from heartsease.store.models import RevokedToken, User

router = APIRouter(prefix="/api", tags=["auth"], responses=problems(400, 401, 422))


@router.post("/auth/token", responses=problems(429, 503))
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
    if user is None or not verify_password(form.password, user.password_hash):
        limiter.failed(key, time.time())
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "That email and password don't match an account.")
    return Token(access_token=create_token(user.id, settings.secret_key,
                                           settings.token_minutes),
                 expires_in_s=settings.token_minutes * 60)


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
