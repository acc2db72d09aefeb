"""Service settings from the environment (``HEARTSEASE_*``), refusing unsafe defaults.

Outside development the secret key must be set and must not be the development default;
the service will not start otherwise (as in FastAPI's full-stack template).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-this-is-not-a-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEARTSEASE_")

    environment: Literal["development", "production"] = "development"
    secret_key: str = DEVELOPMENT_SECRET
    database_url: str | None = None
    redis_url: str | None = None  # live fan-out across workers; in-process without it
    token_minutes: float = 30  # a bearer token's life (the Python streamer, the API)
    # The pages' sign-in (a cookie): it ends after this long without being renewed (the
    # pages renew it while a person uses them or a live session is open), and in any case
    # this long after signing in.
    idle_minutes: float = 30
    sign_in_max_hours: float = 12
    # How often each worker checks the sign-ins of its open WebSockets (a closed sign-in
    # closes its sockets within this, plus the check's own time).
    sign_in_check_s: float = 2.0
    # Addresses of reverse proxies whose X-Forwarded-For / -Proto are believed (uvicorn's
    # forwarded_allow_ips: comma-separated addresses or networks, "*" for any). Empty: none,
    # and the client's address is the connection's own.
    trusted_proxies: str = ""
    # Shown with the breathing safety notes: heartsease is not for emergencies. The
    # administrator sets the clinic's own (its out-of-hours line, a local crisis service).
    crisis_contact: str = ("In an emergency call your local emergency number. For urgent "
                           "support, contact your clinic or a local crisis line.")
    prepare_store: bool = True  # False in workers whose parent already migrated and seeded
    demo_data: bool = True  # a demo clinician and client, in development only
    demo_history_days: int = 42  # of the demo client's practice, made by the simulator
    # The garbage collector on the service's own schedule (heartsease.api.collector): the
    # load figures were measured with it.
    scheduled_collector: bool = True
    # A running session whose client's page has gone pauses after this many seconds, and
    # ends as "left" if no page of theirs returns within the second (tests shorten both).
    away_pause_s: float = Field(30.0, gt=0)
    away_leave_s: float = Field(600.0, gt=0)
    # Whether this server can scan for a strap (the clinic's strap); unset: a Bluetooth
    # adapter is looked for.
    ble_adapter: bool | None = None
    # Single-use links by which people set their own password (new accounts, resets): how
    # long one stays usable, and where the service is reached from outside (for the links
    # in mail; without it, a link is shown as a path on this service).
    password_link_hours: int = Field(72, ge=1, le=24 * 30)
    public_url: str | None = None
    # Mail for those links; without a host, an administrator hands each link over.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "heartsease@localhost"
    smtp_starttls: bool = True

    @property
    def mail_configured(self) -> bool:
        return bool(self.smtp_host)
    # Processes that analyse uploaded recordings (0: one fewer than the cores, at most 2).
    upload_workers: int = Field(0, ge=0, le=16)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development":
            if self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < 32:
                raise ValueError("set HEARTSEASE_SECRET_KEY to a random secret of at least 32 "
                                 "characters outside development")
            self.demo_data = False
        return self
