"""No client-facing screen or report shows a count of minutes soothed, shifts, a
percentage or a verdict unless the clinician's plan turns state words on (issue 25): the
client's own report of a session full of shifts and a backdraft, and the breathing page's
scripts and markup. (The browser tests look at the pages as drawn: tests/e2e.)"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from heartsease.api import web
from heartsease.coaching.protocols import load_protocol
from heartsease.simulator.scenarios import simulate_following

# A count of settled time or shifts, a percentage, a state named as a verdict, praise.
SCORES = re.compile(r"\bsoothed\b|\bshifts?\b|%|\bthreat\b|\bon alert\b|\bcoherence\b|"
                    r"\bminutes? (?:soothed|settled)|\bwell done\b|\bgreat job\b|\bscore",
                    re.IGNORECASE)
# The breathing page as the client meets it: its markup and the scripts that write words.
CLIENT_FACING = ("breathe.html", "practice.js", "practice-letter.js", "rating.js", "safety.js",
                 "eyes-closed.js", "safety.html", "systems.js", "account.js")
PLAN_GOVERNED = r'<p class="state".*?</p>|<div class="numbers">.*?</div>'
# What the session summary counts, which no client-facing script may read.
COUNTED = re.compile(r"minutes_by_state|threat_to_soothing_shifts|soothing_minutes|"
                     r"shifts_per_session|pacer_adherence")


def test_the_clients_report_counts_nothing_and_the_clinicians_has_the_detail(
        client: TestClient, people) -> None:
    schedule = load_protocol("srb").schedule()
    beats = simulate_following("threat-then-soothe", schedule, seed=4)
    text = "\n".join(f"{x:.1f}" for x in beats.rr_ms)
    r = client.post("/api/sessions/uploads", headers=people["client"],
                    files={"file": ("practice.txt", text.encode(), "text/plain")})
    session_id = r.json()["id"]
    detail = client.get(f"/api/sessions/{session_id}", headers=people["client"]).json()
    # There is something a score could have counted.
    assert detail["summary"]["minutes_by_state"]["soothing"] > 1, detail["summary"]
    client.post(f"/api/sessions/{session_id}/ratings", headers=people["client"],
                json={"scale": "inner-critic", "value": "skipped"})
    own = client.get(f"/api/sessions/{session_id}/report", headers=people["client"]).text
    words = re.sub(r"<[^>]+>", " ", own)
    assert not SCORES.findall(words), SCORES.findall(words)
    assert "You gave yourself this time." in words and "skipped" in words
    assert "not a diagnosis or a treatment" in words
    pdf = client.get(f"/api/sessions/{session_id}/report?format=pdf", headers=people["client"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    clinical = client.get(f"/api/sessions/{session_id}/report", headers=people["clinician"]).text
    assert "Shift log" in clinical and SCORES.search(clinical)
    # The trends a client reads carry no count either; their clinician's do.
    day = detail["started_at"][:10]
    trends = f"/api/clients/{detail['client_id']}/trends?start={day}&end={day}"
    [own_day] = client.get(trends, headers=people["client"]).json()
    [their_day] = client.get(trends, headers=people["clinician"]).json()
    assert own_day["sessions"] == 1 and own_day["ratings_before"] == {}
    assert (own_day["soothing_minutes"], own_day["shifts_per_session"]) == (None, None)
    assert their_day["soothing_minutes"] > 1


def test_the_breathing_pages_words_name_no_score() -> None:
    static = Path(web.__file__).with_name("static")
    for name in CLIENT_FACING:
        source = (static / name).read_text()
        if name == "breathe.html":  # what practice.js hides unless the plan turns it on
            source = re.sub(PLAN_GOVERNED, "", source, flags=re.DOTALL)
        # The words a person reads: string literals and markup text, not code or styles.
        shown = " ".join(re.findall(r'"([^"\\]*)"', source)) if name.endswith(".js") \
            else re.sub(r"<[^>]+>", " ", source)
        assert not SCORES.findall(shown), (name, SCORES.findall(shown))
        assert not COUNTED.search(source), (name, COUNTED.search(source))
    practice = (static / "practice.js").read_text()
    # The state words and the numbers each show only when the plan turns them on.
    assert '$("state").classList.toggle("hidden", !plan.states_shown);' in practice
    assert 'fold.querySelector(".numbers").classList.toggle("hidden", !plan.numbers_shown);' \
        in practice
    breathe = (static / "breathe.js").read_text()
    assert not COUNTED.search(breathe), COUNTED.search(breathe)
