"""``heartsease serve``: the web service."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from heartsease.cli.common import console, err_console, refuse

if TYPE_CHECKING:
    from heartsease.api.settings import Settings

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
    ssl_keyfile: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="TLS private key (PEM): serve HTTPS")] = None,
    ssl_certfile: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, help="TLS certificate chain (PEM), with --ssl-keyfile")
    ] = None,
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
    if (ssl_keyfile is None) != (ssl_certfile is None):
        refuse("Cannot start: HTTPS needs both --ssl-keyfile and --ssl-certfile.")
    options = {**UVICORN_OPTIONS, **transport_options(settings, ssl_keyfile, ssl_certfile)}
    scheme = "https" if ssl_certfile else "http"
    console.print(f"heartsease is at {scheme}://{host}:{port}/ (API documentation at /docs)")
    if settings.environment == "production" and settings.prepare_store:
        _prepare_production_store(settings)  # refuses, saying why, while demo people exist
        settings = settings.model_copy(update={"prepare_store": False})
        os.environ["HEARTSEASE_PREPARE_STORE"] = "false"
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, **options)
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
                port=port, **options)


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


def transport_options(settings: Settings, ssl_keyfile: Path | None, ssl_certfile: Path | None
                      ) -> dict[str, Any]:
    """TLS, and whose ``X-Forwarded-*`` headers are believed: only the proxies named in
    ``HEARTSEASE_TRUSTED_PROXIES`` (uvicorn would otherwise believe anything from
    127.0.0.1, and a sender on the same machine could pose as any address to the sign-in
    lockout)."""
    trusted = settings.trusted_proxies.strip()
    options: dict[str, Any] = {"proxy_headers": bool(trusted)}
    if trusted:
        options["forwarded_allow_ips"] = trusted
    if ssl_keyfile is not None and ssl_certfile is not None:
        options |= {"ssl_keyfile": str(ssl_keyfile), "ssl_certfile": str(ssl_certfile)}
    return options
