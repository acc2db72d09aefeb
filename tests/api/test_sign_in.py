"""The sign-in mechanism (issue 22, items 11-13; issue 23, item 4): the pages' cookie with its
anti-forgery token and Origin check, bearer tokens in a header and never in a URL, renewal
within an idle and an absolute limit, security headers, no timing tell for unknown emails,
and forwarded addresses believed only from configured proxies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from heartsease.api import security
from heartsease.api.app import create_app
from heartsease.api.demo import DEMO_PASSWORD
from heartsease.api.limits import MAX_FAILED_SIGN_INS
from heartsease.api.security import create_token, token_claims
from heartsease.api.settings import DEVELOPMENT_SECRET, Settings
from heartsease.cli import app as cli
from heartsease.cli.service import transport_options
from heartsease.store.models import User
from heartsease.wire import Close
from tests.api.conftest import sign_in

STATIC = Path(security.__file__).parent / "web" / "static"


def app_client(tmp_path: Path, base_url: str = "http://testserver", **settings: object
               ) -> TestClient:
    return TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}",
                                          demo_history_days=0, **settings)),
                      base_url=base_url)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[TestClient]:
    with app_client(tmp_path) as c:
        yield c


def page_sign_in(c: TestClient, email: str = "client@example.org") -> httpx.Response:
    r = c.post("/api/auth/session", data={"username": email, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return r


def set_cookies(r: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in r.headers.get_list("set-cookie")}


def csrf(c: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": c.cookies["heartsease_csrf"]}


def test_pages_sign_in_with_an_httponly_same_site_cookie(page: TestClient,
                                                         tmp_path: Path) -> None:
    r = page_sign_in(page)
    assert r.json()["role"] == "client" and "access_token" not in r.json()
    cookies = set_cookies(r)
    session, anti_forgery = cookies["heartsease_session"], cookies["heartsease_csrf"]
    assert "HttpOnly" in session and "samesite=strict" in session.lower()
    assert "HttpOnly" not in anti_forgery  # the pages read it to send it back
    assert "Secure" not in session  # plain http on this machine: a Secure cookie is lost
    assert page.get("/api/me").json()["email"] == "client@example.org"
    # Another site's page may not sign a person in (into an account of its choosing).
    r = page.post("/api/auth/session", headers={"Origin": "https://elsewhere.example"},
                  data={"username": "client@example.org", "password": DEMO_PASSWORD})
    assert r.status_code == 403 and "heartsease_session" not in set_cookies(r)
    assert page.post("/api/auth/session", headers={"Origin": "http://testserver"}, data={
        "username": "client@example.org", "password": DEMO_PASSWORD}).status_code == 200
    with app_client(tmp_path / "tls", base_url="https://testserver") as tls:
        cookies = set_cookies(page_sign_in(tls))
        assert all("Secure" in c for c in cookies.values())
        assert tls.get("/api/me").status_code == 200


def test_a_change_asked_with_the_cookie_needs_the_anti_forgery_token(page: TestClient) -> None:
    page_sign_in(page)
    assert page.get("/api/sessions").status_code == 200  # reading needs none
    for headers in ({}, {"X-CSRF-Token": "0" * 64}):
        r = page.post("/api/me/sign-out-everywhere", headers=headers)
        assert r.status_code == 403 and "anti-forgery" in r.json()["detail"]
    assert page.get("/api/me").status_code == 200  # nothing was done
    assert page.post("/api/me/sign-out-everywhere", headers=csrf(page)).status_code == 204
    assert page.get("/api/me").status_code == 401
    # A bearer token is never sent by a browser on its own: no anti-forgery token needed.
    headers = sign_in(page, "clinician@example.org")
    page.cookies.clear()
    assert page.post("/api/me/sign-out-everywhere", headers=headers).status_code == 204


def test_a_socket_signed_in_by_cookie_must_come_from_this_services_pages(
        page: TestClient) -> None:
    page_sign_in(page)
    r = page.post("/api/sessions", headers=csrf(page), json={
        "source": "simulated", "scenario": "rest", "speed": 20, "practice_minutes": 1})
    assert r.status_code == 201, r.text
    url = f"/api/sessions/{r.json()['id']}/live"
    with page.websocket_connect(url, headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["kind"] == "hello"
    for origin in ({"Origin": "http://elsewhere.example"}, {}):
        with page.websocket_connect(url, headers=origin) as ws, \
                pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == Close.NOT_ALLOWED, origin
    page.post(f"/api/sessions/{r.json()['id']}/stop", headers=csrf(page))


def test_no_token_is_taken_from_a_url(page: TestClient) -> None:
    headers = sign_in(page, "client@example.org")
    token = headers["Authorization"].removeprefix("Bearer ")
    assert page.get(f"/api/me?token={token}").status_code == 401
    assert page.get(f"/api/me?access_token={token}").status_code == 401
    r = page.post("/api/sessions", headers=headers, json={"source": "remote"})
    for kind in ("live", "ingest"):
        with page.websocket_connect(f"/api/sessions/{r.json()['id']}/{kind}?token={token}"
                                    ) as ws, pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == Close.NOT_ALLOWED
    assert "?token=" not in (STATIC / "socket.js").read_text()


def test_renewal_keeps_the_sign_in_within_its_idle_and_absolute_limits(tmp_path: Path) -> None:
    with app_client(tmp_path, idle_minutes=10, sign_in_max_hours=0.1) as c:  # 6 minutes
        first = token_claims(set_cookies(page_sign_in(c))["heartsease_session"]
                             .split("=", 1)[1].split(";")[0], DEVELOPMENT_SECRET)
        assert first is not None
        # Capped by the absolute limit, not the idle time (6 minutes, not 10).
        assert first.expires_at - first.issued_at <= timedelta(hours=0.1)
        r = c.post("/api/auth/session/renew", headers=csrf(c))
        assert r.status_code == 200, r.text
        renewed = token_claims(c.cookies["heartsease_session"], DEVELOPMENT_SECRET)
        assert renewed is not None
        assert (renewed.token_id, renewed.issued_at) == (first.token_id, first.issued_at)
        assert renewed.expires_at <= first.issued_at + timedelta(hours=0.1)
        # A bearer token is not renewed: it is not a page's sign-in.
        assert c.post("/api/auth/session/renew",
                      headers=sign_in(c, "clinician@example.org")).status_code == 400
        # Left idle past its life: no renewal, and the page is told the sign-in expired.
        stale = create_token(renewed.user_id, DEVELOPMENT_SECRET, minutes=-1, renewing=renewed)
        c.cookies.set("heartsease_session", stale)
        r = c.post("/api/auth/session/renew", headers=csrf(c))
        assert r.status_code == 401 and "invalid_token" in r.headers["www-authenticate"]
        assert 'error_description="expired"' in r.headers["www-authenticate"]
        c.cookies.clear()
        r = c.get("/api/me")  # never signed in: not "expired"
        assert r.status_code == 401 and "invalid_token" not in r.headers["www-authenticate"]


def test_signing_out_a_page_ends_every_renewal_of_it(page: TestClient) -> None:
    page_sign_in(page)
    before = page.cookies["heartsease_session"]
    assert page.post("/api/auth/session/renew", headers=csrf(page)).status_code == 200
    r = page.post("/api/auth/sign-out", headers=csrf(page))
    assert r.status_code == 204
    assert all("Max-Age=0" in c for c in set_cookies(r).values())  # the browser forgets
    for token in (before, page.cookies.get("heartsease_session") or before):
        page.cookies.set("heartsease_session", token)
        r = page.get("/api/me")
        # Signed out, not expired: a tab whose request crossed the sign-out says so.
        assert r.status_code == 401 and r.json()["detail"] == "You have been signed out."
        assert 'error_description="signed out"' in r.headers["www-authenticate"]


PAGES = ("/login", "/breathe", "/observe", "/trends", "/report", "/no-such-page")


def test_every_response_carries_the_security_headers(page: TestClient) -> None:
    headers = sign_in(page, "client@example.org")
    responses = {path: page.get(path, headers={"Accept": "text/html"}) for path in PAGES}
    responses |= {path: page.get(path, headers=headers) for path in (
        "/api/me", "/api/sessions", "/api/health", "/openapi.json")}
    responses |= {"/api/me (signed out)": page.get("/api/me"),
                  "/static/common.js": page.get("/static/common.js")}
    for path, r in responses.items():
        policy = r.headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]*)", policy).group(1)
        assert script_src == "'self'", path
        assert "frame-ancestors 'none'" in policy, path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] in ("no-referrer", "same-origin"), path
        if path.startswith("/static/"):
            assert r.headers.get("cache-control") != "no-store", path
        else:  # health data, and the pages that show it: never kept by a browser or proxy
            assert r.headers["cache-control"] == "no-store", path


def test_the_api_documentation_runs_no_inline_script(page: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        r = page.get(path)
        assert not re.findall(rb"<script>(.*?)</script>", r.content, re.DOTALL), path
        policies = r.headers.get_list("content-security-policy")
        assert len(policies) == 1, path  # its own, not also the pages' one
        script_src = re.search(r"script-src ([^;]*)", policies[0]).group(1)
        assert script_src.strip() == "'self'", path


def test_the_pages_have_no_inline_script_or_handler() -> None:
    for html in STATIC.glob("*.html"):
        text = html.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), html.name
        assert not re.search(r"\son[a-z]+\s*=", text), html.name
        assert "javascript:" not in text, html.name


class CountingHasher(PasswordHasher):
    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        CountingHasher.verified += 1
        return super().verify(hash, password)


def test_an_unknown_email_costs_the_hasher_what_a_wrong_password_does(
        page: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work, not wall time: each answer verifies one argon2id hash."""
    monkeypatch.setattr(security, "_hasher", CountingHasher())
    work = {}
    for email in ("client@example.org", "nobody@example.org"):
        CountingHasher.verified = 0
        r = page.post("/api/auth/token", data={"username": email, "password": "wrong one"})
        assert r.status_code == 401
        work[email] = CountingHasher.verified
    assert work == {"client@example.org": 1, "nobody@example.org": 1}


def test_forwarded_addresses_are_believed_only_from_configured_proxies(tmp_path: Path
                                                                       ) -> None:
    """The service as ``heartsease serve`` hands it to uvicorn (with uvicorn's own proxy
    middleware): a guesser on the service's machine who names a new address each time is
    still one sender to the lockout; a configured proxy's word is taken."""
    assert transport_options(Settings(trusted_proxies="10.0.0.2"), None, None) == {
        "proxy_headers": True, "forwarded_allow_ips": "10.0.0.2"}
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", demo_history_days=0)
    config = uvicorn.Config(create_app(settings), **transport_options(settings, None, None))
    config.load()
    with TestClient(config.loaded_app, client=("127.0.0.1", 50000)) as c:
        statuses = [c.post("/api/auth/token", data={"username": "client@example.org",
                                                     "password": "guess"},
                           headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                    for i in range(MAX_FAILED_SIGN_INS + 1)]
    assert statuses == [401] * MAX_FAILED_SIGN_INS + [429]


def test_a_deactivated_person_is_signed_out_and_cannot_sign_in(page: TestClient) -> None:
    headers = sign_in(page, "client@example.org")
    with page.app.state.db() as db, db.begin():  # type: ignore[attr-defined]
        person = db.query(User).filter_by(email="client@example.org").one()
        person.deactivated_at = datetime.now(UTC)
    assert page.get("/api/me", headers=headers).status_code == 401
    r = page.post("/api/auth/session", data={"username": "client@example.org",
                                             "password": DEMO_PASSWORD})
    assert r.status_code == 401


def test_serve_hands_tls_and_the_trusted_proxies_to_uvicorn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    key.write_text("key")
    cert.write_text("cert")
    ran: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: ran.append(options))
    monkeypatch.setenv("HEARTSEASE_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    monkeypatch.setenv("HEARTSEASE_TRUSTED_PROXIES", "10.0.0.2")
    result = CliRunner().invoke(cli, ["serve", "--ssl-keyfile", str(key),
                                      "--ssl-certfile", str(cert)])
    assert result.exit_code == 0, result.output
    assert "https://127.0.0.1:8000/" in result.output
    assert ran[0] | {"ssl_keyfile": str(key), "ssl_certfile": str(cert),
                     "proxy_headers": True, "forwarded_allow_ips": "10.0.0.2"} == ran[0]
    result = CliRunner().invoke(cli, ["serve", "--ssl-keyfile", str(key)])
    assert result.exit_code != 0 and "both --ssl-keyfile and --ssl-certfile" in result.output
