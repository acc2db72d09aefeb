"""Signing in, and who am I."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from heartsease.api.deps import CurrentUser, SessionDep, SettingsDep
from heartsease.api.schemas import Token, UserOut, problems
from heartsease.api.security import create_token, verify_password
from heartsease.store.models import User

router = APIRouter(prefix="/api", tags=["auth"], responses=problems(400, 401, 422))


MAX_FAILED_SIGN_INS = 5  # per email and address, within FAILED_SIGN_IN_WINDOW_S
FAILED_SIGN_IN_WINDOW_S = 300.0


class SignInLimiter:
    """Failed sign-ins per (email, address) over a sliding window: password guessing slows
    to a few tries every five minutes, while a person who mistypes is not locked out for
    long. Kept per process (with several workers each counts its own)."""

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def retry_after_s(self, key: tuple[str, str], now: float) -> float:
        failures = self._failures.get(key)
        while failures and now - failures[0] > FAILED_SIGN_IN_WINDOW_S:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
            return 0.0
        if len(failures) < MAX_FAILED_SIGN_INS:
            return 0.0
        return FAILED_SIGN_IN_WINDOW_S - (now - failures[0])

    def failed(self, key: tuple[str, str], now: float) -> None:
        self._failures[key].append(now)


@router.post("/auth/token", responses=problems(429))
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request,
            db: SessionDep, settings: SettingsDep) -> Token:
    limiter: SignInLimiter = request.app.state.sign_in_limiter
    key = (form.username.lower(), request.client.host if request.client else "")
    wait_s = limiter.retry_after_s(key, time.monotonic())
    if wait_s > 0:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"Too many attempts. Please wait {math.ceil(wait_s / 60)} "
                            "minute(s) and try again.",
                            headers={"Retry-After": str(math.ceil(wait_s))})
    user = db.scalar(select(User).where(User.email == form.username.lower()))
    if user is None or not verify_password(form.password, user.password_hash):
        limiter.failed(key, time.monotonic())
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "That email and password don't match an account.")
    return Token(access_token=create_token(user.id, settings.secret_key,
                                           settings.token_minutes),
                 expires_in_s=settings.token_minutes * 60)


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)
