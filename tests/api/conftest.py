"""The service through TestClient against a real database: SQLite, and PostgreSQL where a
server runs (CI always has one; elsewhere those tests skip and say why)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from heartsease.api.app import create_app
from heartsease.api.demo import DEMO_PASSWORD
from heartsease.api.settings import Settings


@pytest.fixture(scope="session")
def first_started_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store as the service leaves it after its first start (migrated, the demo
    people in it), made once a worker: each test's SQLite store begins as a copy of it,
    which saves the migrations a test (about a third of the API tests' own time)."""
    path = tmp_path_factory.mktemp("first-start") / "heartsease.db"
    with TestClient(create_app(Settings(database_url=f"sqlite:///{path}",
                                        demo_history_days=0))):
        pass
    with sqlite3.connect(path) as db:  # everything in the main file, none in the WAL
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def client(db_url: str, first_started_store: Path) -> Iterator[TestClient]:
    if db_url.startswith("sqlite:///"):
        shutil.copyfile(first_started_store, db_url.removeprefix("sqlite:///"))
    with TestClient(create_app(Settings(database_url=db_url, demo_history_days=0))) as c:
        yield c


def sign_in(client: TestClient, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def bearer(token: str) -> dict[str, str]:
    """The header that carries ``token``, over HTTP and on a WebSocket alike."""
    return {"Authorization": f"Bearer {token}"}


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def people(client: TestClient) -> dict[str, dict[str, str]]:
    """The demo clinician, their client, a second client and a second clinician (neither
    assigned to the other), and the admin: each as auth headers."""
    admin = sign_in(client, "admin@example.org")
    for email, role in (("other.client@example.org", "client"),
                        ("other.clinician@example.org", "clinician")):
        add_person(client, admin, email, role, "a long enough password")
    return {"admin": admin, "clinician": sign_in(client, "clinician@example.org"),
            "client": sign_in(client, "client@example.org"),
            "other_client": sign_in(client, "other.client@example.org",
                                    "a long enough password"),
            "other_clinician": sign_in(client, "other.clinician@example.org",
                                       "a long enough password")}


def add_person(client: TestClient, admin: dict[str, str], email: str, role: str,
               password: str) -> str:
    """An administrator adds a person, who sets their password by the link; their id."""
    r = client.post("/api/users", headers=admin, json={
        "email": email, "name": email.split("@")[0], "role": role})
    assert r.status_code == 201, r.text
    redeem(client, r.json()["link"], password)
    return str(r.json()["user"]["id"])


def redeem(client: TestClient, link: str, password: str) -> None:
    """Set a password by a link, as its page does: the token is the link's fragment."""
    r = client.post("/api/auth/set-password", json={"token": link.split("#", 1)[1],
                                                     "password": password})
    assert r.status_code == 204, r.text


def me(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    return client.get("/api/me", headers=headers).json()
