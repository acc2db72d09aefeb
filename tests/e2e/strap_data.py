"""Real strap data as the stand-in radio delivers it: the Heart Rate Measurement payloads
quoted from real straps, and the Polar H10 recording encoded as the notifications it came
in (rows that arrived within a millisecond of each other came together)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from heartsease.sensors.ble import NotificationTimer
from heartsease.sensors.hrm import RR_UNITS_PER_S, HeartRateMeasurement, SensorContact, encode_hrm
from heartsease.sensors.replay import SAME_NOTIFICATION_S

POLAR_H10 = "rr_strap/polar_h10/sample_data_ibi.csv"
STATIC = Path(__file__).resolve().parents[2] / "heartsease" / "api" / "web" / "static"


def captured_payloads(refdata: Path) -> list[str]:
    """The real payloads, as hex without spaces."""
    captures = json.loads((refdata / "ble/hrm_captures.json").read_text())
    return [c["hex"].replace(" ", "") for c in captures]


def polar_h10_notifications(refdata: Path) -> list[tuple[float, str]]:
    """(arrival in s from the first, payload as hex) per notification of the recording."""
    table = np.loadtxt(refdata / POLAR_H10, delimiter=",")
    arrival, rr_ms = table[:, 0] - table[0, 0], table[:, 1]
    groups: list[list[int]] = [[0]]
    for i in range(1, arrival.size):
        if arrival[i] - arrival[i - 1] <= SAME_NOTIFICATION_S:
            groups[-1].append(i)
        else:
            groups.append([i])
    notifications = []
    for group in groups:
        rr = [int(round(rr_ms[i] * RR_UNITS_PER_S / 1000)) for i in group]
        hr = round(60000.0 / float(np.mean(rr_ms[group])))
        payload = encode_hrm(HeartRateMeasurement(hr, SensorContact.DETECTED, None, tuple(rr)))
        notifications.append((float(arrival[group[-1]]), payload.hex()))
    return notifications


def python_beat_times(notifications: list[tuple[float, str]]) -> list[float]:
    """Every beat's time as the Python reader places it over one connection."""
    timer = NotificationTimer()
    times: list[float] = []
    for arrival_s, payload in notifications:
        measurement = timer.take(arrival_s, bytes.fromhex(payload))
        if measurement is not None:
            times.extend(measurement.beat_times_s)
    return times
