"""The Heart Rate Measurement codec against real strap payloads, by property and by fuzzing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heartsease.sensors.hrm import (
    HeartRateMeasurement,
    MalformedMeasurementError,
    SensorContact,
    encode_hrm,
    parse_hrm,
)


def captures(refdata: Path) -> list[dict]:
    return json.loads((refdata / "ble/hrm_captures.json").read_text())


def test_every_real_capture_decodes_as_the_specification_says(refdata: Path) -> None:
    rows = captures(refdata)
    assert len(rows) == 15
    for row in rows:
        expected = row["decoded_per_spec"]
        m = parse_hrm(bytes.fromhex(row["hex"]))
        assert m.hr_bpm == expected["hr_bpm"], row["hex"]
        assert m.contact.value == expected["sensor_contact"], row["hex"]
        assert m.energy_expended_kj == expected["energy_expended_kJ"], row["hex"]
        assert list(m.rr_1024ths) == expected["rr_1024ths"], row["hex"]
        assert [round(v, 3) for v in m.rr_ms] == pytest.approx(expected["rr_ms"], abs=1e-3)
        assert m.trailing_bytes == expected["trailing_unparsed_bytes"], row["hex"]
        if m.trailing_bytes == 0 and m.rr_1024ths:
            assert encode_hrm(m) == bytes.fromhex(row["hex"])  # byte-exact both ways


def test_odd_trailing_byte_is_reported_not_fatal() -> None:
    m = parse_hrm(bytes.fromhex("10 3e b1 03 de"))
    assert (m.hr_bpm, m.rr_1024ths, m.trailing_bytes) == (62, (945,), 1)


def test_uint16_heart_rate_energy_and_many_rr() -> None:
    # flags: uint16 HR, contact supported + detected, energy, RR -> 0x1f
    payload = bytes.fromhex("1f 2c 01 ff ff 00 04 00 02")
    m = parse_hrm(payload)
    assert (m.hr_bpm, m.energy_expended_kj, m.rr_1024ths) == (300, 0xFFFF, (1024, 512))
    assert m.hr_uint16 and encode_hrm(m) == payload


@pytest.mark.parametrize(
    ("hex_payload", "message"),
    [
        ("", "empty payload"),
        ("01 3c", "ends before its uint16 heart rate"),
        ("00", "ends before its uint8 heart rate"),
        ("08 3c 01", "ends before its energy expended"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(hex_payload: str, message: str) -> None:
    with pytest.raises(MalformedMeasurementError, match=message):
        parse_hrm(bytes.fromhex(hex_payload))


measurements = st.builds(
    HeartRateMeasurement,
    hr_bpm=st.integers(0, 0xFFFF),
    contact=st.sampled_from(SensorContact),
    energy_expended_kj=st.none() | st.integers(0, 0xFFFF),
    rr_1024ths=st.lists(st.integers(0, 0xFFFF), max_size=9).map(tuple),
    hr_uint16=st.booleans(),
    trailing_bytes=st.just(0),
)


@settings(max_examples=300)
@given(measurements)
def test_round_trip(m: HeartRateMeasurement) -> None:
    decoded = parse_hrm(encode_hrm(m))
    assert decoded.hr_bpm == m.hr_bpm
    assert decoded.contact == m.contact
    assert decoded.energy_expended_kj == m.energy_expended_kj
    assert decoded.rr_1024ths == m.rr_1024ths
    assert decoded.hr_uint16 == (m.hr_uint16 or m.hr_bpm > 0xFF)


@settings(max_examples=2000)
@given(st.binary(max_size=40))
def test_random_bytes_never_crash(payload: bytes) -> None:
    try:
        m = parse_hrm(payload)
    except MalformedMeasurementError:
        return
    assert 0 <= m.hr_bpm <= 0xFFFF
    assert m.trailing_bytes in (0, 1) or not payload[0] & 0x10
