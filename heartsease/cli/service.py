"""``heartsease serve``: the web service."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from heartsease.cli.common import console, err_console, refuse

# On stop, viewers' connections get this long to close before the running sessions are
# ended and stored; a connection that never closes must not keep the service up.
GRACEFUL_S = 5
# The largest WebSocket message taken (a strap notification is under 300 bytes; a client's
# note 500 characters): anything bigger closes the connection with 1009, message too big.
WS_MAX_BYTES = 64 * 1024
# Live messages are a few hundred bytes each: compressing them would cost the server more CPU
# per viewer than the bytes it saves.
UVICORN_OPTIONS: dict[str, Any] = {"log_level": "warning",
                                   "timeout_graceful_shutdown": GRACEFUL_S,
                                   "ws_max_size": WS_MAX_BYTES, "ws_per_message_deflate": False}


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(
        min=1, help="Worker processes (more than one needs HEARTSEASE_REDIS_URL)")] = 1,
) -> None:
    """Run the heartsease service (API and live WebSockets) on the embedded SQLite store,
    or on HEARTSEASE_DATABASE_URL; several workers share live views through Redis."""
    import asyncio
    import os

    import uvicorn
    from pydantic import ValidationError

    from heartsease.api.app import create_app, prepare_store
    from heartsease.api.demo import DEMO_PASSWORD, DEMO_PEOPLE
    from heartsease.api.settings import Settings
    from heartsease.store.db import make_engine

    try:
        settings = Settings()
    except ValidationError as exc:
        refuse(f"Cannot start: {escape(exc.errors()[0]['msg'])}")
    if settings.demo_data:
        console.print("Development mode. Demo sign-ins (password "
                      f"[bold]{DEMO_PASSWORD}[/bold]): "
                      + ", ".join(f"{email} ({role.value})" for email, _, role in DEMO_PEOPLE))
        console.print(f"On a first start the demo client's {settings.demo_history_days} days "
                      "of practice are prepared behind the running service, about half a "
                      "minute on a small machine: the trends page says so meanwhile.")
    console.print(f"heartsease is at http://{host}:{port}/ (API documentation at /docs)")
    if settings.environment == "production" and settings.prepare_store:
        _prepare_production_store(settings)  # refuses, saying why, while demo people exist
        settings = settings.model_copy(update={"prepare_store": False})
        os.environ["HEARTSEASE_PREPARE_STORE"] = "false"
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, **UVICORN_OPTIONS)
        return
    if not settings.redis_url:
        err_console.print("Cannot start: several workers share live sessions through Redis; "
                          "set HEARTSEASE_REDIS_URL (for example redis://127.0.0.1:6379/0).")
        raise typer.Exit(code=2)
    if settings.prepare_store:
        engine = make_engine(settings.database_url)
        asyncio.run(prepare_store(engine, settings))  # once, not in every worker at once
        engine.dispose()
        os.environ["HEARTSEASE_PREPARE_STORE"] = "false"
    uvicorn.run("heartsease.api.app:create_app", factory=True, workers=workers, host=host,
                port=port, **UVICORN_OPTIONS)


def _prepare_production_store(settings: Any) -> None:
    """The store migrated once before serving; refused while the demo people are in it."""
    import asyncio

    from heartsease.api.app import prepare_store
    from heartsease.api.demo import DemoAccountsInProductionError
    from heartsease.store.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        asyncio.run(prepare_store(engine, settings))
    except DemoAccountsInProductionError as exc:
        refuse(f"Cannot start in production: {escape(str(exc))}.")
    finally:
        engine.dispose()
