"""The API's documentation pages (``/docs``, Swagger UI; ``/redoc``), with every script,
style sheet and font served by this app from the ``fastapi-offline`` package: nothing is
fetched from elsewhere, they work offline, and their script runs under the pages'
Content-Security-Policy (no inline script: ``static/docs.js`` starts Swagger UI)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).with_name("static")
ASSETS_URL = "/static/docs"

_SWAGGER = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>heartsease API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>"""

_REDOC = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>heartsease API</title>
<link rel="icon" href="data:,"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="{ASSETS_URL}/redoc.standalone.js"></script></body></html>"""


# Their own policy: ReDoc draws its maker's logo from a CDN in every page it makes, and no
# option turns that off. The styles are inline: both set them from script as they draw.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'")


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"Content-Security-Policy": POLICY})


def mount(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    app.add_api_route("/docs", lambda: _page(_SWAGGER), include_in_schema=False)
    app.add_api_route("/redoc", lambda: _page(_REDOC), include_in_schema=False)
