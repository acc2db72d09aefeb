"""Requests the schema fuzzer (test_schema_fuzz) once found mishandled, pinned here so they
stay fixed whatever the fuzzer happens to generate next time."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_out_of_range_and_loosely_typed_values_are_refused(client: TestClient,
                                                           people) -> None:
    huge = client.get("/api/sessions?limit=-64188992167391633866752", headers=people["client"])
    assert huge.status_code == 422  # was a 500 from the database driver
    me = client.get("/api/me", headers=people["client"]).json()
    trends = f"/api/clients/{me['id']}/trends"
    for query in ("end=1.9628402166487364e-116", "end=0001-01-01", "start=9999-12-31"):
        r = client.get(f"{trends}?{query}", headers=people["client"])
        assert r.status_code == 422, query  # a number read as 1970, and a date overflow (500)
    session = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    ratings = f"/api/sessions/{session.json()['id']}/ratings"
    r = client.post(ratings, headers=people["client"], json={"scale": "calm", "value": False})
    assert r.status_code == 422  # false is not the rating 0
    for body in ({"source": "remote", "speed": True}, {"source": "remote", "seed": "3"}):
        assert client.post("/api/sessions", headers=people["client"], json=body
                           ).status_code == 422


def test_times_carry_their_zone(client: TestClient, people) -> None:
    """SQLite keeps no zone: a bare time would be read by a browser as local time."""
    r = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    started = r.json()["started_at"]
    assert started.endswith(("Z", "+00:00")), started
    listed = client.get("/api/sessions", headers=people["client"]).json()
    assert all(s["started_at"].endswith(("Z", "+00:00")) for s in listed)


def test_a_wrong_method_names_every_method_the_path_takes(client: TestClient) -> None:
    r = client.request("PUT", "/api/me")
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["Allow"].split(",")} >= {"GET", "DELETE"}


def test_text_that_cannot_be_stored_is_refused_not_a_crash(client: TestClient,
                                                           people) -> None:
    """PostgreSQL cannot store NUL in text: a 500 there before, on every field of text."""
    session = client.post("/api/sessions", headers=people["client"], json={"source": "remote"})
    url = f"/api/sessions/{session.json()['id']}"
    assert client.post(f"{url}/annotations", headers=people["clinician"],
                       json={"text": "a\u0000b"}).status_code == 422
    assert client.post("/api/users", headers=people["admin"], json={
        "email": "nul@example.org", "name": "a\u0000b", "role": "client",
        "password": "long enough password"}).status_code == 422
    for path in ("/api/sessions/a%00b", "/api/sessions?client_id=a%00b",
                 "/api/clients/a%00b/trends"):
        assert client.get(path, headers=people["clinician"]).status_code < 500, path
    # A flat recording (RMSSD 0, some measures NaN) named with a raw NUL, as httpx won't send.
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00b.txt"\r\n\r\n'
            + b"\n".join([b"800"] * 300) + b"\r\n--b--\r\n")
    upload = client.post("/api/sessions/uploads", content=body, headers={
        **people["client"], "Content-Type": "multipart/form-data; boundary=b"})
    assert upload.status_code == 201, upload.text
    assert upload.json()["source_detail"].startswith("ab.txt")
    detail = client.get(f"/api/sessions/{upload.json()['id']}", headers=people["client"])
    assert detail.status_code == 200  # its NaN measures stored and sent as null
