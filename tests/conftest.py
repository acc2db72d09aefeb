"""Shared fixtures: the reference recordings in ../shared/refdata."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

# The suite starts dozens of Python processes (xdist workers, services, the command line).
# With PYTHONDONTWRITEBYTECODE set, as on this project's CI machines, each compiled every
# module again and rewrote every test module's asserts again (3 s of CPU a worker): here
# they are compiled once (into the ignored __pycache__ folders) and shared.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# HEARTSEASE_REFDATA points elsewhere when the checkout is not next to shared/ (a worktree).
REFDATA = Path(os.environ.get("HEARTSEASE_REFDATA")
               or Path(__file__).resolve().parents[2] / "shared" / "refdata")


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """argon2id at its lightest for the services the tests run in this process, as Django
    advises for test runs: the default costs about 0.1 s a hash, and the API tests sign
    people in thousands of times. What is stored and checked is argon2id all the same, and
    a hash made at the default cost still verifies (argon2 reads the cost from the hash).
    The services the tests start as processes (``serve``) keep the default."""
    from argon2 import PasswordHasher

    from heartsease.api import security

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                          parallelism=1))
        yield


@pytest.fixture(scope="session")
def refdata() -> Path:
    """The reference data folder; CI must have it, a bare clone skips with the reason."""
    if not REFDATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"reference data missing at {REFDATA}")
        pytest.skip(f"reference data not found at {REFDATA} (clone next to shared/)")
    return REFDATA


@pytest.fixture(scope="session")
def kubios_rr(refdata: Path) -> np.ndarray:
    return np.loadtxt(refdata / "rr_reference/kubios/SampleSeries_rr_ms.txt")


def read_annotated(refdata: Path, record: str) -> pd.DataFrame:
    """MIT-BIH beat table: one row per RR interval (the first beat, without one, dropped)."""
    df = pd.read_csv(refdata / f"annotated/mitdb_{record}/{record}_rr_from_atr.csv")
    return df.iloc[1:].reset_index(drop=True)


# pytest-xdist runs tests in several processes at once; each gets a database and a Redis
# database of its own ("gw0", "gw1", ...), so no test resets another's data under it.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
SHARED_POSTGRES_URL = os.environ.get("HEARTSEASE_TEST_POSTGRES_URL",
                                     "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POSTGRES_URL = (make_url(SHARED_POSTGRES_URL).set(
    database=f"{make_url(SHARED_POSTGRES_URL).database}_{XDIST_WORKER}"
).render_as_string(hide_password=False) if XDIST_WORKER else SHARED_POSTGRES_URL)


def _create_worker_database() -> None:
    """This worker's own database, made on the shared server the first time it is asked."""
    engine = create_engine(SHARED_POSTGRES_URL, isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 3})
    name = make_url(POSTGRES_URL).database
    with engine.connect() as c:
        if c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def fresh_postgres() -> str:
    """An empty ``public`` schema on the test server, or a skip (a failure in CI)."""
    try:
        if XDIST_WORKER:
            _create_worker_database()
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    except OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL at {POSTGRES_URL}: {exc}")
        pytest.skip(f"no PostgreSQL server at {POSTGRES_URL} (CI runs these)")
    return POSTGRES_URL


BOTH_DATABASES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that asks for ``db_url`` runs on SQLite, the store a person installs; a test
    about the store itself (what is written, kept, erased, and how a server's types and
    failures meet it) is marked ``both_databases`` and runs on PostgreSQL as well. The
    journeys above the store ask the same queries of both, and running each twice cost the
    suite a third of its time."""
    if "db_url" not in metafunc.fixturenames or any(
            "db_url" in _names(m.args[0]) for m in metafunc.definition.iter_markers("parametrize")):
        return  # the test names its own store
    both = metafunc.definition.get_closest_marker("both_databases") is not None
    metafunc.parametrize("db_url", BOTH_DATABASES if both else ("sqlite",), indirect=True)


def _names(argnames: str | Sequence[str]) -> list[str]:
    return [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'heartsease.db'}"
    return fresh_postgres()


def serve(db_url: str, port: int, **env_vars: str) -> subprocess.Popen[bytes]:
    """``heartsease serve`` in its own process, ready for requests. Its demo people have no
    history unless ``HEARTSEASE_DEMO_HISTORY_DAYS`` asks: preparing the default weeks
    takes 20-40 s on a 2-core machine."""
    env = {**os.environ, "HEARTSEASE_DATABASE_URL": db_url,
           "HEARTSEASE_DEMO_HISTORY_DAYS": "0", **env_vars}
    process = subprocess.Popen([sys.executable, "-m", "heartsease.cli", "serve", "--port",
                                str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(600):
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


SHARED_REDIS_URL = os.environ.get("HEARTSEASE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _worker_redis_url(shared: str, worker: str) -> str:
    """The Redis database after the shared one for worker "gwN", N+1 places on (of 16).

    >>> _worker_redis_url("redis://127.0.0.1:6379/0", "gw1")
    'redis://127.0.0.1:6379/2'
    >>> _worker_redis_url("redis://127.0.0.1:6379/3", "")
    'redis://127.0.0.1:6379/3'
    """
    if not worker:
        return shared
    server, _, db = shared.rpartition("/")
    return f"{server}/{(int(db or 0) + int(worker.removeprefix('gw')) + 1) % 16}"


REDIS_URL = _worker_redis_url(SHARED_REDIS_URL, XDIST_WORKER)


# First: xdist's own hook reads the groups off the marks to name each test's group.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests on Redis run on one xdist worker, one after another: each worker has a
    Redis database of its own for keys, but publish/subscribe channels are shared by the
    whole server, whatever the database, so one test's hubs would hear another's. Each
    browser module runs on one worker."""
    for item in items:
        if "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("redis"))
        elif item.path.parent.name == "e2e" and item.get_closest_marker("xdist_group") is None:
            # A browser module's tests on one worker: its browser and its own service start
            # once. Spread one a worker, they started again wherever a test landed, and again
            # whenever a worker came back to the module (8-12 s each under load).
            item.add_marker(pytest.mark.xdist_group(f"e2e-{item.path.stem}"))


@pytest.fixture
def redis_url() -> str:
    """The test Redis server, or a skip (a failure in CI)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"no Redis server at {REDIS_URL} (CI runs these)")
    return REDIS_URL
