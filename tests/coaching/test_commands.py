"""``heartsease breathe`` and ``heartsease replay`` as a person and a script would use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heartsease.cli import app
from heartsease.coaching.profile import load_profile
from heartsease.simulator.scenarios import simulate, write_csv

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HEARTSEASE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_breathe_with_a_simulated_strap(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "session.jsonl"
    result = runner.invoke(app, ["breathe", "--simulate", "threat-then-soothe", "--speed", "100",
                                 "--practice-minutes", "3", "--out", str(log)])
    assert result.exit_code == 0, result.output
    # Quiet by default: one closing for everyone, no count of minutes settled or shifts.
    assert "You gave yourself this time. What did you notice?" in result.output
    assert "Shifts" not in result.output and "settled" not in result.output
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[0]["kind"] == "session-started" and events[-1]["kind"] == "session-ended"
    kinds = {e["kind"] for e in events}
    assert {"beat", "metrics", "step", "pacer", "pacer-phase", "cue", "state"} <= kinds
    beats = [e for e in events if e["kind"] == "beat"]
    assert [b["seq"] for b in beats] == list(range(1, len(beats) + 1))
    assert len(beats) > 300
    # The simulated person keeps their own profile, apart from the real one.
    assert not (home / "profile.json").exists()
    profile = load_profile(home / "simulated" / "person-0.json")
    assert len(profile.baselines) == 2  # their earlier rest day, and today's quiet start


def test_breathe_needs_exactly_one_source(home: Path) -> None:
    result = runner.invoke(app, ["breathe"])
    assert result.exit_code == 2
    assert "--simulate SCENARIO (no strap needed)" in result.output


def test_breathe_explains_a_bad_protocol(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "mine.toml"
    bad.write_text('[[steps]]\nname = "a"\nseconds = 60\npacer = "fast"')
    result = runner.invoke(app, ["breathe", "--simulate", "rest", "--protocol", str(bad)])
    assert result.exit_code == 2
    assert "pacer must be 'off', 'pace', 'own'" in result.output


def test_replay_json_is_the_session(tmp_path: Path) -> None:
    path = tmp_path / "backdraft.csv"
    write_csv(simulate("backdraft", 900, seed=3), path)
    result = runner.invoke(app, ["replay", str(path), "--protocol", "srb", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert {"metrics", "states", "shifts", "backdrafts", "steps", "summary"} <= record.keys()
    assert record["n_beats"] > 800 and record["protocol"] == "srb"
    assert record["metrics"][10].keys() >= {"t_s", "hr_bpm", "rmssd_ms", "coherence_ratio",
                                            "breathing_rate_bpm", "state"}
    assert record["states"][0]["start_s"] == 0.0
    assert record["states"][-1]["end_s"] == record["duration_s"]
    again = runner.invoke(app, ["replay", str(path), "--protocol", "srb", "--json"])
    assert again.output == result.output  # deterministic


def test_replay_of_a_real_strap_recording(refdata: Path) -> None:
    result = runner.invoke(app, ["replay", str(refdata / "rr_strap/polar_h10/sample_data_ibi.csv"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["n_beats"] == 620 and record["ended"] == "source-ended"


def test_replay_refuses_garbage_clearly(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_text("800\nhello\n")
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 2
    assert "line 2" in result.output and "Traceback" not in result.output


def test_breathe_with_a_recording_as_the_strap(home: Path, tmp_path: Path, refdata: Path) -> None:
    log = tmp_path / "polar.jsonl"
    result = runner.invoke(app, ["breathe", "--file",
                                 str(refdata / "rr_strap/polar_h10/sample_data_ibi.csv"),
                                 "--speed", "100", "--out", str(log)])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert sum(e["kind"] == "beat" for e in events) == 620  # the whole recording, every beat
    assert events[-1] == {"kind": "session-ended", "t_s": events[-1]["t_s"],
                          "reason": "source-ended"}
    assert load_profile(home / "profile.json").baselines  # a real person's profile this time
