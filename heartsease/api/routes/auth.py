"""Signing in (a bearer token for the API and the Python streamer, a cookie for the pages),
renewing a page's sign-in while it is used, signing out, and who am I."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import delete, select

from heartsease.api import stream_codes
from heartsease.api.credentials import clear_sign_in_cookies, same_origin, set_sign_in_cookies
from heartsease.api.deps import (
    CurrentSignIn,
    CurrentUser,
    SessionDep,
    SettingsDep,
    SignInLimiterDep,
)
from heartsease.api.limits import SignInLimiter
from heartsease.api.schemas import (
    PageSignIn,
    StreamCodeIn,
    StreamCodeOut,
    Token,
    UserOut,
    problems,
)
from heartsease.api.security import (
    STREAM_SCOPE,
    TokenClaims,
    check_password,
    create_token,
    token_claims,
)
from heartsease.api.settings import Settings
from heartsease.store.models import RevokedToken, Role, User
from heartsease.store.repository import audit

router = APIRouter(prefix="/api", tags=["auth"], responses=problems(400, 401, 422))
PasswordForm = Annotated[OAuth2PasswordRequestForm, Depends()]


@router.post("/auth/token", responses=problems(429, 503))
def sign_in(form: PasswordForm, request: Request, db: SessionDep, settings: SettingsDep,
            limiter: SignInLimiterDep) -> Token:
    """A bearer token (the ``Authorization`` header), for the Python streamer and API
    clients; it lasts ``HEARTSEASE_TOKEN_MINUTES`` and is not renewed."""
    user = _check(form, request, db, limiter)
    return Token(access_token=create_token(user.id, settings.secret_key,
                                           settings.token_minutes),
                 expires_in_s=round(settings.token_minutes * 60))


@router.post("/auth/session", responses=problems(403, 429, 503))
def sign_in_page(form: PasswordForm, request: Request, response: Response, db: SessionDep,
                 settings: SettingsDep, limiter: SignInLimiterDep) -> PageSignIn:
    """The pages' sign-in: an httpOnly cookie (and its anti-forgery twin, which the pages
    send back in ``X-CSRF-Token``), shared by every tab of the browser. Refused from
    another site's page (``Origin``), which could otherwise sign a person into an account of
    its choosing and collect what they then record."""
    if "origin" in request.headers and not same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "Sign in from heartsease's own sign-in page.")
    user = _check(form, request, db, limiter)
    token = create_token(user.id, settings.secret_key, settings.idle_minutes,
                         until=datetime.now(UTC) + _max_life(settings))
    return _page_sign_in(token, request, response, settings, user)


@router.post("/auth/session/renew")
def renew_page_sign_in(sign_in: CurrentSignIn, request: Request, response: Response,
                       settings: SettingsDep) -> PageSignIn:
    """The pages' sign-in, good for another ``HEARTSEASE_IDLE_MINUTES`` (never beyond
    ``HEARTSEASE_SIGN_IN_MAX_HOURS`` from signing in): the pages ask while a person uses
    them or a live session is open. The sign-in stays the same one: what belongs to it (an
    open WebSocket) goes on."""
    if not sign_in.from_cookie:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Only the pages' sign-in is "
                            "renewed; ask POST /api/auth/token for a new token.")
    claims = sign_in.claims
    token = create_token(sign_in.user.id, settings.secret_key, settings.idle_minutes,
                         renewing=claims, until=claims.issued_at + _max_life(settings))
    return _page_sign_in(token, request, response, settings, sign_in.user)


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
                                           settings.token_minutes, scope=STREAM_SCOPE),
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
def sign_out(sign_in: CurrentSignIn, request: Request, db: SessionDep,
             settings: SettingsDep) -> Response:
    """This sign-in stops working now, not when it expires (a shared or lost device), in
    every tab, and its open connections close."""
    claims = sign_in.claims
    now = datetime.now(UTC)
    db.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    db.add(RevokedToken(jti=claims.token_id, expires_at=_last_renewal_ends(claims, settings)))
    response = Response(status_code=204)
    clear_sign_in_cookies(response, request)
    return response


@router.post("/me/sign-out-everywhere", status_code=204)
def sign_out_everywhere(user: CurrentUser) -> Response:
    """Every sign-in this person holds stops working, on every device (this one too)."""
    user.tokens_valid_after = datetime.now(UTC)
    return Response(status_code=204)


def _check(form: OAuth2PasswordRequestForm, request: Request, db: SessionDep,
           limiter: SignInLimiter) -> User:
    """The person the form names, if the password is theirs; five failures for one email
    from one address (the connection's, or a trusted proxy's word for it) wait it out."""
    key = (form.username.lower(), request.client.host if request.client else "")
    wait_s = limiter.retry_after_s(key, time.time())
    if wait_s > 0:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"Too many attempts. Please wait {math.ceil(wait_s / 60)} "
                            "minute(s) and try again.",
                            headers={"Retry-After": str(math.ceil(wait_s))})
    user = db.scalar(select(User).where(User.email == form.username.lower()))
    # No account, or one still waiting for its password link: the dummy hash all the same.
    if not check_password(form.password, (user.password_hash or None) if user else None) \
            or user is None or user.deactivated_at is not None:
        limiter.failed(key, time.time())
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "That email and password don't match an account.")
    audit(db, user, "sign-in", "user", user.id, None)
    return user


def _page_sign_in(token: str, request: Request, response: Response, settings: Settings,
                  user: User) -> PageSignIn:
    claims = token_claims(token, settings.secret_key)
    assert claims is not None  # just made
    set_sign_in_cookies(response, request, token, claims.token_id, settings.secret_key)
    expires_in_s = (claims.expires_at - datetime.now(UTC)).total_seconds()
    idle_s = settings.idle_minutes * 60
    return PageSignIn(role=user.role, expires_in_s=max(0, math.floor(expires_in_s)),
                      idle_s=round(idle_s), renew_in_s=max(1, math.floor(idle_s / 3)))


def _max_life(settings: Settings) -> timedelta:
    return timedelta(hours=settings.sign_in_max_hours)


def _last_renewal_ends(claims: TokenClaims, settings: Settings) -> datetime:
    """How long a signed-out sign-in must be remembered: until no renewal of it could
    still be valid."""
    return max(claims.expires_at, claims.issued_at + _max_life(settings))
