"""A person's own account: setting a password by a link, a forgotten password, changing
one's password, and (for a client) who can see their practice and who has read it."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, Response, status
from sqlalchemy import select

from heartsease.api import accounts
from heartsease.api.audit_log import MAX_ENTRY_ID, read_audit
from heartsease.api.credentials import set_sign_in_cookies
from heartsease.api.deps import (
    CurrentSignIn,
    CurrentUser,
    SessionDep,
    SettingsDep,
    SignInLimiterDep,
)
from heartsease.api.mail import send_mail
from heartsease.api.schemas import (
    AuditPage,
    CareTeamMember,
    ForgotPasswordIn,
    ForgotPasswordOut,
    PasswordChangeIn,
    SetPasswordIn,
    Token,
    problems,
)
from heartsease.api.security import create_token, token_claims, verify_password
from heartsease.store.models import Assignment, Role, User
from heartsease.store.repository import audit

router = APIRouter(prefix="/api", tags=["accounts"], responses=problems(400, 422))
LINK_UNUSABLE = ("This link has expired or has been used already. Ask for a new one (on the "
                 "sign-in page: \"Forgot your password?\").")


@router.post("/auth/set-password", status_code=204)
def set_password(body: SetPasswordIn, db: SessionDep) -> Response:
    """Redeem a single-use link: the person's password from now on."""
    if accounts.redeem_password_link(db, body.token, body.password) is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, LINK_UNUSABLE)
    return Response(status_code=204)


def _limited(limiter: SignInLimiterDep, key: tuple[str, str]) -> None:
    """429 while ``key`` has tried too often (counted as failed sign-ins are)."""
    wait_s = limiter.retry_after_s(key, time.time())
    if wait_s > 0:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"Too many attempts. Please wait {math.ceil(wait_s / 60)} "
                            "minute(s) and try again.",
                            headers={"Retry-After": str(math.ceil(wait_s))})


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


@router.post("/auth/forgot-password", status_code=202, responses=problems(429))
def forgot_password(body: ForgotPasswordIn, request: Request, db: SessionDep,
                    settings: SettingsDep, limiter: SignInLimiterDep,
                    background: BackgroundTasks) -> ForgotPasswordOut:
    """A link to set a new password, mailed if this email has an active account and mail
    is configured; without mail, the request is noted in the audit log for an
    administrator. The answer, and how long it takes, is the same for any email; asking
    often for one email is slowed as sign-ins are (no one's inbox is flooded)."""
    key = ("forgot-password:" + body.email.lower(), _address(request))
    _limited(limiter, key)
    limiter.failed(key, time.time())
    user = db.scalar(select(User).where(User.email == body.email.lower()))
    if user is not None and user.deactivated_at is None:
        audit(db, None, "password-help", "user", user.id, None,
              "mailed" if settings.mail_configured else "asks an administrator")
        if settings.mail_configured:
            link = accounts.new_password_link(db, user, "reset", settings)
            subject, text = accounts.link_message(user, link, "reset", settings)
            background.add_task(send_mail, settings, user.email, subject, text)
    if settings.mail_configured:
        return ForgotPasswordOut(mailed=True, detail="If that email has an account, a link "
                                 "to set a new password is on its way. It works once.")
    return ForgotPasswordOut(mailed=False, detail="Please ask your administrator for a link "
                             "to set a new password: this service does not send mail.")


@router.post("/me/password", responses=problems(401, 403, 429))
def change_password(body: PasswordChangeIn, request: Request, response: Response,
                    db: SessionDep, settings: SettingsDep, limiter: SignInLimiterDep,
                    sign_in: CurrentSignIn) -> Token:
    """Change one's own password (the current one first, guessed no faster than at sign-in).
    Every other sign-in ends; the answer is a new sign-in for this device."""
    user = sign_in.user
    key = (user.email, _address(request))  # the sign-in's own count: one budget for both
    _limited(limiter, key)
    if not verify_password(body.old_password, user.password_hash):
        limiter.failed(key, time.time())
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Your current password is not right.")
    accounts.set_password(user, body.new_password, datetime.now(UTC))
    audit(db, user, "change-password", "user", user.id, None)
    token = create_token(user.id, settings.secret_key, settings.token_minutes)
    if sign_in.from_cookie:  # a page: its new sign-in goes in the cookie, as at sign-in
        claims = token_claims(token, settings.secret_key)
        assert claims is not None  # just made
        set_sign_in_cookies(response, request, token, claims.token_id, settings.secret_key)
    return Token(access_token=token, expires_in_s=settings.token_minutes * 60)


@router.get("/me/clinicians", responses=problems(401))
def my_clinicians(db: SessionDep, user: CurrentUser) -> list[CareTeamMember]:
    """Who can see this client's practice: the clinicians assigned to them."""
    if user.role is not Role.CLIENT:
        return []
    return [CareTeamMember(name=c.name, role=c.role) for c in db.scalars(
        select(User).join(Assignment, Assignment.clinician_id == User.id)
        .where(Assignment.client_id == user.id, User.deactivated_at.is_(None))
        .order_by(User.name))]


@router.get("/me/audit", responses=problems(401))
def my_record(db: SessionDep, user: CurrentUser,
              before_id: Annotated[int | None, Query(ge=1, le=MAX_ENTRY_ID)] = None,
              limit: Annotated[int, Query(ge=1, le=200)] = 50) -> AuditPage:
    """Everything the audit log holds about this person's data: who read, annotated or
    exported it, who was assigned to it, and refused attempts, newest first."""
    return read_audit(db, subject_id=user.id, before_id=before_id, limit=limit)
