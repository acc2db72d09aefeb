"""The live protocol is one definition: the pages' mirror (wire.js), the pages' scripts, the
coaching loop's events and the server's message models all follow heartsease.wire."""

from __future__ import annotations

import inspect
import re
from enum import Enum
from pathlib import Path

import pytest
from pydantic import ValidationError

from heartsease import wire
from heartsease.api.ingest import TIME_FIELDS, GapIn, MeasurementIn
from heartsease.coaching import events
from heartsease.sensors.hrm import SensorContact
from heartsease.sensors.source import Gap, Measurement

STATIC = Path(wire.__file__).parent / "api" / "web" / "static"
WIRE_JS = STATIC / "wire.js"
MIRRORED: dict[str, type[Enum]] = {"Close": wire.Close, "Kind": wire.Kind,
                                   "Command": wire.Command}


def exported_objects(source: str) -> dict[str, dict[str, int | str]]:
    """The ``export const NAME = Object.freeze({KEY: value, ...});`` objects of a script,
    their values numbers or double-quoted strings."""
    found: dict[str, dict[str, int | str]] = {}
    for name, body in re.findall(r"export const (\w+) = Object\.freeze\(\{(.*?)\}\);", source,
                                 re.DOTALL):
        entries: dict[str, int | str] = {}
        for line in body.splitlines():
            line = re.sub(r"//.*", "", line).strip().rstrip(",")
            if not line:
                continue
            match = re.fullmatch(r'(\w+): (?:(\d+)|"([^"]*)")', line)
            assert match, f"{name}: cannot read {line!r}"
            key, number, text = match.groups()
            entries[key] = int(number) if number is not None else text
        found[name] = entries
    return found


def test_the_pages_mirror_of_the_protocol_is_the_protocol() -> None:
    mirrored = exported_objects(WIRE_JS.read_text())
    assert set(mirrored) == set(MIRRORED), "wire.js exports other objects than wire.py's"
    for name, enum in MIRRORED.items():
        assert mirrored[name] == {m.name: m.value for m in enum}, \
            f"wire.js's {name} differs from heartsease.wire.{name}"


def test_a_mirror_that_drifted_is_caught() -> None:
    drifted = WIRE_JS.read_text().replace("NOT_LIVE: 4404", "NOT_LIVE: 4405")
    assert exported_objects(drifted)["Close"]["NOT_LIVE"] == 4405
    assert exported_objects(drifted)["Close"] != {m.name: m.value for m in wire.Close}


def page_scripts() -> list[Path]:
    """The pages' own scripts (not the mirror itself, nor vendored libraries)."""
    return [p for p in STATIC.rglob("*.js")
            if p != WIRE_JS and "vendor" not in p.parts and ".min." not in p.name]


def test_the_pages_use_only_the_protocols_kinds_commands_and_close_codes() -> None:
    """What the pages' scripts write as literals, rather than import from wire.js, is in the
    protocol: the kinds they handle, the commands they send, the close codes they read."""
    kinds, commands, codes = set(wire.Kind), set(wire.Command), set(wire.Close)
    for script in page_scripts():
        source = script.read_text()
        if ".kind)" in source:
            handled = set(re.findall(r'case "([\w-]+)"', source))
            assert handled <= kinds, f"{script.name} handles kinds not in wire: " \
                f"{handled - kinds}"
        for sent in re.findall(r"send\(\{ type: ([^,}]+)", source):
            named = set(re.findall(r'"([\w-]+)"', sent))
            assert named <= commands, f"{script.name} sends {named - commands}"
        read = {int(code) for pair in re.findall(r"\.code === (\d+)|CLOSE_\w+ = (\d+)", source)
                for code in pair if code}
        assert read <= codes, f"{script.name} reads close codes not in wire: {read - codes}"


def test_what_the_pages_import_from_the_mirror_is_in_it() -> None:
    """A name misspelt (``Kind.HELOO``) would be undefined in the browser, silently."""
    for script in page_scripts():
        for name, member in re.findall(r"\b(Close|Kind|Command)\.([A-Z_]+)\b",
                                       script.read_text()):
            assert member in MIRRORED[name].__members__, f"{script.name}: {name}.{member}"


def test_every_coaching_event_is_a_kind_of_message() -> None:
    kinds = {cls.kind for _, cls in inspect.getmembers(events, inspect.isclass)
             if isinstance(cls.__dict__.get("kind"), str) and cls.__dict__["kind"] != "event"}
    assert kinds, "no events found"
    assert kinds <= set(wire.Kind), kinds - set(wire.Kind)


@pytest.mark.parametrize(("model", "message"), [(MeasurementIn, wire.MeasurementMessage),
                                                (GapIn, wire.GapMessage)])
def test_the_server_takes_the_fields_the_streamer_sends(model: type, message: type) -> None:
    assert set(model.model_fields) == set(message.__annotations__)


def test_what_the_streamer_sends_the_server_takes() -> None:
    measurement = Measurement(12.5, 70, (850.0, 860.0), (11.64, 12.5), SensorContact.DETECTED)
    sent = wire.measurement_message(7, measurement)
    taken = MeasurementIn.model_validate(sent)
    assert (taken.seq, taken.rr_ms, taken.beat_times_s) == (7, [850.0, 860.0], [11.64, 12.5])
    assert wire.last_seq(sent) == 8 and not wire.is_gap(sent)
    gap = wire.gap_message(Gap(3.0, 9.0, "link lost"))
    assert wire.is_gap(gap) and GapIn.model_validate(gap).gap_end_s == 9.0
    assert wire.ack(8) == {"kind": "ack", "seq": 8}
    assert wire.error("no", expected_seq=3) == {"kind": "error", "detail": "no",
                                                "expected_seq": 3}


@pytest.mark.parametrize("times", [
    {"arrival_s": float("nan")}, {"arrival_s": float("inf")}, {"arrival_s": 1e300},
    {"beat_times_s": [float("-inf")]}, {"beat_times_s": [1e300]}])
def test_the_server_takes_no_time_that_is_no_time(times: dict[str, object]) -> None:
    """One NaN on ingest made every beat's time NaN on PostgreSQL, and the account's export
    invalid JSON; 1e300 was taken as a time."""
    sent = {**wire.measurement_message(1, Measurement(
        12.5, 70, (850.0,), (12.5,), SensorContact.DETECTED)), **times}
    with pytest.raises(ValidationError) as refused:
        MeasurementIn.model_validate(sent)
    assert refused.value.errors()[0]["loc"][0] in TIME_FIELDS
    for gap in ({"gap_start_s": float("nan"), "gap_end_s": 3.0},
                {"gap_start_s": 1.0, "gap_end_s": 1e300}):
        with pytest.raises(ValidationError):
            GapIn.model_validate(gap)


def test_a_streamer_gives_up_on_what_would_be_refused_again() -> None:
    assert {wire.Close.NOT_TEXT, wire.Close.NOT_READABLE} <= wire.FINAL_CLOSES
