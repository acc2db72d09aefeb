"""A virtual chest strap, heard through bleak's own interfaces.

A :class:`VirtualStrap` advertises the Heart Rate Service while not connected, serves Body
Sensor Location and Battery Level, and notifies Heart Rate Measurements encoded by
:func:`heartsease.sensors.hrm.encode_hrm` from the heart model's beats. The host reaches it
through a :class:`~heartsease.simulator.radio.VirtualRadio`, whose bleak backend classes
are passed to ``BleakClient(..., backend=...)`` and ``BleakScanner(..., backend=...)``: the
reader under test is the same code that talks to a real strap; no hardware, no D-Bus.

- beats happen at the model's times; the strap stamps them on its own 1/1024-s clock,
  which runs ``clock_drift_ppm`` fast or slow, and sends the differences as RR intervals
  (so the cumulative RR keeps to the strap's clock, as on a real strap);
- a notification goes out at the first beat at least a second after the previous one, so
  it carries one to three intervals (up to 9 at the default MTU); the heart rate byte is
  the mean over the intervals it carries;
- each notification reaches the host after a BLE latency (exponential, mean 10 ms);
- the link can drop on a schedule: connected clients are told, notifications are
  discarded until a new connection subscribes again. What was delivered is logged in
  :attr:`VirtualStrap.delivered` as ground truth.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiotools.timer import VirtualClock
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError

from heartsease.sensors.hrm import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    RR_UNITS_PER_S,
    HeartRateMeasurement,
    SensorContact,
    encode_hrm,
)
from heartsease.sensors.source import LiveClock
from heartsease.simulator.heart import SimulatedBeats

MAX_RR_PER_NOTIFICATION = 9  # 23-byte MTU, uint8 heart rate, no energy field
NOTIFY_INTERVAL_S = 1.0


@contextlib.contextmanager
def virtual_time() -> Iterator[None]:
    """Run the current event loop on virtual time: every sleep returns at once and the
    loop's clock jumps to its end, so an hour of straps takes a second and timing is exact.

    aiotools' ``VirtualClock`` does the jumping; the 1 ms clock resolution it sets (which
    lets a timer fire up to 1 ms early) is tightened, because beat times are checked to 1 ms.
    """
    loop = asyncio.get_running_loop()
    with VirtualClock().patch_loop():
        resolution = loop._clock_resolution  # type: ignore[attr-defined]
        loop._clock_resolution = 1e-9  # type: ignore[attr-defined]
        try:
            yield
        finally:
            loop._clock_resolution = resolution  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class LinkDrop:
    """The link is down from ``start_s`` for ``duration_s`` (strap clock)."""

    start_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class Delivered:
    """One notification that reached a subscribed host: the ground truth of a test."""

    sent_s: float
    rr_1024ths: tuple[int, ...]
    beat_times_s: tuple[float, ...]


@dataclass
class VirtualStrap:
    """One simulated strap. Start it with :meth:`run` as a task."""

    beats: SimulatedBeats
    clock: LiveClock
    address: str = "E1:5E:A5:E0:00:01"
    name: str = "Polar H10 SIM01"
    rssi: int = -58
    battery_pct: int = 87
    contact_supported: bool = True
    drops: list[LinkDrop] = field(default_factory=list)
    latency_mean_s: float = 0.010
    clock_drift_ppm: float = 0.0
    seed: int = 0
    delivered: list[Delivered] = field(default_factory=list)
    discarded_beats: int = 0

    def __post_init__(self) -> None:
        self._subscribers: dict[int, tuple[Any, Callable[[bytearray], None]]] = {}
        self._connected: dict[int, Any] = {}
        self._rng = np.random.default_rng(self.seed)
        self.finished = asyncio.Event()

    # The strap's side -------------------------------------------------------------------

    def link_up(self, t_s: float | None = None) -> bool:
        t = self.clock.now() if t_s is None else t_s
        return not any(d.start_s <= t < d.start_s + d.duration_s for d in self.drops)

    @property
    def advertising(self) -> bool:
        return self.link_up() and not self._connected

    async def run(self) -> None:
        """Send the model's beats as notifications, in strap time, then finish."""
        strap_s = self.beats.t_s * (1.0 + self.clock_drift_ppm * 1e-6)
        ticks = np.round(strap_s * RR_UNITS_PER_S).astype(np.int64)
        pending: list[int] = []
        pending_times: list[float] = []
        last_sent = -np.inf
        drop_tasks = [asyncio.create_task(self._drop_at(d)) for d in self.drops]
        try:
            for k in range(1, ticks.size):
                t_beat = float(self.beats.t_s[k])
                await self.clock.sleep_until(t_beat)
                pending.append(int(ticks[k] - ticks[k - 1]))
                pending_times.append(t_beat)
                if t_beat - last_sent >= NOTIFY_INTERVAL_S or (
                    len(pending) >= MAX_RR_PER_NOTIFICATION
                ):
                    self._notify(tuple(pending), tuple(pending_times))
                    pending, pending_times = [], []
                    last_sent = t_beat
        finally:
            for task in drop_tasks:
                task.cancel()
            self.finished.set()

    def _notify(self, rr: tuple[int, ...], times: tuple[float, ...]) -> None:
        if not self._subscribers or not self.link_up():
            self.discarded_beats += len(rr)
            return
        mean_rr_s = sum(rr) / len(rr) / RR_UNITS_PER_S
        contact = SensorContact.DETECTED if self.contact_supported else (
            SensorContact.NOT_SUPPORTED)
        payload = encode_hrm(HeartRateMeasurement(round(60.0 / mean_rr_s), contact, None, rr))
        self.delivered.append(Delivered(self.clock.now(), rr, times))
        latency = float(self._rng.exponential(self.latency_mean_s))
        for _, callback in list(self._subscribers.values()):
            asyncio.get_running_loop().call_later(
                latency / self.clock.speed, callback, bytearray(payload)
            )

    def inject(self, payload: bytes) -> None:
        """Send raw bytes to subscribers, as a misbehaving strap would (junk, RR of 0)."""
        for _, callback in list(self._subscribers.values()):
            callback(bytearray(payload))

    async def _drop_at(self, drop: LinkDrop) -> None:
        await self.clock.sleep_until(drop.start_s)
        for client in list(self._connected.values()):
            client.link_lost()

    # The host's side, called by the virtual bleak client ---------------------------------

    def read(self, uuid: str) -> bytearray:
        if uuid == BATTERY_LEVEL_UUID:
            return bytearray([self.battery_pct])
        if uuid == BODY_SENSOR_LOCATION_UUID:
            return bytearray([1])  # chest
        raise BleakError(f"characteristic {uuid} cannot be read")

    def attach(self, client: Any) -> None:
        self._connected[id(client)] = client

    def detach(self, client: Any) -> None:
        self._connected.pop(id(client), None)
        self._subscribers.pop(id(client), None)

    def subscribe(self, client: Any, callback: Callable[[bytearray], None]) -> None:
        self._subscribers[id(client)] = (client, callback)

    def unsubscribe(self, client: Any) -> None:
        self._subscribers.pop(id(client), None)

    def gatt(self) -> BleakGATTServiceCollection:
        """The strap's services: Heart Rate (0x2A37, 0x2A38) and Battery (0x2A19)."""
        services = BleakGATTServiceCollection()
        handle = 1
        for service_uuid, chars in (
            (HEART_RATE_SERVICE_UUID, ((HEART_RATE_MEASUREMENT_UUID, ["notify"]),
                                       (BODY_SENSOR_LOCATION_UUID, ["read"]))),
            (BATTERY_SERVICE_UUID, ((BATTERY_LEVEL_UUID, ["read", "notify"]),)),
        ):
            service = BleakGATTService(None, handle, service_uuid)
            services.add_service(service)
            for char_uuid, properties in chars:
                handle += 2
                characteristic = BleakGATTCharacteristic(
                    None, handle, char_uuid, properties, lambda: 20, service
                )
                services.add_characteristic(characteristic)
            handle += 1
        return services
