"""The Heart Rate Measurement characteristic (0x2A37) of the Bluetooth Heart Rate Service.

Heart Rate Service specification v1.0, section 3.1. The first byte holds flags:

- bit 0: heart rate as uint8 (0) or uint16 (1), little-endian;
- bit 1: sensor contact detected, meaningful only when bit 2 is set;
- bit 2: sensor contact supported;
- bit 3: energy expended present (uint16, kJ);
- bit 4: RR intervals present (uint16 each, 1/1024 s, oldest first);
- bits 5-7: reserved. They should be 0; a strap that sets them is still read, because
  refusing its beats would lose them.

A payload whose RR part has an odd byte left over is read in full and the leftover is
reported (``trailing_bytes``). Everything else that does not fit the layout raises
:class:`MalformedMeasurementError`, the only error the parser raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"
BODY_SENSOR_LOCATION_UUID = "00002a38-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"

_HR_UINT16 = 0x01
_CONTACT_DETECTED = 0x02
_CONTACT_SUPPORTED = 0x04
_ENERGY_PRESENT = 0x08
_RR_PRESENT = 0x10

RR_UNITS_PER_S = 1024
UINT16_MAX = 0xFFFF


class MalformedMeasurementError(ValueError):
    """A Heart Rate Measurement payload that does not fit the specification's layout."""


class SensorContact(Enum):
    """What the strap says about skin contact."""

    NOT_SUPPORTED = "not supported"
    NOT_DETECTED = "supported, not detected"
    DETECTED = "supported, detected"


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One decoded 0x2A37 notification."""

    hr_bpm: int
    contact: SensorContact
    energy_expended_kj: int | None
    rr_1024ths: tuple[int, ...]
    hr_uint16: bool = False
    trailing_bytes: int = 0

    @property
    def rr_ms(self) -> tuple[float, ...]:
        """RR intervals in milliseconds."""
        return tuple(v * 1000.0 / RR_UNITS_PER_S for v in self.rr_1024ths)


def parse_hrm(payload: bytes | bytearray | memoryview) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement notification.

    Examples
    --------
    >>> m = parse_hrm(bytes.fromhex("16 78 ff 01 ff 01 0c 01"))
    >>> m.hr_bpm, m.contact.name, m.rr_1024ths
    (120, 'DETECTED', (511, 511, 268))
    >>> parse_hrm(bytes.fromhex("10 3e b1 03 de")).trailing_bytes
    1
    """
    data = bytes(payload)
    if not data:
        raise MalformedMeasurementError("empty payload: no flags byte")
    flags = data[0]
    hr_uint16 = bool(flags & _HR_UINT16)
    offset = 1
    hr_size = 2 if hr_uint16 else 1
    if len(data) < offset + hr_size:
        raise MalformedMeasurementError(
            f"payload of {len(data)} bytes ends before its "
            f"{'uint16' if hr_uint16 else 'uint8'} heart rate (flags 0x{flags:02x})"
        )
    hr = int.from_bytes(data[offset : offset + hr_size], "little")
    offset += hr_size
    energy = None
    if flags & _ENERGY_PRESENT:
        if len(data) < offset + 2:
            raise MalformedMeasurementError(
                f"payload of {len(data)} bytes ends before its energy expended field"
            )
        energy = int.from_bytes(data[offset : offset + 2], "little")
        offset += 2
    rr: tuple[int, ...] = ()
    trailing = len(data) - offset
    if flags & _RR_PRESENT:
        pairs = trailing // 2
        rr = tuple(
            int.from_bytes(data[offset + 2 * k : offset + 2 * k + 2], "little")
            for k in range(pairs)
        )
        trailing -= 2 * pairs
    return HeartRateMeasurement(
        hr_bpm=hr,
        contact=_contact(flags),
        energy_expended_kj=energy,
        rr_1024ths=rr,
        hr_uint16=hr_uint16,
        trailing_bytes=trailing,
    )


def _contact(flags: int) -> SensorContact:
    if not flags & _CONTACT_SUPPORTED:
        return SensorContact.NOT_SUPPORTED
    if flags & _CONTACT_DETECTED:
        return SensorContact.DETECTED
    return SensorContact.NOT_DETECTED


def encode_hrm(measurement: HeartRateMeasurement) -> bytes:
    """Encode a measurement as a 0x2A37 payload (the simulator's strap uses this).

    The heart rate is written as uint16 when ``hr_uint16`` is set or it exceeds 255;
    ``trailing_bytes`` are written as zeros, to reproduce straps that send them.

    Examples
    --------
    >>> m = HeartRateMeasurement(60, SensorContact.DETECTED, None, (1041,))
    >>> encode_hrm(m).hex(" ")
    '16 3c 11 04'
    """
    m = measurement
    if not 0 <= m.hr_bpm <= UINT16_MAX:
        raise ValueError(f"heart rate {m.hr_bpm} does not fit a uint16")
    if m.energy_expended_kj is not None and not 0 <= m.energy_expended_kj <= UINT16_MAX:
        raise ValueError(f"energy expended {m.energy_expended_kj} kJ does not fit a uint16")
    if any(not 0 <= v <= UINT16_MAX for v in m.rr_1024ths):
        raise ValueError("RR intervals must fit a uint16 (in 1/1024 s)")
    hr_uint16 = m.hr_uint16 or m.hr_bpm > 0xFF
    flags = _HR_UINT16 if hr_uint16 else 0
    if m.contact is not SensorContact.NOT_SUPPORTED:
        flags |= _CONTACT_SUPPORTED
        if m.contact is SensorContact.DETECTED:
            flags |= _CONTACT_DETECTED
    if m.energy_expended_kj is not None:
        flags |= _ENERGY_PRESENT
    if m.rr_1024ths:
        flags |= _RR_PRESENT
    out = bytearray([flags])
    out += m.hr_bpm.to_bytes(2 if hr_uint16 else 1, "little")
    if m.energy_expended_kj is not None:
        out += m.energy_expended_kj.to_bytes(2, "little")
    for v in m.rr_1024ths:
        out += v.to_bytes(2, "little")
    out += bytes(m.trailing_bytes)
    return bytes(out)

