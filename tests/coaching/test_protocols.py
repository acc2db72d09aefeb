"""Protocols are data: the built-ins, a clinician's own file, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from heartsease.coaching.protocols import ProtocolError, load_protocol


def test_soothing_rhythm_breathing_follows_the_issue() -> None:
    srb = load_protocol("srb")
    steps = {s.name: s for s in srb.steps}
    assert list(steps) == ["baseline", "settling", "practice", "recovery"]
    assert steps["baseline"].pacer is None and steps["baseline"].seconds == 120
    assert steps["settling"].pacer_rates(6.0, 14.0) == (12.0, 6.0)  # own rate, at most 12
    assert steps["settling"].pacer_rates(5.5, None) == (10.0, 5.5)  # own rate unknown
    assert steps["practice"].seconds == 600 and steps["practice"].practice
    assert steps["recovery"].seconds == 60 and steps["recovery"].pacer is None
    assert all(s.cues for s in srb.steps)
    assert srb.pattern.shares()[2] > srb.pattern.shares()[0]  # longer out than in
    with_imagery = srb.with_stages(["compassionate-imagery"])
    assert [s.name for s in with_imagery.steps][3] == "compassionate-imagery"
    assert srb.with_practice_minutes(3).duration_s() == 870 - 600 + 180


def test_resonance_paces_the_five_rates_with_rests() -> None:
    steps = load_protocol("resonance").steps
    assessed = [s for s in steps if s.assess]
    assert [s.pacer for s in assessed] == [6.5, 6.0, 5.5, 5.0, 4.5]
    assert all(s.seconds == 120 for s in assessed)
    assert sum(1 for s in steps if s.name.startswith("rest")) == 4


def test_a_clinicians_own_protocol_file(tmp_path: Path) -> None:
    path = tmp_path / "gentle.toml"
    path.write_text("""
name = "gentle"
[pattern]
inhale = 4
exhale = 7
hold_out = 1
[[steps]]
name = "arrive"
seconds = 60
baseline = true
[[steps]]
name = "breathe"
seconds = 300
pacer = 5.5
practice = true
cues = [{ at = 10, text = "Softly." }]
""")
    protocol = load_protocol(path)
    assert protocol.name == "gentle" and protocol.duration_s() == 360
    assert protocol.schedule() == [(60.0, None), (300.0, 5.5)]
    assert protocol.steps[1].cues[0].text == "Softly."


@pytest.mark.parametrize(("body", "message"), [
    ('[[steps]]\nname = "a"\nseconds = 60\npacer = 40', "pacer must be"),
    ('[[steps]]\nname = "a"\nseconds = 60\npace = 6', "unknown key pace"),
    ('[[steps]]\nname = "a"\nseconds = 60\ncues = [{ at = 90, text = "x" }]', "within the step"),
    ('[[steps]]\nname = "a"\nseconds = 60\nglide_to = "pace"', "glide_to needs a pacer"),
    ('[[steps]]\nname = "a"\nseconds = -1', "seconds must be"),
    ('name = "empty"', "at least one"),
    ('[[steps]\nname = "a"', "not valid TOML"),
])
def test_bad_protocol_files_say_what_and_where(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ProtocolError, match=message):
        load_protocol(path)


def test_unknown_protocol_and_stage() -> None:
    with pytest.raises(ProtocolError, match="use one of srb, resonance"):
        load_protocol("yoga")
    with pytest.raises(ProtocolError, match="no optional stage dancing"):
        load_protocol("srb").with_stages(["dancing"])
