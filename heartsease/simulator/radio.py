"""The air between virtual straps and the host: bleak backends that find them.

:class:`VirtualRadio` holds :class:`~heartsease.simulator.virtual_strap.VirtualStrap` s
and hands out bleak backend classes (:attr:`VirtualRadio.client_backend`,
:attr:`VirtualRadio.scanner_backend`) to pass to ``BleakClient(..., backend=...)`` and
``BleakScanner(..., backend=...)``, so the reader is the same code that talks to a real
strap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from heartsease.sensors.hrm import HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID
from heartsease.sensors.source import LiveClock
from heartsease.simulator.virtual_strap import VirtualStrap


class VirtualRadio:
    """The air between virtual straps and the host: where bleak's backends look for them."""

    def __init__(self, clock: LiveClock) -> None:
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


