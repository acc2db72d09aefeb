"""The one place that turns a source description into a running source."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

import heartsease
from heartsease.sensors.files import RecordingError
from heartsease.sensors.source import Measurement
from heartsease.sources import Recording, SimulatedHeart, open_source

PACKAGE = Path(heartsease.__file__).parent


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_only_the_composition_module_imports_the_simulator() -> None:
    importers = sorted(
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
        if path.parent.name != "simulator"
        and any(m.split(".")[:2] == ["heartsease", "simulator"] for m in imported_modules(path))
    )
    assert importers == ["sources.py"]


def test_a_bad_recording_is_refused_before_the_session(tmp_path: Path) -> None:
    path = tmp_path / "rr.txt"
    path.write_text("800\nhello\n")

    async def main() -> None:
        open_source(Recording(path))

    with pytest.raises(RecordingError, match="line 2"):
        asyncio.run(main())


def test_a_simulated_heart_follows_the_pacer_through_the_strap_reader() -> None:
    async def main() -> list[Measurement]:
        opened = open_source(SimulatedHeart("paced-6", speed=100.0), [(30.0, 6.0)])
        items = []
        try:
            # Fifteen notifications, not "20 s of the session's clock": on a loaded machine
            # the clock (real time x 100) ran ahead of the notifications, 10 in 20 s.
            async with asyncio.timeout(30):
                async for item in opened.source:  # type: ignore[union-attr]
                    items.append(item)
                    if len(items) == 15:
                        break
        finally:
            opened.close()
        return items

    items = asyncio.run(main())
    assert len(items) == 15 and all(isinstance(m, Measurement) for m in items)
    assert SimulatedHeart("rest", seed=4).label == "rest (seed 4)"
