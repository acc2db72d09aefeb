"""The heart sources a session can have here: what the breathing page offers."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi import APIRouter
from pydantic import BaseModel, Field

from heartsease.api.deps import CurrentUser, SettingsDep
from heartsease.api.schemas import problems
from heartsease.sources import SCENARIO_NAMES

router = APIRouter(prefix="/api/sources", tags=["sessions"], responses=problems(401))
# Where Linux lists its Bluetooth adapters (BlueZ, which bleak uses there).
LINUX_ADAPTERS = Path("/sys/class/bluetooth")


class HeartSources(BaseModel):
    clinic_strap: bool = Field(description="this server can scan for a strap near it")
    scenarios: list[str] = Field(description="the demo heart's scenarios")


def has_ble_adapter(adapters: Path = LINUX_ADAPTERS, platform: str = sys.platform) -> bool:
    """Whether bleak has an adapter to scan with. Only Linux can lack one on a machine
    that runs at all (macOS and Windows have theirs built in, or bleak reports it)."""
    if not platform.startswith("linux"):
        return True
    return adapters.is_dir() and any(adapters.glob("hci*"))


@router.get("")
async def heart_sources(settings: SettingsDep, user: CurrentUser) -> HeartSources:
    clinic = settings.ble_adapter if settings.ble_adapter is not None else has_ble_adapter()
    return HeartSources(clinic_strap=clinic, scenarios=list(SCENARIO_NAMES))
