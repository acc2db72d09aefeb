"""A virtual chest strap behind bleak's own backend interfaces.

:class:`VirtualRadio` holds virtual straps and hands out bleak backend classes
(:meth:`VirtualRadio.client_backend`, :meth:`VirtualRadio.scanner_backend`) that are passed
to ``BleakClient(..., backend=...)`` and ``BleakScanner(..., backend=...)``. The reader under
test is therefore the same code that talks to a real strap; no hardware, no D-Bus.

A :class:`VirtualStrap` advertises the Heart Rate Service while not connected, serves Body
Sensor Location and Battery Level, and notifies Heart Rate Measurements encoded by
:func:`heartsease.sensors.hrm.encode_hrm` from the heart model's beats:

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
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import numpy as np
from aiotools.timer import VirtualClock
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError

from heartsease.sensors.ble import StrapReader
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
from heartsease.sensors.source import Gap, Measurement
from heartsease.simulator.heart import SimulatedBeats
from heartsease.simulator.scenarios import simulate_following

MAX_RR_PER_NOTIFICATION = 9  # 23-byte MTU, uint8 heart rate, no energy field
NOTIFY_INTERVAL_S = 1.0


@contextlib.contextmanager
def virtual_time() -> Iterator[None]:
    """Run the current event loop on virtual time: every sleep returns at once and the
    loop's clock jumps to its end, so an hour of straps takes a second and timing is exact.

    aiotools' ``VirtualClock`` does the jumping; its 1 ms clock resolution (which lets a timer
    fire up to 1 ms early) is tightened, because beat times are checked to 1 ms.
    """
    loop = asyncio.get_running_loop()
    with VirtualClock().patch_loop(), mock.patch.object(loop, "_clock_resolution", 1e-9):
        yield


class SimulatedClock:
    """A clock that runs ``speed`` times faster than the event loop's (the ``Clock`` protocol).

    Time 0 is when the clock was made.
    """

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()

    def now(self) -> float:
        return (self._loop.time() - self._start) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, float(seconds)) / self.speed)

    async def sleep_until(self, t_s: float) -> None:
        await self.sleep(t_s - self.now())


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
    clock: SimulatedClock
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


class VirtualRadio:
    """The air between virtual straps and the host: where bleak's backends look for them."""

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        self.straps: dict[str, VirtualStrap] = {}

    def add(self, strap: VirtualStrap) -> VirtualStrap:
        self.straps[strap.address.upper()] = strap
        return strap

    def find(self, address: str) -> VirtualStrap | None:
        return self.straps.get(address.upper())

    @property
    def client_backend(self) -> type[BaseBleakClient]:
        """A bleak client backend class bound to this radio."""
        radio = self

        class VirtualBleakClient(_VirtualBleakClient):
            _radio = radio

        return VirtualBleakClient

    @property
    def scanner_backend(self) -> type[BaseBleakScanner]:
        """A bleak scanner backend class bound to this radio."""
        radio = self

        class VirtualBleakScanner(_VirtualBleakScanner):
            _radio = radio

        return VirtualBleakScanner


class _VirtualBleakClient(BaseBleakClient):
    _radio: VirtualRadio
    CONNECT_TIME_S = 0.3

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        kwargs.pop("services", None)
        kwargs.pop("bluez", None)
        kwargs.pop("winrt", None)
        super().__init__(address_or_ble_device, **kwargs)
        self._strap: VirtualStrap | None = None

    @property
    def name(self) -> str:
        return self._strap.name if self._strap else self.address

    @property
    def mtu_size(self) -> int:
        return 23

    @property
    def is_connected(self) -> bool:
        return self._strap is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        await self._radio.clock.sleep(self.CONNECT_TIME_S)
        strap = self._radio.find(self.address)
        if strap is None or not strap.link_up():
            raise BleakError(f"Device with address {self.address} was not found")
        self._strap = strap
        strap.attach(self)
        self.services = strap.gatt()

    def link_lost(self) -> None:
        """The strap went out of range: drop the connection and tell bleak's user."""
        if self._strap is not None:
            self._strap.detach(self)
            self._strap = None
            if self._disconnected_callback is not None:
                self._disconnected_callback()

    async def disconnect(self) -> None:
        if self._strap is not None:
            self._strap.detach(self)
            self._strap = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    def _require(self) -> VirtualStrap:
        if self._strap is None:
            raise BleakError("Not connected")
        return self._strap

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, **kwargs: Any
    ) -> bytearray:
        return self._require().read(characteristic.uuid)

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any
                                   ) -> bytearray:
        raise BleakError("the virtual strap has no readable descriptors")

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        raise BleakError(f"characteristic {characteristic.uuid} is not writable")

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        raise BleakError("the virtual strap has no writable descriptors")

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic,
        callback: Callable[[bytearray], None], **kwargs: Any,
    ) -> None:
        strap = self._require()
        if characteristic.uuid != HEART_RATE_MEASUREMENT_UUID:
            raise BleakError(f"notifications on {characteristic.uuid} are not simulated")
        strap.subscribe(self, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        if self._strap is not None:
            self._strap.unsubscribe(self)


class _VirtualBleakScanner(BaseBleakScanner):
    _radio: VirtualRadio

    def __init__(self, detection_callback: Any, service_uuids: list[str] | None,
                 scanning_mode: str = "active", **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._task = asyncio.create_task(self._advertise())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _advertise(self) -> None:
        """Each advertising strap is heard about every 100 ms (strap clock)."""
        while True:
            for strap in self._radio.straps.values():
                if not strap.advertising:
                    continue
                adv = AdvertisementData(
                    local_name=strap.name, manufacturer_data={}, service_data={},
                    service_uuids=[HEART_RATE_SERVICE_UUID], tx_power=None, rssi=strap.rssi,
                    platform_data=(),
                )
                if not self.is_allowed_uuid(adv.service_uuids):
                    continue
                device = self.create_or_update_device(
                    strap.address, strap.address, strap.name, None, adv
                )
                self.call_detection_callbacks(device, adv)
            await self._radio.clock.sleep(0.1)


# Two spare minutes of heartbeat after the protocol: a session that slows down for a
# backdraft can still run to its end.
SPARE_S = 120.0


def simulated_session_strap(
    scenario: str, pacer_schedule: Sequence[tuple[float, float | None]], clock: SimulatedClock,
    seed: int = 0, resonance_bpm: float | None = None, drops: Sequence[LinkDrop] = (),
) -> tuple[AsyncIterator[Measurement | Gap], asyncio.Task[None]]:
    """A scenario's person breathing with a session's pacer, on a virtual strap read through
    the bleak reader (whose link goes down at ``drops``): the source, and the strap's task
    (cancel it at the end)."""
    radio = VirtualRadio(clock)
    beats = simulate_following(scenario, [*pacer_schedule, (SPARE_S, None)], seed,
                               resonance_bpm)
    strap = radio.add(VirtualStrap(beats, clock, name="heartsease simulated strap",
                                   drops=list(drops)))
    task = asyncio.get_running_loop().create_task(strap.run())
    reader = StrapReader(strap.name, client_backend=radio.client_backend,
                         scanner_backend=radio.scanner_backend, clock=clock)
    return reader.stream(), task
