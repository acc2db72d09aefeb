"""The web pages, served by the same app: plain HTML, CSS and JavaScript (ES modules) from
this package, with the charting library vendored beside them (``static/vendor/``: no CDN,
nothing fetched at run time)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import Match

from heartsease.api.audit_log import record_denied, worth_recording
from heartsease.api.web import docs

STATIC = Path(__file__).with_name("static")
PAGES = ("login", "breathe", "observe", "trends", "report", "admin", "account", "set-password",
         "forgot-password", "safety", "systems", "plan", "letters", "voice")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/login")


def _page(path: Path) -> Callable[[], FileResponse]:
    """An endpoint that serves one fixed file (it takes no parameters at all)."""
    def serve() -> FileResponse:
        return FileResponse(path, media_type="text/html")

    return serve


def mount(app: FastAPI) -> None:
    """Add the pages and their static files to ``app``."""
    for page in PAGES:
        app.add_api_route(f"/{page}", _page(STATIC / f"{page}.html"), include_in_schema=False)
    app.include_router(router)
    docs.mount(app)  # before /static, which would otherwise take its assets' paths
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(HTTPException, _http_error)


async def _http_error(request: Request, exc: Exception) -> Response:
    """A person who follows a stale link gets a page that says so; the API keeps JSON. A
    405 names every method the path takes (Starlette names only the first route's)."""
    assert isinstance(exc, HTTPException)
    if worth_recording(request, exc.status_code):
        await run_in_threadpool(record_denied, request.app.state.db, request,
                                exc.status_code, request.app.state.settings.secret_key)
    if exc.status_code == 405:
        allowed = [method for method in _METHODS if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes)]
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    if exc.status_code == 404 and not request.url.path.startswith("/api/") \
            and "text/html" in request.headers.get("accept", ""):
        return FileResponse(STATIC / "not-found.html", status_code=404, media_type="text/html")
    return await http_exception_handler(request, exc)
