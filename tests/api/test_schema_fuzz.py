"""Hostile requests against the live OpenAPI schema (schemathesis): for every operation and
every role, generated valid and invalid requests never get a 5xx, and every response is one
the schema documents (status, content type, body shape, headers).

The server is a real ``heartsease serve`` process. Generated ids would only ever find
nothing, so about half the path's ids are swapped for real ones the role may or may not see:
the client's own finished session (with beats, for exports and reports) and the client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from heartsease.api.app import create_app
from heartsease.api.demo import DEMO_PASSWORD
from heartsease.api.security import create_token
from heartsease.api.settings import Settings
from tests.conftest import free_port, fresh_postgres, serve

# One xdist worker runs the module: its servers start once, not once a worker.
pytestmark = pytest.mark.xdist_group("fuzz")

ROLES = ("nobody", "client", "clinician", "admin")
# The server's key, so that the test can sign each role in afresh for every case: a case may
# sign a role out everywhere, or spend its sign-in budget on wrong old passwords (429), and
# the cases after it must still reach the operation they fuzz.
SECRET_KEY = "fuzz-" + "k" * 40


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[dict[str, Any]]:
    db_url = (f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'heartsease.db'}"
              if request.param == "sqlite" else fresh_postgres())
    port = free_port()
    process = serve(db_url, port, HEARTSEASE_SECRET_KEY=SECRET_KEY)
    base = f"http://127.0.0.1:{port}"
    try:
        tokens = {role: _token(base, f"{role}@example.org") for role in ROLES[1:]}
        user_ids = {role: httpx.get(f"{base}/api/me", headers=_auth(token)).json()["id"]
                    for role, token in tokens.items()}
        rr_ms = 850 + 60 * np.sin(np.arange(400) / 1.6)  # a tidy 5-minute recording
        uploaded = httpx.post(f"{base}/api/sessions/uploads", headers=_auth(tokens["client"]),
                              files={"file": ("rest.txt", "\n".join(f"{r:.0f}" for r in rr_ms))},
                              timeout=60)
        assert uploaded.status_code == 201, uploaded.text
        session = uploaded.json()
        yield {"store": request.param, "base": base, "user_ids": user_ids,
               "session_id": session["id"], "client_id": session["client_id"]}
    finally:
        process.terminate()
        process.wait(30)  # as the other servers' stops: 10 s ran out on a loaded 2-core run


def _token(base: str, email: str) -> str:
    r = httpx.post(f"{base}/api/auth/token", data={"username": email, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _signed_in(server: dict[str, Any], role: str) -> dict[str, str]:
    """A new sign-in for ``role``, as the service makes one on a right password."""
    if role == "nobody":
        return {}
    return _auth(create_token(server["user_ids"][role], SECRET_KEY, 30))


@pytest.fixture(scope="module")
def api_schema(server: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_url(f"{server['base']}/openapi.json")


# The operations, read from the app's own schema so that each is its own test; each test
# then fuzzes the operation as the live server describes it.
_PATHS = create_app(Settings()).openapi()["paths"]
OPERATIONS = [(method.upper(), path) for path, methods in _PATHS.items() for method in methods]
# Operations open to anyone (signing in, the safety notes): who sends them changes nothing,
# so each case is sent once, without a sign-in.
OPEN_TO_ANYONE = {(method.upper(), path) for path, methods in _PATHS.items()
                  for method, operation in methods.items() if not operation.get("security")}
# Examples per operation on each store, each sent as every role (about 20 requests an
# operation on SQLite): schemathesis draws each enum, boundary and missing field the schema
# states within the first few examples, and each run draws anew. PostgreSQL is there for
# what only its types refuse (a NUL in text, an integer past 64 bits): fewer draws, as the
# handlers above the store are the same.
EXAMPLES = {"sqlite": 6, "postgresql": 2}


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_server_errors_and_every_answer_documented(method: str, path: str, api_schema: Any,
                                                      server: dict[str, Any]) -> None:
    operation = api_schema[path][method]
    roles = ("nobody",) if (method, path) in OPEN_TO_ANYONE else ROLES
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE)

    # positive_data_acceptance is left out: rules the schema cannot state (a real email domain,
    # ids of people who exist, a file that holds beats) refuse some schema-valid requests with
    # a 4xx that says why, which is what they should do.
    @given(case=strategy)
    @settings(max_examples=EXAMPLES[server["store"]], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def each(case: Any) -> None:
        params = case.path_parameters or {}
        for name in ("session_id", "client_id"):
            # A generated id of even length becomes a real one; an odd one is sent as it is.
            if name in params and len(str(params[name])) % 2 == 0:
                params[name] = server[name]
        for role in roles:
            if role == "client" and method == "DELETE" and path in (
                    "/api/me", "/api/sessions/{session_id}"):
                # Erasing the client (or their session) would end every later case;
                # test_data_rights has them.
                continue
            case.call_and_validate(base_url=server["base"], headers=_signed_in(server, role),
                                   timeout=60,
                                   excluded_checks=[positive_data_acceptance])

    each()


# Operations a stateful run leaves out: each ends the role's sign-in or the person, and with
# them every later step of the run (the per-operation test above covers them).
ENDS_THE_RUN = [("POST", "/api/auth/sign-out"), ("POST", "/api/me/sign-out-everywhere"),
                ("POST", "/api/users/{user_id}/sign-out-everywhere"), ("DELETE", "/api/me")]


@pytest.mark.parametrize("role", ["client", "clinician", "admin"])
def test_sequences_of_calls_never_get_a_server_error(role: str, api_schema: Any,
                                                     server: dict[str, Any]) -> None:
    """Calls chained along the links schemathesis infers from the schema (a session
    started, then read, annotated, rated, exported, stopped), as each role: no 5xx, and
    every answer one the schema documents."""
    schema = api_schema
    for method, path in ENDS_THE_RUN:
        schema = schema.exclude(method=method, path=path)
    machine = schema.as_state_machine()

    class AsRole(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": server["base"], "headers": _signed_in(server, role),
                    "timeout": 60}

        def validate_response(self, response: Any, case: Any,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=[positive_data_acceptance],
                                   transport_kwargs=kwargs)

    # A few short sequences per role: enough to follow each link once or twice while the
    # suite stays fast (about 5 s a role).
    AsRole.run(settings=settings(max_examples=6, stateful_step_count=4, deadline=None,
                                 database=None, suppress_health_check=list(HealthCheck)))
