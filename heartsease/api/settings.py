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
    token_minutes: int = 30
    prepare_store: bool = True  # False in workers whose parent already migrated and seeded
    demo_data: bool = True  # a demo clinician and client, in development only
    demo_history_days: int = 42  # of the demo client's practice, made by the simulator
    # The garbage collector on the service's own schedule (heartsease.api.collector): the
    # load figures were measured with it.
    scheduled_collector: bool = True
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
