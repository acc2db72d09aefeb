"""Protocols are data: the built-ins, a clinician's own file, and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from heartsease.coaching import events as ev
from heartsease.coaching.protocols import Protocol, ProtocolError, load_protocol
from heartsease.coaching.session import CoachingSession


def test_soothing_rhythm_breathing_follows_the_issue() -> None:
    srb = load_protocol("srb")
    steps = {s.name: s for s in srb.steps}
    assert list(steps) == ["baseline", "settling", "practice", "keeping-rhythm", "recovery"]
    assert steps["baseline"].pacer is None and steps["baseline"].seconds == 120
    assert steps["settling"].pacer_rates(6.0, 14.0) == (12.0, 6.0)  # own rate, at most 12
    assert steps["settling"].pacer_rates(5.5, None) == (10.0, 5.5)  # own rate unknown
    assert steps["practice"].seconds == 600 and steps["practice"].practice
    assert steps["keeping-rhythm"].fade and steps["keeping-rhythm"].pacer == "pace"
    assert steps["recovery"].seconds == 60 and steps["recovery"].pacer is None
    assert all(s.cues for s in srb.all_steps)
    assert srb.pattern.shares()[2] > srb.pattern.shares()[0]  # longer out than in
    with_imagery = srb.with_stages(["safe-place"])
    assert [s.name for s in with_imagery.steps][3] == "safe-place"
    assert srb.with_practice_minutes(3).duration_s() == 960 - 600 + 180


def test_soothing_rhythm_breathing_is_taught_from_the_first_minute() -> None:
    """Posture, feet on the floor, the chair holding you, smooth and even breathing low in the
    belly, a friendly face, a warm inner voice and an optional hand on the heart: all before
    the practice proper begins, or as it begins (Matos, Gilbert et al. 2017)."""
    srb = load_protocol("srb")
    taught_by_s: dict[str, float] = {}
    at = 0.0
    for step in srb.steps:
        for cue in step.cues:
            for theme in ("upright", "feet", "chair", "smooth and even", "low in the belly",
                          "friendly expression", "inner voice", "hand on your heart"):
                if theme in cue.text and theme not in taught_by_s:
                    taught_by_s[theme] = at + cue.at_s
        at += step.seconds
    assert taught_by_s["upright"] == 0.0 and taught_by_s["feet"] == 0.0
    assert max(taught_by_s.values()) <= 120 + 90 + 60  # all within the first 4.5 minutes
    assert len(taught_by_s) == 8, taught_by_s


# Words that tell a person what to feel, or claim what the system cannot know.
INSTRUCTING = re.compile(r"\b(you are safe|you will feel|you should|feel calm|feel the|"
                         r"relax|notice the slowing|you feel)\b", re.IGNORECASE)


def test_cues_invite_and_never_instruct_a_feeling() -> None:
    srb = load_protocol("srb")
    texts = [c.text for s in srb.all_steps for c in s.cues]
    assert not [t for t in texts if INSTRUCTING.search(t)]
    inviting = [t for t in texts if re.search(r"\b(might|if you like|if it feels right)\b", t,
                                              re.IGNORECASE)]
    assert len(inviting) >= 0.75 * len(texts), [t for t in texts if t not in inviting]
    assert any(re.search(r"You might notice .* or not", t) for t in texts)


def test_imagery_stages_are_separate_with_four_to_six_cues_each() -> None:
    srb = load_protocol("srb")
    imagery = ["safe-place", "compassionate-colour", "compassionate-self",
               "compassionate-other"]
    assert list(srb.stage_names) == [*imagery, "compassionate-letter"]
    for name in imagery:
        step = next(s for s in srb.all_steps if s.name == name)
        assert 4 <= len(step.cues) <= 6 and step.optional and step.pacer == "pace", name
    other = " ".join(c.text for c in next(s for s in srb.all_steps
                                          if s.name == "compassionate-other").cues)
    for quality in ("wisdom", "strength", "warmth", "commitment", "symbolic"):
        assert quality in other


def test_the_letter_rests_the_guide_gives_prompts_then_reads_back_with_it() -> None:
    srb = load_protocol("srb").with_stages(["compassionate-letter"])
    names = [s.name for s in srb.steps]
    assert names[3:5] == ["compassionate-letter", "letter-read-back"]
    letter, read_back = srb.steps[3], srb.steps[4]
    assert letter.pacer is None and letter.workspace == "letter"
    assert [p.name for p in letter.prompts] == ["the-pain", "common-humanity", "understanding",
                                                "one-step"]
    assert read_back.pacer == "pace" and read_back.part_of == "compassionate-letter"
    with pytest.raises(ProtocolError, match="no optional stage letter-read-back"):
        load_protocol("srb").with_stages(["letter-read-back"])


@pytest.mark.parametrize("stage", [None, *load_protocol("srb").stage_names])
def test_every_stage_runs_from_start_to_end(stage: str | None) -> None:
    protocol = load_protocol("srb").with_stages([] if stage is None else [stage])
    events = _run_without_a_heart(protocol)
    started = [e for e in events if e.kind == "step"]
    assert [e.name for e in started] == [s.name for s in protocol.steps]
    assert events[-1].kind == "session-ended" and events[-1].reason == "completed"
    said = [e.text for e in events if e.kind == "cue" and e.cue_kind == "guidance"]
    assert said == [c.text for s in protocol.steps for c in s.cues]
    for step_event, step in zip(started, protocol.steps, strict=True):
        assert step_event.pacer_fade == step.fade
        assert (step_event.pacer_from_bpm is None) == (step.pacer is None)
        assert [p["name"] for p in step_event.prompts] == [p.name for p in step.prompts]


def test_every_cue_of_the_file_is_reachable() -> None:
    """Some choice of stages reaches every step, and every cue in it is said."""
    srb = load_protocol("srb")
    said: set[str] = set()
    for stage in (None, *srb.stage_names):
        events = _run_without_a_heart(srb.with_stages([] if stage is None else [stage]))
        said |= {e.text for e in events if e.kind == "cue"}
    assert {c.text for s in srb.all_steps for c in s.cues} <= said


def _run_without_a_heart(protocol: Protocol) -> list[ev.Event]:
    """The protocol run on time alone, in 1-s ticks (cues, steps, pacer; no beats)."""
    session = CoachingSession(protocol, pace_bpm=6.0)
    events = session.start()
    t = 0.0
    while not session.ended:
        t += 1.0
        events += session.tick(t)
    return events


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
    ('[[steps]]\nname = "a"\nseconds = 60\nfade = true', "fade needs a pacer"),
    ('[[steps]]\nname = "a"\nseconds = 60\nworkspace = "diary"', "workspace must be"),
    ('[[steps]]\nname = "a"\nseconds = 60\nprompts = [{ name = "x", text = "y" }]',
     "prompts need a workspace"),
    ('[[steps]]\nname = "a"\nseconds = 60\nworkspace = "letter"\nprompts = [{ name = "x" }]',
     "needs a name and a text"),
    ('[[steps]]\nname = "a"\nseconds = 60\noptional = true\npart_of = "b"', "part_of must"),
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
