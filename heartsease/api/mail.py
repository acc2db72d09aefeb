"""Mail for the links by which people set their own password (SMTP, standard library)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from heartsease.api.settings import Settings

log = logging.getLogger(__name__)


def send_mail(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message through the configured server; whether it went. A failure
    is logged without the address or the body (which holds a link)."""
    assert settings.smtp_host is not None
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("a password link could not be mailed: %s", type(exc).__name__)
        return False
    return True
