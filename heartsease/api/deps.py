"""Dependencies as ``Annotated`` aliases: the database session, settings, the current user,
and what the service keeps while it runs (the running sessions, the live hub, ...).

Those read from the app take an ``HTTPConnection``, so WebSocket routes use them too, and are
``async``: a plain function would be called in a worker thread, a hop per request (and per
connection, thousands at once) for reading an attribute."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from heartsease.api.credentials import SAFE_METHODS, credential, csrf_ok
from heartsease.api.demo import DemoHistory
from heartsease.api.fanout import LocalHub
from heartsease.api.limits import SignInLimiter
from heartsease.api.running import SessionManager
from heartsease.api.security import STREAM_SCOPE, TokenClaims, token_claims
from heartsease.api.settings import Settings
from heartsease.api.signin_watch import SignInWatch
from heartsease.api.uploads import UploadAnalyser
from heartsease.api.watchdog import EventLoopWatch
from heartsease.store.models import Assignment, BreathingSession, RevokedToken, Role, User
from heartsease.store.repository import may_see_client

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
# What a streamer's one-time code lets it do over HTTP: start a streamed session (its
# sockets are the person's own sessions' only, as for any client).
STREAM_ROUTES = frozenset({("POST", "/api/sessions")})
STREAM_ONLY = "A streaming code lets its holder stream their practice, nothing more."


async def get_settings(connection: HTTPConnection) -> Settings:
    return connection.app.state.settings


async def get_factory(connection: HTTPConnection) -> sessionmaker[Session]:
    """Where database sessions come from, for work that opens its own (in a thread, or
    after a WebSocket's long wait)."""
    return connection.app.state.db


async def get_manager(connection: HTTPConnection) -> SessionManager:
    return connection.app.state.sessions


async def get_hub(connection: HTTPConnection) -> LocalHub:
    return connection.app.state.hub


async def get_sign_in_limiter(connection: HTTPConnection) -> SignInLimiter:
    return connection.app.state.sign_in_limiter


async def get_sign_in_watch(connection: HTTPConnection) -> SignInWatch:
    return connection.app.state.sign_in_watch


async def get_loop_watch(connection: HTTPConnection) -> EventLoopWatch:
    return connection.app.state.loop_watch


async def get_upload_analyser(connection: HTTPConnection) -> UploadAnalyser:
    return connection.app.state.uploads


async def get_demo_history(connection: HTTPConnection) -> DemoHistory:
    return connection.app.state.demo_history


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
Factory = Annotated[sessionmaker[Session], Depends(get_factory)]
Manager = Annotated[SessionManager, Depends(get_manager)]
Hub = Annotated[LocalHub, Depends(get_hub)]
SignInLimiterDep = Annotated[SignInLimiter, Depends(get_sign_in_limiter)]
LoopWatch = Annotated[EventLoopWatch, Depends(get_loop_watch)]
SignInWatchDep = Annotated[SignInWatch, Depends(get_sign_in_watch)]
Analyser = Annotated[UploadAnalyser, Depends(get_upload_analyser)]
DemoHistoryDep = Annotated[DemoHistory, Depends(get_demo_history)]


@dataclass(frozen=True)
class SignIn:
    """Who a request or connection speaks for, and by which sign-in."""

    user: User
    claims: TokenClaims
    from_cookie: bool


def user_for_token(db: Session, settings: Settings, token: str
                   ) -> tuple[User, TokenClaims] | None:
    """The person a token signs in and what it says: signed by us, unexpired, not signed
    out, not from before the person's last "sign out everywhere", the account open."""
    claims = token_claims(token, settings.secret_key)
    if claims is None or db.get(RevokedToken, claims.token_id) is not None:
        return None
    user = db.get(User, claims.user_id)
    return (user, claims) if user is not None and _still_signed_in(user, claims) else None


def viewer_of_session(db: Session, settings: Settings, token: str, session_id: str
                      ) -> tuple[User, BreathingSession, TokenClaims] | None:
    """The person a token signs in (as :func:`user_for_token`) and the session, if that
    person may see its client's data. One query where the two apart take four: WebSockets
    are authorised in threads while many people connect at once, and each round trip to the
    database waits its turn for the interpreter again."""
    claims = token_claims(token, settings.secret_key)
    if claims is None:
        return None
    revoked = exists().where(RevokedToken.jti == claims.token_id)
    assigned = exists().where(Assignment.clinician_id == User.id,
                              Assignment.client_id == BreathingSession.client_id)
    found = db.execute(select(User, BreathingSession, revoked, assigned)
                       .join(BreathingSession, BreathingSession.id == session_id)
                       .where(User.id == claims.user_id)).first()
    if found is None:
        return None
    user, row, is_revoked, is_assigned = found
    if is_revoked or not _still_signed_in(user, claims) \
            or not may_see_client(user, row.client_id, is_assigned):
        return None
    return user, row, claims


def _still_signed_in(user: User, claims: TokenClaims) -> bool:
    return user.deactivated_at is None and (
        user.tokens_valid_after is None or claims.issued_at >= user.tokens_valid_after)


def get_sign_in(request: Request, db: SessionDep, settings: SettingsDep,
                _: Annotated[str | None, Depends(oauth2)]) -> SignIn:
    """The request's sign-in (the ``oauth2`` scheme is there for the API's documentation:
    the cookie is read as well). A change asked for with the cookie needs the anti-forgery
    header."""
    sent = credential(request)
    if sent is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Please sign in.",
                            headers={"WWW-Authenticate": "Bearer"})
    found = user_for_token(db, settings, sent.token)
    if found is None:
        # Said apart, so that a page can say which: a tab whose request crossed a sign-out
        # in another tab was told its sign-in had expired.
        if token_claims(sent.token, settings.secret_key) is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Your sign-in has expired.",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token", '
                                         'error_description="expired"'})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "You have been signed out.",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token", '
                                     'error_description="signed out"'})
    user, claims = found
    if sent.from_cookie and request.method not in SAFE_METHODS \
            and not csrf_ok(request, claims.token_id, settings.secret_key):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This request did not come from a "
                            "heartsease page (its anti-forgery token is missing or wrong); "
                            "reload the page and try again.")
    request.state.stream_only = claims.scope == STREAM_SCOPE
    if request.state.stream_only and (request.method, request.url.path) not in STREAM_ROUTES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, STREAM_ONLY)
    return SignIn(user, claims, sent.from_cookie)


CurrentSignIn = Annotated[SignIn, Depends(get_sign_in)]


def get_current_user(sign_in: CurrentSignIn) -> User:
    return sign_in.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require(*roles: Role) -> Any:
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "This is not open to your role.")
        return user

    return Depends(check)


Clinician = Annotated[User, require(Role.CLINICIAN)]
Admin = Annotated[User, require(Role.ADMIN)]
