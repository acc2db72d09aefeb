"""Trend days are the client's own: midnight to midnight in their time zone, as their
browser tells it, whoever reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from heartsease.store.models import BreathingSession
from tests.api.conftest import me
from tests.api.test_care import uploaded_session


def test_a_session_late_in_the_evening_in_auckland_is_on_that_days_trend(
        client: TestClient, people) -> None:
    session_id = uploaded_session(client, people["client"])
    with client.app.state.db() as db, db.begin():
        # 11:30 UTC on 3 March is 00:30 on 4 March in Auckland (UTC+13 in summer).
        db.get(BreathingSession, session_id).started_at = datetime(2026, 3, 3, 11, 30,
                                                                   tzinfo=UTC)
    client_id = me(client, people["client"])["id"]
    url = f"/api/clients/{client_id}/trends?start=2026-03-02&end=2026-03-05"

    def day_of_session(headers: dict[str, str]) -> str:
        days = client.get(url, headers=headers).json()
        [day] = [d["day"] for d in days if d["session_ids"] == [session_id]]
        return day

    assert day_of_session(people["client"]) == "2026-03-03"  # no zone told yet: UTC
    r = client.put("/api/me/time-zone", headers=people["client"],
                   json={"time_zone": "Pacific/Auckland"})
    assert r.status_code == 200 and r.json()["time_zone"] == "Pacific/Auckland"
    assert me(client, people["client"])["time_zone"] == "Pacific/Auckland"
    assert day_of_session(people["client"]) == "2026-03-04"
    # The clinician, wherever they are, reads the client's days.
    client.put("/api/me/time-zone", headers=people["clinician"],
               json={"time_zone": "America/Los_Angeles"})
    assert day_of_session(people["clinician"]) == "2026-03-04"
    # Honolulu (UTC-10): the evening before.
    client.put("/api/me/time-zone", headers=people["client"],
               json={"time_zone": "Pacific/Honolulu"})
    assert day_of_session(people["client"]) == "2026-03-03"
    for wrong in ("Mars/Olympus", "../../etc/passwd", "", "America"):
        assert client.put("/api/me/time-zone", headers=people["client"],
                          json={"time_zone": wrong}).status_code == 422, wrong


def test_today_by_default_is_the_clients_today(client: TestClient, people) -> None:
    client_id = me(client, people["client"])["id"]
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14 and UTC-11
        client.put("/api/me/time-zone", headers=people["client"], json={"time_zone": zone})
        days = client.get(f"/api/clients/{client_id}/trends", headers=people["client"]).json()
        assert days[-1]["day"] == str(datetime.now(ZoneInfo(zone)).date()), zone
        assert len(days) == 60
