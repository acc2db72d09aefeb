"""Dependencies as ``Annotated`` aliases: the database session, settings, the current user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from heartsease.api.security import token_claims
from heartsease.api.settings import Settings
from heartsease.store.models import RevokedToken, Role, User

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """A database session committed when the endpoint returns, before the response goes
    out (so a client that reads right after a write sees it), rolled back on error."""
    with request.app.state.db() as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def user_for_token(db: Session, settings: Settings, token: str) -> User | None:
    """The person a token signs in: signed by us, unexpired, not signed out, and not from
    before the person's last "sign out everywhere"."""
    claims = token_claims(token, settings.secret_key)
    if claims is None or db.get(RevokedToken, claims.token_id) is not None:
        return None
    user = db.get(User, claims.user_id)
    if user is None or (user.tokens_valid_after is not None
                        and claims.issued_at < user.tokens_valid_after):
        return None
    return user


def get_current_user(db: SessionDep, settings: SettingsDep,
                     token: Annotated[str, Depends(oauth2)]) -> User:
    user = user_for_token(db, settings, token)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Your sign-in has expired.",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require(*roles: Role) -> Any:
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "This is not open to your role.")
        return user

    return Depends(check)


Clinician = Annotated[User, require(Role.CLINICIAN)]
Admin = Annotated[User, require(Role.ADMIN)]
