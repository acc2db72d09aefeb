"""Signing in, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from heartsease.api.deps import CurrentUser, SessionDep, SettingsDep
from heartsease.api.schemas import Token, UserOut
from heartsease.api.security import create_token, verify_password
from heartsease.store.models import User

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/auth/token")
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], db: SessionDep,
            settings: SettingsDep) -> Token:
    user = db.scalar(select(User).where(User.email == form.username.lower()))
    if user is None or not verify_password(form.password, user.password_hash):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "That email and password don't match an account.")
    return Token(access_token=create_token(user.id, settings.secret_key,
                                           settings.token_minutes),
                 expires_in_s=settings.token_minutes * 60)


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)
