"""The service through TestClient against a real database: SQLite, and PostgreSQL where a
server runs (CI always has one; elsewhere those tests skip and say why)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from heartsease.api.app import DEMO_PASSWORD, create_app
from heartsease.api.settings import Settings


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=db_url))) as c:
        yield c


def sign_in(client: TestClient, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def people(client: TestClient) -> dict[str, dict[str, str]]:
    """The demo clinician, their client, a second client and a second clinician (neither
    assigned to the other), and the admin: each as auth headers."""
    admin = sign_in(client, "admin@example.org")
    for email, role in (("other.client@example.org", "client"),
                        ("other.clinician@example.org", "clinician")):
        r = client.post("/api/users", headers=admin, json={
            "email": email, "name": email.split("@")[0], "role": role,
            "password": "a long enough password"})
        assert r.status_code == 201, r.text
    return {"admin": admin, "clinician": sign_in(client, "clinician@example.org"),
            "client": sign_in(client, "client@example.org"),
            "other_client": sign_in(client, "other.client@example.org",
                                    "a long enough password"),
            "other_clinician": sign_in(client, "other.clinician@example.org",
                                       "a long enough password")}


def serve(db_url: str, port: int) -> subprocess.Popen[bytes]:
    """``heartsease serve`` in its own process, ready for requests."""
    env = {**os.environ, "HEARTSEASE_DATABASE_URL": db_url}
    process = subprocess.Popen([sys.executable, "-m", "heartsease.cli", "serve", "--port",
                                str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def me(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    return client.get("/api/me", headers=headers).json()
