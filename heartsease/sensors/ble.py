"""Reading a chest strap over Bluetooth LE with bleak: scan, connect, stream, reconnect.

The same code reads a real strap and the simulator's virtual one; only the bleak backend
classes differ (``client_backend`` / ``scanner_backend``, passed straight to bleak).

What real straps do that this handles (STRAPS.md): several RR intervals per notification,
notifications with none, RR values of 0 and stale repeats, straps without the contact bit,
heart rate updated about once a second whatever the beat rate, and link drops -- after
which notifications must be enabled again. A drop is reported as a :class:`Gap`; beats are
never invented to fill it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from heartsease.sensors.hrm import (
    BATTERY_LEVEL_UUID,
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    MalformedMeasurementError,
    parse_hrm,
)
from heartsease.sensors.source import Clock, Gap, Measurement, MonotonicClock
from heartsease.sensors.timing import BeatClock

log = logging.getLogger(__name__)

BODY_LOCATIONS = {0: "other", 1: "chest", 2: "wrist", 3: "finger", 4: "hand", 5: "ear lobe",
                  6: "foot"}
MIN_RR_MS = 200.0  # below any human heart: junk such as 28 or a first RR of 7
MAX_RR_MS = 3000.0


def _setter(event: asyncio.Event) -> Callable[[Any], None]:
    """bleak's disconnected callback, setting ``event`` (the callback gets the client)."""
    return lambda _client: event.set()


class NotificationTimer:
    """One connection's notifications as measurements: decoded, stale repeats and
    impossible intervals dropped, beats timed (a new connection gets a new timer: beats
    before and after a drop are unrelated). The breathing page's ``beat-timing.js`` does
    the same, step for step, and a browser test holds them to it.

    Examples
    --------
    >>> timer = NotificationTimer()
    >>> timer.take(10.020, bytes.fromhex("16 3c 00 04")).beat_times_s
    (10.02,)
    >>> timer.take(10.030, bytes.fromhex("16 3c 00 04")) is None  # a stale repeat
    True
    """

    def __init__(self) -> None:
        self.beat_clock = BeatClock()
        self.previous: tuple[float, tuple[int, ...]] | None = None

    def take(self, arrival_s: float, payload: bytes) -> Measurement | None:
        """The measurement a notification arriving at ``arrival_s`` carries; ``None`` for a
        stale repeat. Raises :class:`MalformedMeasurementError` for a malformed one."""
        m = parse_hrm(payload)
        raw = m.rr_1024ths
        # A stale repeat: the same intervals again sooner than the shortest could recur.
        if self.previous and raw and raw == self.previous[1] and (
            arrival_s - self.previous[0] < min(m.rr_ms) / 1000.0 / 2
        ):
            return None
        self.previous = (arrival_s, raw)
        rr = [v for v in m.rr_ms if MIN_RR_MS <= v <= MAX_RR_MS]
        return Measurement(
            arrival_s=arrival_s,
            hr_bpm=m.hr_bpm,
            rr_ms=tuple(rr),
            beat_times_s=self.beat_clock.place(arrival_s, rr),
            contact=m.contact,
            energy_expended_kj=m.energy_expended_kj,
        )


class StrapNotFoundError(RuntimeError):
    """No strap answered: not advertising, out of range, or no Bluetooth adapter."""


@dataclass(frozen=True, slots=True)
class FoundStrap:
    """A device advertising the Heart Rate Service."""

    name: str | None
    address: str
    rssi: int


async def scan(
    timeout_s: float = 5.0, scanner_backend: type[Any] | None = None
) -> list[FoundStrap]:
    """Devices advertising the Heart Rate Service (filtered by service, not by name)."""
    try:
        found = await BleakScanner.discover(
            timeout=timeout_s, service_uuids=[HEART_RATE_SERVICE_UUID], return_adv=True,
            backend=scanner_backend,
        )
    except (BleakError, OSError) as exc:
        raise StrapNotFoundError(f"cannot scan for Bluetooth devices: {exc}") from exc
    return sorted(
        (FoundStrap(device.name, device.address, adv.rssi) for device, adv in found.values()),
        key=lambda s: -s.rssi,
    )


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff between reconnection attempts, in seconds of the source clock."""

    first_delay_s: float = 0.5
    max_delay_s: float = 10.0
    give_up_after_s: float = 600.0


class StrapReader:
    """A strap as a source: ``async for item in reader.stream()`` yields measurements and gaps.

    Parameters
    ----------
    device : address or advertised name of the strap.
    client_backend, scanner_backend : bleak backend classes (``None``: the platform's).
    clock : the clock that stamps arrivals and times backoff (the host's by default).
    """

    def __init__(
        self,
        device: str,
        *,
        client_backend: type[Any] | None = None,
        scanner_backend: type[Any] | None = None,
        clock: Clock | None = None,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        self.device = device
        self.client_backend = client_backend
        self.scanner_backend = scanner_backend
        self.clock = clock or MonotonicClock()
        self.reconnect = reconnect or ReconnectPolicy()
        self.battery_pct: int | None = None
        self.body_location: str | None = None
        self.connections = 0
        self.malformed = 0

    async def stream(self) -> AsyncIterator[Measurement | Gap]:
        """Measurements as they arrive; a :class:`Gap` for every drop; until cancelled."""
        queue: asyncio.Queue[Measurement | Gap | None] = asyncio.Queue()
        task = asyncio.create_task(self._run(queue))
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                yield item
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if task.done() and not task.cancelled() and task.exception():
            raise task.exception()  # type: ignore[misc]

    async def _run(self, queue: asyncio.Queue[Measurement | Gap | None]) -> None:
        lost_at: float | None = None
        try:
            address = await self._resolve()
            while True:
                client, dropped = await self._connect(address, lost_at)
                if lost_at is not None:
                    await queue.put(Gap(lost_at, self.clock.now(), "link lost"))
                lost_at = await self._read(client, dropped, queue)
        finally:
            await queue.put(None)

    async def _resolve(self) -> str:
        """The address of ``device``: itself if it is one, else the strap advertising that name."""
        if ":" in self.device or len(self.device) == 36:  # MAC, or a macOS UUID
            return self.device
        try:
            found = await BleakScanner.find_device_by_name(
                self.device, timeout=10.0, backend=self.scanner_backend
            )
        except (BleakError, OSError) as exc:
            raise StrapNotFoundError(f"cannot scan for {self.device!r}: {exc}") from exc
        if found is None:
            raise StrapNotFoundError(f"no strap named {self.device!r} is advertising nearby")
        return found.address

    async def _connect(
        self, address: str, lost_at: float | None
    ) -> tuple[BleakClient, asyncio.Event]:
        delay = self.reconnect.first_delay_s
        started = self.clock.now()
        while True:
            dropped = asyncio.Event()
            client = BleakClient(address, disconnected_callback=_setter(dropped),
                                 backend=self.client_backend, timeout=10.0)
            try:
                await client.connect()
                self.connections += 1
                return client, dropped
            except (TimeoutError, BleakError, OSError) as exc:
                if lost_at is None and self.connections == 0:
                    raise StrapNotFoundError(f"cannot connect to {self.device}: {exc}") from exc
                if self.clock.now() - started > self.reconnect.give_up_after_s:
                    raise StrapNotFoundError(
                        f"{self.device} did not come back within "
                        f"{self.reconnect.give_up_after_s:g} s"
                    ) from exc
                log.info("reconnecting to %s in %.1f s (%s)", self.device, delay, exc)
                await self.clock.sleep(delay)
                delay = min(delay * 2, self.reconnect.max_delay_s)

    async def _read(
        self,
        client: BleakClient,
        dropped: asyncio.Event,
        queue: asyncio.Queue[Measurement | Gap | None],
    ) -> float:
        """Subscribe and forward until the link drops; return when it dropped."""
        timer = NotificationTimer()

        def on_notify(_: Any, data: bytearray) -> None:
            try:
                measurement = timer.take(self.clock.now(), bytes(data))
            except MalformedMeasurementError as exc:
                self.malformed += 1
                log.warning("ignored a malformed heart rate packet %s: %s", data.hex(" "), exc)
                return
            if measurement is not None:
                queue.put_nowait(measurement)

        try:
            await self._read_info(client)
            await client.start_notify(HEART_RATE_MEASUREMENT_UUID, on_notify)
            await dropped.wait()
            return self.clock.now()
        finally:
            if client.is_connected:
                with contextlib.suppress(BleakError, OSError):
                    await client.disconnect()

    async def _read_info(self, client: BleakClient) -> None:
        """Battery and body sensor location, where the strap has them."""
        with contextlib.suppress(BleakError, KeyError, ValueError):
            self.battery_pct = (await client.read_gatt_char(BATTERY_LEVEL_UUID))[0]
        with contextlib.suppress(BleakError, KeyError, ValueError):
            location = (await client.read_gatt_char(BODY_SENSOR_LOCATION_UUID))[0]
            self.body_location = BODY_LOCATIONS.get(location, f"unknown ({location})")
